"""``autophagy phase-map KIND``: the paper's fresh-data figures as one command each.

Each map writes ``KIND.csv`` (the numbers) and ``KIND.png`` into its folder:
- ``fig11``: n_e / n_r over (n_r, n_s) at one lambda; the admissible region is n_e >= n_r;
- ``fig12``: n_e / n_r over (lambda, n_s) at one n_r;
- ``fig30``: n_e / n_r versus K, synthetic data from the K latest models;
- ``fig31``: the fresh-data limit W2 versus total size n for several real fractions p and lambdas;
- ``fig10``: W2 versus generation for several n_ini (the limit does not depend on it).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from pydantic import Field, PositiveInt

from autophagy.admissible.phase import (
    Curve,
    Limit,
    effective_ratio,
    fresh_limit,
    real_only_curve,
    w2_by_generation,
)
from autophagy.core.registry import Options
from autophagy.core.schedule import DataSchedule
from autophagy.running.executors import parallel_map
from autophagy.storage.safety import FolderLock, atomic_path, atomic_write_text


class PhaseMapOptions(Options):
    """Grid and Monte-Carlo settings shared by every map (``--set key=value`` overrides)."""

    dim: PositiveInt = 10
    replicates: PositiveInt = 200
    seed: int = 0
    sampling_bias: float = Field(0.9, ge=0.0, le=1.0)
    n_real: list[PositiveInt] = [12, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400]
    n_synthetic: list[PositiveInt] = [10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400]
    fixed_n_real: PositiveInt = 100
    sampling_biases: list[float] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0]
    from_latest: list[PositiveInt] = [1, 2, 3, 4, 6, 8]
    k_n_real: PositiveInt = 1000
    k_n_synthetic: PositiveInt = 10000
    real_fractions: list[float] = [1.0, 0.5, 0.2, 0.1]
    total_sizes: list[PositiveInt] = [200, 400, 800, 1600, 3200, 6400]
    n_ini: list[PositiveInt] = [110, 300, 1000, 10000]
    generations: PositiveInt = 40
    tail: PositiveInt = 20  # generations per stationarity window (the limit averages one)
    flat_tolerance: float = Field(0.01, gt=0)  # allowed drift over a window, relative to its level
    max_generations: PositiveInt = 400  # cap on each loop: the last window ends here
    workers: PositiveInt | None = None  # processes (default: every core)


def _limit(o: PhaseMapOptions, n_real: int, n_synthetic: int, bias: float, k: int = 1) -> Limit:
    return fresh_limit(
        o.dim,
        n_real,
        n_synthetic,
        bias,
        from_latest=k,
        replicates=o.replicates,
        seed=o.seed,
        tail=o.tail,
        tolerance=o.flat_tolerance,
        max_generations=o.max_generations,
    )


def limits(o: PhaseMapOptions, cells: list[tuple[int, int, float, int]]) -> list[Limit]:
    """The fresh-data limit of each (n_r, n_s, lambda, K) cell, cells split across processes
    (the slowest-mixing first: memory rho = K n_s / (n_r + K n_s) near 1 needs long burn-ins)."""
    cost = [1.0 / max(1e-3, 1 - (k * ns / (nr + k * ns)) ** 2) for nr, ns, _, k in cells]
    calls = [(o, nr, ns, b, k) for nr, ns, b, k in cells]
    return parallel_map(_limit, calls, o.workers, cost)


def _curve(o: PhaseMapOptions, largest: int, exact: list[int]) -> Curve:
    """The real-only curve on a log grid up to 4x the largest training set, plus each n_r."""
    sizes = np.unique(np.concatenate([np.geomspace(2, 4 * largest, 48).round().astype(int), exact]))
    return real_only_curve(o.dim, sizes, o.replicates, o.seed + 1, workers=o.workers)


def _ratio_rows(o: PhaseMapOptions, cells: list[tuple[int, int, float, int]]) -> list[dict]:
    curve = _curve(o, max(nr + k * ns for nr, ns, _, k in cells), [c[0] for c in cells])
    rows = []
    for (n_real, n_synthetic, bias, k), limit in zip(cells, limits(o, cells), strict=True):
        ratio = effective_ratio(limit, n_real, curve)
        rows.append(
            {
                "n_real": n_real,
                "n_synthetic": n_synthetic,
                "sampling_bias": bias,
                "from_latest": k,
                "wd": limit.value,
                "wd_low": limit.low,
                "wd_high": limit.high,
                "ne_ratio": ratio.value,
                "ne_ratio_low": ratio.low,
                "ne_ratio_high": ratio.high,
                "burn_in": limit.burn_in,
                "flat": limit.flat,
            }
        )
    return rows


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _heatmap(rows: list[dict], x: str, y: str, path: Path, title: str) -> None:
    xs, ys = sorted({r[x] for r in rows}), sorted({r[y] for r in rows})
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        grid[ys.index(r[y]), xs.index(r[x])] = np.log2(r["ne_ratio"])
    fig, ax = plt.subplots(figsize=(6.5, 5), dpi=100)
    bound = max(1.0, np.nanmax(np.abs(grid)))
    image = ax.imshow(grid, origin="lower", cmap="RdBu", norm=TwoSlopeNorm(0.0, -bound, bound), aspect="auto")
    ax.contour(grid, levels=[0.0], colors="k", linewidths=1.5)
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], rotation=45)
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{title}\nblue: admissible (n_e >= n_r); black line: n_e = n_r")
    fig.colorbar(image, label="log2(n_e / n_r)")
    _save(fig, path)


def fig11(o: PhaseMapOptions, out: Path) -> list[dict]:
    rows = _ratio_rows(
        o, [(nr, ns, o.sampling_bias, 1) for nr, ns in itertools.product(o.n_real, o.n_synthetic)]
    )
    _heatmap(
        rows,
        "n_real",
        "n_synthetic",
        out / "fig11.png",
        f"fresh data, lambda = {o.sampling_bias:g}, d = {o.dim}",
    )
    return rows


def fig12(o: PhaseMapOptions, out: Path) -> list[dict]:
    cells = [(o.fixed_n_real, ns, b, 1) for b, ns in itertools.product(o.sampling_biases, o.n_synthetic)]
    rows = _ratio_rows(o, cells)
    _heatmap(
        rows,
        "sampling_bias",
        "n_synthetic",
        out / "fig12.png",
        f"fresh data, n_r = {o.fixed_n_real}, d = {o.dim}",
    )
    return rows


def fig30(o: PhaseMapOptions, out: Path) -> list[dict]:
    rows = _ratio_rows(o, [(o.k_n_real, o.k_n_synthetic, 1.0, k) for k in o.from_latest])
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ks = [r["from_latest"] for r in rows]
    ax.errorbar(
        ks,
        [r["ne_ratio"] for r in rows],
        marker="o",
        capsize=3,
        yerr=[
            [r["ne_ratio"] - r["ne_ratio_low"] for r in rows],
            [r["ne_ratio_high"] - r["ne_ratio"] for r in rows],
        ],
    )
    ax.set_xlabel("K (models sampled from)")
    ax.set_ylabel("n_e / n_r")
    ax.set_title(f"n_r = {o.k_n_real}, n_s = {o.k_n_synthetic}, lambda = 1, d = {o.dim}")
    ax.grid(alpha=0.3)
    _save(fig, out / "fig30.png")
    return rows


def fig31(o: PhaseMapOptions, out: Path) -> list[dict]:
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100, sharey=True)
    panels = [
        (axes[0], [(p, 1.0) for p in o.real_fractions]),
        (axes[1], [(0.5, b) for b in (1.0, 0.99, 0.95, 0.9)]),
    ]
    wanted = [(p, b, n) for _, settings in panels for p, b in settings for n in o.total_sizes]
    cells = []
    for p, bias, n in wanted:
        n_real = max(1, round(p * n))
        cells.append((n_real, n - n_real, bias, 1) if n > n_real else (n_real, 0, 1.0, 1))
    found = dict(zip(wanted, limits(o, cells), strict=True))
    for ax, settings in panels:
        for p, bias in settings:
            wd = []
            for n in o.total_sizes:
                limit = found[(p, bias, n)]
                rows.append(
                    {
                        "real_fraction": p,
                        "sampling_bias": bias,
                        "total_size": n,
                        "wd": limit.value,
                        "wd_low": limit.low,
                        "wd_high": limit.high,
                        "burn_in": limit.burn_in,
                    }
                )
                wd.append(limit.value)
            ax.loglog(o.total_sizes, wd, marker="o", label=f"p = {p:g}, lambda = {bias:g}")
        ax.set_xlabel("total size n")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("W2 limit")
    fig.suptitle(f"data environment with real fraction p (d = {o.dim})")
    _save(fig, out / "fig31.png")
    return rows


def fig10(o: PhaseMapOptions, out: Path) -> list[dict]:
    rows = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100, sharey=True)
    for ax, bias in zip(axes, (1.0, o.sampling_bias), strict=True):
        for n_ini in o.n_ini:
            schedule = DataSchedule(
                n_ini=n_ini, fixed_real=0, fresh_real=100, synthetic=900, sampling_bias=bias
            )
            w2 = w2_by_generation(o.dim, schedule, o.generations, o.replicates, o.seed)
            ax.plot(np.arange(1, o.generations + 1), w2.mean(axis=0), label=f"n_ini = {n_ini}")
            rows += [
                {"sampling_bias": bias, "n_ini": n_ini, "generation": g + 1, "wd": float(v)}
                for g, v in enumerate(w2.mean(axis=0))
            ]
        ax.set_title(f"fresh data n_r = 100, n_s = 900, lambda = {bias:g}")
        ax.set_xlabel("generation")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("W2 to P_r")
    _save(fig, out / "fig10.png")
    return rows


MAPS: dict[str, Callable[[PhaseMapOptions, Path], list[dict]]] = {
    "fig10": fig10,
    "fig11": fig11,
    "fig12": fig12,
    "fig30": fig30,
    "fig31": fig31,
}


def phase_map(kind: str, options: PhaseMapOptions, out: Path) -> Path:
    """Compute one map into ``out`` (locked while in use; files written atomically); returns
    the CSV path."""
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out):
        rows = MAPS[kind](options, out)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return atomic_write_text(out / f"{kind}.csv", buffer.getvalue())
