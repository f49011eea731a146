"""SQLite run store (WAL): metric rows and per-block checkpoints, one transaction a generation.

Rows are keyed by (replicate, generation, metric) and upserted, so a rerun never
duplicates. A block's checkpoint (its :class:`~autophagy.engine.LoopState`) is written in
the same transaction as that generation's rows, so after any interruption, SIGKILL
included, the store holds exactly the generations whose checkpoint it holds.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autophagy.engine import LoopState
from autophagy.models.gaussian_exact import GroupStats
from autophagy.protocols import ModelSettings

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    replicate INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (replicate, generation, metric)
);
CREATE TABLE IF NOT EXISTS snapshots (
    replicate INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    samples BLOB NOT NULL,
    PRIMARY KEY (replicate, generation)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    first_replicate INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    state BLOB NOT NULL
);
"""


def _batch_arrays(name: str, batch: np.ndarray | GroupStats) -> dict[str, np.ndarray]:
    if isinstance(batch, GroupStats):
        return {f"{name}/{key}": value for key, value in batch.arrays().items()}
    return {name: batch}


def _batch(name: str, arrays: dict[str, np.ndarray]) -> np.ndarray | GroupStats:
    if name in arrays:
        return arrays[name]
    return GroupStats(arrays[f"{name}/count"], arrays[f"{name}/mean"], arrays[f"{name}/scatter"])


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def encode_state(state: LoopState) -> bytes:
    """Serialise a loop state to ``.npz`` bytes (arrays only, no pickle)."""
    arrays = {"generation": np.asarray(state.generation)}
    arrays |= _batch_arrays("fixed", state.fixed) | _batch_arrays("pool", state.pool)
    for j, model in enumerate(state.models):
        arrays.update({f"model{j}/{key}": value for key, value in model.state_dict().items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode_state(blob: bytes, model: ModelSettings) -> LoopState:
    """Inverse of :func:`encode_state`; ``model`` rebuilds the fitted models."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    states: dict[int, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if key.startswith("model"):
            index, name = key[len("model") :].split("/", 1)
            states.setdefault(int(index), {})[name] = value
    models = [model.load(states[j]) for j in sorted(states)]
    return LoopState(int(arrays["generation"]), _batch("fixed", arrays), _batch("pool", arrays), models)


class RunStore:
    """The ``results.sqlite`` of one run folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def commit_generation(
        self,
        replicates: Sequence[int],
        state: LoopState,
        metrics: dict[str, np.ndarray],
        snapshot: np.ndarray | None = None,
    ) -> None:
        """Upsert one generation's rows for a block and its checkpoint, atomically; ``snapshot``
        ``(R, n, d)`` keeps samples of this generation for the sample panels."""
        rows = [
            (int(r), state.generation, name, float(values[i]))
            for name, values in metrics.items()
            for i, r in enumerate(replicates)
        ]
        with self.conn:
            self.conn.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?) "
                "ON CONFLICT (replicate, generation, metric) DO UPDATE SET value = excluded.value",
                rows,
            )
            if snapshot is not None:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                    [(int(r), state.generation, _npy(x)) for r, x in zip(replicates, snapshot, strict=True)],
                )
            self.conn.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)",
                (int(replicates[0]), state.generation, encode_state(state)),
            )

    def checkpoint(self, first_replicate: int, model: ModelSettings) -> LoopState | None:
        """The latest committed state of the block starting at ``first_replicate``."""
        row = self.conn.execute(
            "SELECT state FROM checkpoints WHERE first_replicate = ?", (first_replicate,)
        ).fetchone()
        return None if row is None else decode_state(row[0], model)

    def rows(self) -> list[tuple[int, int, str, float]]:
        """All rows as (replicate, generation, metric, value), sorted by those keys."""
        return self.conn.execute(
            "SELECT replicate, generation, metric, value FROM results ORDER BY replicate, generation, metric"
        ).fetchall()

    def snapshots(self, replicate: int) -> dict[int, np.ndarray]:
        """Stored samples ``(n, d)`` of one replicate, by generation."""
        rows = self.conn.execute(
            "SELECT generation, samples FROM snapshots WHERE replicate = ? ORDER BY generation", (replicate,)
        ).fetchall()
        return {g: np.load(io.BytesIO(blob), allow_pickle=False) for g, blob in rows}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
