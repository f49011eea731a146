"""Sweeps: the ``[sweep]`` table expands one config into many runs (cells).

``grid`` axes combine as a Cartesian product, ``zip`` axes advance together (equal
lengths), and ``seeds`` repeats every cell once per seed. Keys are dotted config keys
(``"loop.sampling_bias"``); nested tables (``grid.loop.sampling_bias``) mean the same. Every
cell is validated like a plain run before any work starts, and an error names the sweep
field at fault (``sweep.grid["loop.sampling_bias"]: value 1.5: ...``). A swept key that a
cell's loop family does not use (``loop.n_real`` in a ``fully_synthetic`` cell) is left at
its default in that cell and listed in the cell's ``ignored`` keys.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from typing import Any

from pydantic import Field, NonNegativeInt, ValidationError

from autophagy.config import RunConfig, pydantic_error, resolve, set_key
from autophagy.engine import Experiment
from autophagy.errors import ConfigError
from autophagy.registry import Options
from autophagy.schedule import NotApplicable


class SweepOptions(Options):
    """The ``[sweep]`` table: product axes, zipped axes and seeds."""

    grid: dict[str, Any] = Field(default_factory=dict)
    zip: dict[str, Any] = Field(default_factory=dict)
    seeds: list[NonNegativeInt] | None = None


@dataclass(frozen=True)
class Cell:
    """One run of a sweep: its swept values, raw config (what workers rebuild from) and plan."""

    index: int
    values: dict[str, Any]
    ignored: list[str]  # swept keys this cell's loop family does not use (left at their default)
    raw: dict[str, Any]
    experiment: Experiment
    config: RunConfig
    resolved: dict[str, Any]

    @property
    def raw_json(self) -> str:
        """The raw config as canonical JSON: a task ships this, not the built objects."""
        return json.dumps(self.raw, sort_keys=True)


def axes(table: dict[str, Any], field: str) -> dict[str, list]:
    """Flatten nested tables into dotted keys; every leaf must be a non-empty list of distinct values."""
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
            encoded = [json.dumps(v, sort_keys=True) for v in value]
            if len(set(encoded)) != len(encoded):
                raise ConfigError(where, "repeats a value; every cell must differ")
            axes[dotted] = value

    walk(table, "")
    return axes


def expand(spec: SweepOptions) -> tuple[list[str], list[dict[str, Any]]]:
    """The swept keys (grid, then zip, then ``seed``) and each cell's values, in a stable order."""
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
    zip_rows = list(zip(*zipped.values(), strict=True)) if zipped else [()]
    cells = []
    for grid_values in itertools.product(*grid.values()):
        for zip_values in zip_rows:
            for seed in seeds if seeds is not None else [None]:
                values = [*grid_values, *zip_values, *([seed] if seeds is not None else [])]
                cells.append(dict(zip(keys, values, strict=True)))
    return keys, cells


def _sweep_field(key: str, spec: SweepOptions) -> str:
    if key == "seed" and spec.seeds is not None:
        return "sweep.seeds"
    return f'sweep.{"zip" if key in axes(spec.zip, "sweep.zip") else "grid"}["{key}"]'


def _cell_error(exc: ConfigError, values: dict[str, Any], spec: SweepOptions) -> ConfigError:
    """Point a cell's config error at the swept key that caused it, else name the cell."""
    for key, value in values.items():
        if exc.field == key or exc.field.startswith(f"{key}.") or key.startswith(f"{exc.field}."):
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
    keys, cell_values = expand(spec)
    cells = []
    for index, values in enumerate(cell_values):
        ignored: list[str] = []
        while True:
            cell_raw = copy.deepcopy(raw)
            try:
                for key, value in values.items():
                    if key in ignored:
                        _drop_key(cell_raw, key)
                    else:
                        set_key(cell_raw, key, copy.deepcopy(value))
                experiment, config, resolved = resolve(cell_raw)
                break
            except NotApplicable as exc:
                if exc.field not in values or exc.field in ignored:
                    raise _cell_error(exc, values, spec) from None
                ignored.append(exc.field)  # e.g. loop.n_real swept next to fully_synthetic cells
            except ConfigError as exc:
                raise _cell_error(exc, values, spec) from None
        cells.append(Cell(index, values, ignored, cell_raw, experiment, config, resolved))
    return keys, cells
