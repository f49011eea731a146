"""Hostile input and faults, table-driven: every case ends in one plain ``error: ...`` line with
its documented exit status (2 bad input, 3 environment), never a traceback, and a refused run
writes nothing. Cases are the failure classes of issue 18, each with its listed examples and
more of the same kind."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core.errors import EnvironmentFault
from autophagy.running.executors import cpu_count, make_executor
from autophagy.storage.safety import FolderLock, inside, safe_name

TINY = """\
name = "tiny"
replicates = 3
generations = 3
block_size = 2
[data]
kind = "gaussian"
dim = 2
[loop]
family = "fresh_data"
n_ini = 30
n_real = 10
n_synthetic = 20
[metrics]
names = ["wasserstein2", "trace_cov", "recall"]
n_eval = 40
"""
SWEEP = TINY + '[sweep]\ngrid = { "loop.sampling_bias" = [1.0, 0.8] }\n'
ROWS = 3 * 3 * 3  # replicates x generations x metrics of TINY

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean(result, status: int, message: str) -> None:
    """One plain error line with ``message``, the documented status, no traceback."""
    assert result.exit_code == status, (result.exit_code, result.output)
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    ), result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    assert message in errors[0], result.output


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def done_run(tmp_path: Path, config: Path, name: str = "done") -> Path:
    out = tmp_path / name
    result = invoke("run", config, "--out", out, "--quiet", "--executor", "inline")
    assert result.exit_code == 0, result.output
    return out


# --- bad input: exit 2, nothing written ------------------------------------------------------


def _write(text: str | bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "config.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    return make


def _array(array: np.ndarray, suffix: str = ".npy") -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = tmp / f"data{suffix}"
        np.save(path, array)
        return ["--set", f"data={{kind='file', path='{path}'}}"]

    return make


BAD_INPUT = [
    # (id, config maker or None for TINY, extra args (list or maker), message)
    ("toml-not-utf8", _write(b'name = "\xff\xfe"\n'), [], "not UTF-8"),
    ("toml-deep", _write("a = " + "[" * 3000 + "]" * 3000), [], "too deeply"),
    ("toml-broken", _write("name = \n[loop"), [], "not valid TOML"),
    ("name-300", None, ["--set", "name='" + "a" * 300 + "'"], "name:"),
    ("name-dotdot", None, ["--set", "name='..'"], "name:"),
    ("name-dot", None, ["--set", "name='.'"], "name:"),
    ("name-slash", None, ["--set", "name='a/b'"], "name:"),
    ("string-number", None, ["--set", 'replicates="200"'], "replicates: Input should be a valid integer"),
    ("float-int", None, ["--set", "replicates=1e12"], "replicates: Input should be a valid integer"),
    ("bool-int", None, ["--set", "generations=true"], "generations: Input should be a valid integer"),
    ("int-bool", None, ["--set", "metrics.unbiased_eval=1"], "metrics.unbiased_eval"),
    ("string-bool", None, ["--set", "metrics.unbiased_eval='yes'"], "metrics.unbiased_eval"),
    ("string-float", None, ["--set", "loop.sampling_bias='0.5'"], "loop.sampling_bias"),
    ("inf-bias", None, ["--set", "loop.sampling_bias=inf"], "loop.sampling_bias"),
    ("nan-bias", None, ["--set", "loop.sampling_bias=nan"], "loop.sampling_bias"),
    ("inf-mean", None, ["--set", "data.mean=inf"], "data.mean"),
    ("inf-covariance", None, ["--set", "data.covariance=inf"], "data.covariance"),
    ("complex-npy", None, _array(np.ones((20, 2)) + 1j), "complex"),
    ("no-columns", None, _array(np.ones((20, 0))), "no columns"),
    ("one-row", None, _array(np.ones((1, 2))), "at least 2 rows"),
    ("huge-rows", None, ["--set", "replicates=1000000000000"], "replicates: the run would store"),
    (
        "huge-memory",
        None,
        [f"--set={k}=100000" for k in ("block_size", "replicates", "loop.n_ini", "loop.n_synthetic")]
        + ["--set", "data.dim=100"],
        "of memory",
    ),
    ("huge-dim", None, ["--set", "data.dim=1000000"], "data"),
    ("unknown-kind", None, ["--set", "data.kind='gausian'"], "did you mean 'gaussian'"),
    ("unknown-key", None, ["--set", "replicate=3"], "did you mean 'replicates'"),
    ("unknown-metric", None, ["--set", "metrics.names=['recal']"], "did you mean 'recall'"),
    ("unknown-family", None, ["--set", "loop.family='fresh'"], "loop.family"),
    ("markup-value", None, ["--set", "loop.family='[/]'"], "'[/]'"),
    ("markup-key", None, ["--set", "[bold]x[/]=1"], "[bold]x[/]"),
    ("markup-path", _write(TINY), ["--set", "data={kind='file', path='[/]x.npy'}"], "[/]x.npy"),
    (
        "dup-sweep-key",
        _write(TINY + '[sweep]\ngrid = { "loop.n_real" = [1, 2], loop = { n_real = [3] } }\n'),
        [],
        "given twice",
    ),
    (
        "hook-os-system",
        None,
        ["--set", "mitigation={curate={score='os:system', keep_fraction=0.5}}"],
        "plugins",
    ),
    ("hook-relative", None, ["--set", "mitigation={curate={score='.mod:fn', keep_fraction=0.5}}"], "plugins"),
    ("hook-relative-plugin", None, ["--plugin", ".mod"], "plugins: '.mod' is not an absolute module"),
    (
        "unknown-nested-key",
        None,
        ["--set", "mitigation={curation={keep_fraction=0.5}}"],
        "did you mean 'curate'",
    ),
    ("task-seconds-nan", None, ["--task-seconds", "nan"], "--task-seconds"),
    ("workers-text", None, ["--workers", "many"], "--workers"),
    ("no-option", None, ["--frobnicate"], "--frobnicate"),
]


@pytest.mark.parametrize(
    ("config", "extra", "message"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_one_plain_line_exit_2_nothing_written(tmp_path, tiny, config, extra, message):
    path = config(tmp_path) if config else tiny
    args = extra(tmp_path) if callable(extra) else extra
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--quiet", *args)
    assert_clean(result, 2, message)
    assert not out.exists()


def test_output_paths_checked_before_work(tmp_path, tiny):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_clean(invoke("run", tiny, "--out", afile / "sub"), 2, "is a file")
    assert_clean(invoke("run", tiny, "--out", afile), 2, "not a folder")
    blocked = tmp_path / "blocked"
    (blocked).mkdir()
    (blocked / "plots").write_text("not a folder")
    assert_clean(invoke("run", tiny, "--out", blocked), 2, "plots")
    assert sorted(p.name for p in blocked.iterdir()) == ["plots"]
    assert_clean(invoke("run", tiny, "--out", tmp_path / ("x" * 300)), 2, "longer than 255")


def test_workers_capped_at_the_cores_with_a_warning(capsys):
    pool = make_executor("local", workers=cpu_count() + 46)
    assert pool.workers == cpu_count()
    assert "warning: --workers" in capsys.readouterr().err


def test_csv_byte_order_mark_keeps_the_first_row(tmp_path):
    from autophagy.data.files import read_array

    rows = np.arange(12.0).reshape(6, 2)
    for header in ("", "x,y\n"):
        path = tmp_path / "bom.csv"
        body = header + "\n".join(",".join(f"{v:g}" for v in row) for row in rows) + "\n"
        path.write_bytes(b"\xef\xbb\xbf" + body.encode())
        np.testing.assert_array_equal(read_array(path), rows)


# --- environment: exit 3 ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "export", "plot"])
def test_garbage_store_is_refused_with_a_pointer(tmp_path, tiny, command):
    out = done_run(tmp_path, tiny)
    (out / "results.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (out / f"results.sqlite{suffix}").unlink(missing_ok=True)
    args = {"run": [tiny, "--out", out, "--quiet"], "export": [out, "--output", tmp_path / "t.csv"]}
    assert_clean(invoke(command, *args.get(command, [out])), 3, "results.sqlite")


def test_damaged_pages_detected_and_salvage_exports_what_is_readable(tmp_path, tiny):
    out = tmp_path / "big"
    result = invoke("run", tiny, "--out", out, "--quiet", "--executor", "inline", "--set", "replicates=200")
    assert result.exit_code == 0, result.output
    store = out / "results.sqlite"
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert total == 200 * 3 * 3
    with store.open("r+b") as fh:  # overwrite one page in the middle of the file
        fh.seek((pages // 2) * 4096)
        fh.write(b"\x5a" * 4096)
    assert_clean(invoke("export", out, "--output", tmp_path / "t.csv"), 3, "results.sqlite")
    result = invoke("export", out, "--output", tmp_path / "saved.csv", "--salvage")
    assert result.exit_code == 0, result.output
    saved = (tmp_path / "saved.csv").read_text().splitlines()
    assert saved[0] == "cell,replicate,generation,metric,value"
    assert 0 < len(saved) - 1 <= total


@pytest.mark.parametrize("manifest", ["config.json", "sweep.json"])
def test_damaged_manifest_is_refused(tmp_path, manifest):
    config = tmp_path / "c.toml"
    config.write_text(SWEEP if manifest == "sweep.json" else TINY)
    out = done_run(tmp_path, config)
    (out / manifest).write_text('{"name": "tin')
    result = invoke("run", config, "--out", out, "--quiet")
    assert result.exit_code in (2, 3) and "Traceback" not in result.output, result.output
    assert manifest in result.output


def test_a_locked_folder_is_refused_and_left_alone(tmp_path, tiny):
    out = tmp_path / "locked"
    out.mkdir()
    with FolderLock(out):
        assert_clean(invoke("run", tiny, "--out", out, "--quiet"), 3, "in use by another autophagy process")
        with pytest.raises(EnvironmentFault, match=str(os.getpid())):
            FolderLock(out).acquire()
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
    assert invoke("run", tiny, "--out", out, "--quiet", "--executor", "inline").exit_code == 0


def test_full_disk_then_resume_gives_the_uninterrupted_table(tmp_path, tiny, monkeypatch):
    from autophagy.storage.store import RunStore

    clean = done_run(tmp_path, tiny, "clean")
    assert invoke("export", clean, "--output", tmp_path / "clean.csv").exit_code == 0
    commit = RunStore.commit_task
    calls = []

    def full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "commit_task", full)
    out = tmp_path / "full"
    args = ("run", tiny, "--out", out, "--quiet", "--executor", "inline", "--task-seconds", "0")
    assert_clean(invoke(*args), 3, "disk is full")
    monkeypatch.setattr(RunStore, "commit_task", commit)
    assert invoke(*args).exit_code == 0
    assert invoke("export", out, "--output", tmp_path / "full.csv").exit_code == 0
    assert (tmp_path / "full.csv").read_text() == (tmp_path / "clean.csv").read_text()


class LosingExecutor:
    """Runs tasks inline, but its second task's worker is 'lost'."""

    workers = 1

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn, arg) -> Future:
        from concurrent.futures.process import BrokenProcessPool

        self.submitted += 1
        future: Future = Future()
        if self.submitted == 2:
            future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        else:
            future.set_result(fn(arg))
        return future

    def shutdown(self) -> None:
        pass


