"""Recipe B1 (Bertrand et al., ICLR 2024): iterative retraining is stable when the share of
real data is large enough, and drifts away otherwise.

Both loops are the data environment of a real fraction p (``configs/B1.toml``: the Gaussian on
the exact simulator; ``configs/B1_kde.toml``: a 1-D kernel density estimate), swept over p.
The threshold judged comes from the closed form of each model's variance recursion: a model
refitted on (1 - p) n of its own samples and p n fresh real ones has E[s_t^2] = p + (1 - p)
kappa E[s_(t-1)^2], where kappa is the factor by which sampling and refitting scale the
variance. It is stable iff (1 - p) kappa < 1, i.e. p > p* = 1 - 1/kappa -- the shape of
Bertrand et al.'s condition lambda (1 + L eps / alpha) < 1 (generated share times the model's
expansion below 1):

- Gaussian, unbiased estimators: kappa = 1, so p* = 0: every positive share is stable and the
  fully synthetic loop (p = 0) drifts (its mean random-walks, its covariance collapses);
- KDE with Scott's bandwidth h^2 = n^(-2/5) s^2 (d = 1): a sample of the fit has the training
  set's variance over n plus h^2, so kappa = 1 - 1/n + n^(-2/5) and p* = 1 - 1/kappa (0.129
  at n = 100).

"Bounded" and "drifts" are judged on the per-replicate least-squares slope over the second half
of the generations: every stable loop first rises from its generation-1 distance (n real
samples) to its stationary level, a transient that decays as ((1 - p) kappa)^t, so a slope over
all generations is positive on both sides of p*. The margin is declared in
``designs/B1.toml`` (``margins.drift``), before any run: a loop is bounded when that slope is
below it per generation (W2 units for the Gaussian, TV units for the KDE; 0.002 is 0.1 over 50
generations), and drifts when it is above it. Each check's negative control, judged inside the
verdict, is the same test on the same model's cell on the other side of p* (swapped shares, same
R and seed): a bounded claim against the drifting loop, a drifting claim against the most
stable one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, below, controlled
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import Recipe, declare, finish_figure
from autophagy.reproduce.verdict import Check, Note

LOOPS = {"B1": ("gaussian", "moment_w2"), "B1_kde": ("kde", "density_tv")}


def kappa(model: str, n: int) -> float:
    """The variance expansion per refit: 1 for the unbiased Gaussian, 1 - 1/n + n^(-2/5) for
    the 1-D Scott KDE (the training set's variance over n, plus h^2)."""
    return 1.0 if model == "gaussian" else 1.0 - 1.0 / n + n ** (-0.4)


def threshold(model: str, n: int) -> float:
    """p* = 1 - 1/kappa: the real share above which E[s_t^2] has a fixed point."""
    return 1.0 - 1.0 / kappa(model, n)


@dataclass(frozen=True)
class B1Data:
    """Per model (``gaussian``, ``kde``): the distance to P_r ``{p: (R, T)}`` by real share p,
    the metric's name and the total size n per generation."""

    distances: dict[str, dict[float, np.ndarray]]
    metric: dict[str, str]
    n: dict[str, int]

    def late(self, model: str, p: float) -> np.ndarray:
        """The second half of the generations, ``(R, T - T // 2)``."""
        d = self.distances[model][p]
        return d[:, d.shape[1] // 2 :]


def b1_read(runs: dict) -> B1Data:
    """The distance of every sweep cell (one per real share) of both loops."""
    distances, metric, n = {}, {}, {}
    for name, (model, key) in LOOPS.items():
        sweep = runs[name]
        distances[model] = {
            c["values"]["loop.real_fraction"]: sweep.arrays(i)[key] for i, c in enumerate(sweep.cells)
        }
        metric[model] = key
        n[model] = sweep.cells[0]["config"]["loop"]["total_size"]
    return B1Data(distances, metric, n)


def b1_judge(m: B1Data) -> list[Check | Note]:
    """Above p*: the second-half slope is below the drift margin; below p*: above it. Each
    check is controlled by its test on the model's cell on the other side of p*."""
    drift, why = margin("B1", "drift")
    items: list[Check | Note] = []
    for model, cells in m.distances.items():
        star = threshold(model, m.n[model])
        items.append(
            Note(
                f"{model}: threshold from the closed form",
                f"kappa = {kappa(model, m.n[model]):.4g}, p* = 1 - 1/kappa = {star:.3g} (n = {m.n[model]}); "
                f"drift margin {drift:g} per generation: {why}",
            )
        )
        shares = sorted(cells)
        stable, drifting = shares[-1], shares[0]
        for p in shares:
            late = m.late(model, p)
            gens = f"generations {cells[p].shape[1] - late.shape[1] + 1}-{cells[p].shape[1]}"
            first, last = cells[p][:, 0].mean(), late[:, -1].mean()
            level = f"{m.metric[model]} {first:.3g} at generation 1, {last:.3g} last"
            slope = stats.trend(late)
            if p > star:
                test, other = below, drifting
                claim = f"{model}, p = {p:g} > p*: {m.metric[model]} stays bounded (slope over {gens})"
            else:
                test, other = above, stable
                claim = f"{model}, p = {p:g} <= p*: {m.metric[model]} keeps growing (slope over {gens})"
            items.append(
                controlled(
                    test(claim, slope, drift, note=level),
                    test("", stats.trend(m.late(model, other)), drift),
                    f"the same test on p = {other:g} (the other side of p*)",
                )
            )
    return items


def b1_draw(m: B1Data, path: Path) -> None:
    fig, axes = plt.subplots(1, len(m.distances), figsize=(5 * len(m.distances), 3.8))
    for ax, (model, cells) in zip(np.ravel(axes), m.distances.items(), strict=True):
        star = threshold(model, m.n[model])
        for p in sorted(cells):
            d = cells[p]
            gens = np.arange(1, d.shape[1] + 1)
            side = "above" if p > star else "at or below"
            (line,) = ax.plot(gens, d.mean(axis=0), label=f"p = {p:g} ({side} p* = {star:.2g})")
            low, high = np.quantile(d, [0.1, 0.9], axis=0)
            ax.fill_between(gens, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.axvline(d.shape[1] // 2 + 0.5, color="0.5", linestyle=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylabel(f"{m.metric[model]} to P_r (band: 10-90 %)")
        ax.set_title(f"{model}, n = {m.n[model]} per generation", fontsize=9)
    title = "B1: retraining with a real share p: bounded above p*, drifting below (dotted: judged half)"
    finish_figure(fig, axes, title, path)


RECIPES: dict[str, Recipe] = {
    "B1": declare("B1", b1_judge, b1_draw, read=b1_read),
}
