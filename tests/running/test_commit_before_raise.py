"""Invariant: the parent commits every finished task before it reports any failure.

Property test: tasks fail at random points (before their work, or after it with the result
thrown away) over many randomised trials; whatever tasks returned a result must be in the
store, with the rows an unbroken run gives, and the failure reported is the first one seen.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from conftest import base_config

from autophagy.api import run
from autophagy.running import runner

REAL_RUN_TASK = runner.run_task


class Planted(RuntimeError):
    """The failure a trial plants in one task."""


def _trial(tmp_path, monkeypatch, seed: int, clean: dict) -> None:
    rng = np.random.default_rng(seed)
    returned: list[tuple[int, int, int]] = []  # (cell, first replicate, generation) of tasks that returned
    real = REAL_RUN_TASK
    fail_at = int(rng.integers(1, 12))  # the call that fails
    after = bool(rng.integers(2))  # fail after doing the work (its result never reaches the parent)
    calls = {"n": 0}

    def flaky(task):
        calls["n"] += 1
        if calls["n"] == fail_at and not after:
            raise Planted(f"call {fail_at}")
        result = real(task)
        if calls["n"] == fail_at:
            raise Planted(f"call {fail_at}")
        returned.append((result.run, result.first, result.generation))
        return result

    monkeypatch.setattr(runner, "run_task", flaky)
    raw = {**base_config(), "replicates": int(rng.integers(2, 7)), "block_size": int(rng.integers(1, 4))}
    out = tmp_path / f"trial-{seed}"
    try:
        run(raw, out, executor="inline", progress=False, plots=False, task_seconds=0.0)
    except Planted as exc:
        assert str(exc) == f"call {fail_at}"
    else:
        assert calls["n"] < fail_at  # the run finished before the planted failure
    with sqlite3.connect(out / "results.sqlite") as db:
        stored = db.execute("SELECT replicate, generation, metric, value FROM results").fetchall()
        checkpoints = dict(db.execute("SELECT first_replicate, generation FROM checkpoints").fetchall())
    generations = {(r, g) for r, g, _, _ in stored}
    for _, first, generation in returned:
        block = range(first, min(first + raw["block_size"], raw["replicates"]))
        assert all((r, generation) in generations for r in block), (seed, first, generation)
        assert checkpoints.get(first, 0) >= generation
    for r, g, metric, value in stored:  # what was committed is what an unbroken run commits
        if r < raw["replicates"]:
            assert clean[(r, g, metric)] == value


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("clean") / "run"
    done = run({**base_config(), "replicates": 6}, out, executor="inline", progress=False, plots=False)
    return {(r, g, m): v for r, g, m, v in done.rows(0)}


def test_every_finished_task_is_committed_before_a_failure_is_raised(tmp_path, monkeypatch, clean_rows):
    for seed in range(25):
        _trial(tmp_path, monkeypatch, seed, clean_rows)


@pytest.mark.slow
def test_every_finished_task_is_committed_over_a_thousand_trials(tmp_path, monkeypatch, clean_rows):
    for seed in range(1000):
        _trial(tmp_path, monkeypatch, 10_000 + seed, clean_rows)


def test_the_check_catches_a_parent_that_raises_first(tmp_path, monkeypatch, clean_rows):
    """Negative control: a parent that raises on the first failed future, before committing the
    tasks that finished beside it, fails the property for some trial."""
    original = runner._drain

    def raise_first(pool, store, todo, bar, bar_task, stop=None, on_commit=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        running = {pool.submit(runner.run_task, t): t for t in todo[::-1][:2]}
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=lambda f: f.exception() is None):  # failures first
            result = future.result()
            store.commit_task(result.run, result.first, result.generation, result.state, result.rows)
        return original(pool, store, [], bar, bar_task, stop)

    monkeypatch.setattr(runner, "_drain", raise_first)
    with pytest.raises(AssertionError):
        for seed in range(25):
            _trial(tmp_path, monkeypatch, seed, clean_rows)
