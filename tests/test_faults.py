"""Faults injected into real processes: manifest writes killed at random instants, two runs
started on one folder at once, SIGINT/SIGTERM mid-sweep, the parent SIGKILLed under its loky
workers. (Random SIGKILLs of a whole sweep, then resume, live in test_executors.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import committed_generations
from test_hardening import SWEEP, TINY

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
CLI = [sys.executable, "-m", "autophagy"]

WRITER = """
import json, sys
from autophagy.storage.safety import atomic_write_text
path = sys.argv[1]
print("ready", flush=True)
for i in range(10**9):
    atomic_write_text(path, json.dumps({"version": i, "pad": "x" * (i % 5000 * 40)}))
"""


def _kill_manifest_writer(path: Path, kills: int, seed: int) -> list[int]:
    """SIGKILL a process rewriting ``path`` in a loop ``kills`` times at random instants; after
    each kill the file must parse and hold a whole version. Returns the versions seen."""
    rng = np.random.default_rng(seed)
    path.write_text(json.dumps({"version": -1, "pad": ""}))
    seen = []
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=ENV, stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.05)))
        proc.kill()
        proc.wait()
        manifest = json.loads(path.read_text())  # raises if torn
        assert (
            manifest["pad"] == "x" * (manifest["version"] % 5000 * 40) if manifest["version"] >= 0 else True
        )
        seen.append(manifest["version"])
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= kills  # a killed writer may leave its temporary file, never a torn target
    return seen


def test_manifest_writes_killed_at_random_leave_a_whole_file(tmp_path):
    seen = _kill_manifest_writer(tmp_path / "sweep.json", kills=8, seed=1)
    assert max(seen) > 0, seen  # the kills landed among writes


@pytest.mark.slow
def test_manifest_writes_killed_50_times(tmp_path):
    seen = _kill_manifest_writer(tmp_path / "sweep.json", kills=50, seed=2)
    print("manifest versions at the 50 kills:", seen)


def _export(folder: Path, output: Path) -> str:
    result = subprocess.run(
        [*CLI, "export", str(folder), "--output", str(output)], env=ENV, capture_output=True
    )
    assert result.returncode == 0, result.stderr.decode()
    return output.read_text()


def test_two_runs_started_at_once_on_one_folder_one_is_refused(tmp_path):
    config_a, config_b = tmp_path / "a.toml", tmp_path / "b.toml"
    slow = TINY.replace("generations = 3", "generations = 60").replace("replicates = 3", "replicates = 8")
    config_a.write_text(slow)
    config_b.write_text(slow.replace('name = "tiny"', 'name = "tiny"\nseed = 7'))
    out = tmp_path / "shared"
    args = ["--out", str(out), "--quiet", "--executor", "inline", "--task-seconds", "0.2"]
    procs = [
        subprocess.Popen(
            [*CLI, "run", str(c), *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for c in (config_a, config_b)
    ]
    results = [(p.wait(timeout=600), p.stderr.read().decode()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 2], [0, 3]), results
    refused = next(err for code, err in results if code != 0)
    assert "in use by another autophagy process" in refused or "different config" in refused, refused
    assert "Traceback" not in refused
    winner = config_a if results[0][0] == 0 else config_b
    clean = tmp_path / "clean"
    command = [*CLI, "run", str(winner), "--out", str(clean), "--quiet", "--executor", "inline"]
    subprocess.run(command, env=ENV, check=True)
    assert _export(out, tmp_path / "shared.csv") == _export(clean, tmp_path / "clean.csv")


def _wait_for_progress(store: Path, proc: subprocess.Popen, at_least: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while committed_generations(store) < at_least and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the signal"


@pytest.mark.parametrize("signum", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_signal_stops_at_a_commit_says_how_to_resume_and_resume_is_exact(tmp_path, signum):
    config = tmp_path / "sweep.toml"
    generations = 400  # long enough that the tasks in flight at the signal cannot finish it
    config.write_text(SWEEP.replace("generations = 3", f"generations = {generations}"))
    out = tmp_path / "stopped"
    args = ["--quiet", "--workers", "2", "--task-seconds", "0.1"]
    proc = subprocess.Popen(
        [*CLI, "run", str(config), "--out", str(out), *args], env=ENV, stderr=subprocess.PIPE, text=True
    )
    _wait_for_progress(out / "results.sqlite", proc, at_least=4)
    sent = time.monotonic()
    proc.send_signal(signum)
    code, err = proc.wait(timeout=120), proc.stderr.read()
    print(f"{signal.Signals(signum).name}: stopped {time.monotonic() - sent:.2f} s after the signal")
    assert code == 3, err
    assert f"stopped by {signal.Signals(signum).name}" in err and "resume with: autophagy run" in err, err
    assert "Traceback" not in err
    saved = committed_generations(out / "results.sqlite")
    assert 0 < saved < 2 * 2 * generations  # cells x blocks x generations
    clean = tmp_path / "clean"
    subprocess.run(
        [*CLI, "run", str(config), "--out", str(clean), "--quiet", "--executor", "inline"],
        env=ENV,
        check=True,
    )
    subprocess.run([*CLI, "run", str(config), "--out", str(out), *args], env=ENV, check=True)
    assert _export(out, tmp_path / "s.csv") == _export(clean, tmp_path / "c.csv")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_loky_workers_end_with_their_sigkilled_parent(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP.replace("generations = 3", "generations = 200"))
    out = tmp_path / "orphans"
    proc = subprocess.Popen(
        [*CLI, "run", str(config), "--out", str(out), "--quiet", "--workers", "2", "--task-seconds", "0.1"],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_progress(out / "results.sqlite", proc, at_least=2)
    workers = [c for c in _children(proc.pid) if "loky" in Path(f"/proc/{c}/cmdline").read_text()]
    assert workers, "no loky workers found"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    lingering = [w for w in workers if _alive(w)]
    for w in lingering:  # never leave them behind, even when the test fails
        os.kill(w, signal.SIGKILL)
    assert not lingering, f"workers {lingering} outlived their parent by 10 s"
