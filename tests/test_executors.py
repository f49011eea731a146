"""Executors give identical stores; a sweep killed with SIGKILL at random moments and
restarted ends with exactly the rows of an uninterrupted sweep."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.errors import ConfigError
from autophagy.executors import InlineExecutor, make_executor

SWEEP = """\
name = "executors"
replicates = 3
generations = 5
block_size = 2
[data]
kind = "gaussian"
dim = 3
[loop]
family = "fresh_data"
n_ini = 40
n_real = 20
n_synthetic = 40
[metrics]
names = ["wasserstein2", "trace_cov", "precision", "recall"]
n_eval = 60
[sweep]
grid = { "loop.sampling_bias" = [1.0, 0.8] }
zip = { "loop.n_real" = [20, 40], "loop.n_synthetic" = [40, 80] }
seeds = [0, 3]
"""
CELLS, REPLICATES, GENERATIONS, METRICS = 8, 3, 5, 4

runner = CliRunner()


@pytest.fixture
def sweep(tmp_path) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    return path


def run_and_export(config: Path, out: Path, *extra: str) -> str:
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet", *extra])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", str(out), "--output", str(out / "table.csv")])
    assert result.exit_code == 0, result.output
    return (out / "table.csv").read_text()


def test_loky_pool_in_one_generation_pieces_equals_inline(sweep, tmp_path):
    inline = run_and_export(sweep, tmp_path / "inline", "--executor", "inline")
    assert len(inline.splitlines()) == 1 + CELLS * REPLICATES * GENERATIONS * METRICS
    # two worker processes; a zero budget makes every task one generation of one block, so
    # blocks hop between processes through their checkpoints
    loky = run_and_export(sweep, tmp_path / "loky", "--workers", "2", "--task-seconds", "0")
    assert loky == inline


def test_ray_equals_inline(sweep, tmp_path):
    pytest.importorskip("ray")
    inline = run_and_export(sweep, tmp_path / "inline", "--executor", "inline")
    assert run_and_export(sweep, tmp_path / "ray", "--executor", "ray", "--workers", "2") == inline


def test_executor_choice_errors_name_the_option(sweep, tmp_path):
    for args, message in [
        (["--executor", "slurm"], "--executor: unknown executor 'slurm'"),
        (["--address", "ray://head:10001"], "--address: joins a Ray cluster"),
        (["--workers", "0"], "--workers: must be at least 1"),
        (["--task-seconds", "-1"], "--task-seconds: must be >= 0"),
    ]:
        result = runner.invoke(app, ["run", str(sweep), "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x").exists()
    assert isinstance(make_executor("local", tasks=1), InlineExecutor)  # one task needs no pool
    assert make_executor("local", workers=3).workers == 3  # an explicit count is honoured


def test_missing_ray_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ConfigError, match="ray is not installed"):
        make_executor("ray")


def _progress(store: Path) -> int:
    """Generations committed so far, summed over blocks (0 if the store is not readable yet)."""
    try:
        with sqlite3.connect(store, timeout=1) as conn:
            return conn.execute("SELECT COALESCE(SUM(generation), 0) FROM checkpoints").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_rows(sweep, tmp_path):
    slow = ["--set", "generations=12", "--set", "metrics.n_eval=150"]
    expected = run_and_export(sweep, tmp_path / "clean", "--executor", "inline", *slow)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "autophagy", "run", str(sweep), "--out", str(out), "--quiet"]
    cmd += ["--workers", "2", "--task-seconds", "0", *slow]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    total = CELLS * 2 * 12  # blocks x generations
    rng = np.random.default_rng(8)
    seen = []
    for _ in range(4):
        # kill after a random number of further committed generations, or at a random time
        # (possibly before the first commit): both are "any moment" for the store
        target = _progress(out / "results.sqlite") + int(rng.integers(0, 30))
        deadline = time.monotonic() + float(rng.uniform(1.0, 6.0))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and time.monotonic() < deadline:
            if _progress(out / "results.sqlite") >= target:
                break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        seen.append(_progress(out / "results.sqlite"))
    print("progress at each kill", seen, "of", total)
    assert any(0 < s < total for s in seen), f"no kill landed mid-sweep: {seen}"
    assert run_and_export(sweep, out, *slow) == expected
