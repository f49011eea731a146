"""Low-dimensional recipes (spec §4): G6, a 25-component mixture on the 5 x 5 mode grid, and G7,
a normalizing flow on the Rosenbrock density; both fully synthetic loops run by the engine.

G6 checks that modes are lost and that recall and the average per-mode variance fall by a larger
relative amount than tr(Sigma) (paper figs. 14-15); G7 that the flow's tails thin out, faster with
lambda < 1 (fig. 17). The flow needs the ``torch`` extra, imported only when G7 fits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.core.rng import stream
from autophagy.reproduce.recipe import EngineCell, Recipe, loop_folder, run_engine
from autophagy.reproduce.verdict import Check, Note, above, below
from autophagy.results.pictures import data_source

MODE_METRICS = ("modes_covered", "high_quality", "mode_variance", "recall", "trace_cov")
REAL_TAIL = 0.05  # tail_share of samples from P_r itself: 1 - the 95 % radius level


def _config(
    name: str,
    seed: int,
    replicates: int,
    generations: int,
    data: dict[str, Any],
    model: dict[str, Any],
    n: int,
    bias: float,
    metrics: tuple[str, ...],
    n_eval: int,
    evaluated: list[int] | None,
    pictured: list[int],
) -> dict[str, Any]:
    """A fully synthetic loop (n_ini = n_s = ``n``) with metrics at ``evaluated`` generations
    (every one if None) and replicate 0's ``n_eval`` samples kept at ``pictured`` ones."""
    return {
        "name": name,
        "seed": seed,
        "replicates": replicates,
        "generations": generations,
        "block_size": replicates,
        "data": data,
        "model": model,
        "loop": {"family": "fully_synthetic", "n_ini": n, "n_synthetic": n, "sampling_bias": bias},
        "metrics": {"names": list(metrics), "n_eval": n_eval}
        | ({} if evaluated is None else {"generations": evaluated}),
        "plots": {"generations": pictured, "n_samples": n_eval},
    }


def _real(cell: EngineCell, n: int, seed: int) -> np.ndarray:
    """``n`` draws of the loop's P_r for the panels, from their own stream."""
    return data_source(cell.config).draw(n, rng=stream(seed, 0, 0, "picture_real"))


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


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


def g6_measure(
    replicates: int,
    generations: int,
    middle: int,
    n: int,
    n_eval: int = 1000,
    checkpoints: int = 16,
    seed: int = 0,
    folder: Path | None = None,
    executor: str = "inline",
) -> G6Data:
    """Run the loop with metrics at ``checkpoints`` log-spaced generations (plus ``middle``)."""
    if not 1 < middle < generations:
        raise ValueError(f"middle must lie strictly between 1 and generations = {generations}, got {middle}")
    marks = np.geomspace(1, generations, checkpoints).round().astype(int)
    marks = np.unique(np.concatenate([marks, [1, middle, generations]]))
    raw = _config(
        "G6",
        seed,
        replicates,
        generations,
        {"kind": "mode_grid"},
        {"kind": "gmm", "components": 25, "covariance": "full"},
        n,
        1.0,
        MODE_METRICS,
        n_eval,
        [int(t) for t in marks],  # metrics only at checkpoints: the loop is the cost
        [1, middle, generations],
    )
    (cell,) = run_engine(raw, loop_folder(folder, raw["name"]), executor)
    metrics = {name: cell.metrics[name][:, marks - 1] for name in MODE_METRICS}
    return G6Data(n, marks, middle, metrics, cell.snapshots, _real(cell, n_eval, seed))


def _relative_fall(m: G6Data, name: str, generation: int) -> np.ndarray:
    """1 - value at ``generation`` / value at generation 1, per replicate ``(R,)``."""
    return 1.0 - m.at(name, generation) / m.at(name, 1)


