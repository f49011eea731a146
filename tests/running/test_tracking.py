"""Experiment trackers at commit time: exactly one step per (cell, generation, metric) across
failures and resumes, with the values Run.summary gives; the [tracking] table and --log are
validated before anything is written; TensorBoard files read back by TensorBoard's reader.

The MLflow server and W&B offline tests are in test_tracking_servers.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.core.errors import ConfigError, PluginError
from autophagy.core.registry import LOGGERS, Options, register_logger
from autophagy.storage.store import RunStore


def sweep_config(generations: int = 4) -> dict:
    """Two cells (lambda 1.0 and 0.7), two blocks each, Gaussian closed-form metrics."""
    return {
        "name": "tracked",
        "seed": 1,
        "replicates": 4,
        "generations": generations,
        "block_size": 2,
        "data": {"kind": "gaussian", "dim": 2},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
        "metrics": {"names": ["trace_cov", "mean_drift"]},
        "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.7]}},
    }


class MemoryOptions(Options):
    fail_at: list[int] | None = None  # [cell, generation, when]: when 0 before sending, 1 after
    store_key: str = "default"


SENT: dict[
    str, list[tuple]
] = {}  # store_key -> (cell, generation, key, value, stamp), as a server keeps them
FAILED: set[tuple] = set()


class MemoryTracker:
    """A tracker keeping what it was sent; like MLflow it stores a repeated (key, step, value,
    stamp) once. ``fail_at`` fails once at (cell, generation), before or after sending."""

    def __init__(self, options: MemoryOptions) -> None:
        self.options = options
        self.started: dict | None = None

    def start(self, run, state):
        self.started = state
        return {"runs": [c.label for c in run.cells], "starts": state.get("starts", 0) + 1}

    def log(self, cell, generation, values, timestamp_ms):
        fail = self.options.fail_at
        key = (self.options.store_key, cell, generation)
        due = fail is not None and (cell, generation) == tuple(fail[:2]) and key not in FAILED
        if due and fail[2] == 0:
            FAILED.add(key)
            raise RuntimeError("tracker down")
        rows = SENT.setdefault(self.options.store_key, [])
        for name, value in values.items():
            row = (cell, generation, name, value, timestamp_ms)
            if row not in rows:
                rows.append(row)
        if due:
            FAILED.add(key)
            raise RuntimeError("lost the reply")

    def artifacts(self, paths, cell=None):
        SENT.setdefault(self.options.store_key + ":artifacts", []).extend(Path(p).name for p in paths)

    def close(self, complete):
        pass


register_logger("memory", options=MemoryOptions, build=MemoryTracker, summary="test tracker", replace=True)


def _steps(rows: list[tuple]) -> dict[tuple[int, int, str], list[float]]:
    found: dict[tuple[int, int, str], list[float]] = {}
    for cell, generation, name, value, _ in rows:
        found.setdefault((cell, generation, name), []).append(value)
    return found


def _expected(run: ap.Run) -> dict[tuple[int, int, str], float]:
    summary = run.summary()
    cells = {c["values"]["loop.sampling_bias"]: i for i, c in enumerate(run.cells)}
    expected = {}
    for row in summary.itertuples(index=False):
        cell = cells[row[0]]
        expected[(cell, row.generation, row.metric)] = row.mean
        expected[(cell, row.generation, f"{row.metric}/low")] = row.low
        expected[(cell, row.generation, f"{row.metric}/high")] = row.high
    return expected


@pytest.mark.parametrize("when", [0, 1], ids=["fails-before-sending", "fails-after-sending"])
def test_a_failure_and_a_resume_send_each_step_exactly_once(tmp_path, when):
    """The tracker fails at (cell 1, generation 2), before sending or after (a lost reply); the
    run stops (committed work kept), and the same command resumes: every (cell, generation,
    metric) arrives once, with Run.summary's mean and interval."""
    key = f"fail-{when}"
    SENT.pop(key, None)
    raw = {**sweep_config(), "tracking": {"loggers": ["memory"], "memory": {"store_key": key}}}
    failing = {**raw, "tracking": {**raw["tracking"], "memory": {"store_key": key, "fail_at": [1, 2, when]}}}
    with pytest.raises(PluginError, match="logger memory"):
        ap.run(failing, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    partial = _steps(SENT[key])
    assert partial and all(len(v) == 1 for v in partial.values())
    run = ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    steps = _steps(SENT[key])
    expected = _expected(run)
    assert set(steps) == set(expected)
    assert all(len(v) == 1 for v in steps.values()), "a step was sent twice"
    for k, value in expected.items():
        assert math.isclose(steps[k][0], value, rel_tol=1e-12), k
    with RunStore(tmp_path / "sweep" / "results.sqlite") as store:
        logged = store.logged("memory")
    assert len(logged) == 2 * 4 and all(done for _, done in logged.values())


def test_negative_control_without_the_logged_record_a_resume_sends_twice(tmp_path):
    """Bypass the store's record of sent steps (delete it) and resume: steps arrive twice with
    new stamps, which the exactly-once check above would catch."""
    key = "control"
    SENT.pop(key, None)
    raw = {**sweep_config(2), "tracking": {"loggers": ["memory"], "memory": {"store_key": key}}}
    ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False)
    with RunStore(tmp_path / "sweep" / "results.sqlite") as store, store.conn:
        store.conn.execute("DELETE FROM logged")
    ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False)
    assert any(len(v) == 2 for v in _steps(SENT[key]).values())


