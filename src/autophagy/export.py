"""Tidy exports of a run's rows: columns replicate, generation, metric, value."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

COLUMNS = ("replicate", "generation", "metric", "value")
FORMATS = ("csv", "parquet")


def export_rows(rows: Sequence[tuple[int, int, str, float]], path: Path, fmt: str) -> Path:
    """Write ``rows`` to ``path`` as CSV or Parquet; returns the path."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows((r, g, m, repr(v)) for r, g, m, v in rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
        table = pa.table(
            {
                "replicate": pa.array(columns[0], pa.int64()),
                "generation": pa.array(columns[1], pa.int64()),
                "metric": pa.array(columns[2], pa.string()),
                "value": pa.array(columns[3], pa.float64()),
            }
        )
        pq.write_table(table, path)
    return path