def g6_judge(m: G6Data) -> list[Check | Note]:
    last = int(m.generations[-1])
    modes = m.metrics["modes_covered"]
    checks: list[Check | Note] = [
        below(
            f"modes covered fall over all {m.generations.size} checkpoints (slope on log generation)",
            stats.trend(modes, np.log(m.generations)),
        ),
        above(
            f"modes are still being lost from generation {m.middle} to {last}",
            stats.paired(m.at("modes_covered", m.middle), m.at("modes_covered", last)),
        ),
    ]
    # paired per replicate: the same fitted models give both relative falls
    total = _relative_fall(m, "trace_cov", m.middle)
    for name, label in (("recall", "recall"), ("mode_variance", "average per-mode variance")):
        fall = _relative_fall(m, name, m.middle)
        checks.append(
            above(
                f"by generation {m.middle} {label} falls by a larger share than tr(Sigma)",
                stats.paired(fall, total),
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
    _save(fig, path)


# --- G7: tails of a flow on Rosenbrock -----------------------------------------------------


@dataclass(frozen=True)
class G7Data:
    """``tail_share`` ``(R, T)`` per lambda; replicate 0's last-generation samples ``(m, 2)``."""

    n: int
    epochs: int
    tail: dict[float, np.ndarray]
    samples: dict[float, np.ndarray]
    real: np.ndarray


def g7_measure(
    replicates: int,
    generations: int,
    n: int,
    epochs: int,
    biases: tuple[float, ...] = (1.0, 0.8),
    layers: int = 8,
    hidden: int = 64,
    batch_size: int = 256,
    n_eval: int = 2000,
    seed: int = 0,
    folder: Path | None = None,
    executor: str = "inline",
) -> G7Data:
    model = {"kind": "flow", "layers": layers, "hidden": hidden, "epochs": epochs, "batch_size": batch_size}
    tail, samples = {}, {}
    for bias in biases:  # the same seed: replicate i of every lambda shares its first fit
        raw = _config(
            f"G7-lambda{bias:g}",
            seed,
            replicates,
            generations,
            {"kind": "rosenbrock"},
            model,
            n,
            bias,
            ("tail_share",),
            n_eval,
            None,
            [generations],
        )
        (cell,) = run_engine(raw, loop_folder(folder, raw["name"]), executor)
        tail[bias], samples[bias] = cell.metrics["tail_share"], cell.snapshots[generations]
    return G7Data(n, epochs, tail, samples, _real(cell, n_eval, seed))


def g7_judge(m: G7Data) -> list[Check | Note]:
    """Both halves of fig. 17 over all generations (per-replicate least-squares slopes of the
    tail share): tails are lost without bias (judged at the full profile's 16 generations
    only: at 6 the lambda = 1 share does not move measurably) and faster with bias (the loops
    are independent: Welch difference of the mean slopes)."""
    unbiased = max(m.tail)
    slope = {bias: stats.trend(share) for bias, share in m.tail.items()}
    t = m.tail[unbiased].shape[1]
    share = m.tail[unbiased]
    moved = f"lambda={unbiased:g} moved {share[:, 0].mean():.3f} -> {share[:, -1].mean():.3f}"
    checks: list[Check | Note] = [
        replace(
            below(
                f"lambda={unbiased:g}: tail share falls over generations 1-{t} (slope)",
                slope[unbiased],
                note=moved,
            ),
            full_only=True,
        )
    ]
    for bias in sorted(b for b in m.tail if b < 1):
        checks += [
            below(f"lambda={bias:g}: tail share falls over generations 1-{t} (slope)", slope[bias]),
            below(
                f"lambda={bias:g}: tails lost faster than lambda={unbiased:g} (slope difference)",
                stats.paired(stats.replicate_slopes(m.tail[bias]), stats.replicate_slopes(m.tail[unbiased])),
            ),
            below(
                f"lambda={bias:g}: tail share at generation {t} below the real {REAL_TAIL:g}",
                stats.mean(m.tail[bias][:, -1]),
                REAL_TAIL,
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
    _save(fig, path)


RECIPES: dict[str, Recipe] = {
    "G6": Recipe(
        "G6",
        "2-D mixture of 25 Gaussians on a 5 x 5 grid, fully synthetic, unbiased",
        "modes are lost over generations (1, 200, 2000); recall and average modal variance track the "
        "loss better than total variance (figs. 14, 15)",
        {
            "quick": {"replicates": 8, "generations": 200, "middle": 50, "n": 1000},
            "full": {"replicates": 16, "generations": 2000, "middle": 200, "n": 1000},
        },
        g6_measure,
        g6_judge,
        g6_draw,
    ),
    "G7": Recipe(
        "G7",
        "normalizing flow (8 coupling layers, hidden 64) on the 2-D Rosenbrock density, fully synthetic",
        "tails are lost with and without bias; faster with lambda < 1 (fig. 17)",
        {
            "quick": {"replicates": 6, "generations": 6, "n": 2000, "epochs": 10},
            "full": {"replicates": 4, "generations": 16, "n": 10_000, "epochs": 20},
        },
        g7_measure,
        g7_judge,
        g7_draw,
    ),
}
