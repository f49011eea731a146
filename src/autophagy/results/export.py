"""Tidy exports of a run or sweep: one column per swept key, then replicate, generation,
metric, value; or (``--training``) the models' training curves: replicate, generation, step,
loss, seconds."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autophagy.storage.safety import atomic_path, refuse_own_file

COLUMNS = ("replicate", "generation", "metric", "value")
FORMATS = ("csv", "parquet")


def _cell_text(value: Any) -> str:
    """CSV text of a value: floats round-trip (repr), tables and lists as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)


def export_table(columns: Sequence[str], rows: Sequence[tuple], path: Path, fmt: str) -> Path:
    """Write ``rows`` (one tuple per row, aligned with ``columns``) as CSV or Parquet; returns the path."""
    path = refuse_own_file("--output", Path(path))
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # a full disk or a kill leaves the old file or none, never half
        _write(columns, rows, tmp, fmt)
    return path


def _write(columns: Sequence[str], rows: Sequence[tuple], path: Path, fmt: str) -> None:
    if fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows([_cell_text(v) for v in row] for row in rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
    types = {"replicate": pa.int64(), "generation": pa.int64(), "metric": pa.string(), "value": pa.float64()}
    types.update(complete=pa.bool_(), step=pa.int64(), loss=pa.float64(), seconds=pa.float64())  # + training
    arrays = {}
    for name, values in zip(columns, data, strict=True):
        if name in types:
            arrays[name] = pa.array(values, types[name])
            continue
        try:  # a swept key: its own type when uniform, else JSON text
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([_cell_text(v) for v in values], pa.string())
    pq.write_table(pa.table(arrays), path)
