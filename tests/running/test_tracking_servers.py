"""MLflow and Weights & Biases, read back by their own readers.

- a real ``mlflow server`` (SQLite backend, local artifact root, a free port on localhost) gets
  a 2-cell sweep run by the CLI with ``--log mlflow``, SIGKILLed mid-run and resumed by the
  same command; MlflowClient then reads exactly one value per (cell, generation, metric),
  equal to Run.summary's (slow: the server alone starts in 20 s to 2 minutes on 2 busy
  cores); the same check against MLflow's SQLite store in the run folder, the run stopped by
  a failing tracker instead of a kill (slow too: MLflow's schema migrations); the default
  suite checks the tracker's calls against a recording stand-in of MlflowClient
  (test_mlflow_tracker_calls);
- W&B in offline mode: the run's ``.wandb`` files are read record by record with W&B's own
  protobuf schema; one history value per (cell, step, key), the sweep as a W&B group (slow:
  W&B starts a service process per session; the default suite checks the same exactly-once
  property through TensorBoard's reader and a recording tracker, test_tracking.py).

No test touches the network (MLFLOW and W&B telemetry off, W&B offline).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_tracking import SENT, _expected, sweep_config

import autophagy as ap
from autophagy.core.errors import PluginError
from autophagy.storage.store import RunStore

QUIET = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    for key, value in QUIET.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    """``mlflow server`` on a free localhost port with a SQLite backend; yields its URI."""
    pytest.importorskip("mlflow")
    port = _free_port()
    backend = f"sqlite:///{tmp_path / 'server.db'}"
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend]
    command += ["--default-artifact-root", str(tmp_path / "artifacts"), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1"]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.25)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _mlflow_steps(uri: str, folder: Path) -> tuple[dict, dict]:
    """(cell, generation, key) -> values read back through MlflowClient, and the runs' facts."""
    import json

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    with RunStore(folder / "results.sqlite") as store:
        state = json.loads(store.meta("tracker:mlflow"))
    found: dict[tuple[int, int, str], list[float]] = {}
    for cell, run_id in state["runs"].items():
        run = client.get_run(run_id)
        for key in run.data.metrics:
            for metric in client.get_metric_history(run_id, key):
                found.setdefault((int(cell), metric.step, key), []).append(metric.value)
    parent = client.get_run(state["parent"])
    children = [client.get_run(r) for r in state["runs"].values()]
    facts = {
        "parents": {c.data.tags.get("mlflow.parentRunId") for c in children},
        "parent": state["parent"],
        "params": children[0].data.params,
        "status": {parent.info.status, *(c.info.status for c in children)},
        "artifacts": sorted(
            a.path
            for a in client.list_artifacts(state["parent"]) + client.list_artifacts(state["parent"], "plots")
        ),
    }
    return found, facts


def _check_exactly_once(found: dict, run: ap.Run) -> None:
    expected = _expected(run)
    assert set(found) == {k for k in expected if not math.isnan(expected[k])}
    assert all(len(v) == 1 for v in found.values()), "a step was logged twice"
    for key, values in found.items():
        assert math.isclose(values[0], expected[key], rel_tol=1e-9), key


