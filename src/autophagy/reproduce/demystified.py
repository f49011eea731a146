"""Recipe D1 (Dohmatob, Feng & Kempe 2024, "Model Collapse Demystified: The Case of Regression").

Two loops, both ordinary least squares refitted each generation to labels drawn from the last
fit (the ``linear_regression`` data and ``ols`` model, as G8):

- ``configs/D1.toml``: the replace loop at four (d, T), one zip cell each. Its test error
  |w_n - w*|^2 at generation n (generation 1 fits real labels) has the expectation
  sigma^2 d n / (T - d - 1), exactly, for T > d + 1. Derivation (Gaussian-design OLS): with
  A = (X^T X)^-1 X^T, w_n = w_(n-1) + A eps_n, so w_n - w* = sum_(k<=n) A eps_k with independent
  eps_k ~ N(0, sigma^2 I_T), and E|w_n - w*|^2 = n sigma^2 E tr((X^T X)^-1) = n sigma^2 d /
  (T - d - 1) (inverse-Wishart mean, rows N(0, I_d)); the same for a fixed design (here) and
  a fresh one per generation. It is the paper's OLS formula sigma^2 d / (T - d - 1) + n sigma0^2
  d / (T0 - d - 1) for the n-th generation's downstream model with T0 = T and sigma0 = sigma
  (its generation 0 is our generation 1, so its n is our n - 1).
- ``configs/D1_ridge.toml``: the same loop at one (d, T) without regularisation and with a
  ridge growing with the generation, lambda_n = (n - 1) sigma^2 (a ``model.ridge`` ramp), the
  two cells paired on shared streams.

Judged: the closed form at every generation of every (d, T) (equivalence, relative margin in
``designs/D1.toml``; control: the cell's errors against the nearest other cell's law), and the
adaptive ridge keeping the error bounded: its slope over all generations far below the
unregularised loop's, its slope over the second half under a small margin, and its last error
below the unregularised one (controls: the unregularised loop in its place, signs flipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import below, controlled, matches_everywhere, sign_flipped
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import Recipe, declare, save_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.pictures import data_source
from autophagy.results.run import Run


def per_generation(dim: int, samples: int, noise: float) -> float:
    """sigma^2 d / (T - d - 1): the expected error of one OLS fit, and the replace loop's growth
    per generation (T > d + 1)."""
    if samples <= dim + 1:
        raise ValueError(f"the closed form needs T > d + 1, got T = {samples}, d = {dim}")
    return noise**2 * dim / (samples - dim - 1)


@dataclass(frozen=True)
class D1Data:
    """Test errors ``(R, G)`` of the replace loop per (d, T) (``errors``) with the noise sigma;
    the ridge comparison at (``ridge_dim``, ``ridge_samples``): ``ols`` and ``ridge`` ``(R, G')``
    on shared streams, and ``signal`` = |w*|^2 there (the error of the zero predictor)."""

    noise: float
    errors: dict[tuple[int, int], np.ndarray]
    ridge_dim: int
    ridge_samples: int
    ols: np.ndarray
    ridge: np.ndarray
    signal: float

    def expected(self, dim: int, samples: int, generations: int) -> np.ndarray:
        """sigma^2 d n / (T - d - 1) at n = 1..generations."""
        return per_generation(dim, samples, self.noise) * np.arange(1, generations + 1)


def d1_read(runs: dict[str, Run]) -> D1Data:
    """Errors per (d, T) cell of ``D1``, and the two ``D1_ridge`` cells (ridge 0 first)."""
    sweep = runs["D1"]
    errors = {}
    for index, cell in enumerate(sweep.cells):
        data = cell["config"]["data"]
        errors[(data["dim"], data["samples"])] = sweep.arrays(index)["test_error"]
    ridge_run = runs["D1_ridge"]
    config = ridge_run.cells[0]["config"]
    by_ridge = {}
    for index, cell in enumerate(ridge_run.cells):
        constant = cell["config"]["model"]["ridge"] == 0
        by_ridge["ols" if constant else "ridge"] = ridge_run.arrays(index)["test_error"]
    weights = data_source(config).weights
    data = config["data"]
    return D1Data(
        float(data["noise"]),
        errors,
        data["dim"],
        data["samples"],
        by_ridge["ols"],
        by_ridge["ridge"],
        float(weights @ weights),
    )


def _nearest(m: D1Data, cell: tuple[int, int]) -> tuple[int, int]:
    """The other (d, T) whose per-generation growth is closest (in ratio) to ``cell``'s."""
    rate = {c: per_generation(*c, m.noise) for c in m.errors}
    return min((c for c in m.errors if c != cell), key=lambda c: abs(np.log(rate[c] / rate[cell])))


def _slopes(values: np.ndarray) -> np.ndarray:
    return stats.replicate_slopes(values)


def d1_judge(m: D1Data) -> list[Check | Note]:
    """The closed form at every (d, T) and n (controls: the nearest other law); the adaptive
    ridge's slope far below the unregularised one (control: the unregularised loop in its place),
    its second-half slope under the ``bounded`` margin (control: the unregularised loop's) and
    its last error below the unregularised one (control: signs flipped)."""
    width, why = margin("D1", "closed_form")
    items: list[Check | Note] = []
    for (dim, samples), errors in m.errors.items():
        g = errors.shape[1]
        other = _nearest(m, (dim, samples))
        items.append(
            controlled(
                matches_everywhere(
                    f"d = {dim}, T = {samples}: mean error = sigma^2 d n / (T - d - 1) at every n <= {g}",
                    errors,
                    m.expected(dim, samples, g),
                    width,
                    why,
                ),
                matches_everywhere("", errors, m.expected(*other, g), width, why),
                f"its errors against d = {other[0]}, T = {other[1]}'s law",
            )
        )
    fraction, fraction_why = margin("D1", "far_below")
    flat, flat_why = margin("D1", "bounded")
    rate = per_generation(m.ridge_dim, m.ridge_samples, m.noise)
    g = m.ridge.shape[1]
    half = g // 2
    ols_slope, ridge_slope = _slopes(m.ols), _slopes(m.ridge)
    ols_late, ridge_late = _slopes(m.ols[:, half:]), _slopes(m.ridge[:, half:])
    ends = m.ridge[:, -1] - m.ols[:, -1]
    where = f"d = {m.ridge_dim}, T = {m.ridge_samples}"
    items += [
        controlled(
            below(
                f"{where}: the adaptive ridge's error slope over generations 1-{g} is below "
                f"{fraction:g} x the unregularised loop's (paired)",
                stats.mean(ridge_slope - fraction * ols_slope),
                note=f"slopes {ridge_slope.mean():.4g} and {ols_slope.mean():.4g}; {fraction_why}",
            ),
            below("", stats.mean(ols_slope - fraction * ols_slope)),
            "the unregularised loop in the ridge loop's place",
        ),
        controlled(
            below(
                f"{where}: the adaptive ridge's error is bounded: slope over generations {half + 1}-{g} "
                f"below {flat:g} x sigma^2 d / (T - d - 1)",
                stats.mean(ridge_late),
                flat * rate,
                note=f"slope {ridge_late.mean():.4g} against {flat * rate:.4g}; {flat_why}",
            ),
            below("", stats.mean(ols_late), flat * rate),
            f"the unregularised loop's slope over generations {half + 1}-{g}",
        ),
        controlled(
            below(
                f"{where}: the adaptive ridge ends below the unregularised loop (n = {g}, paired)",
                stats.mean(ends),
            ),
            below("", stats.mean(sign_flipped(ends, "D1 ends"))),
            "signs flipped",
        ),
        Note(
            "where the adaptive ridge settles (reported, not judged)",
            f"mean error {m.ridge[:, -1].mean():.4g} at n = {g} against |w*|^2 = {m.signal:.4g}, the error "
            f"of the zero predictor (each ridge fit also labels the next generation, so the shrinkage "
            f"compounds and w_n tends to 0); unregularised: {m.ols[:, -1].mean():.4g}",
        ),
    ]
    return items


def _band(ax: plt.Axes, values: np.ndarray, label: str) -> str:
    gens = np.arange(1, values.shape[1] + 1)
    mean, se = values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(len(values))
    (line,) = ax.plot(gens, mean, "o-", ms=2.5, label=label)
    ax.fill_between(gens, mean - 1.96 * se, mean + 1.96 * se, color=line.get_color(), alpha=0.2, lw=0)
    return line.get_color()


def d1_draw(m: D1Data, path: Path) -> None:
    """Left: the replace loop's mean error (95 % band) per (d, T) with its closed form (dashed).
    Right: unregularised against the adaptive ridge, and |w*|^2 (dotted)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (dim, samples), errors in m.errors.items():
        color = _band(axes[0], errors, f"d = {dim}, T = {samples}")
        g = errors.shape[1]
        axes[0].plot(np.arange(1, g + 1), m.expected(dim, samples, g), "--", color=color, lw=1)
    axes[0].set_ylabel("test error |w_n - w*|^2")
    axes[0].set_title("replace loop; dashed: sigma^2 d n / (T - d - 1)", fontsize=9)
    color = _band(axes[1], m.ols, "ridge 0")
    g = m.ols.shape[1]
    axes[1].plot(np.arange(1, g + 1), m.expected(m.ridge_dim, m.ridge_samples, g), "--", color=color, lw=1)
    _band(axes[1], m.ridge, "ridge (n - 1) sigma^2")
    axes[1].axhline(m.signal, color="k", ls=":", lw=1, label="|w*|^2 (zero predictor)")
    axes[1].set_title(f"adaptive regularisation, d = {m.ridge_dim}, T = {m.ridge_samples}", fontsize=9)
    for ax in axes:
        ax.set_xlabel("generation n")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"D1: OLS loop trained on its own labels, sigma = {m.noise:g}")
    save_figure(fig, path, dpi=90)


RECIPES: dict[str, Recipe] = {
    "D1": declare("D1", d1_judge, d1_draw, read=d1_read),
}
