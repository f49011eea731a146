"""Low-dimensional recipes (spec §4): G6, a 25-component mixture on the 5 x 5 mode grid, and G7,
a normalizing flow on the Rosenbrock density; both fully synthetic loops run by the engine.

G6 checks that modes are lost and that recall and the average per-mode variance fall by a larger
relative amount than tr(Sigma) (paper figs. 14-15); G7 that the flow's tails thin out, faster with
lambda < 1 (fig. 17), measured on unbiased evaluation draws. The flow needs the ``torch`` extra,
imported only when G7 fits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.core.rng import stream
from autophagy.reproduce.checks import above, below, controlled, flip_controlled, sign_flipped, undecided
from autophagy.reproduce.recipe import Recipe, declare, save_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.pictures import data_source
from autophagy.results.run import Run

MODE_METRICS = ("modes_covered", "high_quality", "mode_variance", "recall", "trace_cov")
REAL_TAIL = 0.05  # tail_share of samples from P_r itself: 1 - the 95 % radius level


def _real(sweep: Run, n: int) -> np.ndarray:
    """``n`` draws of the loop's P_r for the panels, from their own stream."""
    config = sweep.cells[0]["config"]
    return data_source(config).draw(n, rng=stream(config["seed"], 0, 0, "picture_real"))


def _scatter(ax: plt.Axes, real: np.ndarray, synthetic: np.ndarray, title: str) -> None:
    ax.scatter(*real.T, s=1, color="0.75", rasterized=True)
    ax.scatter(*synthetic.T, s=1, color="C3", rasterized=True)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


# --- G6: modes of a 25-component mixture --------------------------------------------------


@dataclass(frozen=True)
class G6Data:
    """Metrics ``{name: (R, C)}`` at the ``C`` checkpoint generations; ``middle`` is one of them.

    ``samples`` holds replicate 0's synthetic draws ``(m, 2)`` at generations 1, ``middle`` and
    the last, ``real`` draws of P_r for the panels.
    """

    n: int
    generations: np.ndarray
    middle: int
    metrics: dict[str, np.ndarray]
    samples: dict[int, np.ndarray]
    real: np.ndarray

    def at(self, name: str, generation: int) -> np.ndarray:
        """Values ``(R,)`` of metric ``name`` at a checkpoint ``generation``."""
        return self.metrics[name][:, int(np.flatnonzero(self.generations == generation)[0])]


def g6_read(runs: dict[str, Run]) -> G6Data:
    """The metrics at the ``[metrics] generations`` checkpoints; the middle generation is the
    second of the three ``[plots] generations`` (1, middle, last)."""
    sweep = runs["G6"]
    config = sweep.cells[0]["config"]
    marks = np.array(config["metrics"]["generations"])
    pictured = config["plots"]["generations"]
    if len(pictured) != 3 or not 1 == pictured[0] < pictured[1] < pictured[2] == config["generations"]:
        raise ValueError(f"[plots] generations must be 1, the middle and the last, got {pictured}")
    values = sweep.arrays(0)
    metrics = {name: values[name][:, marks - 1] for name in MODE_METRICS}
    n, n_eval = config["loop"]["n_synthetic"], config["metrics"]["n_eval"]
    return G6Data(n, marks, pictured[1], metrics, sweep.snapshots(0), _real(sweep, n_eval))


def _relative_fall(m: G6Data, name: str, generation: int) -> np.ndarray:
    """1 - value at ``generation`` / value at generation 1, per replicate ``(R,)``."""
    return 1.0 - m.at(name, generation) / m.at(name, 1)


def _on_replicates(kind: str, name: str, values: np.ndarray, note: str = "") -> Check:
    """``above`` or ``below`` 0 on per-replicate values ``(R,)`` with the sign-flip control; a
    count every replicate gives alike (e.g. no mode ever lost) has no spread to judge and is
    INCONCLUSIVE, said so."""
    if np.ptp(values) == 0:
        return undecided(name, f"every replicate gives {values[0]:.4g}: no spread to judge")
    build = above if kind == "above" else below
    flipped = sign_flipped(values, name)
    return controlled(
        build(name, stats.mean(values), note=note), build("", stats.mean(flipped)), "signs flipped"
    )