def test_lost_worker_ends_with_a_message_and_a_resumable_folder(tmp_path, tiny, monkeypatch):
    import autophagy.api

    clean = done_run(tmp_path, tiny, "clean")
    assert invoke("export", clean, "--output", tmp_path / "clean.csv").exit_code == 0
    monkeypatch.setattr(autophagy.api, "make_executor", lambda *a, **k: LosingExecutor())
    out = tmp_path / "lost"
    args = ("run", tiny, "--out", out, "--quiet", "--task-seconds", "0")
    assert_clean(invoke(*args), 3, "worker process was lost")
    monkeypatch.undo()
    assert invoke(*args, "--executor", "inline").exit_code == 0
    assert invoke("export", out, "--output", tmp_path / "lost.csv").exit_code == 0
    assert (tmp_path / "lost.csv").read_text() == (tmp_path / "clean.csv").read_text()


def test_an_internal_error_keeps_its_traceback_and_says_bug(tmp_path, tiny, monkeypatch):
    import autophagy.api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(autophagy.api, "execute", broken)  # the driver the CLI calls
    result = invoke("run", tiny, "--out", tmp_path / "x", "--quiet")
    assert result.exit_code == 70
    assert "RuntimeError: boom" in result.output and "this is a bug" in result.output


# --- nothing escapes the folder --------------------------------------------------------------


