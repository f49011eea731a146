"""How much synthetic data is safe: the effective sample size n_e of a fresh-data loop, any model.

For a cell (a config with the two swept keys set, a fresh-data loop with n_r fresh real and
n_s synthetic samples per generation):

- the loop runs without metrics; the chosen metric is evaluated only on the windows read by
  the stationarity test (:func:`autophagy.admissible.phase.stationary_window`), and the first flat
  window gives the loop's limit, each replicate's window mean, with its Student-t interval;
- a baseline ladder, shared by every cell: the metric of a model trained once on n real
  samples (generation 1 with ``loop.n_ini = n``) for n on a log grid, mean and standard error
  over replicates;
- n_e is the real-only size whose expected metric equals the limit: the ladder's means are
  made monotone in n (weighted pool-adjacent-violators, in the metric's better direction),
  then inverted by linear interpolation in log n. The interval inverts the limit's interval
  widened by the ladder's own standard error there. n_e / n_r >= 1 is the admissible region;
  a cell is decided when its whole interval is on one side of 1.

Only metrics whose real-only expectation moves monotonically with the training size are
accepted (distances and likelihoods, :data:`MONOTONE`); precision, recall and other
quality-or-diversity scores are refused with the reason.
"""

from __future__ import annotations

import copy
import io
import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.admissible.phase import Z95, Curve, Estimate, Limit, stationary_window
from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.loop.engine import Experiment, evaluate, run_block
from autophagy.metrics import METRICS
from autophagy.running.config import resolve, set_key
from autophagy.running.executors import parallel_map
from autophagy.storage.safety import FolderLock, atomic_path, atomic_write_text

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


def baseline(
    raw: dict[str, Any], metric: str, o: PhaseOptions, sizes: list[int], workers: int | None = None
) -> Curve:
    """The metric of models trained once on n real samples (generation 1 of the first cell's
    config with ``loop.n_ini = n``, seed + 1), for each n of ``sizes``."""
    seed = int(raw.get("seed", 0)) + 1
    changes = {**_first_cell(o), "generations": 1, "seed": seed}
    calls = [(_config(raw, metric, {**changes, "loop.n_ini": int(n)}), metric) for n in sizes]
    points = parallel_map(_baseline_point, calls, workers, cost=[float(n) for n in sizes])
    mean, se = (np.array(v) for v in zip(*points, strict=True))
    return Curve(np.asarray(sizes, dtype=np.float64), mean, se)


def _baseline_point(raw: dict[str, Any], metric: str) -> tuple[float, float]:
    exp, config, _ = resolve(raw)
    values = next(iter(run_block(exp, range(config.replicates))))[1][metric]
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def loop_limit(raw: dict[str, Any], metric: str, o: PhaseOptions) -> tuple[Experiment, Limit]:
    """The stationary limit of one cell's loop (metric measured only on tested windows)."""
    exp, config, _ = resolve(_config(raw, metric, {"generations": o.max_generations}))
    replicates = range(config.replicates)
    quiet = replace(exp, metrics=())
    states = (state for state, _ in run_block(quiet, replicates))
    measure = lambda state: evaluate(exp, replicates, state.generation, state.models[0])[metric]  # noqa: E731
    return exp, stationary_window(
        states, measure, window=o.window, tolerance=o.tolerance, max_generations=o.max_generations
    )


