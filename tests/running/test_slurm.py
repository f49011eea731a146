"""The SLURM executor (:mod:`autophagy.running.slurm`).

Default suite (no cluster needed): option parsing and refusals name their flag and write
nothing; a missing submitit or SLURM is one clean error; the runner hands an executor that
takes several tasks at once all ready blocks in one submission, with rows equal to inline.

``-m slurm`` (a real cluster: ``.ci/slurm-up`` starts one on this host; skipped with the reason
when none answers): a 2-cell sweep gives the rows of ``inline``; a job killed by ``scancel``
while it runs is resubmitted from its checkpoint and the rows stay identical (the model is a
plug-in module, which the jobs import as every worker does); a job lost more often than the
executor retries stops the run with ``JobLost``; a plug-in's error in a job is the same
``PluginError`` in the parent; jobs left by a killed parent are cancelled by the next run;
requests the cluster refuses name their flag; Ctrl-C of the parent cancels its jobs
(``squeue`` lists none afterwards) and exits 3.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from conftest import base_config

import autophagy
from autophagy.api import run
from autophagy.core.errors import ConfigError, PluginError
from autophagy.running.executors import make_executor
from autophagy.running.slurm import JobLost, SlurmExecutor
from autophagy.running.slurm_options import parse_time, slurm_options, time_limit

CLI = [sys.executable, "-m", "autophagy"]
SRC = str(Path(autophagy.__file__).parents[1])


def rows(folder: Path) -> list[tuple]:
    """Every stored row (cell, replicate, generation, metric, value), sorted."""
    return sorted(autophagy.open_run(folder).rows())


# --- options (no cluster needed) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 1800), ("5:30", 330), ("1:00:00", 3600), ("2-0", 172800), ("1-2:3", 93780), ("0-0:0:90", 90)],
)
def test_slurm_times_read_as_sbatch_reads_them(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"time": "ten minutes"}, "--slurm-time"),
        ({"time": "0"}, "--slurm-time"),
        ({"time": True}, "--slurm-time"),
        ({"cpus_per_task": 0}, "--cpus-per-task"),
        ({"gpus_per_task": -1}, "--gpus-per-task"),
        ({"gpus_per_task": 1.5}, "--gpus-per-task"),
        ({"partition": "a b"}, "--slurm-partition"),
        ({"options": ["account"]}, "--slurm-option"),
        ({"options": ["=x"]}, "--slurm-option"),
        ({"options": ["1bad=x"]}, "--slurm-option"),
        ({"options": ["array=0-9"]}, "--slurm-option"),
        ({"options": ["partition=x"]}, "--slurm-option"),
        ({"options": {"job_name": "x"}}, "--slurm-option"),
    ],
)
def test_bad_slurm_options_name_their_flag(kwargs, flag):
    with pytest.raises(ConfigError) as err:
        slurm_options(**kwargs)
    assert err.value.field == flag


def test_reserved_options_point_to_their_flag():
    with pytest.raises(ConfigError, match="use --slurm-time"):
        slurm_options(options=["time=10"])
    options = slurm_options(options={"--account": "abc", "mail_type": "END"}, cpus_per_task=4)
    assert options.extra == (("account", "abc"), ("mail-type", "END"))
    assert options.given == ("--cpus-per-task", "--slurm-option")


def test_job_time_leaves_room_for_the_task():
    assert time_limit(slurm_options(), 600) == 20  # 1.5 x 600 s + 5 min
    assert time_limit(slurm_options(time="30"), 600) == 30
    with pytest.raises(ConfigError) as err:
        time_limit(slurm_options(time="10"), 600)
    assert err.value.field == "--slurm-time"


def test_slurm_flags_with_another_executor_exit_2_and_write_nothing(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(toml(base_config()))
    out = tmp_path / "out"
    from typer.testing import CliRunner

    from autophagy.cli import app

    done = CliRunner().invoke(app, ["run", str(config), "--out", str(out), "--gpus-per-task", "1"])
    assert done.exit_code == 2
    assert done.output == "error: --gpus-per-task: asks SLURM for resources; use it with --executor slurm\n"
    for slurm, executor, named in [
        ({"partition": "debug"}, "local", "--slurm-partition"),
        ({"options": ["account=x"]}, "inline", "--slurm-option"),
        ({"time": "10"}, "ray", "--slurm-time"),
    ]:
        with pytest.raises(ConfigError) as err:
            run(base_config(), out, executor=executor, slurm=slurm)
        assert err.value.field == named
    assert not out.exists()


def test_api_refuses_unknown_slurm_keys(tmp_path):
    with pytest.raises(ConfigError) as err:
        run(base_config(), tmp_path / "o", executor="slurm", slurm={"partitoin": "x"})
    assert err.value.field == "slurm.partitoin" and "did you mean 'partition'" in err.value.message
    assert not (tmp_path / "o").exists()


def test_missing_submitit_is_one_clean_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "submitit", None)  # makes `import submitit` fail
    with pytest.raises(ConfigError, match=r"pip install 'autophagy\[slurm\]'") as err:
        make_executor("slurm")
    assert err.value.field == "--executor"


def test_no_slurm_is_one_clean_error(monkeypatch):
    pytest.importorskip("submitit")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="no SLURM here") as err:
        make_executor("slurm")
    assert err.value.field == "--executor"


class Batching:
    """An inline executor that takes several tasks at once and records each submission."""

    def __init__(self) -> None:
        self.workers, self.in_flight, self.batches = 1, 100, []

    def submit_many(self, fn, args):
        self.batches.append(len(args))
        futures = []
        for arg in args:
            future: Future = Future()
            future.set_result(fn(arg))
            futures.append(future)
        return futures

    def submit(self, fn, arg):
        return self.submit_many(fn, [arg])[0]

    def shutdown(self) -> None:
        pass


def test_all_ready_blocks_go_out_in_one_submission_with_the_rows_of_inline(tmp_path):
    raw = base_config()  # 6 replicates in blocks of 4: two blocks
    raw["sweep"] = {"grid": {"loop.sampling_bias": [0.9, 1.0]}}
    pool = Batching()
    run(raw, tmp_path / "batched", executor=pool, progress=False, plots=False, task_seconds=1e9)
    run(raw, tmp_path / "inline", executor="inline", progress=False, plots=False)
    assert pool.batches == [4]  # 2 cells x 2 blocks, each done in one task
    assert rows(tmp_path / "batched") == rows(tmp_path / "inline")


# --- a real cluster (-m slurm) ---------------------------------------------------------------


@pytest.fixture
def cluster(monkeypatch):
    """Skip unless a SLURM cluster answers; jobs get this checkout's autophagy on their path."""
    pytest.importorskip("submitit", reason="submitit is not installed (pip install 'autophagy[slurm]')")
    if shutil.which("sbatch") is None:
        pytest.skip("no SLURM installed (sbatch not on the PATH); .ci/run installs slurm-wlm")
    answer = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    if answer.returncode != 0 or not set(answer.stdout.split()) & {"idle", "mix", "alloc"}:
        pytest.skip(f"no SLURM cluster answers ({answer.stderr.strip() or 'no node up'}); run .ci/slurm-up")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p))