def g6_judge(m: G6Data) -> list[Check | Note]:
    """Modes fall (per-replicate slopes on log generation) and are still being lost late; recall
    and the per-mode variance fall by a larger share than tr(Sigma) (paired per replicate).
    Controls: each check on its replicate values with balanced random signs."""
    last = int(m.generations[-1])
    slopes = stats.replicate_slopes(m.metrics["modes_covered"], np.log(m.generations))
    late = m.at("modes_covered", m.middle) - m.at("modes_covered", last)
    checks: list[Check | Note] = [
        _on_replicates(
            "below",
            f"modes covered fall over all {m.generations.size} checkpoints (slope on log generation)",
            slopes,
        ),
        _on_replicates("above", f"modes are still being lost from generation {m.middle} to {last}", late),
    ]
    # paired per replicate: the same fitted models give both relative falls
    total = _relative_fall(m, "trace_cov", m.middle)
    for name, label in (("recall", "recall"), ("mode_variance", "average per-mode variance")):
        fall = _relative_fall(m, name, m.middle)
        checks.append(
            _on_replicates(
                "above",
                f"by generation {m.middle} {label} falls by a larger share than tr(Sigma)",
                fall - total,
                note=f"falls {fall.mean():.0%} vs tr(Sigma) {total.mean():.0%}",
            )
        )
    return checks


