"""End to end through the command line: runs, exports, reproducibility, resume, bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import kill_after
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.storage import store as store_module

ISSUE_CONFIG = """\
name = "gauss-fs"
seed = 0
replicates = 200
generations = 30
[data]
kind = "gaussian"
dim = 10
[model]
kind = "gaussian"
[loop]
family = "fully_synthetic"
n_ini = 100
n_real = 0
n_synthetic = 100
sampling_bias = 0.9
[metrics]
names = ["wasserstein2", "trace_cov", "mean_drift", "precision", "recall"]
n_eval = 500
"""
# the issue's example, shrunk with --set so the suite stays fast
SMALL = [
    "--set",
    "replicates=5",
    "--set",
    "generations=6",
    "--set",
    "metrics.n_eval=60",
    "--set",
    "block_size=2",
]

runner = CliRunner()


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "gauss.toml"
    path.write_text(ISSUE_CONFIG)
    return path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def run_and_export(config: Path, out: Path, *extra: str) -> str:
    result = invoke("run", config, "--out", out, "--quiet", *SMALL, *extra)
    assert result.exit_code == 0, result.output
    result = invoke("export", out, "--output", out / "table.csv")
    assert result.exit_code == 0, result.output
    return (out / "table.csv").read_text()


def test_run_writes_folder_and_tidy_table(config, tmp_path):
    table = run_and_export(config, tmp_path / "run")
    lines = table.splitlines()
    assert lines[0] == "replicate,generation,metric,value,complete"
    assert len(lines) == 1 + 5 * 6 * 5
    folder = tmp_path / "run"
    assert (folder / "config.json").is_file()
    assert {p.name for p in (folder / "plots").iterdir()} == {
        f"{m}.png" for m in ("wasserstein2", "trace_cov", "mean_drift", "precision", "recall")
    }


def test_same_seed_same_table_different_seed_different(config, tmp_path):
    first = run_and_export(config, tmp_path / "a")
    assert run_and_export(config, tmp_path / "b") == first
    assert run_and_export(config, tmp_path / "c", "--set", "seed=1") != first


def test_block_size_does_not_change_results(config, tmp_path):
    first = run_and_export(config, tmp_path / "a")
    assert run_and_export(config, tmp_path / "b", "--set", "block_size=5") == first


def test_parquet_export_matches_csv(config, tmp_path):
    csv_text = run_and_export(config, tmp_path / "run")
    result = invoke("export", tmp_path / "run", "--format", "parquet", "--output", tmp_path / "t.parquet")
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "t.parquet").to_pylist()
    rows = [line.split(",") for line in csv_text.splitlines()[1:]]
    assert [(d["replicate"], d["generation"], d["metric"], d["value"], d["complete"]) for d in table] == [
        (int(r), int(g), m, float(v), c == "True") for r, g, m, v, c in rows
    ]


def test_rerun_upserts_and_refuses_a_different_config(config, tmp_path):
    first = run_and_export(config, tmp_path / "run")
    assert run_and_export(config, tmp_path / "run") == first  # resumed a finished run: same rows
    result = invoke("run", config, "--out", tmp_path / "run", "--quiet", *SMALL, "--set", "seed=3")
    assert result.exit_code == 2 and "different config" in result.output


def test_interrupted_run_resumes_to_the_same_table(config, tmp_path, monkeypatch):
    expected = run_and_export(config, tmp_path / "clean")
    original = store_module.RunStore.commit_task
    calls = {"n": 0}

    def crash_after_seven(self, *args, **kwargs):
        if calls["n"] == 7:
            raise KeyboardInterrupt
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store_module.RunStore, "commit_task", crash_after_seven)
    # a zero task budget makes every task one generation of one block (two replicates)
    result = invoke("run", config, "--out", tmp_path / "resumed", "--quiet", "--task-seconds", "0", *SMALL)
    assert result.exit_code != 0
    with sqlite3.connect(tmp_path / "resumed" / "results.sqlite") as conn:
        saved = conn.execute("SELECT first_replicate, generation FROM checkpoints").fetchall()
        rows = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    # seven one-generation tasks were committed; blocks hold 2, 2 and 1 replicates, 5 metrics each
    assert sum(g for _, g in saved) == 7
    assert rows == 5 * sum(g * (min(first + 2, 5) - first) for first, g in saved)
    monkeypatch.setattr(store_module.RunStore, "commit_task", original)
    assert run_and_export(config, tmp_path / "resumed") == expected


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_table(config, tmp_path):
    slow = [*SMALL, "--set", "replicates=8", "--set", "generations=40", "--set", "metrics.n_eval=400"]
    expected = run_and_export(config, tmp_path / "clean", *slow[len(SMALL) :])
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "autophagy", "run", str(config), "--out", str(out), "--quiet", *slow]
    cmd += ["--task-seconds", "0.05"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_after(proc, out / "results.sqlite", 10)
    with sqlite3.connect(out / "results.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] < 8 * 40 * 5
    assert run_and_export(config, out, *slow[len(SMALL) :]) == expected


def test_plot_and_list(config, tmp_path):
    run_and_export(config, tmp_path / "run")
    for png in (tmp_path / "run" / "plots").iterdir():
        png.unlink()
    result = invoke("plot", tmp_path / "run")
    assert result.exit_code == 0 and (tmp_path / "run" / "plots" / "recall.png").is_file()
    listing = invoke("list").output
    for name in ("fully_synthetic", "accumulate_subsample", "gaussian", "file", "wasserstein2", "recall"):
        assert name in listing


BAD = [
    (["--set", "colour=1"], "colour: unknown key"),
    (["--set", "loop.nope=1"], "loop.nope: unknown key"),
    (["--set", "data.dimm=3"], "data.dimm: unknown key"),
    (["--set", "replicates='many'"], "replicates: Input should be a valid integer"),
    (["--set", "loop.sampling_bias=1.5"], "loop.sampling_bias"),
    (["--set", "loop.sampling_bias=-0.1"], "loop.sampling_bias"),
    (["--set", "loop.n_synthetic=-5"], "loop.n_synthetic"),
    (["--set", "loop.n_ini=0"], "loop.n_ini"),
    (["--set", "metrics.n_eval=0"], "metrics.n_eval"),
    (["--set", "generations=0"], "generations"),
    (["--set", "loop.family='sideways'"], "loop.family: unknown family"),
    (["--set", "metrics.names=['fid9000']"], "metrics.names: unknown metric"),
    (["--set", "data.kind='file'", "--set", "data.dim=1", "--set", "data.path='missing.npy'"], "data."),
    (["--set", "loop.n_real=5"], "loop.n_real"),
]


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_one_clear_error_nothing_written(config, tmp_path, extra, message):
    out = tmp_path / "out"
    result = invoke("run", config, "--out", out, *SMALL, *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_and_nan_data_files_and_malformed_toml(config, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", config, "--out", out, *SMALL, "--set", "data={kind='file', path='nope.npy'}")
    assert result.exit_code == 2 and "data.path: file not found" in result.output
    bad = tmp_path / "nan.npy"
    np.save(bad, np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0]]))
    result = invoke("run", config, "--out", out, *SMALL, "--set", f"data={{kind='file', path='{bad}'}}")
    assert result.exit_code == 2 and "data.path" in result.output and "NaN" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n[loop")
    result = invoke("run", broken, "--out", out)
    assert result.exit_code == 2 and "not valid TOML" in result.output
    result = invoke("run", tmp_path / "absent.toml", "--out", out)
    assert result.exit_code == 2 and "file not found" in result.output
    assert not out.exists()


def test_file_data_source_runs(config, tmp_path):
    path = tmp_path / "real.csv"
    np.savetxt(
        path, np.random.default_rng(0).normal(size=(400, 3)), delimiter=",", header="x,y,z", comments=""
    )
    result = invoke(
        "run",
        config,
        "--out",
        tmp_path / "run",
        "--quiet",
        *SMALL,
        "--set",
        f"data={{kind='file', path='{path}'}}",
        "--set",
        "loop.family='fresh_data'",
        "--set",
        "loop.n_real=50",
        "--set",
        "loop.n_ini=50",
        "--set",
        "loop.n_synthetic=50",
    )
    assert result.exit_code == 0, result.output
