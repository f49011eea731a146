"""Recipe P1 (Bohacek & Farid 2023, "Nepotistically Trained Generative-AI Models Collapse"):
poison, then heal.

The conditional DDPM on the 8 x 8 digits, fine-tuned from the previous generation's weights
(``loop.finetune``, as the paper retrains Stable Diffusion). Generation 1 is a long fit on real
images (a ``model.train_steps`` schedule: the paper poisons a pretrained model), later ones
short fine-tunes. ``configs/P1.toml`` sweeps three loops with the same seed: *poisoned*
(k generations on the model's own samples only, then real images only: a time-varying
``n_real`` and ``n_synthetic``), *never poisoned* (real images every generation) and *paused*
(real images every generation, but one optimiser step during the k poisoned generations: the
training the poisoned loop misses, without the poison). ``configs/P1_control.toml`` is the
poisoned schedule with k = 0, run at its own seed (:func:`.recipe_seed`): the never-poisoned
loop again with independent draws, the null of the healing claim.

Judged on LeNet-feature FID with the exact paired sign-flip test at R <= 6 (as N1-N6): the
poison takes (FID at the last poisoned generation above the never-poisoned loop's; control:
signs flipped), the loop does not fully heal (mean FID over the healed generations above
the never-poisoned loop's; control: the k = 0 loop against the never-poisoned one), and the
gap is not only missed training (the same mean above the paused loop's, which missed the same
training; control: signs flipped).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, controlled
from autophagy.reproduce.images import read_settings
from autophagy.reproduce.images_draw import LABELS, draw_grids
from autophagy.reproduce.images_judges import IMAGE_METRICS, ImageRuns, _directional
from autophagy.reproduce.recipe import Recipe, declare, recipe_seed, save_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.run import Run

POISONED, NEVER, PAUSED, CONTROL = (
    "poisoned",
    "never poisoned",
    "paused while the other is poisoned",
    "poisoned for 0 generations",
)
PAUSE_STEPS = 1  # optimiser steps of a paused generation: its average moves a tenth of one step


def heal_start(loop: dict[str, Any]) -> int | None:
    """The first generation that trains on real images only (``n_real`` > 0 after generation 1),
    from a loop table whose ``n_real`` is a list of steps; None for a constant ``n_real``."""
    steps = loop["n_real"]
    if not isinstance(steps, list):
        return None
    return min(int(s["from"]) for s in steps if s["value"] > 0 and int(s["from"]) > 1)


def paused(model: dict[str, Any]) -> bool:
    """Whether a model table's ``train_steps`` schedule pauses (``PAUSE_STEPS``) some generations."""
    steps = model.get("train_steps")
    return isinstance(steps, list) and any(s["value"] == PAUSE_STEPS for s in steps)


def _label(config: dict[str, Any]) -> str:
    if heal_start(config["loop"]) is not None:
        return POISONED
    return PAUSED if paused(config["model"]) else NEVER


@dataclass(frozen=True)
class P1Data:
    """The four loops' metrics (labels ``POISONED``, ``NEVER``, ``PAUSED``, ``CONTROL``) and the
    first healed generation ``heal`` (poisoned: generations 2 .. heal - 1)."""

    runs: ImageRuns
    heal: int

    def fid(self, label: str) -> np.ndarray:
        """FID ``(R, T)`` of loop ``label``."""
        return self.runs.metrics[label]["lenet_fid"]


def p1_read(runs: dict[str, Run]) -> P1Data:
    """The three cells of ``P1`` and the control loop, as one :class:`ImageRuns`."""
    n = runs["P1"].cells[0]["config"]["loop"]["n_ini"]
    main = read_settings(
        runs["P1"], f"P1: DDPM on digits, poisoned then healed, n = {n} a generation", _label
    )
    if sorted(main.metrics) != sorted((POISONED, NEVER, PAUSED)):
        found = sorted(main.metrics)
        raise ValueError(f"P1 needs a poisoned, a never-poisoned and a paused loop: got {found}")
    control = read_settings(runs["P1_control"], "", lambda config: CONTROL)
    heal = next(heal_start(c["config"]["loop"]) for c in runs["P1"].cells if _label(c["config"]) == POISONED)
    merged = dataclasses.replace(
        main,
        metrics={**main.metrics, **control.metrics},
        snapshots={**main.snapshots, CONTROL: {}},
    )
    return P1Data(merged, heal)


