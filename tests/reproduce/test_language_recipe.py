"""T7's verdict on constructed measurements (with negative controls), and, slow, the recipe's
run killed mid-way and resumed giving the uninterrupted numbers."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.language import LOOPS, T7_METRICS, T7Data


def t7_judge(m: T7Data):
    """The judged checks, in the judge's order (Holm across them at the recipe's level)."""
    return RECIPES["T7"].verdict(m).checks


def _data(replace_slope: float, accumulate_slope: float, r: int = 3, t: int = 5, seed: int = 0) -> T7Data:
    rng = np.random.default_rng(seed)
    gens = np.arange(1, t + 1)
    start = rng.normal(5.0, 0.05, size=(r, 1))  # shared generation 1 (paired replicates)
    values = {}
    for loop, slope in (("replace", replace_slope), ("accumulate", accumulate_slope)):
        log_ppl = start + slope * (gens - 1) + rng.normal(0, 0.01, size=(r, t))
        values[loop] = {m: np.exp(log_ppl) for m in T7_METRICS}
    return T7Data(values)


def test_verdict_passes_when_replace_rises_more():
    checks = t7_judge(_data(0.10, 0.03))
    assert [c.passed for c in checks] == [True, True]


def test_negative_controls_fail():
    flat = t7_judge(_data(0.0, 0.0))
    assert not flat[0].passed and not flat[1].passed
    same = t7_judge(_data(0.10, 0.10, seed=1))
    assert same[0].passed and not same[1].passed
    reversed_ = t7_judge(_data(0.03, 0.10, seed=2))
    assert not reversed_[1].passed


TINY = {
    "replicates": 2,
    "generations": 3,
    "loop.n_ini": 24,
    "loop.n_synthetic": 24,
    "model.steps": 4,
    "model.layers": 1,
    "model.width": 16,
    "model.heads": 2,
    "model.context": 32,
    "model.seq_length": 32,
    "model.vocab_size": 300,
    "data.max_bytes": 64,
    "model.max_new_tokens": 16,
    "model.score_samples": 4,
}


def tiny_measure(folder: Path):
    """T7 at the TINY overrides into ``folder`` (run or resumed), on one worker."""
    recipe = dataclasses.replace(RECIPES["T7"], profiles={"tiny": TINY})
    return recipe.measure("tiny", folder=folder, workers=1)


@pytest.mark.slow
def test_killed_midway_and_resumed_gives_identical_results(tmp_path):
    whole = tiny_measure(tmp_path / "whole")
    script = (
        "import dataclasses; from autophagy.reproduce import RECIPES; "
        f"recipe = dataclasses.replace(RECIPES['T7'], profiles={{'tiny': {TINY!r}}}); "
        f"recipe.measure('tiny', folder={str(tmp_path / 'cut')!r}, workers=1)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    store = tmp_path / "cut" / "runs" / "T7" / "results.sqlite"
    deadline = time.time() + 300
    while time.time() < deadline:
        if store.is_file():
            with sqlite3.connect(store) as conn:
                try:
                    done = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE generation >= 1").fetchone()[
                        0
                    ]
                except sqlite3.OperationalError:
                    done = 0
            if done >= 1:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(store) as conn:
        finished = conn.execute("SELECT COUNT(*) FROM results WHERE metric = 'perplexity'").fetchone()[0]
    assert 0 < finished < 2 * TINY["replicates"] * TINY["generations"]  # killed mid-way
    resumed = tiny_measure(tmp_path / "cut")
    for loop in LOOPS:
        for metric in T7_METRICS:
            np.testing.assert_array_equal(resumed.at(loop, metric), whole.at(loop, metric))
    assert Path(tmp_path / "cut" / "runs" / "T7" / "sweep.json").is_file()