def g6_draw(m: G6Data, path: Path) -> None:
    fig = plt.figure(figsize=(11, 3.4))
    grid = fig.add_gridspec(1, 4, width_ratios=[1.6, 1, 1, 1])
    curves = fig.add_subplot(grid[0])
    for name, label in (
        ("modes_covered", "modes covered"),
        ("recall", "recall"),
        ("mode_variance", "per-mode variance"),
        ("trace_cov", "tr(Sigma)"),
    ):
        ratio = m.metrics[name] / m.metrics[name][:, :1]
        (line,) = curves.plot(m.generations, ratio.mean(axis=0), label=label)
        low, high = ratio.min(axis=0), ratio.max(axis=0)
        curves.fill_between(m.generations, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    curves.set_xscale("log")
    curves.set_xlabel("generation")
    curves.set_ylabel("value / value at generation 1")
    curves.legend(fontsize=7)
    curves.grid(alpha=0.3)
    for i, t in enumerate(sorted(m.samples)):
        _scatter(fig.add_subplot(grid[i + 1]), m.real, m.samples[t], f"generation {t}")
    r = m.metrics["recall"].shape[0]
    fig.suptitle(f"G6: 25-component mixture, fully synthetic, n = {m.n}, {r} replicates (band: min-max)")
    save_figure(fig, path, dpi=72)


# --- G7: tails of a flow on Rosenbrock -----------------------------------------------------


@dataclass(frozen=True)
class G7Data:
    """``tail_share`` ``(R, T)`` per lambda; replicate 0's last-generation samples ``(m, 2)``."""

    n: int
    epochs: int
    tail: dict[float, np.ndarray]
    samples: dict[float, np.ndarray]
    real: np.ndarray


def g7_read(runs: dict[str, Run]) -> G7Data:
    """``tail_share`` and the last kept samples per lambda, one sweep cell each."""
    sweep = runs["G7"]
    config = sweep.cells[0]["config"]
    tail, samples = {}, {}
    for index, cell in enumerate(sweep.cells):
        bias = cell["values"]["loop.sampling_bias"]
        tail[bias] = sweep.arrays(index)["tail_share"]
        samples[bias] = sweep.snapshots(index)[config["generations"]]
    n, epochs = config["loop"]["n_synthetic"], config["model"]["epochs"]
    return G7Data(n, epochs, tail, samples, _real(sweep, config["metrics"]["n_eval"]))


def g7_judge(m: G7Data) -> list[Check | Note]:
    """Both halves of fig. 17, on tail shares of unbiased evaluation draws (``metrics.unbiased_eval``:
    the share measures the fitted flow, not the sampling bias). Tails are lost without bias
    (per-replicate least-squares slope over all generations; judged at the full profile's 16
    generations only: at 6 the lambda = 1 share does not move measurably), with bias the share
    at the last generation falls below generation 1's (paired per replicate: every lambda shares
    its first fit), and faster than without (slopes paired per replicate). Controls: balanced
    random signs of each check's replicate values."""
    unbiased = max(m.tail)
    slopes = {bias: stats.replicate_slopes(share) for bias, share in m.tail.items()}
    t = m.tail[unbiased].shape[1]
    share = m.tail[unbiased]
    moved = f"lambda={unbiased:g} moved {share[:, 0].mean():.3f} -> {share[:, -1].mean():.3f}"
    flipped = "signs flipped"
    checks: list[Check | Note] = [
        replace(
            flip_controlled(
                "below",
                f"lambda={unbiased:g}: tail share falls over generations 1-{t} (slope)",
                slopes[unbiased],
                "G7 unbiased",
                note=moved,
                how=flipped,
            ),
            full_only=True,
        )
    ]
    for bias in sorted(b for b in m.tail if b < 1):
        faster = slopes[bias] - slopes[unbiased]
        lost = m.tail[bias][:, -1] - m.tail[bias][:, 0]
        checks += [
            flip_controlled(
                "below",
                f"lambda={bias:g}: tail share falls over generations 1-{t} (slope)",
                slopes[bias],
                f"G7 {bias}",
                how=flipped,
            ),
            flip_controlled(
                "below",
                f"lambda={bias:g}: tails lost faster than lambda={unbiased:g} (slope difference)",
                faster,
                f"G7 faster {bias}",
                how=flipped,
            ),
            flip_controlled(
                "below",
                f"lambda={bias:g}: tail share at generation {t} below generation 1's (unbiased draws)",
                lost,
                f"G7 lost {bias}",
                note=f"{m.tail[bias][:, 0].mean():.3f} -> {m.tail[bias][:, -1].mean():.3f}",
                how=flipped,
            ),
        ]
    return checks


def g7_draw(m: G7Data, path: Path) -> None:
    fig, axes = plt.subplots(1, 1 + len(m.tail), figsize=(4 + 3 * len(m.tail), 3.4))
    for bias, share in sorted(m.tail.items(), reverse=True):
        gens = np.arange(1, share.shape[1] + 1)
        (line,) = axes[0].plot(gens, share.mean(axis=0), marker="o", label=f"lambda = {bias:g}")
        axes[0].fill_between(gens, share.min(axis=0), share.max(axis=0), color=line.get_color(), alpha=0.15)
    axes[0].axhline(REAL_TAIL, color="0.4", linestyle="--", label="P_r")
    axes[0].set_xlabel("generation")
    axes[0].set_ylabel("tail share (band: min-max)")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3)
    t = next(iter(m.tail.values())).shape[1]
    for ax, bias in zip(axes[1:], sorted(m.tail, reverse=True), strict=True):
        _scatter(ax, m.real, m.samples[bias], f"lambda = {bias:g}, generation {t}")
        ax.set_xlim(-4, 4)
        ax.set_ylim(-3, 12)
    fig.suptitle(f"G7: flow on Rosenbrock, fully synthetic, n = {m.n}, {m.epochs} epochs")
    save_figure(fig, path, dpi=72)


RECIPES: dict[str, Recipe] = {
    "G6": declare("G6", g6_judge, g6_draw, read=g6_read),
    "G7": declare("G7", g7_judge, g7_draw, read=g7_read),
}
