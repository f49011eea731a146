"""Gaussian recipes G1-G5 (spec §4), on the exact sufficient-statistic simulator, P_r = N(0, I_d).

G1 checks paper eq. 1's conditional moments and the collapse of Sigma_t; G2-G5 measure the
fresh-data limit (paper eq. 3) and effective sample size (eq. 4) with :mod:`autophagy.phase`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.data import GaussianData
from autophagy.engine import Experiment, run_block
from autophagy.models import GaussianModel
from autophagy.phase import effective_ratio, fresh_limit, real_only_curve, w2_by_generation
from autophagy.reproduce.base import (
    Check,
    Interval,
    Recipe,
    contains,
    difference,
    from_bounds,
    mean_interval,
    positive,
    wilson_low,
)
from autophagy.schedule import DataSchedule


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


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


def g1_measure(dim: int, n: int, replicates: int, generations: int, seed: int = 0) -> G1Data:
    biases = (1.0, 0.8)
    means, variances, traces = {}, {}, {}
    for i, bias in enumerate(biases):
        schedule = DataSchedule(n_ini=n, fixed_real=0, fresh_real=0, synthetic=n, sampling_bias=bias)
        data = GaussianData(np.zeros(dim), np.eye(dim))
        exp = Experiment(seed + i, generations, schedule, GaussianModel(), data, (), simulator="exact")
        m, c = zip(
            *(state.models[0].moments() for state, _ in run_block(exp, range(replicates))), strict=True
        )
        means[bias] = np.stack(m, axis=1)
        covs = np.stack(c, axis=1)
        variances[bias] = np.diagonal(covs, axis1=-2, axis2=-1)
        traces[bias] = variances[bias].sum(axis=-1)
    return G1Data(dim, n, biases, means, variances, traces)


def g1_judge(m: G1Data) -> list[Check]:
    checks = []
    for bias in m.biases:
        # mu_t is the mean of n draws from N(mu_(t-1), lambda Sigma_(t-1)): the standardised
        # steps z = (mu_t - mu_(t-1)) / sqrt(Sigma_(t-1),jj / n) are N(0, lambda) (paper eq. 1)
        steps = np.diff(m.means[bias], axis=1) / np.sqrt(m.variances[bias][:, :-1] / m.n)
        checks.append(
            contains(f"lambda={bias:g}: E[mu_t - mu_(t-1)] = 0", mean_interval(steps.mean((1, 2))), 0)
        )
        checks.append(
            contains(
                f"lambda={bias:g}: Var of the step = lambda", mean_interval((steps**2).mean((1, 2))), bias
            )
        )
        ratio = m.traces[bias][:, 1:] / m.traces[bias][:, :-1]  # E[tr S_t / tr S_(t-1)] = lambda exactly
        checks.append(
            contains(
                f"lambda={bias:g}: E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1)",
                mean_interval(ratio.mean(1)),
                bias,
            )
        )
        final = m.traces[bias][:, -1] / m.dim  # tr Sigma_T / tr Sigma_r
        low = wilson_low(int((final < 0.1).sum()), final.size)
        checks.append(
            Check(
                f"lambda={bias:g}: Sigma_t -> 0 (tr Sigma_T < 0.1 tr Sigma_r in >= 90 % of replicates)",
                low >= 0.9,
                f"{(final < 0.1).mean():.1%} of replicates, 99.9 % lower bound {low:.1%}",
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
    for ax in axes:
        ax.set_xlabel("generation")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"G1: fully synthetic Gaussian, d = {m.dim}, n = {m.n}")
    _save(fig, path)


# --- G2: fresh data, the limit does not depend on n_ini ---------------------------------


@dataclass(frozen=True)
class G2Data:
    """W2 ``(R, T)`` per (lambda, n_ini); the stationary tail starts at generation ``burn``."""

    dim: int
    n_real: int
    n_synthetic: int
    burn: int
    w2: dict[tuple[float, int], np.ndarray]


def g2_measure(
    dim: int, replicates: int, n_ini: tuple[int, ...], burn: int, tail: int, seed: int = 0
) -> G2Data:
    w2 = {}
    for i, (bias, start) in enumerate((b, s) for b in (1.0, 0.8) for s in n_ini):
        schedule = DataSchedule(n_ini=start, fixed_real=0, fresh_real=100, synthetic=900, sampling_bias=bias)
        w2[(bias, start)] = w2_by_generation(dim, schedule, burn + tail, replicates, seed + i)  # independent
    return G2Data(dim, 100, 900, burn, w2)


def g2_judge(m: G2Data) -> list[Check]:
    limit = {key: mean_interval(w[:, m.burn :].mean(axis=1)) for key, w in m.w2.items()}
    first = {key: mean_interval(w[:, 0]) for key, w in m.w2.items()}
    checks = []
    for bias in sorted({b for b, _ in m.w2}, reverse=True):
        starts = sorted(s for b, s in m.w2 if b == bias)
        diffs = [difference(limit[(bias, a)], limit[(bias, b)]) for a, b in itertools.pairwise(starts)]
        worst = max(diffs, key=lambda d: abs(d.value) / d.half)
        checks.append(contains(f"lambda={bias:g}: the limit does not depend on n_ini", worst, 0))
        start_gap = difference(first[(bias, starts[0])], first[(bias, starts[-1])])
        checks.append(
            positive(f"lambda={bias:g}: n_ini={starts[0]} starts farther than n_ini={starts[-1]}", start_gap)
        )
    biased = difference(limit[(0.8, max(s for _, s in m.w2))], limit[(1.0, max(s for _, s in m.w2))])
    checks.append(positive("the limit depends on lambda (lambda=0.8 above lambda=1)", biased))
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
    _save(fig, path)


# --- G3: admissible region of the effective sample size ---------------------------------


@dataclass(frozen=True)
class G3Data:
    """n_e / n_r with intervals per (lambda, n_r, n_s)."""

    dim: int
    ratio: dict[tuple[float, int, int], Interval]


def _ratio_grid(
    dim: int, replicates: int, cells: list[tuple[float, int, int, int]], max_generations: int, seed: int
):
    largest = max(nr + k * ns for _, nr, ns, k in cells)
    sizes = np.unique(
        np.concatenate([np.geomspace(2, 4 * largest, 40).round().astype(int), [c[1] for c in cells]])
    )
    curve = real_only_curve(dim, sizes, replicates, seed + 10_000)
    out = {}
    for i, (bias, nr, ns, k) in enumerate(cells):
        limit = fresh_limit(
            dim,
            nr,
            ns,
            bias,
            from_latest=k,
            replicates=replicates,
            seed=seed + i,
            max_generations=max_generations,
        )
        r = effective_ratio(limit, nr, curve)
        out[(bias, nr, ns, k)] = from_bounds(r.value, r.low, r.high)
    return out


def g3_measure(
    dim: int,
    replicates: int,
    n_real: tuple[int, ...],
    n_synthetic: tuple[int, ...],
    max_generations: int,
    seed: int = 0,
) -> G3Data:
    cells = [(b, nr, ns, 1) for b in (1.0, 0.9, 0.8) for nr in n_real for ns in n_synthetic]
    grid = _ratio_grid(dim, replicates, cells, max_generations, seed)
    return G3Data(dim, {(b, nr, ns): r for (b, nr, ns, _), r in grid.items()})


def _threshold(m: G3Data, bias: float, nr: int) -> int | None:
    """Smallest n_s whose n_e / n_r is significantly below 1 (inadmissible)."""
    sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
    return next((ns for ns in sizes if m.ratio[(bias, nr, ns)].high < 1), None)


def _crossing(m: G3Data, bias: float, nr: int, side: str) -> float | None:
    """n_s where the ``side`` ("low" or "high") end of n_e / n_r first falls below 1 (log-log
    interpolation); the low end crosses first, so the two bracket the threshold."""
    sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
    values = [getattr(m.ratio[(bias, nr, ns)], side) for ns in sizes]
    for i, value in enumerate(values):
        if value < 1:
            if i == 0:
                return float(sizes[0])
            a, b = math.log(values[i - 1]), math.log(value)
            return float(math.exp(math.log(sizes[i - 1]) + a / (a - b) * math.log(sizes[i] / sizes[i - 1])))
    return None


def g3_judge(m: G3Data) -> list[Check]:
    n_real = sorted({nr for _, nr, _ in m.ratio})
    sizes = sorted({ns for _, _, ns in m.ratio})
    worst = min((r for (b, _, _), r in m.ratio.items() if b == 1.0), key=lambda r: r.high)
    checks = [
        Check(
            "lambda=1: admissible everywhere (no n_e / n_r significantly below 1)",
            worst.high >= 1,
            f"lowest {worst}",
        )
    ]
    thresholds = {(b, nr): _threshold(m, b, nr) for b in (0.9, 0.8) for nr in n_real}
    for bias in (0.9, 0.8):
        found = {nr: thresholds[(bias, nr)] for nr in n_real}
        small_ok = all(m.ratio[(bias, nr, sizes[0])].high >= 1 for nr in n_real)
        checks.append(
            Check(
                f"lambda={bias:g}: a threshold in n_s exists (small n_s admissible, large n_s not)",
                small_ok and all(t is not None for t in found.values()),
                f"first inadmissible n_s per n_r: {found}",
            )
        )
    low, high = n_real[0], n_real[-1]
    limit = math.sqrt(high / low)
    for bias in (0.9, 0.8):
        # the n_s where n_e / n_r crosses 1, read off the interval's upper and lower curves
        start, end = _crossing(m, bias, low, "low"), _crossing(m, bias, high, "high")
        grows = None if start is None or end is None else end / start
        checks.append(
            Check(
                f"lambda={bias:g}: the threshold stops growing with n_r "
                f"(n_r x{high // low}: threshold at most x{limit:g})",
                grows is not None and grows <= limit,
                f"n_r {low} -> {high}: threshold from at least {start and round(start)} "
                f"to at most {end and round(end)}",
            )
        )
    shrinks = all(
        thresholds[(0.8, nr)] is not None
        and thresholds[(0.9, nr)] is not None
        and thresholds[(0.8, nr)] <= thresholds[(0.9, nr)]
        for nr in n_real
    )
    detail = ", ".join(f"n_r={nr}: {thresholds[(0.9, nr)]} -> {thresholds[(0.8, nr)]}" for nr in n_real)
    checks.append(Check("smaller lambda shrinks the threshold (0.9 -> 0.8)", shrinks, detail))
    return checks


def g3_draw(m: G3Data, path: Path) -> None:
    biases = sorted({b for b, _, _ in m.ratio}, reverse=True)
    fig, axes = plt.subplots(1, len(biases), figsize=(12, 3.8), sharey=True)
    for ax, bias in zip(axes, biases, strict=True):
        for nr in sorted({nr for _, nr, _ in m.ratio}):
            sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
            est = [m.ratio[(bias, nr, ns)] for ns in sizes]
            ax.errorbar(
                sizes,
                [e.value for e in est],
                yerr=[e.half for e in est],
                marker="o",
                capsize=2,
                label=f"n_r = {nr}",
            )
        ax.axhline(1, color="k", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"lambda = {bias:g}")
        ax.set_xlabel("n_s")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("n_e / n_r (admissible above 1)")
    fig.suptitle(f"G3: effective sample size of the fresh-data loop, d = {m.dim}")
    _save(fig, path)


# --- G4: sampling from the K latest models ----------------------------------------------


@dataclass(frozen=True)
class G4Data:
    dim: int
    n_real: int
    n_synthetic: int
    ratio: dict[int, Interval]


def g4_measure(dim: int, replicates: int, ks: tuple[int, ...], max_generations: int, seed: int = 0) -> G4Data:
    cells = [(1.0, 1000, 10_000, k) for k in ks]
    grid = _ratio_grid(dim, replicates, cells, max_generations, seed)
    return G4Data(dim, 1000, 10_000, {k: grid[(1.0, 1000, 10_000, k)] for k in ks})


def g4_judge(m: G4Data) -> list[Check]:
    ks = sorted(m.ratio)
    rise = difference(m.ratio[ks[-1]], m.ratio[ks[0]])
    first_gain = difference(m.ratio[ks[1]], m.ratio[ks[0]])
    step = ks[-1] - ks[-2]
    last = difference(m.ratio[ks[-1]], m.ratio[ks[-2]])
    last_gain = Interval(last.value / step, last.half / step)  # per extra model
    per_unit = Interval(first_gain.value / (ks[1] - ks[0]), first_gain.half / (ks[1] - ks[0]))
    return [
        positive(f"n_e / n_r rises with K (K={ks[-1]} above K={ks[0]})", rise),
        positive(f"every step in K helps (K={ks[-2]} -> {ks[-1]})", last),
        positive(
            f"diminishing returns: gain per model K={ks[0]}->{ks[1]} exceeds K={ks[-2]}->{ks[-1]}",
            difference(per_unit, last_gain),
        ),
    ]


def g4_draw(m: G4Data, path: Path) -> None:
    ks = sorted(m.ratio)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.errorbar(ks, [m.ratio[k].value for k in ks], yerr=[m.ratio[k].half for k in ks], marker="o", capsize=3)
    ax.set_xlabel("K (latest models sampled from)")
    ax.set_ylabel("n_e / n_r")
    ax.set_title(f"G4: n_r = {m.n_real}, n_s = {m.n_synthetic}, lambda = 1, d = {m.dim}")
    ax.grid(alpha=0.3)
    _save(fig, path)


# --- G5: data environment with real fraction p ------------------------------------------


@dataclass(frozen=True)
class G5Data:
    """Fresh-data limit W2 per (lambda, p, total size n)."""

    dim: int
    wd: dict[tuple[float, float, int], Interval]


def g5_measure(
    dim: int, replicates: int, sizes: tuple[int, ...], max_generations: int, seed: int = 0
) -> G5Data:
    settings = [(1.0, 1.0), (1.0, 0.5), (1.0, 0.2), (0.9, 0.5)]
    wd = {}
    for i, ((bias, p), n) in enumerate((s, n) for s in settings for n in sizes):
        n_real = max(1, round(p * n))
        limit = fresh_limit(
            dim,
            n_real,
            n - n_real,
            bias if n > n_real else 1.0,
            replicates=replicates,
            seed=seed + i,
            max_generations=max_generations,
        )
        wd[(bias, p, n)] = from_bounds(limit.value, limit.low, limit.high)
    return G5Data(dim, wd)


def _slope(a: Interval, b: Interval, na: int, nb: int) -> Interval:
    """Log-log slope between two independent estimates (delta method)."""
    scale = math.log(nb / na)
    return Interval(
        math.log(b.value / a.value) / scale, math.hypot(a.half / a.value, b.half / b.value) / scale
    )


def g5_judge(m: G5Data) -> list[Check]:
    sizes = sorted({n for _, _, n in m.wd})
    checks = []
    for p in sorted({p for b, p, _ in m.wd if b == 1.0}, reverse=True):
        slope = _slope(m.wd[(1.0, p, sizes[0])], m.wd[(1.0, p, sizes[-1])], sizes[0], sizes[-1])
        checks.append(
            positive(
                f"lambda=1, p={p:g}: W2 falls with n (minus the log-log slope)",
                Interval(-slope.value, slope.half),
            )
        )
        if p < 1:
            gaps = [difference(m.wd[(1.0, p, n)], m.wd[(1.0, 1.0, n)]) for n in sizes]
            worst = min(gaps, key=lambda g: g.low)
            checks.append(
                positive(f"lambda=1, p={p:g}: above p=1 at every n (more data for the same W2)", worst)
            )
    unbiased = _slope(m.wd[(1.0, 0.5, sizes[-2])], m.wd[(1.0, 0.5, sizes[-1])], sizes[-2], sizes[-1])
    biased = _slope(m.wd[(0.9, 0.5, sizes[-2])], m.wd[(0.9, 0.5, sizes[-1])], sizes[-2], sizes[-1])
    checks.append(
        Check(
            "lambda=0.9, p=0.5: W2 stops improving with n (last slope less than half lambda=1's)",
            biased.low > unbiased.high / 2,
            f"slope over n {sizes[-2]} -> {sizes[-1]}: lambda=0.9 {biased}, lambda=1 {unbiased}",
        )
    )
    return checks


def g5_draw(m: G5Data, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for bias, p in sorted({(b, p) for b, p, _ in m.wd}, reverse=True):
        sizes = sorted(n for b, q, n in m.wd if (b, q) == (bias, p))
        est = [m.wd[(bias, p, n)] for n in sizes]
        ax.errorbar(
            sizes,
            [e.value for e in est],
            yerr=[e.half for e in est],
            marker="o",
            capsize=2,
            label=f"p = {p:g}, lambda = {bias:g}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("total size n")
    ax.set_ylabel("fresh-data limit of W2")
    ax.set_title(f"G5: data environment with real fraction p, d = {m.dim}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _save(fig, path)


RECIPES: dict[str, Recipe] = {
    "G1": Recipe(
        "G1",
        "fully synthetic Gaussian, unbiased estimators",
        "E[mu_t | mu_(t-1)] = mu_(t-1), E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1), Sigma_t -> 0",
        {
            "quick": {"dim": 2, "n": 10, "replicates": 300, "generations": 150},
            "full": {"dim": 10, "n": 20, "replicates": 2000, "generations": 1000},
        },
        g1_measure,
        g1_judge,
        g1_draw,
    ),
    "G2": Recipe(
        "G2",
        "fresh data, n_r = 100, n_s = 900, several n_ini",
        "W2 converges to a limit set by (n_r, n_s, lambda), not by n_ini (fig. 10)",
        {
            "quick": {"dim": 20, "replicates": 60, "n_ini": (110, 1000, 10_000), "burn": 22, "tail": 20},
            "full": {
                "dim": 100,
                "replicates": 200,
                "n_ini": (110, 300, 1000, 10_000),
                "burn": 32,
                "tail": 40,
            },
        },
        g2_measure,
        g2_judge,
        g2_draw,
    ),
    "G3": Recipe(
        "G3",
        "effective sample size n_e of the fresh-data loop",
        "lambda < 1: an n_s threshold for n_e >= n_r that stops growing with n_r and shrinks with lambda; "
        "lambda = 1 always admissible (figs. 11, 12)",
        {
            "quick": {
                "dim": 10,
                "replicates": 60,
                "n_real": (50, 200, 800),
                "n_synthetic": (10, 50, 200, 400, 800, 1600, 3200),
                "max_generations": 120,
            },
            "full": {
                "dim": 10,
                "replicates": 200,
                "n_real": (25, 100, 400, 1600),
                "n_synthetic": (10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400),
                "max_generations": 400,
            },
        },
        g3_measure,
        g3_judge,
        g3_draw,
    ),
    "G4": Recipe(
        "G4",
        "fresh data sampling from the K latest models, n_r = 1e3, n_s = 1e4, lambda = 1",
        "n_e / n_r rises with K, with diminishing returns (fig. 30)",
        {
            "quick": {"dim": 10, "replicates": 100, "ks": (1, 2, 4, 8), "max_generations": 60},
            "full": {"dim": 10, "replicates": 200, "ks": (1, 2, 3, 4, 6, 8), "max_generations": 400},
        },
        g4_measure,
        g4_judge,
        g4_draw,
    ),
    "G5": Recipe(
        "G5",
        "data environment with real fraction p and total size n",
        "lambda = 1: W2 falls with n, more slowly for p < 1; lambda < 1: W2 stops improving with n (fig. 31)",
        {
            "quick": {"dim": 10, "replicates": 60, "sizes": (200, 800, 3200, 12_800), "max_generations": 150},
            "full": {
                "dim": 10,
                "replicates": 200,
                "sizes": (200, 400, 800, 1600, 3200, 6400, 12_800, 51_200),
                "max_generations": 400,
            },
        },
        g5_measure,
        g5_judge,
        g5_draw,
    ),
}
