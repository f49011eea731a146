"""``autophagy phase-map KIND``: the paper's fresh-data figures as one command each.

Each map writes ``KIND.csv`` (the numbers) and ``KIND.png`` into its folder:
- ``fig11``: n_e / n_r over (n_r, n_s) at one lambda; the admissible region is n_e >= n_r;
- ``fig12``: n_e / n_r over (lambda, n_s) at one n_r;
- ``fig30``: n_e / n_r versus K, synthetic data from the K latest models;
- ``fig31``: the fresh-data limit W2 versus total size n for several real fractions p and lambdas;
- ``fig10``: W2 versus generation for several n_ini (the limit does not depend on it).

Every loop runs through :func:`autophagy.api.run` into a run folder under ``runs-KIND/`` of the
map's folder (``curve`` for the real-only curve, ``cells/...`` per cell); a rerun resumes them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, PositiveInt
from threadpoolctl import threadpool_limits

from autophagy.admissible import folders
from autophagy.admissible.effective import (
    W2,
    Curve,
    Limit,
    effective_ratio,
    loop_limit,
    real_only_values,
    run_values,
    temporary_folder,
)
from autophagy.core.registry import Options
from autophagy.core.schedule import DataSchedule
from autophagy.running.executors import parallel_map
from autophagy.storage.safety import FolderLock, make_folder

# --- the Gaussian fresh-data loop on the exact simulator -----------------------------------


def gaussian_config(
    dim: int, loop: dict[str, Any], generations: int, replicates: int, seed: int
) -> dict[str, Any]:
    """A raw config: P_r = N(0, I_d), a Gaussian fitted by the exact simulator, W2 measured."""
    return {
        "name": "effective-size",
        "seed": int(seed),
        "replicates": int(replicates),
        "generations": int(generations),
        "data": {"kind": "gaussian", "dim": int(dim)},
        "model": {"kind": "gaussian", "simulator": "exact"},
        "loop": loop,
        "metrics": {"names": [W2]},
    }


def schedule_loop(s: DataSchedule) -> dict[str, Any]:
    """The ``[loop]`` table of a schedule without subsampling or fine-tuning."""
    family = "fresh_data" if s.fresh_real > 0 else "fully_synthetic"
    return {
        "family": family,
        "n_ini": s.n_ini,
        "n_real": s.fresh_real,
        "n_synthetic": s.synthetic,
        "sampling_bias": s.sampling_bias,
        "from_latest": s.from_latest,
        "fixed_real": s.fixed_real,
        "keep_real": s.keep_real,
        "keep_synthetic": s.keep_synthetic,
    }


def w2_by_generation(
    dim: int, schedule: DataSchedule, generations: int, replicates: int, seed: int, folder: Path | None = None
) -> np.ndarray:
    """W2 to P_r of every replicate and generation, shape ``(replicates, generations)``."""
    raw = gaussian_config(dim, schedule_loop(schedule), generations, replicates, seed)
    with temporary_folder(folder) as out, threadpool_limits(limits=1, user_api="blas"):
        values = run_values(raw, out, W2)
    return np.stack([values[t] for t in range(1, generations + 1)], axis=1)


def real_only_curve(
    dim: int, sizes: np.ndarray, replicates: int, seed: int, *, workers: int = 1, folder: Path | None = None
) -> Curve:
    """E[W2(G(n), P_r)] for each real-only training size n in ``sizes``, with standard errors."""
    loop = {"family": "fully_synthetic", "n_ini": 2, "n_synthetic": 1}  # one generation: n_ini only
    raw = gaussian_config(dim, loop, 1, replicates, seed)
    with temporary_folder(folder) as out, threadpool_limits(limits=1, user_api="blas"):
        return real_only_values(raw, W2, [int(n) for n in sizes], out, workers)


def fresh_limit(
    dim: int,
    n_real: int,
    n_synthetic: int,
    sampling_bias: float,
    *,
    from_latest: int = 1,
    replicates: int = 200,
    seed: int = 0,
    tail: int = 20,
    tolerance: float = 0.01,
    max_generations: int = 400,
    folder: Path | None = None,
) -> Limit:
    """WD(n_r, n_s, lambda) of the Gaussian fresh-data loop (:func:`loop_limit`, ``tail``
    generations measured per window, capped at ``max_generations``)."""
    loop = {
        "family": "fresh_data",
        "n_ini": n_real + n_synthetic,
        "n_real": n_real,
        "n_synthetic": n_synthetic,
        "sampling_bias": sampling_bias,
        "from_latest": from_latest,
    }
    raw = gaussian_config(dim, loop, max_generations, replicates, seed)
    with threadpool_limits(limits=1, user_api="blas"):  # d x d products: threads only contend
        return loop_limit(raw, W2, folder, window=tail, tolerance=tolerance, max_generations=max_generations)


# --- the maps ---------------------------------------------------------------------------------


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


def _limit(o: PhaseMapOptions, n_real: int, n_synthetic: int, bias: float, k: int, runs: Path) -> Limit:
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
        folder=runs / "cells" / f"n_real={n_real}_n_synthetic={n_synthetic}_lambda={bias!r}_K={k}",
    )


def limits(o: PhaseMapOptions, cells: list[tuple[int, int, float, int]], runs: Path) -> list[Limit]:
    """The fresh-data limit of each (n_r, n_s, lambda, K) cell, cells split across processes
    (the slowest-mixing first: memory rho = K n_s / (n_r + K n_s) near 1 needs long burn-ins)."""
    cost = [1.0 / max(1e-3, 1 - (k * ns / (nr + k * ns)) ** 2) for nr, ns, _, k in cells]
    calls = [(o, nr, ns, b, k, runs) for nr, ns, b, k in cells]
    return parallel_map(_limit, calls, o.workers, cost)


def _curve(o: PhaseMapOptions, largest: int, exact: list[int], runs: Path) -> Curve:
    """The real-only curve on a log grid up to 4x the largest training set, plus each n_r."""
    sizes = np.unique(np.concatenate([np.geomspace(2, 4 * largest, 48).round().astype(int), exact]))
    return real_only_curve(o.dim, sizes, o.replicates, o.seed + 1, workers=o.workers, folder=runs / "curve")


def _ratio_rows(o: PhaseMapOptions, cells: list[tuple[int, int, float, int]], runs: Path) -> list[dict]:
    curve = _curve(o, max(nr + k * ns for nr, ns, _, k in cells), [c[0] for c in cells], runs)
    rows = []
    for (n_real, n_synthetic, bias, k), limit in zip(cells, limits(o, cells, runs), strict=True):
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


def fig11(o: PhaseMapOptions, out: Path, runs: Path) -> list[dict]:
    cells = [(nr, ns, o.sampling_bias, 1) for nr, ns in itertools.product(o.n_real, o.n_synthetic)]
    rows = _ratio_rows(o, cells, runs)
    title = f"fresh data, lambda = {o.sampling_bias:g}, d = {o.dim}"
    folders.heatmap(rows, "n_real", "n_synthetic", out / "fig11.png", title)
    return rows


def fig12(o: PhaseMapOptions, out: Path, runs: Path) -> list[dict]:
    cells = [(o.fixed_n_real, ns, b, 1) for b, ns in itertools.product(o.sampling_biases, o.n_synthetic)]
    rows = _ratio_rows(o, cells, runs)
    title = f"fresh data, n_r = {o.fixed_n_real}, d = {o.dim}"
    folders.heatmap(rows, "sampling_bias", "n_synthetic", out / "fig12.png", title)
    return rows


def fig30(o: PhaseMapOptions, out: Path, runs: Path) -> list[dict]:
    rows = _ratio_rows(o, [(o.k_n_real, o.k_n_synthetic, 1.0, k) for k in o.from_latest], runs)
    title = f"n_r = {o.k_n_real}, n_s = {o.k_n_synthetic}, lambda = 1, d = {o.dim}"
    folders.ratio_by_k(rows, out / "fig30.png", title)
    return rows


def fig31(o: PhaseMapOptions, out: Path, runs: Path) -> list[dict]:
    panels = [[(p, 1.0) for p in o.real_fractions], [(0.5, b) for b in (1.0, 0.99, 0.95, 0.9)]]
    wanted = [(p, b, n) for settings in panels for p, b in settings for n in o.total_sizes]
    cells = []
    for p, bias, n in wanted:
        n_real = max(1, round(p * n))
        cells.append((n_real, n - n_real, bias, 1) if n > n_real else (n_real, 0, 1.0, 1))
    found = dict(zip(wanted, limits(o, cells, runs), strict=True))
    rows = [
        {
            "real_fraction": p,
            "sampling_bias": bias,
            "total_size": n,
            "wd": found[(p, bias, n)].value,
            "wd_low": found[(p, bias, n)].low,
            "wd_high": found[(p, bias, n)].high,
            "burn_in": found[(p, bias, n)].burn_in,
        }
        for p, bias, n in wanted
    ]
    lines = [
        [
            (f"p = {p:g}, lambda = {b:g}", o.total_sizes, [found[(p, b, n)].value for n in o.total_sizes])
            for p, b in s
        ]
        for s in panels
    ]
    title = f"data environment with real fraction p (d = {o.dim})"
    folders.curves(lines, out / "fig31.png", "total size n", "W2 limit", title, log=True)
    return rows


def fig10(o: PhaseMapOptions, out: Path, runs: Path) -> list[dict]:
    rows, panels = [], []
    for bias in (1.0, o.sampling_bias):
        lines = []
        for n_ini in o.n_ini:
            schedule = DataSchedule(
                n_ini=n_ini, fixed_real=0, fresh_real=100, synthetic=900, sampling_bias=bias
            )
            folder = runs / "cells" / f"lambda={bias!r}_n_ini={n_ini}"
            w2 = w2_by_generation(o.dim, schedule, o.generations, o.replicates, o.seed, folder).mean(axis=0)
            lines.append((f"n_ini = {n_ini}", list(range(1, o.generations + 1)), w2))
            rows += [
                {"sampling_bias": bias, "n_ini": n_ini, "generation": g + 1, "wd": float(v)}
                for g, v in enumerate(w2)
            ]
        panels.append(lines)
    title = f"fresh data n_r = 100, n_s = 900, lambda = {1.0:g} (left) and {o.sampling_bias:g} (right)"
    folders.curves(panels, out / "fig10.png", "generation", "W2 to P_r", title, log=False)
    return rows


MAPS: dict[str, Callable[[PhaseMapOptions, Path, Path], list[dict]]] = {
    "fig10": fig10,
    "fig11": fig11,
    "fig12": fig12,
    "fig30": fig30,
    "fig31": fig31,
}


def phase_map(kind: str, options: PhaseMapOptions, out: Path) -> Path:
    """Compute (or resume) one map into ``out`` (locked while in use; its loops in the run folders
    of ``out/runs-KIND``; files written atomically); returns the CSV path."""
    runs = out / f"runs-{kind}"
    manifest = {"kind": f"phase-map {kind}", "phase": options.model_dump(exclude={"workers"})}
    folders.claim(runs, manifest, "phase-map.json")
    make_folder(out, runs)
    with FolderLock(out):
        folders.claim(runs, manifest, "phase-map.json")
        folders.write_manifest(runs, manifest, "phase-map.json")
        rows = MAPS[kind](options, out, runs)
        return folders.write_rows(out / f"{kind}.csv", rows)