def monotone(sizes: np.ndarray, mean: np.ndarray, se: np.ndarray, increasing: bool) -> np.ndarray:
    """Weighted least-squares monotone fit of ``mean`` over sorted ``sizes`` (pool adjacent violators)."""
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(sign * mean, 1.0 / np.maximum(se, 1e-12) ** 2, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return sign * np.concatenate([[v] * c for v, _, c in blocks])


def invert(value: float, curve: Curve, higher_is_better: bool) -> tuple[float, bool]:
    """The size n whose monotone-fitted baseline equals ``value`` (linear in log n), and whether
    it was clipped to the ladder's ends."""
    fit = monotone(curve.sizes, curve.mean, curve.se, increasing=higher_is_better)
    keep = np.r_[True, np.diff(fit) != 0]  # flat stretches: their first size
    xs, logs = fit[keep], np.log(curve.sizes[keep])
    if not higher_is_better:
        xs, logs = xs[::-1], logs[::-1]
    censored = not xs[0] <= value <= xs[-1]
    return float(np.exp(np.interp(value, xs, logs))), censored


def effective_size(limit: Estimate, curve: Curve, higher_is_better: bool) -> tuple[float, float, float, bool]:
    """n_e with its 95 % interval (limit interval widened by the ladder's error), and censoring."""
    n_e, censored = invert(limit.value, curve, higher_is_better)
    se = float(np.interp(math.log(n_e), np.log(curve.sizes), curve.se))
    half = math.hypot(limit.high - limit.value, Z95 * se)
    worse, better = (
        (limit.value - half, limit.value + half)
        if higher_is_better
        else (limit.value + half, limit.value - half)
    )
    return (
        n_e,
        invert(worse, curve, higher_is_better)[0],
        invert(better, curve, higher_is_better)[0],
        censored,
    )


def cell(raw: dict[str, Any], metric: str, o: PhaseOptions, x: float, y: float, curve: Curve) -> Cell:
    """Run one (x, y) cell to its limit and read off n_e / n_r."""
    exp, limit = loop_limit(_config(raw, metric, {o.x: x, o.y: y}), metric, o)
    n_real = exp.schedule.fresh_real
    if n_real <= 0:
        raise ConfigError(
            "phase.y", "the cell has no fresh real data (loop.n_real = 0): n_e / n_r is undefined"
        )
    n_e, low, high, censored = effective_size(limit, curve, METRICS[metric].higher_is_better)
    ratio = (n_e / n_real, low / n_real, high / n_real)
    decided = "admissible" if ratio[1] >= 1 else "inadmissible" if ratio[2] < 1 else "undecided"
    return Cell(
        x,
        y,
        n_real,
        exp.schedule.synthetic,
        limit.value,
        limit.low,
        limit.high,
        limit.burn_in,
        limit.flat,
        n_e,
        *ratio,
        decided,
        censored,
    )


class Store:
    """Finished cells as one JSON file each under ``folder/cells`` (written atomically): a rerun
    after a kill reads them back and computes only the missing ones, with identical results."""

    def __init__(self, folder: Path):
        self.folder = folder / "cells"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, x: float, y: float) -> Path:
        return self.folder / f"x={x!r}_y={y!r}.json"

    def get(self, x: float, y: float) -> Cell | None:
        path = self._path(x, y)
        return Cell(**json.loads(path.read_text())) if path.exists() else None

    def put(self, c: Cell) -> None:
        path = self._path(c.x, c.y)
        atomic_write_text(path, json.dumps(asdict(c)))


def _cached(folder: Path, raw: dict, metric: str, o: PhaseOptions, x: float, y: float, curve: Curve) -> Cell:
    store = Store(folder)
    found = store.get(x, y)
    if found is None:
        found = cell(raw, metric, o, x, y, curve)
        store.put(found)
    return found


def _bisect_row(folder: Path, raw: dict, metric: str, o: PhaseOptions, y: float, curve: Curve) -> list[Cell]:
    """Cells of one row visited by bisection over the x grid (a log-spaced grid: log-scale
    bisection), assuming admissibility falls with x: first the largest surely admissible x,
    then past it the smallest surely inadmissible one; undecided cells lie between. O(log) cells."""
    xs, seen = o.x_values, {}

    def at(i: int) -> str:
        if i not in seen:
            seen[i] = _cached(folder, raw, metric, o, xs[i], y, curve)
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
            if exp.schedule.fresh_real <= 0:
                raise ConfigError("phase.y", "a cell has no fresh real data (loop.n_real = 0)")


