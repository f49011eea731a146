"""Sweeps: the ``[sweep]`` table expands one config into many runs (cells).

``grid`` axes combine as a Cartesian product, ``zip`` axes advance together (equal
lengths), and ``seeds`` repeats every cell once per seed. Keys are dotted config keys
(``"loop.sampling_bias"``); nested tables (``grid.loop.sampling_bias``) mean the same. Every
cell is validated like a plain run before any work starts, and an error names the sweep
field at fault (``sweep.grid["loop.sampling_bias"]: value 1.5: ...``). A key that a cell's
loop family does not use (``loop.n_real`` in a ``fully_synthetic`` cell), swept or set in the
base config, is left at its default in that cell and listed in the cell's ``ignored`` keys.

An axis may repeat a value (``zip = {"loop.sampling_bias" = [1.0, 1.0, 0.5]}``): every point
is keyed by its position, and the k-th repeat (k >= 2) of a grid value or of a whole zip row
carries the tag k (on the first zipped key), shown as ``loop.sampling_bias=1.0 #2`` in plots
and the report; the export adds a ``point`` column (the cell's position).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import pickle
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, NonNegativeInt, ValidationError

from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.core.schedule import NotApplicable
from autophagy.loop.engine import Experiment
from autophagy.running.config import RunConfig, pydantic_error, resolve, set_key


class SweepOptions(Options):
    """The ``[sweep]`` table: product axes, zipped axes and seeds."""

    grid: dict[str, Any] = Field(default_factory=dict)
    zip: dict[str, Any] = Field(default_factory=dict)
    seeds: list[NonNegativeInt] | None = None


@dataclass(frozen=True)
class Cell:
    """One run of a sweep: its swept values, raw config, and the experiment resolved from it."""

    index: int
    values: dict[str, Any]
    ignored: list[str]  # keys this cell's loop family does not use (left at their default)
    raw: dict[str, Any]
    experiment: Experiment
    config: RunConfig
    resolved: dict[str, Any]
    tags: dict[str, int] = field(default_factory=dict)  # key -> k for the k-th repeat (k >= 2) of a value

    @functools.cached_property
    def shipped(self) -> bytes:
        """The resolved experiment and its validated config, pickled once: what every task of
        this cell carries to its worker, so no worker re-reads data or re-validates the config.
        cloudpickle keeps classes made at run time, e.g. by ``ap.from_sklearn``."""
        import cloudpickle

        return cloudpickle.dumps((self.experiment, self.config), protocol=pickle.HIGHEST_PROTOCOL)


def axes(table: dict[str, Any], field: str) -> dict[str, list]:
    """Flatten nested tables into dotted keys; every leaf must be a non-empty list (repeats allowed)."""
    axes: dict[str, list] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                walk(value, dotted)
                continue
            where = f'{field}["{dotted}"]'
            if not dotted or any(not part for part in dotted.split(".")):
                raise ConfigError(where, "is not a dotted config key")
            if dotted == "sweep" or dotted.startswith("sweep."):
                raise ConfigError(where, "a sweep cannot sweep itself")
            if not isinstance(value, list):
                raise ConfigError(where, f"must be a list of values, got {value!r}")
            if not value:
                raise ConfigError(where, "is empty; give at least one value")
            if dotted in axes:
                raise ConfigError(where, "is given twice (as a dotted key and as a nested table)")
            axes[dotted] = value

    walk(table, "")
    return axes


def repeat_tags(values: list) -> list[int]:
    """For each position of an axis, which occurrence of its value it is (1 = first)."""
    seen: dict[str, int] = {}
    tags = []
    for value in values:
        encoded = json.dumps(value, sort_keys=True)
        seen[encoded] = seen.get(encoded, 0) + 1
        tags.append(seen[encoded])
    return tags


def expand(spec: SweepOptions) -> tuple[list[str], list[dict[str, Any]]]:
    """The swept keys (grid, then zip, then ``seed``) and each cell's values, in a stable order."""
    keys, cells, _ = expand_points(spec)
    return keys, cells


