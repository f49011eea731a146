"""Recipe L1: Briesch et al.'s self-consuming LLM loop at CPU size, with a real-data share sweep.

A small GPT-2 is trained from scratch (byte-level BPE tokenizer trained locally) on the offline
corpus of standard-library docstrings, then fine-tuned every generation (``loop.finetune``, as
the paper trains each generation on from the last) on ``total_size`` documents: a share
``real_fraction`` of fresh real text and the rest the previous generation's output. Two arms,
real share 0 and 0.5 (``configs/L1.toml``, one sweep: cells share the seed, so replicate i of
both is paired on the same streams), and a control arm (``configs/L1null.toml``): the low share
again, on streams independent of L1's (its own seed, from :func:`recipe_seed`).

The diversity judged (``metric`` in ``designs/L1.toml``, declared before the first run) is
measured on each generation's own generated text. Its shape over all generations is read from
per-replicate least-squares slopes over two windows declared in the design: early
(generations 1..k: the rise) and late (k..G: the fall). Checks (one-sided Student-t tests over
replicates, Holm-corrected across the three at the design's level):

1. early slope > 0 in the arms the design names (``rise_shares``; intersection-union: the
   worse arm decides; since design 3 the arm with real data only, the other is reported);
2. late slope < 0 at the low real share;
3. the paired late-slope difference (low share - high share) < 0: less real data falls faster.

Controls: 1 and 2 on their sign-flipped replicates (the permutation null of a slope); 3 on two
arms with equal settings (low share - control arm, paired by replicate index only), which
must not come out SUPPORTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, all_of, below, controlled, sign_flipped
from autophagy.reproduce.design import design
from autophagy.reproduce.recipe import ArmMetrics, Recipe, cell_metrics, declare, finish_figure, recipe_seed
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.run import Run

ALPHA = 0.05
SHARES = {"low": 0.0, "high": 0.5}
ARMS = ("low", "high", "null")
L1_METRICS = (
    "perplexity",
    "generated_distinct_2",
    "generated_distinct_3",
    "generated_syntactic_diversity",
    "generated_semantic_diversity",
    "generated_semantic_vendi",
    "length_mean",
    "novelty_3",
)


def shape() -> tuple[str, int]:
    """The judged metric and the last generation of the early window, from ``designs/L1.toml``."""
    found = design("L1")
    return str(found.data["metric"]), int(found.data["rise_until"])


def rise_arms() -> tuple[str, ...]:
    """The arms whose early slope is judged (``rise_shares`` in ``designs/L1.toml``), the others reported."""
    shares = [float(x) for x in design("L1").data["rise_shares"]]
    arms = tuple(a for a, share in SHARES.items() if share in shares)
    if len(arms) != len(shares):
        raise ValueError(f"designs/L1.toml: rise_shares {shares} must be among {sorted(SHARES.values())}")
    return arms


L1Data = ArmMetrics  # arms "low", "high" (the sweep's real shares) and "null" (the control run)


def l1_read(runs: dict[str, Run]) -> L1Data:
    """The L1 metrics ``(R, T)`` per arm from the sweep's cells and the control run."""
    values = cell_metrics(runs["L1"], "loop.real_fraction", SHARES, L1_METRICS)
    null = runs["L1null"].arrays()
    values["null"] = {m: null[m] for m in L1_METRICS}
    return L1Data(values)