def admissible_map(raw: dict[str, Any], o: PhaseOptions, out: Path) -> Path:
    """Compute (or resume) the map into ``out``; returns the path of ``cells.csv``.

    Writes ``baseline.csv`` (the real-only ladder), ``cells.csv`` (and ``cells.parquet`` when
    pyarrow is installed), ``boundary.csv``, ``admissible.png`` and ``report.html``.
    """
    metric = choose_metric(raw, o.metric)
    _check(raw, metric, o)
    manifest = _manifest(raw, metric, o)
    _same_map(out, manifest)  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out):
        _same_map(out, manifest)  # another process may have started it meanwhile
        atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        _compute(raw, metric, o, out)
    return out / "cells.csv"


MANIFEST = "admissible.json"


def _manifest(raw: dict[str, Any], metric: str, o: PhaseOptions) -> dict[str, Any]:
    """What the cells of a folder depend on: the loop config, the metric and the options (not
    ``workers``, which never changes a number)."""
    return {
        "kind": "admissible",
        "config": {k: v for k, v in raw.items() if k != "phase"},
        "metric": metric,
        "phase": o.model_dump(exclude={"workers"}),
    }


def _same_map(out: Path, manifest: dict[str, Any]) -> None:
    """A folder already holding cells of another config would mix them into this map: refused
    (exit 2) naming the first differing key, before any work."""
    path = out / MANIFEST
    if not path.exists():
        if out.exists() and (out / "cells").exists():
            raise ConfigError("out", f"{out} holds cells without {MANIFEST}; choose another --out")
        return
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("out", f"{path} is unreadable; choose another --out") from None
    here = json.loads(json.dumps(manifest))  # tuples as lists, as read back
    if found != here:
        key = next((k for k in ("kind", "metric", "config", "phase") if found.get(k) != here.get(k)), "kind")
        if key == "phase":  # name the first option that differs (set in either manifest)
            old = found.get("phase") or {}
            changed = [k for k in sorted({*here["phase"], *old}) if old.get(k) != here["phase"].get(k)]
            key = f"phase.{changed[0]}" if changed else key
        raise ConfigError(
            "out",
            f"{out} holds a map with another {key}; resume it with the same settings or choose another --out",
        )


def _compute(raw: dict[str, Any], metric: str, o: PhaseOptions, out: Path) -> None:
    saved = out / "baseline.json"
    if saved.exists():
        curve = Curve(*(np.array(v) for v in json.loads(saved.read_text())))
    else:
        sizes = o.ladder or default_ladder(raw, metric, o)
        curve = baseline(raw, metric, o, sizes, o.workers)
        atomic_write_text(saved, json.dumps([curve.sizes.tolist(), curve.mean.tolist(), curve.se.tolist()]))
    if o.search == "grid":
        calls = [(out, raw, metric, o, x, y, curve) for y in o.y_values for x in o.x_values]
        cells = parallel_map(_cached, calls, o.workers, cost=[float(x) / float(y) for *_, x, y, _ in calls])
    else:
        rows = parallel_map(_bisect_row, [(out, raw, metric, o, y, curve) for y in o.y_values], o.workers)
        cells = [c for row in rows for c in row]
    _write(out, metric, o, curve, cells)


def _csv(path: Path, header: list[str], rows: list) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _write(out: Path, metric: str, o: PhaseOptions, curve: Curve, cells: list[Cell]) -> None:
    """The map's files, each written atomically: a kill never leaves a half-written table."""
    _csv(
        out / "baseline.csv",
        ["n", metric, "se"],
        list(zip(curve.sizes.astype(int).tolist(), curve.mean.tolist(), curve.se.tolist(), strict=True)),
    )
    rows = [
        {"x_key": o.x, "y_key": o.y, "metric": metric, **asdict(c)}
        for c in sorted(cells, key=lambda c: (c.y, c.x))
    ]
    _csv(out / "cells.csv", list(rows[0]), [list(r.values()) for r in rows])
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(out / "cells.parquet") as tmp:
            pq.write_table(pa.Table.from_pylist(rows), tmp)
    except ImportError:
        pass
    bounds = boundary(cells)
    _csv(
        out / "boundary.csv",
        [o.y, f"largest admissible {o.x}", f"smallest inadmissible {o.x}"],
        [[y, *b] for y, b in bounds.items()],
    )
    with atomic_path(out / "admissible.png") as tmp:
        draw(tmp, metric, o, cells, bounds)
    atomic_write_text(out / "report.html", render_report(out))


