"""Invariant: a second Ctrl-C or SIGTERM ends the run within seconds, whatever a worker does,
after committing what finished.

One home: :class:`autophagy.running.signals.GracefulStop` (the second signal raises
``KeyboardInterrupt``), ``runner._drain`` (commits the finished tasks, then
``Executor.terminate``: SIGTERM, then SIGKILL, of every worker) and
:func:`autophagy.running.signals.deadline` (the process ends 10 s later whatever hangs).

Test: a plug-in whose ``fit`` sleeps forever on the one-replicate block (the two-replicate
block runs normally), under loky and inline, stopped by two signals in random order; the
process must exit with status 3 within a few seconds of the second signal, leave no worker
behind, and the finished block's rows must be in the store.
"""

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

CLI = [sys.executable, "-m", "autophagy"]

PLUGIN = """
import time
from pathlib import Path
import numpy as np
from autophagy import Options, register_model
from autophagy.models import GaussianModel


class SleepOptions(Options):
    marker: str = ""


class Sleepy:
    min_samples = 2

    def __init__(self, options):
        self.marker = options.marker
        self.inner = GaussianModel()

    def fit(self, data, *, rng, init=None):
        if data.shape[0] == 1:  # the one-replicate block never finishes
            Path(self.marker).write_text("sleeping")
            while True:
                time.sleep(3600)
        return self.inner.fit(data, rng=rng, init=init)

    def load(self, state):
        return self.inner.load(state)


register_model("sleepy", options=SleepOptions, build=Sleepy, summary="sleeps forever")
"""

CONFIG = """
name = "sleepy"
replicates = 3
generations = 2
block_size = 2
plugins = ["sleepplug"]
[data]
kind = "gaussian"
dim = 2
[model]
kind = "sleepy"
marker = "{marker}"
[loop]
family = "fully_synthetic"
n_ini = 20
n_synthetic = 20
[metrics]
names = ["precision"]
n_eval = 20
"""


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop(tmp_path: Path, executor: str, signals: tuple[int, int]) -> float:
    (tmp_path / "sleepplug.py").write_text(PLUGIN)
    marker = tmp_path / "sleeping"
    config = tmp_path / "sleepy.toml"
    config.write_text(CONFIG.format(marker=marker))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    args = ["--quiet", "--task-seconds", "0", "--executor", executor]
    if executor == "local":
        args += ["--workers", "2"]
    proc = subprocess.Popen(
        [*CLI, "run", str(config), "--out", str(out), *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read() if proc.poll() is not None else "never slept"
        time.sleep(1.0)  # let the other block finish and be committed
        workers = [c for c in _children(proc.pid) if "loky" in Path(f"/proc/{c}/cmdline").read_text()]
        proc.send_signal(signals[0])
        time.sleep(0.5)
        assert proc.poll() is None  # the first signal waits for the task in flight
        proc.send_signal(signals[1])
        sent = time.monotonic()
        code = proc.wait(timeout=30)
        took = time.monotonic() - sent
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == 3, err
    assert "Traceback" not in err, err
    assert took < 12, f"stopped {took:.1f} s after the second signal"
    end = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    lingering = [w for w in workers if _alive(w)]
    for w in lingering:
        os.kill(w, signal.SIGKILL)
    assert not lingering, f"workers {lingering} outlived the stop"
    with sqlite3.connect(out / "results.sqlite") as db:
        replicates = {r for (r,) in db.execute("SELECT DISTINCT replicate FROM results")}
    assert {0, 1} <= replicates, "the finished block was not committed"
    return took


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("executor", ["local", "inline"])
def test_a_second_signal_stops_a_worker_that_never_returns(tmp_path, executor):
    rng = np.random.default_rng(abs(hash(executor)) % 2**32)
    pair = tuple(int(s) for s in rng.choice([signal.SIGINT, signal.SIGTERM], size=2))
    took = _stop(tmp_path, executor, pair)
    print(f"{executor}: stopped {took:.2f} s after the second signal")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("executor", ["local", "inline"])
@pytest.mark.parametrize(
    "pair",
    [
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGTERM, signal.SIGTERM),
        (signal.SIGINT, signal.SIGTERM),
        (signal.SIGTERM, signal.SIGINT),
    ],
)
def test_every_pair_of_signals_stops(tmp_path, executor, pair):
    _stop(tmp_path, executor, pair)
