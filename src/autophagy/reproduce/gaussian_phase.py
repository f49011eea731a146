"""Gaussian recipes G3-G5 (spec §4): the fresh-data limit (paper eq. 3) and the effective sample
size n_e (eq. 4), measured with :mod:`autophagy.admissible.effective` on the exact simulator, P_r = N(0, I_d).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from autophagy.admissible.effective import Z95, Limit, effective_ratio
from autophagy.admissible.maps import fresh_limit, real_only_curve
from autophagy.core.stats import Estimate
from autophagy.reproduce.design import design
from autophagy.reproduce.gaussian_phase_judge import (
    G3Data,
    G4Data,
    G5Data,
    g3_draw,
    g3_judge,
    g4_draw,
    g4_judge,
    g5_draw,
    g5_judge,
)
from autophagy.reproduce.recipe import Recipe, declare, recipe_seed
from autophagy.running.executors import parallel_map


def _loops(folder: Path | None, name: str) -> Path | None:
    """Where a map keeps the runs of its loop ``name``: ``folder/runs/name`` (resumable), or
    ``None`` (temporary folders) when the recipe keeps none."""
    return None if folder is None else Path(folder) / "runs" / name


def declared_grid(recipe_id: str, profile: str) -> dict[str, tuple[int, ...]]:
    """The grid a recipe's design file declares for ``profile`` (``[grid.PROFILE]``: lists of
    sizes, as tuples; its ``reason`` stays in the file)."""
    found = design(recipe_id)
    grid = {} if found is None else found.data.get("grid", {}).get(profile, {})
    return {key: tuple(value) for key, value in grid.items() if key != "reason"}


def _name(bias: float, nr: int, ns: int, k: int) -> str:
    return f"lambda{bias:g}-nr{nr}-ns{ns}-k{k}"


def _ratio_grid(
    recipe: str,
    dim: int,
    replicates: int,
    cells: list[tuple[float, int, int, int]],
    max_generations: int,
    seed: int,
    folder: Path | None = None,
    workers: int = 1,
) -> dict[tuple[float, int, int, int], Estimate]:
    """log(n_e / n_r) per cell, each cell an independent loop (its seed from
    :func:`~autophagy.reproduce.recipe.recipe_seed` keyed on the recipe, the seed and the cell)."""
    largest = max(nr + k * ns for _, nr, ns, k in cells)
    sizes = np.unique(
        np.concatenate([np.geomspace(2, 4 * largest, 40).round().astype(int), [c[1] for c in cells]])
    )
    curve = real_only_curve(
        dim,
        sizes,
        replicates,
        recipe_seed(recipe, seed, "real-only"),
        workers=workers,
        folder=_loops(folder, "real-only"),
    )
    calls = [
        (
            dim,
            nr,
            ns,
            bias,
            k,
            replicates,
            recipe_seed(recipe, seed, "loop", i),
            max_generations,
            _loops(folder, _name(bias, nr, ns, k)),
        )
        for i, (bias, nr, ns, k) in enumerate(cells)
    ]
    out = {}
    for (bias, nr, ns, k), limit in zip(cells, parallel_map(_limit, calls, workers), strict=True):
        r = effective_ratio(limit, nr, curve)
        se = (math.log(r.high) - math.log(r.low)) / (2 * Z95)
        out[(bias, nr, ns, k)] = Estimate(math.log(r.value), se, replicates - 1, replicates)
    return out


def _limit(
    dim: int, nr: int, ns: int, bias: float, k: int, replicates: int, seed: int, cap: int, folder: Path | None
) -> Limit:
    """One fresh-data loop's W2 limit (a module-level function: pool workers call it)."""
    return fresh_limit(
        dim, nr, ns, bias, from_latest=k, replicates=replicates, seed=seed, max_generations=cap, folder=folder
    )


def g3_measure(
    dim: int,
    replicates: int,
    n_real: tuple[int, ...],
    n_synthetic: tuple[int, ...],
    max_generations: int,
    seed: int = 0,
    folder: Path | None = None,
    workers: int = 1,
) -> G3Data:
    cells = [(b, nr, ns, 1) for b in (1.0, 0.9, 0.8) for nr in n_real for ns in n_synthetic]
    grid = _ratio_grid("G3", dim, replicates, cells, max_generations, seed, folder, workers)
    return G3Data(dim, {(b, nr, ns): r for (b, nr, ns, _), r in grid.items()})


def g4_measure(
    dim: int,
    replicates: int,
    ks: tuple[int, ...],
    max_generations: int,
    seed: int = 0,
    folder: Path | None = None,
    workers: int = 1,
) -> G4Data:
    cells = [(1.0, 1000, 10_000, k) for k in ks]
    grid = _ratio_grid("G4", dim, replicates, cells, max_generations, seed, folder, workers)
    return G4Data(dim, 1000, 10_000, {k: grid[(1.0, 1000, 10_000, k)] for k in ks})


def g5_measure(
    dim: int,
    replicates: int,
    sizes: tuple[int, ...],
    max_generations: int,
    seed: int = 0,
    folder: Path | None = None,
    workers: int = 1,
) -> G5Data:
    settings = [(1.0, 1.0), (1.0, 0.5), (1.0, 0.2), (0.9, 0.5)]
    points = [(bias, p, n) for bias, p in settings for n in sizes]
    calls = []
    for i, (bias, p, n) in enumerate(points):
        n_real = max(1, round(p * n))
        where = _loops(folder, f"lambda{bias:g}-p{p:g}-n{n}")
        lam = bias if n > n_real else 1.0
        calls.append(
            (
                dim,
                n_real,
                n - n_real,
                lam,
                1,
                replicates,
                recipe_seed("G5", seed, "loop", i),
                max_generations,
                where,
            )
        )
    limits = parallel_map(_limit, calls, workers)
    per = {
        point: np.asarray(limit.per_replicate, dtype=np.float64)
        for point, limit in zip(points, limits, strict=True)
    }
    return G5Data(dim, per)


RECIPES: dict[str, Recipe] = {
    "G3": declare("G3", g3_judge, g3_draw, measure_fn=g3_measure),
    "G4": declare("G4", g4_judge, g4_draw, measure_fn=g4_measure),
    "G5": declare("G5", g5_judge, g5_draw, measure_fn=g5_measure),
}
RECIPES["G3"].profiles["full"].update(declared_grid("G3", "full"))  # the grid lives in designs/G3.toml