def draw(path: Path, metric: str, o: PhaseOptions, cells: list[Cell], bounds: dict) -> None:
    """log2(n_e / n_r) per cell (grey: not evaluated; dots: undecided), the boundary between the
    last admissible and first inadmissible x of each row, and the band between them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    xs, ys = list(o.x_values), list(o.y_values)
    grid = np.full((len(ys), len(xs)), np.nan)
    for c in cells:
        grid[ys.index(c.y), xs.index(c.x)] = math.log2(max(c.ratio, 1e-9))
    fig, ax = plt.subplots(figsize=(6.5, 5), dpi=90)
    ax.set_facecolor("0.85")
    bound = max(1.0, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0)
    image = ax.imshow(grid, origin="lower", cmap="RdBu", norm=TwoSlopeNorm(0.0, -bound, bound), aspect="auto")
    undecided = [(xs.index(c.x), ys.index(c.y)) for c in cells if c.decided == "undecided"]
    if undecided:
        ax.scatter(*zip(*undecided, strict=True), marker="o", s=18, c="k", label="undecided")
    safe = np.array([xs.index(b[0]) + 0.5 if b[0] is not None else -0.5 for b in bounds.values()])
    unsafe = np.array([xs.index(b[1]) - 0.5 if b[1] is not None else len(xs) - 0.5 for b in bounds.values()])
    for row, (a, b) in enumerate(zip(safe, unsafe, strict=True)):
        ax.fill_betweenx([row - 0.5, row + 0.5], a, b, color="k", alpha=0.15, linewidth=0)
    edges = np.arange(len(ys) + 1) - 0.5
    ax.stairs(safe, edges, orientation="horizontal", baseline=None, color="k", linewidth=1.5)
    ax.plot([], [], color="k", label="boundary (last admissible)")
    ax.fill_between([], [], color="k", alpha=0.15, label="uncertainty band")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], rotation=45)
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(o.x)
    ax.set_ylabel(o.y)
    ax.set_title(f"effective sample size from {metric}\nblue: admissible (n_e >= n_r)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(image, label="log2(n_e / n_r)")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def render_report(folder: Path) -> str:
    """The static offline HTML page of an admissible folder: the map (embedded PNG), the
    boundary per row with its band, and every cell."""
    import base64
    import csv
    import html

    from autophagy.results.report import STYLE

    def table(path: Path) -> str:
        rows = list(csv.reader(path.open()))
        head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td class='num'>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows[1:]
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    image = base64.b64encode((folder / "admissible.png").read_bytes()).decode("ascii")
    title = html.escape(f"{folder.name}: admissible map")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>"
        "<h2>Effective sample size</h2><p>n_e: the real-only training size whose expected metric equals "
        "the loop's stationary limit; admissible where n_e / n_r >= 1 (whole 95 % interval above 1), "
        "undecided where the interval straddles 1.</p>"
        f'<img src="data:image/png;base64,{image}" alt="admissible map">'
        f"<h2>Boundary</h2>{table(folder / 'boundary.csv')}"
        f"<h2>Cells</h2>{table(folder / 'cells.csv')}"
        f"<h2>Real-only baseline</h2>{table(folder / 'baseline.csv')}\n</body></html>\n"
    )


def is_admissible_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by ``autophagy admissible`` (its map and boundary table)."""
    return (Path(folder) / "boundary.csv").is_file() and (Path(folder) / "admissible.png").is_file()


def write_admissible_report(folder: Path, output: Path | None = None) -> Path:
    """Write the admissible folder's HTML page to ``output`` (default ``<folder>/report.html``)."""
    output = Path(output) if output is not None else Path(folder) / "report.html"
    atomic_write_text(output, render_report(Path(folder)))
    return output