def expand_points(spec: SweepOptions) -> tuple[list[str], list[dict[str, Any]], list[dict[str, int]]]:
    """:func:`expand`, plus each cell's repeat tags ``{key: k}`` for values that are an axis's
    k-th repeat (k >= 2), so that every point stays distinct by its position."""
    grid = axes(spec.grid, "sweep.grid")
    zipped = axes(spec.zip, "sweep.zip")
    for key in zipped:
        if key in grid:
            raise ConfigError(f'sweep.zip["{key}"]', "is also in sweep.grid; sweep a key once")
    lengths = {key: len(values) for key, values in zipped.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise ConfigError("sweep.zip", f"lists must have equal lengths (got {described})")
    seeds: list[int] | None = None
    if spec.seeds is not None:
        if not spec.seeds:
            raise ConfigError("sweep.seeds", "is empty; give at least one seed")
        if len(set(spec.seeds)) != len(spec.seeds):
            raise ConfigError("sweep.seeds", "repeats a seed")
        if "seed" in grid or "seed" in zipped:
            raise ConfigError("sweep.seeds", "seed is also a grid or zip key; sweep it once")
        seeds = list(spec.seeds)
    keys = [*grid, *zipped, *(["seed"] if seeds is not None else [])]
    grid_points = itertools.product(*(range(len(v)) for v in grid.values()))
    zip_rows = list(range(len(next(iter(zipped.values()))))) if zipped else [None]
    grid_tags = {key: repeat_tags(values) for key, values in grid.items()}
    # a zip point is a whole row: its repeat tag goes on the first zipped key
    zip_tags = repeat_tags([list(row) for row in zip(*zipped.values(), strict=True)]) if zipped else []
    cells, tags = [], []
    for grid_index in grid_points:
        for row in zip_rows:
            for seed in seeds if seeds is not None else [None]:
                values = {key: grid[key][i] for key, i in zip(grid, grid_index, strict=True)}
                tag = {key: grid_tags[key][i] for key, i in zip(grid, grid_index, strict=True)}
                if row is not None:
                    values |= {key: zipped[key][row] for key in zipped}
                    tag[next(iter(zipped))] = zip_tags[row]
                if seeds is not None:
                    values["seed"] = seed
                cells.append(values)
                tags.append({key: k for key, k in tag.items() if k > 1})
    return keys, cells, tags


def _sweep_field(key: str, spec: SweepOptions) -> str:
    if key == "seed" and spec.seeds is not None:
        return "sweep.seeds"
    return f'sweep.{"zip" if key in axes(spec.zip, "sweep.zip") else "grid"}["{key}"]'


def _cell_error(exc: ConfigError, values: dict[str, Any], spec: SweepOptions) -> ConfigError:
    """Point a cell's config error at the swept key that caused it, else name the cell."""
    for key, value in values.items():
        inside = exc.field.startswith((f"{key}.", f"{key}["))  # a table's key, a schedule's entry
        if exc.field == key or inside or key.startswith(f"{exc.field}."):
            message = str(exc).removeprefix(f"{exc.field}: ")
            if exc.field != key:
                message = f"{exc.field}: {message}"
            return ConfigError(_sweep_field(key, spec), f"value {value!r}: {message}")
    cell = ", ".join(f"{k} = {v!r}" for k, v in values.items())
    return ConfigError(exc.field, f"{str(exc).removeprefix(f'{exc.field}: ')} (in the sweep cell {cell})")


def _drop_key(raw: dict[str, Any], key: str) -> None:
    """Remove the dotted ``key`` from ``raw`` (it falls back to its default)."""
    *parents, leaf = key.split(".")
    table = raw
    for part in parents:
        table = table.get(part, {})
    table.pop(leaf, None)


def _has_key(raw: dict[str, Any], key: str) -> bool:
    """Whether the dotted ``key`` is set in ``raw``."""
    *parents, leaf = key.split(".")
    table: Any = raw
    for part in parents:
        table = table.get(part) if isinstance(table, dict) else None
    return isinstance(table, dict) and leaf in table


def plan_cells(raw: dict[str, Any]) -> tuple[list[str], list[Cell]]:
    """Expand and validate every cell of ``raw`` (a config with or without ``[sweep]``).

    Without a sweep table the result is one cell with no swept keys.
    """
    raw = copy.deepcopy(raw)
    table = raw.pop("sweep", None)
    if table is None:
        experiment, config, resolved = resolve(raw)
        return [], [Cell(0, {}, [], raw, experiment, config, resolved)]
    if not isinstance(table, dict):
        raise ConfigError("sweep", "must be a table")
    try:
        spec = SweepOptions.model_validate(table)
    except ValidationError as exc:
        raise pydantic_error(exc, "sweep") from None
    keys, cell_values, cell_tags = expand_points(spec)
    cells = []
    for index, (values, tags) in enumerate(zip(cell_values, cell_tags, strict=True)):
        ignored: list[str] = []
        while True:
            cell_raw = copy.deepcopy(raw)
            try:
                for key, value in values.items():
                    if key not in ignored:
                        set_key(cell_raw, key, copy.deepcopy(value))
                for key in ignored:
                    _drop_key(cell_raw, key)
                experiment, config, resolved = resolve(cell_raw)
                break
            except NotApplicable as exc:
                # a key this cell's loop family does not use, swept (loop.n_real next to
                # fully_synthetic cells) or set in the base config (a family sweep): drop it here
                if exc.field in ignored or not (exc.field in values or _has_key(raw, exc.field)):
                    raise _cell_error(exc, values, spec) from None
                ignored.append(exc.field)
            except ConfigError as exc:
                raise _cell_error(exc, values, spec) from None
        cells.append(Cell(index, values, ignored, cell_raw, experiment, config, resolved, tags))
    return keys, cells


def ignored_notes(cells: list[Cell]) -> list[str]:
    """One line per ignored key, naming the cells' loop families that do not use it."""
    families: dict[str, list[str]] = {}
    for cell in cells:
        for key in cell.ignored:
            family = cell.config.loop.family
            if family not in families.setdefault(key, []):
                families[key].append(family)
    return [
        f"{key} is not used by loop.family = {', '.join(repr(f) for f in fams)}; ignored in those cells"
        for key, fams in families.items()
    ]