def p1_judge(m: P1Data) -> list[Check | Note]:
    """The poison takes at generation heal - 1; the healed generations' mean FID stays above the
    never-poisoned loop's (paired: the loops share every real image and training draw); and it
    stays above the paused loop's, which skipped the same generations' training without being
    poisoned, so the gap is not only the training the poisoned loop missed (a DDPM trained a few
    thousand steps is not converged: more rounds on real images still lower its FID)."""
    t, heal = m.runs.generations, m.heal
    if not 2 < heal <= t:
        raise ValueError(f"P1 needs poisoned generations and healed ones: heal at {heal} of {t}")
    healed = slice(heal - 1, t)

    def healed_fid(label: str) -> np.ndarray:
        return m.fid(label)[:, healed].mean(axis=1)

    last_poisoned = m.fid(POISONED)[:, heal - 2] - m.fid(NEVER)[:, heal - 2]
    gap = healed_fid(POISONED) - healed_fid(NEVER)
    null = healed_fid(CONTROL) - healed_fid(NEVER)
    scar = healed_fid(POISONED) - healed_fid(PAUSED)
    missed = healed_fid(PAUSED) - healed_fid(NEVER)
    recovered = m.fid(POISONED)[:, -1] - m.fid(POISONED)[:, heal - 2]

    def recall(label: str) -> np.ndarray:
        return m.runs.metrics[label]["lenet_recall"][:, healed]

    claim = (
        f"healed generations {heal}-{t}: mean FID of the poisoned loop above the never-poisoned "
        "loop's (paired)"
    )
    return [
        _directional(
            "above",
            f"the poison takes: FID at generation {heal - 1} (the last poisoned) above the "
            "never-poisoned loop's",
            last_poisoned,
            True,
        ),
        controlled(
            above(claim, stats.mean(gap), samples=gap, note=f"gap {gap.mean():.3g} FID"),
            above("", stats.mean(null), samples=null),
            "the loop poisoned for 0 generations (own seed) against the never-poisoned loop",
        ),
        _directional(
            "above",
            f"not only missed training: mean FID over generations {heal}-{t} above the loop paused "
            f"at generations 2-{heal - 1} (paired; both missed the same training)",
            scar,
            True,
        ),
        Note(
            "healing (reported, not judged)",
            f"poisoned loop's FID {m.fid(POISONED)[:, heal - 2].mean():.3g} at generation {heal - 1}, "
            f"{m.fid(POISONED)[:, -1].mean():.3g} at {t} (change {recovered.mean():.3g}); never poisoned: "
            f"{m.fid(NEVER)[:, -1].mean():.3g} at {t}; paused: {m.fid(PAUSED)[:, -1].mean():.3g}; "
            f"poisoned for 0 generations: {m.fid(CONTROL)[:, -1].mean():.3g}",
        ),
        Note(
            "the missed training: mean FID over the healed generations, paused minus never poisoned "
            "(reported, not judged)",
            f"{missed.mean():.3g} (sd {missed.std(ddof=1):.3g})",
        ),
        Note(
            "recall over the healed generations, poisoned minus never poisoned (reported, not judged)",
            f"{(recall(POISONED) - recall(NEVER)).mean():.3g}",
        ),
    ]


def p1_draw(m: P1Data, path: Path) -> None:
    """FID, precision and recall per generation of the three loops (mean, band min-max), the
    poisoned generations shaded; ``P1_samples.png``: replicate 0's samples of both P1 loops."""
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
    gens = np.arange(1, m.runs.generations + 1)
    for ax, name in zip(axes, IMAGE_METRICS, strict=True):
        for i, (label, values) in enumerate(m.runs.metrics.items()):
            v = values[name]
            ax.plot(
                gens, v.mean(axis=0), marker="o", ms=3, color=f"C{i}", label=label, ls="-" if i < 3 else ":"
            )
            ax.fill_between(gens, v.min(axis=0), v.max(axis=0), color=f"C{i}", alpha=0.15, lw=0)
        ax.axvspan(1.5, m.heal - 0.5, color="0.85", zorder=0, label="poisoned (synthetic only)")
        ax.set_xlabel("generation")
        ax.set_title(LABELS[name], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    r = m.fid(NEVER).shape[0]
    fig.suptitle(f"{m.runs.title}, {r} replicates (band: min-max)", fontsize=10)
    save_figure(fig, path, dpi=60)
    shown = [label for label in (POISONED, NEVER) if m.runs.snapshots.get(label)]
    if shown:
        draw_grids(m.runs, shown, path.with_name(f"{path.stem}_samples.png"))


@dataclass(frozen=True)
class PoisonRecipe(Recipe):
    """A recipe whose control loop (``P1_control``) runs at its own seed, so that it repeats the
    never-poisoned loop with independent draws (the same seed would repeat it exactly)."""

    def loop_configs(self, profile: str, seed: int = 0, replicates: int | None = None) -> dict[str, dict]:
        configs = super().loop_configs(profile, seed, replicates)
        configs["P1_control"]["seed"] = recipe_seed(self.id, seed, "control")
        return configs


RECIPES: dict[str, Recipe] = {
    "P1": declare("P1", p1_judge, p1_draw, read=p1_read, kind=PoisonRecipe),
}
