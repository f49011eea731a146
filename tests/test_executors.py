"""Executors give identical stores; a sweep killed with SIGKILL at random moments and
restarted ends with exactly the rows of an uninterrupted sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import committed_generations
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.running.executors import InlineExecutor, cpu_count, make_executor

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


@pytest.mark.slow  # 19 s; Ray's rows equal inline's in test_plugins' every-executor test too
def test_ray_equals_inline(sweep, tmp_path):
    pytest.importorskip("ray")
    inline = run_and_export(sweep, tmp_path / "inline", "--executor", "inline")
    assert run_and_export(sweep, tmp_path / "ray", "--executor", "ray", "--workers", "2") == inline


def test_executor_choice_errors_name_the_option(sweep, tmp_path):
    for args, message in [
        (["--executor", "dask"], "--executor: unknown executor 'dask'"),
        (["--address", "ray://head:10001"], "--address: joins a Ray cluster"),
        (["--workers", "0"], "--workers: must be at least 1"),
        (["--task-seconds", "-1"], "--task-seconds: must be >= 0"),
    ]:
        result = runner.invoke(app, ["run", str(sweep), "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x").exists()
    assert isinstance(make_executor("local", tasks=1), InlineExecutor)  # one task needs no pool
    assert make_executor("local", workers=2).workers == min(2, cpu_count())  # honoured up to the cores


def test_missing_ray_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ConfigError, match="ray is not installed"):
        make_executor("ray")


def _kill_at_random_then_resume(sweep: Path, tmp_path: Path, kills: int, seed: int) -> list[int]:
    """SIGKILL a sweep ``kills`` times at random points, then resume it: the export must equal an
    uninterrupted run's. A third of the kills land as the process takes the folder lock, just
    before or while it writes ``sweep.json``; the others after a random number of further
    committed generations. After every kill the manifest, when present, must parse whole."""
    slow = ["--set", "generations=12", "--set", "metrics.n_eval=150"]
    expected = run_and_export(sweep, tmp_path / "clean", "--executor", "inline", *slow)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "autophagy", "run", str(sweep), "--out", str(out), "--quiet"]
    cmd += ["--workers", "2", "--task-seconds", "0", *slow]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    total = CELLS * 2 * 12  # blocks x generations
    rng = np.random.default_rng(seed)
    seen = []
    for k in range(kills):
        store = out / "results.sqlite"
        at_lock = k % 3 == 0 or committed_generations(store) >= total - 2
        target = committed_generations(store) + int(
            rng.integers(1, max(3, 2 * total // kills))
        )  # spread over the sweep
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if at_lock and (out / ".lock").is_file():
                if (out / ".lock").read_text().strip() == str(proc.pid):
                    time.sleep(float(rng.uniform(0, 0.01)))
                    break
            elif not at_lock and committed_generations(store) >= target:
                break
            time.sleep(0.002)
        proc.kill()  # a no-op when the run already ended
        proc.wait()
        if (out / "sweep.json").is_file():
            json.loads((out / "sweep.json").read_text())  # whole, never torn
        seen.append(committed_generations(store))
    print(f"{kills} kills, progress at each", seen, "of", total)
    assert any(0 < s < total for s in seen), f"no kill landed mid-sweep: {seen}"
    assert run_and_export(sweep, out, *slow) == expected
    return seen


def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_rows(sweep, tmp_path):
    _kill_at_random_then_resume(sweep, tmp_path, kills=4, seed=8)


@pytest.mark.slow
def test_sigkill_50_times_then_resume_gives_the_uninterrupted_rows(sweep, tmp_path):
    _kill_at_random_then_resume(sweep, tmp_path, kills=50, seed=9)