PLUGIN = """
import time
from pathlib import Path
from autophagy import Options, register_model
from autophagy.models import GaussianModel


class SlowOptions(Options):
    pause: float = 0.0
    marker: str = ""


class Slow:
    min_samples = 2

    def __init__(self, options):
        self.options = options
        self.inner = GaussianModel()

    def fit(self, data, *, rng, init=None):
        if self.options.marker:
            Path(self.options.marker).write_text("fitting")
        time.sleep(self.options.pause)
        return self.inner.fit(data, rng=rng, init=init)

    def load(self, state):
        return self.inner.load(state)


register_model("{name}", options=SlowOptions, build=Slow, summary="a Gaussian that takes its time")
"""


def slow_config(tmp_path: Path, name: str, pause: float, marker: Path | None = None) -> dict:
    """A one-block run whose model is a plug-in module that sleeps ``pause`` s per fit."""
    (tmp_path / f"{name}.py").write_text(PLUGIN.replace("{name}", name))
    raw = base_config()
    raw.update(replicates=3, block_size=3, generations=4, plugins=[name])
    raw["model"] = {"kind": name, "pause": pause, "marker": str(marker or "")}
    raw["metrics"] = {"names": ["wasserstein2", "precision"], "n_eval": 50}
    return raw


def toml(raw: dict) -> str:
    """``raw`` (top-level values, then one level of tables) as TOML text."""
    import json

    def value(v):
        return json.dumps(v)  # strings, numbers and lists of them read the same in TOML

    lines = [f"{k} = {value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for table, entries in ((k, v) for k, v in raw.items() if isinstance(v, dict)):
        lines += [f"[{table}]", *(f"{k} = {value(v)}" for k, v in entries.items())]
    return "\n".join(lines) + "\n"


def queued(name: str) -> list[str]:
    """``JOBID STATE`` of the jobs called ``name`` that are pending, running or completing."""
    answer = subprocess.run(
        ["squeue", "-h", "-r", "--me", f"--name={name}", "-o", "%i %T"], capture_output=True, text=True
    )
    return answer.stdout.split("\n") if answer.stdout.strip() else []


def wait_for(condition, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.1)


@pytest.mark.slurm
def test_slurm_sweep_gives_the_rows_of_inline(cluster, tmp_path):
    raw = base_config()
    raw["block_size"] = 6  # one block per cell: one job each
    raw["sweep"] = {"grid": {"loop.sampling_bias": [0.9, 1.0]}}
    run(raw, tmp_path / "inline", executor="inline", progress=False, plots=False)
    run(raw, tmp_path / "slurm", executor="slurm", progress=False, plots=False)
    assert rows(tmp_path / "slurm") == rows(tmp_path / "inline")
    logs = sorted(p.name for p in (tmp_path / "slurm" / "slurm").iterdir())
    assert sum(name.endswith("_log.out") for name in logs) == 2  # one array of two jobs, logs kept
    assert not [name for name in logs if name.endswith(".pkl")]  # pickles removed once committed


@pytest.mark.slurm
def test_a_job_killed_by_scancel_is_resubmitted_and_the_rows_stay(cluster, tmp_path, monkeypatch, capfd):
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "fitting"
    # 2 s per fit: longer than the cluster's KillWait (5 s), so that the job cannot finish between
    # scancel's SIGTERM (which submitit's jobs ignore) and its SIGKILL; the pause draws nothing,
    # so the rows are those of the same loop without it
    raw = slow_config(tmp_path, "slowplug_scancel", pause=2.0, marker=marker)
    reference = {**raw, "model": {**raw["model"], "pause": 0.0, "marker": ""}}
    run(reference, tmp_path / "inline", executor="inline", progress=False, plots=False)
    pool = SlurmExecutor(tasks=1, poll_s=0.2, queue_s=0.5, grace_s=1.0)
    name = f"autophagy-{tmp_path.name}"
    killed: list[str] = []

    def kill_when_fitting() -> None:
        wait_for(marker.exists, 120, "the job's first fit")
        jobs = queued(name)
        if jobs:
            subprocess.run(["scancel", jobs[0].split()[0]], check=True)
            killed.append(jobs[0])

    killer = threading.Thread(target=kill_when_fitting, daemon=True)
    killer.start()
    run(raw, tmp_path / tmp_path.name, executor=pool, progress=False, plots=False)
    killer.join()
    pool.shutdown()
    assert killed, "the job ended before it could be killed"
    assert "resubmitted (1 of 3)" in capfd.readouterr().err
    assert rows(tmp_path / tmp_path.name) == rows(tmp_path / "inline")


@pytest.mark.slurm
def test_a_job_lost_more_often_than_retried_stops_the_run(cluster, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "fitting"
    raw = slow_config(tmp_path, "slowplug_lost", pause=30.0, marker=marker)
    pool = SlurmExecutor(tasks=1, retries=0, poll_s=0.2, queue_s=0.5, grace_s=1.0)
    name = f"autophagy-{tmp_path.name}"

    def kill_when_fitting() -> None:
        wait_for(marker.exists, 120, "the job's first fit")
        subprocess.run(["scancel", f"--name={name}"], check=True)

    killer = threading.Thread(target=kill_when_fitting, daemon=True)
    killer.start()
    with pytest.raises(JobLost, match="ended without a result 1 times"):
        run(raw, tmp_path / tmp_path.name, executor=pool, progress=False, plots=False)
    killer.join()
    pool.shutdown()


@pytest.mark.slurm
def test_ctrl_c_of_the_parent_cancels_its_jobs(cluster, tmp_path):
    marker = tmp_path / "fitting"
    raw = slow_config(tmp_path, "slowplug_sigint", pause=600.0, marker=marker)
    config = tmp_path / "c.toml"
    config.write_text(toml(raw))
    out = tmp_path / "stopped"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ["PYTHONPATH"]])}
    parent = subprocess.Popen(
        [*CLI, "run", str(config), "--out", str(out), "--executor", "slurm", "--quiet"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(marker.exists, 120, "the job's first fit")
        assert queued(f"autophagy-{out.name}")
        parent.send_signal(signal.SIGINT)
        status = parent.wait(timeout=60)
    finally:
        parent.kill()
    stderr = parent.stderr.read()
    assert status == 3, stderr
    assert "stopped by SIGINT" in stderr and "resume with: autophagy run" in stderr
    wait_for(lambda: not queued(f"autophagy-{out.name}"), 30, "squeue to list no job of the run")


@pytest.mark.slurm
def test_a_plugin_error_in_a_job_reaches_the_parent_as_the_plugin_error(cluster, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    raw = slow_config(tmp_path, "slowplug_error", pause=-1.0)  # time.sleep(-1) raises ValueError
    with pytest.raises(PluginError, match="slowplug_error") as err:
        run(raw, tmp_path / "failed", executor="slurm", progress=False, plots=False)
    assert "ValueError" in str(err.value)


@pytest.mark.slurm
def test_jobs_left_by_a_killed_parent_are_cancelled_by_the_next_run(cluster, tmp_path):
    out = tmp_path / "resumed"
    (out / "slurm").mkdir(parents=True)
    name = f"autophagy-{out.name}"
    left = subprocess.run(
        ["sbatch", "--parsable", f"--job-name={name}", "--output=/dev/null", "--wrap=sleep 300"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (out / "slurm" / "jobs").write_text(f"{left}\n")
    pool = SlurmExecutor(tasks=1)
    pool.bind(out)  # what the runner does under the folder lock
    wait_for(lambda: not queued(name), 30, "the left-over job to be cancelled")
    assert (out / "slurm" / "jobs").read_text() == ""
    pool.shutdown()


@pytest.mark.slurm
def test_requests_the_cluster_refuses_name_their_flag_before_anything_is_written(cluster, tmp_path):
    for slurm, flag in [
        ({"partition": "nope"}, "--slurm-partition"),
        ({"gpus_per_task": 1}, "--gpus-per-task"),  # the test cluster has no GPU
        ({"cpus_per_task": 4096}, "--cpus-per-task"),
        ({"options": ["mem=1M", "bogus-option=1"]}, "--slurm-option"),
    ]:
        with pytest.raises(ConfigError) as err:
            run(base_config(), tmp_path / "o", executor="slurm", slurm=slurm)
        assert err.value.field == flag, err.value
    assert not (tmp_path / "o").exists()