def test_trackers_are_not_identity_a_folder_resumes_with_log_and_catches_up(tmp_path):
    """A run without trackers, then the same command with --log: the folder is the same run
    (not refused), and the committed generations are sent on start."""
    key = "late"
    SENT.pop(key, None)
    raw = sweep_config(2)
    ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False)
    late = {**raw, "tracking": {"memory": {"store_key": key}}}
    ap.run(late, tmp_path / "sweep", executor="inline", progress=False, plots=False, log=["memory"])
    assert {(c, g) for c, g, *_ in SENT[key]} == {(0, 1), (0, 2), (1, 1), (1, 2)}


def test_tracking_errors_name_the_field_and_write_nothing(tmp_path, monkeypatch):
    cases = [
        ({"loggers": ["mlfow"]}, "tracking.loggers", "did you mean 'mlflow'"),
        ({"loggers": ["memory"], "memory": {"colour": 1}}, "tracking.memory.colour", "unknown key"),
        ({"loggers": "memory"}, "tracking.loggers", "valid array"),
        ({"loggers": ["memory"], "memory": 3}, "tracking.memory", "must be a table"),
        ({"tensorbord": {}}, "tracking.tensorbord", "did you mean 'tensorboard'"),
    ]
    for table, field, text in cases:
        with pytest.raises(ConfigError, match=text) as caught:
            ap.run({**sweep_config(), "tracking": table}, tmp_path / "x", progress=False)
        assert caught.value.field == field
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=r"pip install 'autophagy\[wandb\]'"):
        ap.run(sweep_config(), tmp_path / "x", progress=False, log=["wandb"])
    assert not (tmp_path / "x").exists()


def test_cli_log_option_unknown_name_exits_2_naming_it(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('name = "c"\n[data]\nkind = "gaussian"\ndim = 2\n[loop]\nfamily = "fully_synthetic"\n')
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "o"), "--log", "nope"])
    assert result.exit_code == 2
    assert "tracking.loggers: unknown logger 'nope'" in result.output
    assert not (tmp_path / "o").exists()


def test_the_core_never_imports_a_tracker_library():
    """Every import of mlflow, tensorboard or wandb in src/ sits inside a function of
    autophagy/trackers (read from the source, as test_architecture reads imports)."""
    import ast

    src = Path(__file__).parents[2] / "src" / "autophagy"
    libraries = {"mlflow", "tensorboard", "wandb"}
    found = []
    for path in src.rglob("*.py"):
        text = path.read_text()
        if not any(name in text for name in libraries):
            continue
        tree = ast.parse(text)
        parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n.split(".")[0] in libraries for n in names):
                up = node
                while id(up) in parents and not isinstance(up, ast.FunctionDef):
                    up = parents[id(up)]
                found.append((path.relative_to(src).parts[0], isinstance(up, ast.FunctionDef)))
    assert found and all(place == ("trackers", True) for place in found)
    assert {"mlflow", "tensorboard", "wandb"} <= set(LOGGERS)


def test_tensorboard_event_files_read_back_by_tensorboard_hold_one_event_per_step(tmp_path):
    """A 2-cell sweep stopped by a failing tracker, then resumed with TensorBoard too: its
    EventAccumulator reads exactly one scalar per (cell, generation, tag), equal to Run.summary."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    key = "tb"
    raw = {**sweep_config(), "tracking": {"loggers": ["tensorboard", "memory"], "memory": {"store_key": key}}}
    failing = {**raw, "tracking": {**raw["tracking"], "memory": {"store_key": key, "fail_at": [0, 3, 1]}}}
    with pytest.raises(PluginError):
        ap.run(failing, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    run = ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    expected = _expected(run)
    found: dict[tuple[int, int, str], list[float]] = {}
    folders = sorted((tmp_path / "sweep" / "tensorboard").iterdir())
    assert [f.name[:8] for f in folders] == ["cell-000", "cell-001"]
    for cell, folder in enumerate(folders):
        events = EventAccumulator(str(folder))
        events.Reload()
        for tag in events.Tags()["scalars"]:
            for event in events.Scalars(tag):
                found.setdefault((cell, event.step, tag), []).append(event.value)
    assert set(found) == set(expected)
    assert all(len(v) == 1 for v in found.values())
    for k, value in expected.items():  # TensorBoard stores float32
        assert np.isclose(found[k][0], value, rtol=1e-6), k


@pytest.mark.parametrize("place", ["tensorboard", "wandb", "mlartifacts", "mlflow.db"])
def test_a_link_planted_where_a_tracker_writes_is_refused(tmp_path, place):
    from autophagy.core.errors import ConfigError
    from autophagy.running.tracking import gate_tracker_places

    folder, outside = tmp_path / "run", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    gate_tracker_places(folder)  # nothing planted: accepted, nothing created
    assert list(folder.iterdir()) == []
    (folder / place).symlink_to(outside)
    with pytest.raises(ConfigError):
        gate_tracker_places(folder)