def windows(values: np.ndarray, rise_until: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-replicate slopes ``(R,)`` over generations 1..rise_until and rise_until..T."""
    t = values.shape[1]
    if not 2 <= rise_until <= t - 1:
        raise ValueError(f"rise_until = {rise_until} needs 2 <= it <= T - 1 = {t - 1}")
    gens = np.arange(1, t + 1)
    k = rise_until
    return (
        stats.replicate_slopes(values[:, :k], gens[:k]),
        stats.replicate_slopes(values[:, k - 1 :], gens[k - 1 :]),
    )


def l1_judge(m: L1Data) -> list[Check | Note]:
    """The three checks of the module docstring, with their controls, and the notes."""
    metric, k = shape()
    early, late = {}, {}
    for arm in ARMS:
        early[arm], late[arm] = windows(m.at(arm, metric), k)
    judged = rise_arms()
    shares = ", ".join(f"{SHARES[a]:g}" for a in judged)
    rise = controlled(
        all_of(
            f"{metric} rises over generations 1-{k} (early slope > 0, real share {shares})",
            [above(f"real share {SHARES[a]:g}", stats.mean(early[a])) for a in judged],
        ),
        all_of("", [above(a, stats.mean(sign_flipped(early[a], f"L1 early {a}"))) for a in judged]),
        "signs flipped",
    )
    fall = controlled(
        below(
            f"{metric} falls after generation {k} at real share 0 (late slope < 0)", stats.mean(late["low"])
        ),
        below("", stats.mean(sign_flipped(late["low"], "L1 late low"))),
        "signs flipped",
    )
    gap = late["low"] - late["high"]
    faster = controlled(
        below(
            "it falls faster with less real data (paired late slope, share 0 - share 0.5)", stats.mean(gap)
        ),
        below("", stats.mean(late["low"] - late["null"])),
        "equal settings in both arms (share 0 twice, independent streams)",
    )
    notes: list[Check | Note] = [
        Note(
            f"early slope, real share {SHARES[a]:g} ({metric}, reported: not in the design's rise_shares)",
            f"{stats.mean(early[a]).value:+.4g} per generation (se {stats.mean(early[a]).se:.2g})",
        )
        for a in ("low", "high")
        if a not in judged
    ]
    notes += [
        Note(
            f"late slope, real share 0.5 ({metric})",
            f"{stats.mean(late['high']).value:.4g} per generation (se {stats.mean(late['high']).se:.2g})",
        )
    ]
    for name in L1_METRICS:
        if name == metric:
            continue
        slopes = {a: windows(m.at(a, name), k) for a in ("low", "high")}
        notes.append(
            Note(
                f"{name}: early / late slopes",
                "; ".join(
                    f"share {SHARES[a]:g}: {stats.mean(e).value:+.3g} / {stats.mean(lt).value:+.3g}"
                    for a, (e, lt) in slopes.items()
                ),
            )
        )
    return [rise, fall, faster, *notes]


def l1_draw(m: L1Data, path: Path) -> None:
    metric, k = shape()
    panels = (metric, "generated_syntactic_diversity", "generated_semantic_diversity", "perplexity")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8))
    colours = {"low": "tab:red", "high": "tab:blue", "null": "tab:grey"}
    labels = {"low": "real share 0", "high": "real share 0.5", "null": "real share 0 (control)"}
    for ax, name in zip(axes, panels, strict=True):
        for arm in ARMS:
            v = m.at(arm, name)
            gens = np.arange(1, v.shape[1] + 1)
            for row in v:
                ax.plot(gens, row, "-", color=colours[arm], alpha=0.2, lw=1)
            ax.plot(gens, v.mean(axis=0), "o-", color=colours[arm], ms=3, label=labels[arm])
        ax.axvline(k, color="k", lw=0.8, ls=":")
        ax.set_ylabel(name.replace("generated_", "") + (" (held-out)" if name == "perplexity" else ""))
    finish_figure(fig, axes, "L1: GPT-2 fine-tuned on its own text, by real-data share", path, dpi=64)


@dataclass(frozen=True)
class L1Recipe(Recipe):
    """A recipe whose control run (``L1null``) draws from streams independent of L1's."""

    def loop_configs(self, profile: str, seed: int = 0, replicates: int | None = None) -> dict[str, dict]:
        out = super().loop_configs(profile, seed, replicates)
        if "L1null" in out:
            out["L1null"]["seed"] = recipe_seed(self.id, seed, "null")
        return out


RECIPES: dict[str, Recipe] = {
    "L1": declare("L1", l1_judge, l1_draw, read=l1_read, kind=L1Recipe),
}

__all__ = ["L1Data", "l1_judge", "l1_read", "windows"]
