"""Gaussian recipes G3-G5 (spec §4): the fresh-data limit (paper eq. 3) and the effective sample
size n_e (eq. 4), measured with :mod:`autophagy.admissible.effective` on the exact simulator, P_r = N(0, I_d).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from autophagy.admissible.effective import Z95, Limit, effective_ratio
from autophagy.admissible.maps import fresh_limit, real_only_curve
from autophagy.core.stats import Estimate
from autophagy.reproduce.gaussian_phase_judge import G3Data, g3_draw, g3_judge
from autophagy.reproduce.gaussian_sources_judge import (
    G4_CONTROLS,
    G4_N_REAL,
    G4_N_SYNTHETIC,
    G4Data,
    G5Data,
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


def _name(bias: float, nr: int, ns: int, k: int) -> str:
    return f"lambda{bias:g}-nr{nr}-ns{ns}-k{k}"


@dataclass(frozen=True)
class MapRun:
    """What every map of G3-G5 runs with: the dimension d, R, the generation cap of a loop, the
    seed, the folder of its loops (None: temporary) and the worker processes."""

    dim: int
    replicates: int
    max_generations: int
    seed: int = 0
    folder: Path | None = None
    workers: int = 1


def map_measure(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(run: MapRun, **grid)`` as a recipe's ``measure_fn``, which takes keyword settings."""
    names = {f.name for f in fields(MapRun)}

    @functools.wraps(fn)
    def measure(**settings: Any) -> Any:
        run = MapRun(**{k: v for k, v in settings.items() if k in names})
        return fn(run, **{k: v for k, v in settings.items() if k not in names})

    return measure


Cell = tuple[float, int, int, int]  # (lambda, n_r, n_s, K)


def _ratio_grid(recipe: str, run: MapRun, groups: dict[str, list[Cell]]) -> dict[str, dict[Cell, Estimate]]:
    """log(n_e / n_r) per role and cell, each loop at its own seed (from
    :func:`~autophagy.reproduce.recipe.recipe_seed` keyed on the recipe, the seed, the role and
    the cell's index in its group). Role ``"loop"``: the map; other roles repeat settings on
    independent streams (negative controls; folders prefixed with the role). One real-only curve
    serves every role (its sizes depend only on the settings, so adding controls leaves the
    map's numbers unchanged)."""
    cells = [c for group in groups.values() for c in group]
    largest = max(nr + k * ns for _, nr, ns, k in cells)
    sizes = np.unique(
        np.concatenate([np.geomspace(2, 4 * largest, 40).round().astype(int), [c[1] for c in cells]])
    )
    curve = real_only_curve(
        run.dim,
        sizes,
        run.replicates,
        recipe_seed(recipe, run.seed, "real-only"),
        workers=run.workers,
        folder=_loops(run.folder, "real-only"),
    )
    jobs = [(role, i, cell) for role, group in groups.items() for i, cell in enumerate(group)]
    calls = [
        (
            run.dim,
            nr,
            ns,
            bias,
            k,
            run.replicates,
            recipe_seed(recipe, run.seed, role, i),
            run.max_generations,
            _loops(run.folder, ("" if role == "loop" else f"{role}-") + _name(bias, nr, ns, k)),
        )
        for role, i, (bias, nr, ns, k) in jobs
    ]
    out: dict[str, dict[Cell, Estimate]] = {role: {} for role in groups}
    for (role, _, cell), limit in zip(jobs, parallel_map(_limit, calls, run.workers), strict=True):
        r = effective_ratio(limit, cell[1], curve)
        se = (math.log(r.high) - math.log(r.low)) / (2 * Z95)
        out[role][cell] = Estimate(math.log(r.value), se, run.replicates - 1, run.replicates)
    return out


def _limit(
    dim: int, nr: int, ns: int, bias: float, k: int, replicates: int, seed: int, cap: int, folder: Path | None
) -> Limit:
    """One fresh-data loop's W2 limit (a module-level function: pool workers call it)."""
    return fresh_limit(
        dim, nr, ns, bias, from_latest=k, replicates=replicates, seed=seed, max_generations=cap, folder=folder
    )


@map_measure
def g3_measure(run: MapRun, n_real: tuple[int, ...], n_synthetic: tuple[int, ...]) -> G3Data:
    cells = [(b, nr, ns, 1) for b in (1.0, 0.9, 0.8) for nr in n_real for ns in n_synthetic]
    grid = _ratio_grid("G3", run, {"loop": cells, "control": [c for c in cells if c[0] == 0.9]})
    return G3Data(
        run.dim,
        {(b, nr, ns): r for (b, nr, ns, _), r in grid["loop"].items()},
        {(nr, ns): r for (_, nr, ns, _), r in grid["control"].items()},
    )


@map_measure
def g4_measure(run: MapRun, ks: tuple[int, ...]) -> G4Data:
    cells = [(1.0, G4_N_REAL, G4_N_SYNTHETIC, k) for k in ks]
    controls = {f"control{i}": cells[:1] for i in range(G4_CONTROLS)}  # K = ks[0] again
    grid = _ratio_grid("G4", run, {"loop": cells, **controls})
    return G4Data(
        run.dim,
        {k: grid["loop"][(1.0, G4_N_REAL, G4_N_SYNTHETIC, k)] for k in ks},
        [grid[role][cells[0]] for role in controls],
    )


@map_measure
def g5_measure(run: MapRun, sizes: tuple[int, ...]) -> G5Data:
    settings = [(1.0, 1.0), (1.0, 0.5), (1.0, 0.2), (0.9, 0.5)]
    points = [(bias, p, n) for bias, p in settings for n in sizes]
    calls = []
    for i, (bias, p, n) in enumerate(points):
        n_real = max(1, round(p * n))
        lam = bias if n > n_real else 1.0
        seed = recipe_seed("G5", run.seed, "loop", i)
        where = _loops(run.folder, f"lambda{bias:g}-p{p:g}-n{n}")
        calls.append((run.dim, n_real, n - n_real, lam, 1, run.replicates, seed, run.max_generations, where))
    limits = parallel_map(_limit, calls, run.workers)
    per = {
        point: np.asarray(limit.per_replicate, dtype=np.float64)
        for point, limit in zip(points, limits, strict=True)
    }
    return G5Data(run.dim, per)


RECIPES: dict[str, Recipe] = {
    "G3": declare("G3", g3_judge, g3_draw, measure_fn=g3_measure),
    "G4": declare("G4", g4_judge, g4_draw, measure_fn=g4_measure),
    "G5": declare("G5", g5_judge, g5_draw, measure_fn=g5_measure),
}