@pytest.mark.slow
def test_mlflow_sqlite_store_gets_each_step_once_across_a_failure_and_resume(tmp_path):
    """MLflow's own SQLite store in the run folder (no server; its schema migrations alone take
    about 7 s of CPU); the run is stopped by a failing tracker after a step was sent (a lost
    reply), then resumed."""
    pytest.importorskip("mlflow")
    key = "mlflow-default"
    SENT.pop(key, None)
    loggers = {"loggers": ["mlflow", "memory"], "memory": {"store_key": key}}
    failing = {**sweep_config(3), "tracking": {**loggers, "memory": {"store_key": key, "fail_at": [1, 2, 1]}}}
    with pytest.raises(PluginError):
        ap.run(failing, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    run = ap.run(
        {**sweep_config(3), "tracking": loggers}, tmp_path / "sweep", executor="inline", progress=False
    )
    found, facts = _mlflow_steps(f"sqlite:///{tmp_path / 'sweep' / 'mlflow.db'}", tmp_path / "sweep")
    _check_exactly_once(found, run)
    assert facts["parents"] == {facts["parent"]}
    assert facts["params"]["loop.sampling_bias"] in ("1.0", "0.7")
    assert facts["status"] == {"FINISHED"}
    assert facts["artifacts"] == ["plots", "plots/mean_drift.png", "plots/trace_cov.png", "report.html"]


SWEEP_TOML = """
name = "served"
seed = 1
replicates = 4
generations = 6
block_size = 2
[data]
kind = "gaussian"
dim = 2
[loop]
family = "fully_synthetic"
n_ini = 20
n_synthetic = 20
[metrics]
names = ["trace_cov", "mean_drift"]
[sweep]
grid = {{ "loop.sampling_bias" = [1.0, 0.7] }}
[tracking.mlflow]
tracking_uri = "{uri}"
"""


@pytest.mark.servers
def test_mlflow_server_sigkill_and_resume_log_each_step_once(tmp_path, mlflow_server):
    """`autophagy run --log mlflow` against a real server, SIGKILLed after some commits, then the
    same command again: one value per (cell, generation, metric), Run.summary's."""
    from tests.conftest import kill_after

    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP_TOML.format(uri=mlflow_server))
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "autophagy", "run", str(config), "--out", str(out)]
    command += ["--executor", "inline", "--task-seconds", "0", "--quiet", "--log", "mlflow"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_after(proc, out / "results.sqlite", 10)
    with RunStore(out / "results.sqlite") as store:
        sent_before = len(store.logged("mlflow"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found, facts = _mlflow_steps(mlflow_server, out)
    _check_exactly_once(found, ap.open_run(out))
    assert 0 < sent_before < 12, "the kill should fall between the first and the last step"
    assert facts["parents"] == {facts["parent"]} and facts["status"] == {"FINISHED"}
    assert "report.html" in facts["artifacts"]


# -- Weights & Biases offline ----------------------------------------------------------------


def wandb_records(path: Path) -> list:
    """The records of a ``.wandb`` file: W&B's LevelDB-style log (a 7-byte header, 32 KiB blocks
    of chunks: checksum, length, type FULL / FIRST / MIDDLE / LAST), each a wandb Record."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    position, block, payloads, pending = 7, 32768, [], b""
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if kind == 0 and length == 0:
            position += left
            continue
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind == 1:
            payloads.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            payloads.append(pending + chunk)
    records = []
    for payload in payloads:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        records.append(record)
    return records


def _wandb_steps(folder: Path) -> tuple[dict, dict]:
    """(run id, step, key) -> values over every offline run folder, and run id -> group."""
    found: dict[tuple[str, int, str], list[float]] = {}
    groups: dict[str, str] = {}
    for path in sorted(folder.glob("wandb/offline-run-*/run-*.wandb")):
        run_id = path.stem.removeprefix("run-")
        for record in wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                groups[run_id] = record.run.run_group
            elif kind == "history":
                for item in record.history.item:
                    key = item.key or "/".join(item.nested_key)
                    if not key.startswith("_"):
                        found.setdefault((run_id, record.history.step.num, key), []).append(
                            float(item.value_json)
                        )
    return found, groups


@pytest.mark.servers
def test_wandb_offline_files_hold_each_step_once_across_a_failure_and_resume(tmp_path):
    pytest.importorskip("wandb")
    import json

    key = "wandb"
    SENT.pop(key, None)
    loggers = {"loggers": ["wandb", "memory"], "memory": {"store_key": key}}
    failing = {**sweep_config(3), "tracking": {**loggers, "memory": {"store_key": key, "fail_at": [1, 2, 1]}}}
    with pytest.raises(PluginError):
        ap.run(failing, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    run = ap.run(
        {**sweep_config(3), "tracking": loggers}, tmp_path / "sweep", executor="inline", progress=False
    )
    found, groups = _wandb_steps(tmp_path / "sweep")
    with RunStore(tmp_path / "sweep" / "results.sqlite") as store:
        ids = json.loads(store.meta("tracker:wandb"))["ids"]
    cell_of = {run_id: int(cell) for cell, run_id in ids.items() if cell != "sweep"}
    by_cell = {(cell_of[r], step, k): v for (r, step, k), v in found.items()}
    _check_exactly_once(by_cell, run)
    assert set(groups.values()) == {"tracked"}
    saved = {p.name for p in tmp_path.glob(f"sweep/wandb/offline-run-*-{ids['sweep']}/files/*")}
    assert {"report.html", "trace_cov.png"} <= saved


@pytest.mark.servers  # W&B starts its service process: 4 to 12 s on 2 busy cores
def test_wandb_offline_single_run_reads_back(tmp_path):
    """One run, two generations, offline, read back from its .wandb file."""
    pytest.importorskip("wandb")
    raw = {**sweep_config(2), "replicates": 2}
    raw.pop("sweep")
    run = ap.run(raw, tmp_path / "run", executor="inline", progress=False, plots=False, log=["wandb"])
    found, groups = _wandb_steps(tmp_path / "run")
    summary = run.summary()
    assert {(s, k) for _, s, k in found} == {
        (g, name)
        for g in (1, 2)
        for m in ("trace_cov", "mean_drift")
        for name in (m, f"{m}/low", f"{m}/high")
    }
    assert all(len(v) == 1 for v in found.values())
    for row in summary.itertuples(index=False):
        (values,) = [v for (_, s, k), v in found.items() if (s, k) == (row.generation, row.metric)]
        assert math.isclose(values[0], row.mean, rel_tol=1e-9)
    assert set(groups.values()) == {""}  # a single run is not grouped


# -- the MLflow tracker's calls, against a recording stand-in (default suite) ----------------


class FakeClient:
    """Records what MLflowTracker asks of MlflowClient; like MLflow's store it keeps a repeated
    (key, timestamp, step, value) once, and it outlives the tracker (a server)."""

    runs: dict = {}
    experiments: dict = {}

    def __init__(self, tracking_uri):
        self.uri = tracking_uri

    def get_experiment_by_name(self, name):
        found = self.experiments.get(name)
        return None if found is None else type("E", (), {"experiment_id": found})()

    def create_experiment(self, name, artifact_location=None):
        self.experiments[name] = str(len(self.experiments))
        return self.experiments[name]

    def create_run(self, experiment_id, run_name=None, tags=None):
        run_id = f"r{len(self.runs)}"
        self.runs[run_id] = {
            "name": run_name,
            "tags": dict(tags or {}),
            "params": {},
            "metrics": [],
            "files": [],
        }
        return type("R", (), {"info": type("I", (), {"run_id": run_id})()})()

    def get_run(self, run_id):
        return self.runs[run_id]

    def update_run(self, run_id, status):
        self.runs[run_id]["status"] = status

    def log_batch(self, run_id, metrics=(), params=()):
        run = self.runs[run_id]
        run["params"].update({p.key: p.value for p in params})
        for m in metrics:
            if (m.key, m.timestamp, m.step, m.value) not in run["metrics"]:
                run["metrics"].append((m.key, m.timestamp, m.step, m.value))

    def log_artifact(self, run_id, path, artifact_path=None):
        self.runs[run_id]["files"].append(
            f"{artifact_path}/{Path(path).name}" if artifact_path else Path(path).name
        )

    def set_terminated(self, run_id, status):
        self.runs[run_id]["status"] = status


def test_mlflow_tracker_calls(tmp_path, monkeypatch):
    """Parent run with one child per cell (tagged with it), params = the resolved config, one
    metric value per (cell, generation, key) with a stamp fixed before sending, artifacts on
    the parent, the same runs reused after a failure and a resume."""
    import types

    from autophagy.trackers import mlflow_tracker

    FakeClient.runs, FakeClient.experiments = {}, {}
    tracking = types.ModuleType("mlflow.tracking")
    tracking.MlflowClient = FakeClient
    entities = types.ModuleType("mlflow.entities")
    entities.Metric = lambda key, value, timestamp, step: types.SimpleNamespace(
        key=key, value=value, timestamp=timestamp, step=step
    )
    entities.Param = lambda key, value: types.SimpleNamespace(key=key, value=value)
    monkeypatch.setitem(sys.modules, "mlflow", types.ModuleType("mlflow"))
    monkeypatch.setitem(sys.modules, "mlflow.tracking", tracking)
    monkeypatch.setitem(sys.modules, "mlflow.entities", entities)
    monkeypatch.setattr(mlflow_tracker.MLflowTracker, "_reopen", _reopen_fake)

    key = "fake-mlflow"
    SENT.pop(key, None)
    loggers = {
        "loggers": ["mlflow", "memory"],
        "memory": {"store_key": key},
        "mlflow": {"tracking_uri": "fake://"},
    }
    failing = {**sweep_config(3), "tracking": {**loggers, "memory": {"store_key": key, "fail_at": [0, 2, 1]}}}
    with pytest.raises(PluginError):
        ap.run(failing, tmp_path / "sweep", executor="inline", progress=False, plots=False, task_seconds=0)
    run = ap.run(
        {**sweep_config(3), "tracking": loggers}, tmp_path / "sweep", executor="inline", progress=False
    )
    runs = FakeClient.runs
    parent = [r for r in runs if "mlflow.parentRunId" not in runs[r]["tags"]]
    assert len(parent) == 1 and len(runs) == 3, "a resume must reuse the runs"
    children = {r: v for r, v in runs.items() if r != parent[0]}
    assert {v["tags"]["mlflow.parentRunId"] for v in children.values()} == set(parent)
    found: dict = {}
    for cell, (_, entry) in enumerate(sorted(children.items())):
        assert entry["params"]["loop.sampling_bias"] == json_text(
            run.cells[cell]["values"]["loop.sampling_bias"]
        )
        assert entry["status"] == "FINISHED"
        for name, _, step, value in entry["metrics"]:
            found.setdefault((cell, step, name), []).append(value)
    _check_exactly_once(found, run)
    assert sorted(runs[parent[0]]["files"]) == ["plots/mean_drift.png", "plots/trace_cov.png", "report.html"]


def json_text(value) -> str:
    import json

    return json.dumps(value)


def _reopen_fake(self, state):
    ids = {int(k): v for k, v in state["runs"].items()}
    if any(r not in FakeClient.runs for r in ids.values()):
        return False
    self.runs, self.parent = ids, state.get("parent")
    return True
