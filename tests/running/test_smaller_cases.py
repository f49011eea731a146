"""The smaller cases of issue 26, each a clean named error or a correct output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import base_config
from typer.testing import CliRunner

import autophagy.api as api
from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.results.run import open_run
from autophagy.running.failures import printable
from autophagy.storage import store as store_module

runner = CliRunner()


def _raw(**changes) -> dict:
    raw = {**base_config(), "replicates": 2, "generations": 2, "block_size": 2, **changes}
    raw["metrics"] = {"names": ["precision"], "n_eval": 20}
    return raw


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "run"
    api.run(_raw(), out, executor="inline", progress=False, plots=False)
    return out


def test_a_read_only_finished_folder_exports_and_reports_elsewhere(finished, tmp_path, monkeypatch):
    real = store_module.writable
    monkeypatch.setattr(  # a read-only mount, as root cannot make one with chmod
        store_module, "writable", lambda folder: False if Path(folder) == finished else real(folder)
    )
    before = sorted(p.name for p in finished.iterdir())
    result = runner.invoke(app, ["export", str(finished), "--output", str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(finished), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["plot", str(finished), "--output", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plots" / "precision.png").is_file()
    for command in ("plot", "report"):  # the default output is inside: one line naming --output
        result = runner.invoke(app, [command, str(finished)])
        assert result.exit_code == 2 and "--output" in result.output and "read-only" in result.output
    assert sorted(p.name for p in finished.iterdir()) == before


def test_export_warns_from_the_rows_snapshot(finished, tmp_path):
    _path, count, done, planned = open_run(finished).export_snapshot(tmp_path / "t.csv")
    assert (done, planned) == (2, 2) and count == 2 * 2


SIGTERM_EXPORT = """
import sys, time
sys.path.insert(0, {src!r})
from autophagy.results import export
real = export._write
def slow(columns, rows, path, fmt):
    real(columns, rows, path, fmt)
    print("written", flush=True)
    time.sleep(60)
export._write = slow
from autophagy.cli import app
app(["export", {run!r}, "--output", {out!r}])
"""


def test_sigterm_during_export_leaves_no_temporary_file(finished, tmp_path):
    src = str(Path(api.__file__).parents[1])
    code = SIGTERM_EXPORT.format(src=src, run=str(finished), out=str(tmp_path / "t.csv"))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "written"
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # caught mid-write
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 3, proc.stderr.read()
    assert list(tmp_path.iterdir()) == []


def test_fifo_and_devices_as_data_are_named(tmp_path):
    os.mkfifo(tmp_path / "fifo.npy")
    for path in (tmp_path / "fifo.npy", Path("/dev/zero")):
        raw = _raw(data={"kind": "file", "path": str(path), "held_out": 0})
        started = time.monotonic()
        with pytest.raises(ConfigError, match=r"^data\.path: .*not a regular file"):
            api.run(raw, tmp_path / "x", executor="inline", progress=False)
        assert time.monotonic() - started < 30  # never blocks reading


def test_an_empty_metric_list_is_refused(tmp_path):
    raw = _raw()
    raw["metrics"] = {"names": []}
    with pytest.raises(ConfigError, match=r"^metrics\.names: is empty"):
        api.run(raw, tmp_path / "x", executor="inline", progress=False)


def test_huge_finite_data_is_a_clean_error_or_works(tmp_path):
    np.save(tmp_path / "huge.npy", np.random.default_rng(0).normal(size=(40, 3)) * 1e300)
    raw = _raw(data={"kind": "file", "path": str(tmp_path / "huge.npy"), "held_out": 0})
    with pytest.raises(ConfigError, match=r"^data\.path: .*overflow"):
        api.run(raw, tmp_path / "x", executor="inline", progress=False, plots=False)


def test_control_characters_are_escaped_in_error_lines(tmp_path):
    assert printable("a\x1b[2Jb\rc\x07\x9bd\n") == "a\\x1b[2Jb\\x0dc\\x07\\x9bd\n"
    result = runner.invoke(
        app, ["export", str(tmp_path / "no\x1b[2Jthere"), "--output", str(tmp_path / "t.csv")]
    )
    assert result.exit_code == 2 and "\x1b" not in result.output and "\\x1b[2J" in result.output


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workers": "2"}, "--workers"),
        ({"workers": 0}, "--workers"),
        ({"workers": True}, "--workers"),
        ({"task_seconds": float("nan")}, "--task-seconds"),
        ({"task_seconds": "1"}, "--task-seconds"),
        ({"executor": 3}, "--executor"),
        ({"progress": "no"}, "progress"),
        ({"force_data": 1}, "force_data"),
    ],
)
def test_the_api_checks_its_arguments_as_the_cli_does(tmp_path, kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}:"):
        api.run(_raw(), tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_a_plugins_string_is_one_module():
    assert api.load_config(_raw(), plugins="json")["plugins"] == ["json"]
