"""Gaussian recipes G1-G2 (spec §4), on the exact sufficient-statistic simulator, P_r = N(0, I_d).

G1 checks paper eq. 1's conditional moments and the collapse of Sigma_t; G2 the fresh-data
limit (paper eq. 3) against the starting size. G3-G5 live in :mod:`.gaussian_phase`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.recipe import Recipe, finish_figure, save_figure
from autophagy.reproduce.verdict import Check, above, equals, proportion_above
from autophagy.results.run import Run

# --- G1: fully synthetic, unbiased estimators ------------------------------------------


@dataclass(frozen=True)
class G1Data:
    """Per bias: fitted means ``(R, T, d)``, covariance diagonals ``(R, T, d)``, traces ``(R, T)``."""

    dim: int
    n: int
    biases: tuple[float, ...]
    means: dict[float, np.ndarray]
    variances: dict[float, np.ndarray]
    traces: dict[float, np.ndarray]


def g1_read(runs: dict[str, Run]) -> G1Data:
    """Per lambda (one sweep cell each): every coordinate of the fitted means and covariance
    diagonals (P_r has mean 0, so ``mean_offset_j`` is the mean itself)."""
    sweep = runs["G1"]
    config = sweep.cells[0]["config"]
    dim, n = config["data"]["dim"], config["loop"]["n_synthetic"]
    biases, means, variances, traces = [], {}, {}, {}
    for index, cell in enumerate(sweep.cells):
        bias, values = cell["values"]["loop.sampling_bias"], sweep.arrays(index)
        biases.append(bias)
        means[bias] = np.stack([values[f"mean_offset_{j}"] for j in range(dim)], axis=-1)
        variances[bias] = np.stack([values[f"variance_{j}"] for j in range(dim)], axis=-1)
        traces[bias] = variances[bias].sum(axis=-1)
    return G1Data(dim, n, tuple(biases), means, variances, traces)


def coordinates(dim: int) -> list[str]:
    """The G1 metrics of a ``dim``-dimensional loop: ``mean_offset_j`` and ``variance_j``."""
    return [f"{kind}_{j}" for kind in ("mean_offset", "variance") for j in range(dim)]


def g1_judge(m: G1Data) -> list[Check]:
    checks = []
    for bias in m.biases:
        # mu_t is the mean of n draws from N(mu_(t-1), lambda Sigma_(t-1)): the standardised
        # steps z = (mu_t - mu_(t-1)) / sqrt(Sigma_(t-1),jj / n) are N(0, lambda) (paper eq. 1)
        steps = np.diff(m.means[bias], axis=1) / np.sqrt(m.variances[bias][:, :-1] / m.n)
        checks.append(equals(f"lambda={bias:g}: E[mu_t - mu_(t-1)] = 0", stats.mean(steps.mean((1, 2))), 0))
        checks.append(
            equals(f"lambda={bias:g}: Var of the step = lambda", stats.mean((steps**2).mean((1, 2))), bias)
        )
        ratio = m.traces[bias][:, 1:] / m.traces[bias][:, :-1]  # E[tr S_t / tr S_(t-1)] = lambda exactly
        checks.append(
            equals(
                f"lambda={bias:g}: E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1)",
                stats.mean(ratio.mean(1)),
                bias,
            )
        )
        final = m.traces[bias][:, -1] / m.dim  # tr Sigma_T / tr Sigma_r
        checks.append(
            proportion_above(
                f"lambda={bias:g}: Sigma_t -> 0 (P(tr Sigma_T < 0.1 tr Sigma_r) above 0.9)",
                int((final < 0.1).sum()),
                final.size,
                0.9,
            )
        )
    return checks


def g1_draw(m: G1Data, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for bias in m.biases:
        gens = np.arange(1, m.traces[bias].shape[1] + 1)
        ratio = m.traces[bias] / m.dim
        (line,) = axes[0].semilogy(gens, np.median(ratio, axis=0), label=f"lambda = {bias:g} (median)")
        low, high = np.quantile(ratio, [0.1, 0.9], axis=0)
        axes[0].fill_between(gens, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        drift = np.linalg.norm(m.means[bias], axis=-1)
        axes[1].plot(gens, drift.mean(axis=0), color=line.get_color(), label=f"lambda = {bias:g}")
    axes[0].set_ylabel("tr Sigma_t / tr Sigma_r (10-90 % band)")
    axes[1].set_ylabel("mean |mu_t - mu_r|")
    finish_figure(fig, axes, f"G1: fully synthetic Gaussian, d = {m.dim}, n = {m.n}", path)


# --- G2: fresh data, the limit does not depend on n_ini ---------------------------------


@dataclass(frozen=True)
class G2Data:
    """W2 ``(R, T)`` per (lambda, n_ini); the stationary tail starts at generation ``burn``."""

    dim: int
    n_real: int
    n_synthetic: int
    burn: int
    w2: dict[tuple[float, int], np.ndarray]


def g2_read(runs: dict[str, Run]) -> G2Data:
    """W2 per (lambda, n_ini), one sweep cell each; the stationary tail is the second half of
    the generations (``burn`` = half of them)."""
    sweep = runs["G2"]
    config = sweep.cells[0]["config"]
    w2 = {}
    for index, cell in enumerate(sweep.cells):
        key = (cell["values"]["loop.sampling_bias"], cell["values"]["loop.n_ini"])
        w2[key] = sweep.arrays(index)["moment_w2"]
    loop = config["loop"]
    return G2Data(config["data"]["dim"], loop["n_real"], loop["n_synthetic"], config["generations"] // 2, w2)


def g2_judge(m: G2Data) -> list[Check]:
    """Cells of one sweep per (lambda, n_ini), sharing their streams: differences paired per
    replicate."""
    limit = {key: w[:, m.burn :].mean(axis=1) for key, w in m.w2.items()}
    first = {key: w[:, 0] for key, w in m.w2.items()}
    checks = []
    for bias in sorted({b for b, _ in m.w2}, reverse=True):
        starts = sorted(s for b, s in m.w2 if b == bias)
        for a, b in itertools.pairwise(starts):
            checks.append(
                equals(
                    f"lambda={bias:g}: the limit is the same for n_ini={a} and n_ini={b}",
                    stats.paired(limit[(bias, a)], limit[(bias, b)]),
                    0,
                )
            )
        start_gap = stats.paired(first[(bias, starts[0])], first[(bias, starts[-1])])
        checks.append(
            above(f"lambda={bias:g}: n_ini={starts[0]} starts farther than n_ini={starts[-1]}", start_gap)
        )
    top = max(s for _, s in m.w2)
    biased = stats.paired(limit[(0.8, top)], limit[(1.0, top)])
    checks.append(above("the limit depends on lambda (lambda=0.8 above lambda=1)", biased))
    return checks


def g2_draw(m: G2Data, path: Path) -> None:
    biases = sorted({b for b, _ in m.w2}, reverse=True)
    fig, axes = plt.subplots(1, len(biases), figsize=(10, 3.8), sharey=True)
    for ax, bias in zip(axes, biases, strict=True):
        for (b, start), w in m.w2.items():
            if b == bias:
                ax.plot(np.arange(1, w.shape[1] + 1), w.mean(axis=0), label=f"n_ini = {start}")
        ax.axvspan(m.burn + 1, w.shape[1], color="0.9", label="tail averaged")
        ax.set_title(f"lambda = {bias:g}")
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("mean W2 to P_r")
    fig.suptitle(f"G2: fresh data, n_r = {m.n_real}, n_s = {m.n_synthetic}, d = {m.dim}")
    save_figure(fig, path)


RECIPES: dict[str, Recipe] = {
    "G1": Recipe(
        "G1",
        "fully synthetic Gaussian, unbiased estimators",
        "E[mu_t | mu_(t-1)] = mu_(t-1), E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1), Sigma_t -> 0",
        {
            "quick": {
                "data.dim": 2,
                "loop.n_ini": 10,
                "loop.n_synthetic": 10,
                "replicates": 300,
                "generations": 150,
                "metrics.names": coordinates(2),
            },
            "full": {},
        },
        None,
        g1_judge,
        g1_draw,
        read=g1_read,
        configs=("G1",),
    ),
    "G2": Recipe(
        "G2",
        "fresh data, n_r = 100, n_s = 900, several n_ini",
        "W2 converges to a limit set by (n_r, n_s, lambda), not by n_ini (fig. 10)",
        {
            "quick": {
                "data.dim": 20,
                "replicates": 60,
                "generations": 72,
                "sweep.grid": {"loop.sampling_bias": [1.0, 0.8], "loop.n_ini": [110, 1000, 10_000]},
            },
            "full": {},
        },
        None,
        g2_judge,
        g2_draw,
        read=g2_read,
        configs=("G2",),
    ),
}