def test_metric_names_from_a_store_cannot_write_outside_plots(tmp_path, tiny):
    out = done_run(tmp_path, tiny)
    evil = ["../../escaped", "/tmp/abs", "$\\frac{a}{$", "..", "a" * 400, "[/]"]
    with sqlite3.connect(out / "results.sqlite") as conn:
        conn.executemany(
            "INSERT INTO results VALUES (0, 0, ?, ?, 1.0)", [(g, m) for m in evil for g in (1, 2, 3)]
        )
    before = {p for p in tmp_path.rglob("*")}
    result = invoke("plot", out)
    assert result.exit_code == 0, result.output
    new = {p for p in tmp_path.rglob("*")} - before
    assert new and all(p.parent == out / "plots" for p in new), new
    assert len([p for p in new if p.suffix == ".png"]) >= len(evil)


def test_safe_names_are_distinct_and_local():
    names = ["a/b", "a_b", "..", ".", "", "x" * 500, "é", "a\x00b"]
    safe = [safe_name(n) for n in names]
    assert len(set(safe)) == len(safe)
    for s in safe:
        assert "/" not in s and not s.startswith(".") and 0 < len(s) <= 100
    assert safe_name("wasserstein2") == "wasserstein2"


def test_inside_refuses_symlinks_out_of_the_folder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"x")
    (folder / "link.png").symlink_to(secret)
    (folder / "own.png").write_bytes(b"y")
    assert inside(folder / "own.png", folder)
    assert not inside(folder / "link.png", folder)
    assert not inside(secret, folder)


# --- CLI polish ------------------------------------------------------------------------------


def test_version_and_plain_help():
    from autophagy import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"autophagy {__version__}"
    result = invoke()  # no arguments: the help, not an error
    assert result.exit_code == 0 and "Usage" in result.output and "error:" not in result.output
    result = invoke("run", "--help")
    assert "[sweep]" in result.output or "sweep table" in result.output
    assert "a  table" not in result.output
    for command in ("run", "demo", "plot", "export", "report", "reproduce", "phase-map", "list"):
        text = invoke(command, "--help").output
        assert "spec" not in text and "§" not in text, (command, text)


def test_export_to_a_full_disk_keeps_the_old_file_and_no_partial_one(tmp_path, tiny, monkeypatch):
    import errno

    import autophagy.results.export

    out = done_run(tmp_path, tiny)
    target = tmp_path / "table.csv"
    assert invoke("export", out, "--output", target).exit_code == 0
    before = target.read_text()

    def full(columns, rows, path, fmt):
        Path(path).write_text("half a ta")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(autophagy.results.export, "_write", full)
    assert_clean(invoke("export", out, "--output", target), 3, "No space left on device")
    assert target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    assert_clean(invoke("export", out, "--output", tmp_path), 2, "--output")
