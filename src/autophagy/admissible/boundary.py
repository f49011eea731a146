"""How much synthetic data is safe: the effective sample size n_e of a fresh-data loop, any model.

For a cell (a config with the two swept keys set, a fresh-data loop with n_r fresh real and
n_s synthetic samples per generation):

- the loop runs without metrics; the chosen metric is evaluated only on the windows read by
  the stationarity test (:func:`autophagy.admissible.effective.stationary_window`), and the first flat
  window gives the loop's limit, each replicate's window mean, with its Student-t interval;
- a baseline ladder, shared by every cell: the metric of a model trained once on n real
  samples (generation 1 with ``loop.n_ini = n``) for n on a log grid, mean and standard error
  over replicates;
- n_e is the real-only size whose expected metric equals the limit: the ladder's means are
  made monotone in n (weighted pool-adjacent-violators, in the metric's better direction),
  then inverted by linear interpolation in log n. The interval inverts the limit's interval
  widened by the ladder's own standard error there. n_e / n_r >= 1 is the admissible region;
  a cell is decided when its whole interval is on one side of 1.

Every loop runs through :func:`autophagy.api.run` (:mod:`autophagy.admissible.effective`): the
ladder is one sweep folder ``out/baseline``, each cell's loop the run folders of
``out/cells/x=X_y=Y``; a rerun after a kill resumes them and reads the same numbers back.

Only metrics whose real-only expectation moves monotonically with the training size are
accepted (distances and likelihoods, :data:`MONOTONE`); precision, recall and other
quality-or-diversity scores are refused with the reason.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.admissible import folders
from autophagy.admissible.effective import Curve, Limit, effective_size, loop_limit, real_only_values
from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.metrics import METRICS
from autophagy.running.config import resolve, set_key
from autophagy.running.executors import parallel_map
from autophagy.storage.safety import FolderLock, make_folder

MONOTONE = {
    "wasserstein2": "W2 to P_r",
    "mean_drift": "|mu - mu_r|",
    "frechet": "Frechet distance of sample fits",
    "kid": "kernel inception distance",
    "true_tv": "total variation to P_r",
    "cross_entropy": "held-out cross entropy",
    "cross_entropy_true": "cross entropy under P_r",
    "test_error": "held-out error",
    "lenet_fid": "LeNet FID",
}
"""Metrics whose expected real-only value improves monotonically with the training size."""


def parse_axis(text: str, field: str) -> tuple[str, list[float]]:
    """``key=v1,v2,...`` or ``key=log:lo:hi:count`` (integers, log-spaced) -> (key, values)."""
    key, sep, spec = text.partition("=")
    if not sep or not key.strip() or not spec.strip():
        raise ConfigError(field, f"expected key=values (a comma list or log:lo:hi:count), got {text!r}")
    spec = spec.strip()
    try:
        if spec.startswith("log:"):
            lo, hi, count = spec[4:].split(":")
            if float(lo) <= 0 or float(hi) < float(lo) or int(count) < 1:
                raise ValueError
            values = np.unique(np.geomspace(float(lo), float(hi), int(count)).round()).tolist()
        else:
            values = [float(v) for v in spec.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(field, f"cannot read values {spec!r}: use 50,200,800 or log:50:6400:8") from None
    if not values or len(set(values)) != len(values):
        raise ConfigError(field, f"values must be distinct and non-empty, got {spec!r}")
    return key.strip(), [int(v) if float(v).is_integer() else v for v in sorted(values)]


class PhaseOptions(Options):
    """The ``[phase]`` table (or the ``admissible`` command's options)."""

    x: str = "loop.n_synthetic"
    x_values: list[int | float]
    y: str = "loop.n_real"
    y_values: list[int | float]
    metric: str | None = None  # default: the first of metrics.names that MONOTONE accepts
    ladder: list[PositiveInt] | None = None  # real-only sizes (default: a log grid around the cells)
    window: PositiveInt = 20  # generations measured per stationarity window
    tolerance: float = Field(0.01, gt=0)  # allowed drift over a window, relative to its level
    max_generations: PositiveInt = 200  # cap on the loop
    search: Literal["grid", "bisect"] = "grid"
    workers: PositiveInt | None = None


def choose_metric(raw: dict[str, Any], wanted: str | None) -> str:
    """The metric n_e is read from; refuses one whose real-only curve need not be monotone."""
    names = raw.get("metrics", {}).get("names") or ["wasserstein2"]
    name = wanted or next((n for n in names if n in MONOTONE), names[0])
    if name not in METRICS:
        raise ConfigError("phase.metric", f"unknown metric {name!r}")
    if name not in MONOTONE:
        raise ConfigError(
            "phase.metric",
            f"{name} is refused: its real-only curve need not be monotone in the sample size, so no "
            f"size n_e has the loop's value; use a distance or likelihood ({', '.join(MONOTONE)})",
        )
    return name


def _config(raw: dict[str, Any], metric: str, changes: dict[str, Any]) -> dict[str, Any]:
    """``raw`` without its [phase] table, measuring ``metric`` only, with ``changes`` set; a
    loop without its own ``n_ini`` starts from n_r + n_s real samples. Sample metrics are
    evaluated on unbiased draws (``metrics.unbiased_eval``): n_e compares the fitted models,
    as the paper's W2 of the fitted Gaussian does, not the biased sampler that feeds the loop."""
    out = copy.deepcopy(raw)
    out.pop("phase", None)
    set_key(out, "metrics.names", [metric])
    set_key(out, "metrics.unbiased_eval", True)
    for key, value in changes.items():
        whole = isinstance(value, float) and value.is_integer()
        set_key(out, key, int(value) if whole else value)  # sizes must be integers
    loop = out.setdefault("loop", {})
    total = int(loop.get("n_real", 0)) + int(loop.get("n_synthetic", 0))
    if "n_ini" not in loop and total > 0:
        loop["n_ini"] = total
    return out


@dataclass(frozen=True)
class Cell:
    """One cell's limit and effective size. ``ratio*``: n_e / n_r with its 95 % interval;
    ``decided``: "admissible", "inadmissible" or "undecided"; ``censored``: n_e beyond the ladder."""

    x: float
    y: float
    n_real: int
    n_synthetic: int
    limit: float
    limit_low: float
    limit_high: float
    burn_in: int
    flat: bool
    n_e: float
    ratio: float
    ratio_low: float
    ratio_high: float
    decided: str
    censored: bool


def _first_cell(o: PhaseOptions) -> dict[str, Any]:
    return {o.x: o.x_values[0], o.y: o.y_values[0]}


def baseline(raw: dict[str, Any], metric: str, o: PhaseOptions, sizes: list[int], out: Path) -> Curve:
    """The metric of models trained once on n real samples (generation 1 of the first cell's
    config with ``loop.n_ini = n``, seed + 1), for each n of ``sizes``: one sweep into ``out``."""
    seed = int(raw.get("seed", 0)) + 1
    base = _config(raw, metric, {**_first_cell(o), "generations": 1, "seed": seed})
    return real_only_values(base, metric, sizes, out, o.workers)


def cell_limit(raw: dict[str, Any], metric: str, o: PhaseOptions, folder: Path | None = None) -> Limit:
    """The stationary limit of one cell's loop (``raw`` with the cell's keys set)."""
    return loop_limit(
        raw, metric, folder, window=o.window, tolerance=o.tolerance, max_generations=o.max_generations
    )


def cell(
    raw: dict[str, Any], metric: str, o: PhaseOptions, x: float, y: float, curve: Curve, out: Path
) -> Cell:
    """Run (or resume) one (x, y) cell to its limit in ``out/cells`` and read off n_e / n_r."""
    config = _config(raw, metric, {o.x: x, o.y: y})
    schedule = resolve(config)[0].schedule
    if schedule.fresh_real <= 0:
        raise ConfigError(
            "phase.y", "the cell has no fresh real data (loop.n_real = 0): n_e / n_r is undefined"
        )
    limit = cell_limit(config, metric, o, out / "cells" / f"x={x!r}_y={y!r}")
    n_e = effective_size(limit, curve, METRICS[metric].higher_is_better)
    ratio = n_e.per(schedule.fresh_real)
    decided = "admissible" if ratio.low >= 1 else "inadmissible" if ratio.high < 1 else "undecided"
    return Cell(
        x,
        y,
        schedule.fresh_real,
        schedule.synthetic,
        limit.value,
        limit.low,
        limit.high,
        limit.burn_in,
        limit.flat,
        n_e.value,
        ratio.value,
        ratio.low,
        ratio.high,
        decided,
        n_e.censored,
    )


def _bisect_row(folder: Path, raw: dict, metric: str, o: PhaseOptions, y: float, curve: Curve) -> list[Cell]:
    """Cells of one row visited by bisection over the x grid (a log-spaced grid: log-scale
    bisection), assuming admissibility falls with x: first the largest surely admissible x,
    then past it the smallest surely inadmissible one; undecided cells lie between. O(log) cells."""
    xs, seen = o.x_values, {}

    def at(i: int) -> str:
        if i not in seen:
            seen[i] = cell(raw, metric, o, xs[i], y, curve, folder)
        return seen[i].decided

    n, safe = len(xs), -1
    if at(0) == "admissible":
        lo, hi = 0, n - 1
        if at(hi) == "admissible":
            lo = hi
        while hi - lo > 1:  # xs[lo] admissible, xs[hi] not
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if at(mid) == "admissible" else (lo, mid)
        safe = lo
    start = safe + 1
    if start < n and at(n - 1) == "inadmissible" and at(start) != "inadmissible":
        lo, hi = start, n - 1
        while hi - lo > 1:  # xs[lo] not surely inadmissible, xs[hi] surely
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if at(mid) != "inadmissible" else (lo, mid)
    return [seen[i] for i in sorted(seen)]


def boundary(cells: list[Cell]) -> dict[float, tuple[float | None, float | None]]:
    """Per y: (largest x admissible with every evaluated x below it admissible, smallest x
    surely inadmissible); the uncertainty band lies between."""
    out = {}
    for y in sorted({c.y for c in cells}):
        row = sorted((c for c in cells if c.y == y), key=lambda c: c.x)
        safe = None
        for c in row:
            if c.decided != "admissible":
                break
            safe = c.x
        unsafe = next((c.x for c in row if c.decided == "inadmissible"), None)
        out[y] = (safe, unsafe)
    return out


def default_ladder(raw: dict[str, Any], metric: str, o: PhaseOptions) -> list[int]:
    """Real-only sizes: 16 log-spaced from a quarter of the smallest n_r to twice the largest
    training set n_r + n_s of any cell, less any size the model cannot be fitted on."""
    loop = raw.get("loop", {})

    def axis(key: str) -> list[float]:
        return o.x_values if o.x == key else o.y_values if o.y == key else [loop.get(key.split(".")[1], 0)]

    n_real, n_syn = axis("loop.n_real"), axis("loop.n_synthetic")
    low = max(2, int(min(n_real) // 4))
    high = max(low + 1, int(2 * (max(n_real) + max(n_syn))))
    out = []
    for n in sorted({int(v) for v in np.geomspace(low, high, 16).round()}):
        try:
            resolve(_config(raw, metric, {**_first_cell(o), "loop.n_ini": n, "generations": 1}))
        except ConfigError:
            continue
        out.append(n)
    if len(out) < 2:
        raise ConfigError("phase.ladder", f"fewer than 2 real-only sizes in {low}..{high} fit this model")
    return out


def options_from(raw: dict[str, Any], overrides: dict[str, Any]) -> PhaseOptions:
    """The ``[phase]`` table of ``raw`` updated with command-line ``overrides``, validated."""
    from pydantic import ValidationError

    from autophagy.running.config import pydantic_error

    table = {**raw.get("phase", {}), **{k: v for k, v in overrides.items() if v is not None}}
    for axis in ("x", "y"):
        if isinstance(table.get(axis), str) and "=" in table[axis]:
            table[axis], table[f"{axis}_values"] = parse_axis(table[axis], f"phase.{axis}")
    try:
        return PhaseOptions.model_validate(table)
    except ValidationError as exc:
        raise pydantic_error(exc, "phase") from None


def _check(raw: dict[str, Any], metric: str, o: PhaseOptions) -> None:
    """Every cell's config must resolve, before any work."""
    for x in o.x_values:
        for y in o.y_values:
            exp = resolve(_config(raw, metric, {o.x: x, o.y: y, "generations": o.max_generations}))[0]
            if exp.schedule.timeline or exp.model_schedule:
                raise ConfigError(
                    "loop", "a phase map needs constant sizes (a schedule has no stationary limit)"
                )
            if exp.schedule.fresh_real <= 0:
                raise ConfigError("phase.y", "a cell has no fresh real data (loop.n_real = 0)")


def admissible_map(raw: dict[str, Any], o: PhaseOptions, out: Path) -> Path:
    """Compute (or resume) the map into ``out``; returns the path of ``cells.csv``.

    Writes ``baseline.csv`` (the real-only ladder), ``cells.csv`` (and ``cells.parquet`` when
    pyarrow is installed), ``boundary.csv``, ``admissible.png`` and ``report.html``.
    """
    metric = choose_metric(raw, o.metric)
    _check(raw, metric, o)
    manifest = {  # what the cells depend on (not ``workers``, which never changes a number)
        "kind": "admissible",
        "config": {k: v for k, v in raw.items() if k != "phase"},
        "metric": metric,
        "phase": o.model_dump(exclude={"workers"}),
    }
    folders.claim(out, manifest)  # before anything is written
    make_folder(out)
    with FolderLock(out):
        folders.claim(out, manifest)  # another process may have started it meanwhile
        folders.write_manifest(out, manifest)
        curve = baseline(raw, metric, o, o.ladder or default_ladder(raw, metric, o), out / "baseline")
        if o.search == "grid":
            calls = [(raw, metric, o, x, y, curve, out) for y in o.y_values for x in o.x_values]
            cost = [float(x) / float(y) for _, _, _, x, y, _, _ in calls]
            cells = parallel_map(cell, calls, o.workers, cost=cost)
        else:
            rows = parallel_map(_bisect_row, [(out, raw, metric, o, y, curve) for y in o.y_values], o.workers)
            cells = [c for row in rows for c in row]
        _write(out, metric, o, curve, cells)
    return out / "cells.csv"


def _write(out: Path, metric: str, o: PhaseOptions, curve: Curve, cells: list[Cell]) -> None:
    """The map's files, each written atomically: a kill never leaves a half-written table."""
    sizes = curve.sizes.astype(int).tolist()
    folders.write_csv(
        out / "baseline.csv",
        ["n", metric, "se"],
        [list(r) for r in zip(sizes, curve.mean, curve.se, strict=True)],
    )
    rows = [
        {"x_key": o.x, "y_key": o.y, "metric": metric, **asdict(c)}
        for c in sorted(cells, key=lambda c: (c.y, c.x))
    ]
    folders.write_rows(out / "cells.csv", rows)
    bounds = boundary(cells)
    folders.write_csv(
        out / "boundary.csv",
        [o.y, f"largest admissible {o.x}", f"smallest inadmissible {o.x}"],
        [[y, *b] for y, b in bounds.items()],
    )
    folders.draw_admissible(out / "admissible.png", metric, o, cells, bounds)
    folders.write_admissible_report(out)
