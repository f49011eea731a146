"""SQLite store (WAL) of a run or sweep folder: metric rows and per-block checkpoints.

Rows are keyed by (run, replicate, generation, metric) and upserted, so a rerun never
duplicates. A task's rows and its block's checkpoint (the encoded
:class:`~autophagy.loop.engine.LoopState`, see :mod:`autophagy.loop.checkpoint`) are written
in one transaction, so after any interruption, SIGKILL included, the store holds exactly the
generations its checkpoints say, and a resumed block starts right after them.
"""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autophagy.core.errors import ConfigError, EnvironmentFault
from autophagy.storage.safety import gate

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    run INTEGER NOT NULL,
    replicate INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run, replicate, generation, metric)
);
CREATE TABLE IF NOT EXISTS snapshots (
    run INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    samples BLOB NOT NULL,
    PRIMARY KEY (run, generation)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    run INTEGER NOT NULL,
    first_replicate INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (run, first_replicate)
);
"""


def writable(folder: Path) -> bool:
    """Whether this process may create files in ``folder`` (False on a read-only mount)."""
    return os.access(folder, os.W_OK)


def refuse_read_only(folder: Path, option: str, advice: str) -> None:
    """Refuse (exit 2, naming ``option``) a default output inside a folder this process cannot
    write: a finished run on a read-only mount is read as it is, and written elsewhere."""
    if not writable(folder):
        raise ConfigError(option, f"{folder} is read-only; pass {option} {advice}")


Row = tuple[int, int, str, float]
"""(replicate, generation, metric, value)"""


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


class RunStore:
    """The ``results.sqlite`` of a run or sweep folder; ``run`` is the sweep cell (0 for a run)."""

    def __init__(self, path: Path, *, check: bool = True) -> None:
        """Open (or create) the store; with ``check``, a damaged file is refused with an
        :class:`~autophagy.core.errors.EnvironmentFault` (``PRAGMA quick_check``, milliseconds for
        a typical run) that points at ``autophagy export --salvage``."""
        self.path = Path(path)
        folder = self.path.parent
        for name in ("", "-wal", "-shm", "-journal"):  # sqlite creates these beside the store
            gate(folder, folder / f"{self.path.name}{name}")
        self.read_only = self.path.is_file() and not writable(folder)
        if self.read_only:  # a finished run on a read-only mount: read it as it is
            uri = f"{self.path.resolve().as_uri()}?immutable=1"
            self.conn = sqlite3.connect(uri, uri=True, timeout=60)
        else:
            self.conn = sqlite3.connect(self.path, timeout=60)
        try:
            if not self.read_only:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
            verdict = self.conn.execute("PRAGMA quick_check").fetchone()[0] if check else "ok"
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise EnvironmentFault(str(self.path), f"is not a readable SQLite store ({exc})") from None
        if verdict != "ok":
            self.conn.close()
            raise EnvironmentFault(
                str(self.path),
                f"is damaged ({verdict}); `autophagy export RUN --output FILE --salvage` saves the "
                "rows that can still be read",
            )
        if not check or self.read_only:
            return  # salvage or a read-only folder: read only, as it is
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(results)")}
        if columns and "run" not in columns:
            self.conn.close()
            raise ConfigError(
                "RUN", f"{self.path} was written by an older autophagy; run again into a new folder"
            )
        self.conn.executescript(SCHEMA)

    def commit_task(
        self,
        run: int,
        first_replicate: int,
        generation: int,
        state: bytes,
        rows: Sequence[Row],
        snapshots: dict[int, np.ndarray] | None = None,
    ) -> None:
        """Upsert a finished task's rows, its sample snapshots and its block's checkpoint in one
        transaction.

        ``state`` is the encoded :class:`~autophagy.loop.engine.LoopState` after ``generation``
        (empty once the block is finished); ``snapshots`` maps a generation to samples ``(n, d)``
        of the run's first replicate, kept for the pictures.
        """
        with self.conn:
            self.conn.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (run, replicate, generation, metric) DO UPDATE SET value = excluded.value",
                [(run, int(r), int(g), m, float(v)) for r, g, m, v in rows],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                [(run, int(g), _npy(x)) for g, x in (snapshots or {}).items()],
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
                (run, first_replicate, generation, state),
            )

    def meta(self, key: str) -> str | None:
        """A value of the store's ``meta`` table (``run_id``: see :mod:`autophagy.storage.identity`);
        None when unset or the store predates the table."""
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def checkpoint(self, run: int, first_replicate: int) -> tuple[int, bytes] | None:
        """(generation, encoded state) last committed for a block, or None if it never ran."""
        row = self.conn.execute(
            "SELECT generation, state FROM checkpoints WHERE run = ? AND first_replicate = ?",
            (run, first_replicate),
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def rows(self, run: int = 0) -> list[Row]:
        """One run's rows as (replicate, generation, metric, value), sorted by those keys."""
        return self.conn.execute(
            "SELECT replicate, generation, metric, value FROM results WHERE run = ? "
            "ORDER BY replicate, generation, metric",
            (run,),
        ).fetchall()

    def all_rows(self) -> list[tuple[int, int, int, str, float]]:
        """Every row as (run, replicate, generation, metric, value), sorted by those keys."""
        return self.conn.execute(
            "SELECT run, replicate, generation, metric, value FROM results "
            "ORDER BY run, replicate, generation, metric"
        ).fetchall()

    def salvage_rows(self, chunk: int = 256) -> tuple[list[tuple[int, int, int, str, float]], int]:
        """The rows of a damaged store that can still be read, sorted as :meth:`all_rows` gives
        them, and the number of row ids that could not be read. Rows are read by ranges of row
        ids (dense from 1: rows are only inserted or updated) and, where a range fails, one by
        one; the scan ends after 16 empty ranges in a row."""
        query = "SELECT run, replicate, generation, metric, value FROM results WHERE rowid BETWEEN ? AND ?"
        rows: list = []
        lost = empty = 0
        start = 1
        while empty < 16:
            try:
                found = self.conn.execute(query, (start, start + chunk - 1)).fetchall()
            except sqlite3.DatabaseError:
                found = []
                for rowid in range(start, start + chunk):
                    try:
                        found += self.conn.execute(query, (rowid, rowid)).fetchall()
                    except sqlite3.DatabaseError:
                        lost += 1
                if len(found) + lost == 0:
                    lost += 1
            empty = 0 if found else empty + 1
            rows += found
            start += chunk
        return sorted(rows), lost

    def snapshots(self, run: int = 0) -> dict[int, np.ndarray]:
        """Stored samples ``(n, d)`` of a run's first replicate, by generation."""
        rows = self.conn.execute(
            "SELECT generation, samples FROM snapshots WHERE run = ? ORDER BY generation", (run,)
        ).fetchall()
        return {g: np.load(io.BytesIO(blob), allow_pickle=False) for g, blob in rows}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def holds_results(path: Path) -> bool:
    """Whether the store file at ``path`` holds any row or checkpoint. An empty file (such as
    ``sqlite3.connect`` leaves behind when it opens a path not yet written) holds no run, so
    a folder with one and no manifest starts afresh instead of being refused."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.stat().st_size == 0:
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return any(
                conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
                for table in ("results", "checkpoints")
                if table in tables
            )
    except sqlite3.Error:
        return True  # unreadable: let the store's own checks name the damage
