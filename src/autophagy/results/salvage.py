"""``autophagy export RUN --output FILE --salvage``: the rows a damaged store still holds.

A store that fails ``PRAGMA quick_check`` is refused everywhere else (exit 3). Salvage reads
what it can (see :meth:`autophagy.storage.store.RunStore.salvage_rows`) and writes the tidy columns
with ``cell`` (the sweep cell index, 0 for a run) in place of the swept keys, since the
manifest may be damaged too.
"""

from __future__ import annotations

from pathlib import Path

from autophagy.core.errors import ConfigError
from autophagy.results.export import export_table
from autophagy.storage.layout import STORE_FILE
from autophagy.storage.store import RunStore


def salvage_export(folder: Path, output: Path, fmt: str) -> tuple[int, int, Path]:
    """Write the readable rows of ``folder``'s store to ``output``; returns (rows written,
    row ids that could not be read, path)."""
    store_path = Path(folder) / STORE_FILE
    if not store_path.is_file():
        raise ConfigError("RUN", f"{folder} has no {STORE_FILE} to salvage")
    store = RunStore(store_path, check=False)
    try:
        rows, lost = store.salvage_rows()
    finally:
        store.close()
    columns = ["cell", "replicate", "generation", "metric", "value"]
    return len(rows), lost, export_table(columns, rows, output, fmt)
