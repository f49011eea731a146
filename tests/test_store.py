"""Run store: checkpoint round trip and upsert semantics per run (sweep cell)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.loop.checkpoint import decode_state, encode_state
from autophagy.loop.engine import LoopState
from autophagy.models import GaussianModel
from autophagy.storage.store import RunStore


def _state(generation: int) -> LoopState:
    rng = np.random.default_rng(generation)
    model = GaussianModel().fit(rng.normal(size=(2, 10, 3)), rng=[])
    return LoopState(generation, rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 6, 3)), [model, model])


def test_state_round_trip():
    state = _state(3)
    back = decode_state(encode_state(state), GaussianModel())
    assert back.generation == 3 and len(back.models) == 2
    np.testing.assert_array_equal(back.fixed, state.fixed)
    np.testing.assert_array_equal(back.pool, state.pool)
    np.testing.assert_array_equal(back.models[1].cov, state.models[1].cov)


def test_commit_upserts_without_duplicates(tmp_path):
    blob = encode_state(_state(1))
    with RunStore(tmp_path / "s.sqlite") as store:
        store.commit_task(0, 4, 1, blob, [(4, 1, "m", 1.0), (5, 1, "m", 2.0)])
        store.commit_task(0, 4, 1, blob, [(4, 1, "m", 3.0), (5, 1, "m", 4.0)])
        store.commit_task(0, 4, 2, b"", [(4, 2, "m", 5.0), (5, 2, "m", 6.0)])
        store.commit_task(1, 4, 1, blob, [(4, 1, "m", 7.0)])
        assert store.rows() == [(4, 1, "m", 3.0), (4, 2, "m", 5.0), (5, 1, "m", 4.0), (5, 2, "m", 6.0)]
        assert store.rows(1) == [(4, 1, "m", 7.0)]
        assert len(store.all_rows()) == 5
        assert store.checkpoint(0, 4) == (2, b"")
        assert store.checkpoint(1, 4) == (1, blob)
        assert store.checkpoint(0, 0) is None


def test_a_store_without_run_column_is_refused_clearly(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE results (replicate INTEGER, generation INTEGER, metric TEXT, value REAL)")
    with pytest.raises(ConfigError, match="older autophagy"):
        RunStore(path)
