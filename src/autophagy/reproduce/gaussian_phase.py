"""Gaussian recipes G3-G5 (spec §4): the fresh-data limit (paper eq. 3) and the effective sample
size n_e (eq. 4), measured with :mod:`autophagy.phase` on the exact simulator, P_r = N(0, I_d).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.phase import effective_ratio, fresh_limit, real_only_curve
from autophagy.reproduce.base import (
    Check,
    Interval,
    Recipe,
    difference,
    from_bounds,
    positive,
    save_figure,
)

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


def _errorbars(ax: plt.Axes, xs: list[int], estimates: list[Interval], label: str) -> None:
    """Interval estimates at ``xs``: points with bars of their half-widths."""
    ax.errorbar(
        xs, [e.value for e in estimates], yerr=[e.half for e in estimates], marker="o", capsize=2, label=label
    )


def g3_draw(m: G3Data, path: Path) -> None:
    biases = sorted({b for b, _, _ in m.ratio}, reverse=True)
    fig, axes = plt.subplots(1, len(biases), figsize=(12, 3.8), sharey=True)
    for ax, bias in zip(axes, biases, strict=True):
        for nr in sorted({nr for _, nr, _ in m.ratio}):
            sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
            _errorbars(ax, sizes, [m.ratio[(bias, nr, ns)] for ns in sizes], f"n_r = {nr}")
        ax.axhline(1, color="k", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"lambda = {bias:g}")
        ax.set_xlabel("n_s")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("n_e / n_r (admissible above 1)")
    fig.suptitle(f"G3: effective sample size of the fresh-data loop, d = {m.dim}")
    save_figure(fig, path)


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
    save_figure(fig, path)


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
        _errorbars(ax, sizes, [m.wd[(bias, p, n)] for n in sizes], f"p = {p:g}, lambda = {bias:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("total size n")
    ax.set_ylabel("fresh-data limit of W2")
    ax.set_title(f"G5: data environment with real fraction p, d = {m.dim}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)


RECIPES: dict[str, Recipe] = {
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
