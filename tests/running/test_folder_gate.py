"""Invariant: nothing outside a run folder is created or modified by what the folder holds.

Every file the project writes inside a run, sweep, admissible or recipe folder goes through
one gate (:func:`autophagy.storage.safety.gate`: no symlink as the final component, opened
with ``O_NOFOLLOW``, parent resolved inside the folder), and every ``--output`` that resolves
onto a folder's own files is refused (:func:`autophagy.storage.safety.refuse_own_file`).

Property test: a finished run is copied, symbolic links pointing outside a sandbox are planted
at random places (the lock, the store and its journals, the manifest, ``plots/`` itself, a
plot, the report, the temporary names), then a random operation runs (resume, plot, report,
export, export onto an own file through a link). Whatever it does, refuse or succeed, every
file outside the folder is byte-identical and no new one appears.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import base_config

from autophagy.api import run
from autophagy.core.errors import ConfigError, EnvironmentFault
from autophagy.results.report import write_report
from autophagy.results.run import open_run
from autophagy.storage.safety import OWN_FILES, atomic_write_text, gate, make_folder, refuse_own_file

PLACES = [
    ".lock",
    "results.sqlite",
    "results.sqlite-wal",
    "results.sqlite-shm",
    "results.sqlite-journal",
    "config.json",
    "report.html",
    "plots",
    "plots/wasserstein2.png",
    "plots/trace_cov.png",
    "plots/samples.png",
    f".config.json.{os.getpid()}.tmp",
    ".experiment-0.pickle",
    f"..experiment-0.pickle.{os.getpid()}.tmp",
    f".report.html.{os.getpid()}.tmp",
    f"plots/.mean_drift.png.{os.getpid()}.tmp",
]
OPERATIONS = ("resume", "plot", "report", "export", "export-own", "report-own")


def _state(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: a file's sha256, a link's target, a folder's marker."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = f"link:{os.readlink(path)}"
        elif path.is_dir():
            found[key] = "dir"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).digest()
    return found


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gate") / "run"
    raw = {**base_config(), "replicates": 2, "generations": 2, "block_size": 2}
    run(raw, out, executor="inline", progress=False, plots=False)
    return out


def _trial(tmp_path: Path, finished: Path, seed: int) -> str:
    rng = np.random.default_rng(seed)
    sandbox = tmp_path / f"t{seed}"
    outside = sandbox / "outside"
    outside.mkdir(parents=True)
    (outside / "precious.txt").write_text("keep me\n")
    (outside / "sub").mkdir()
    (outside / "sub" / "wasserstein2.png").write_bytes(b"not a plot")
    folder = sandbox / "run"
    shutil.copytree(finished, folder)
    targets = [outside / "precious.txt", outside / "missing.bin", outside / "sub", outside / "gone" / "x"]
    chosen = rng.choice(len(PLACES), size=int(rng.integers(1, 4)), replace=False)
    for index in chosen:
        place = folder / PLACES[index]
        if place.parent.is_symlink() or not place.parent.exists():
            continue  # planted under a link already: the link is the trap
        if place.is_dir() and not place.is_symlink():
            shutil.rmtree(place)
        elif place.exists() or place.is_symlink():
            place.unlink()
        place.symlink_to(targets[int(rng.integers(len(targets)))])
    before = _state(outside)
    operation = OPERATIONS[int(rng.integers(len(OPERATIONS)))]
    raw = {**base_config(), "replicates": 2, "generations": 2, "block_size": 2}
    try:
        if operation == "resume":
            run(raw, folder, executor="inline", progress=False, plots=True)
        elif operation == "plot":
            open_run(folder).write_plots()
        elif operation == "report":
            write_report(open_run(folder))
        elif operation == "export":
            open_run(folder).export(sandbox / "table.csv")
        else:  # an output that is a link onto one of the folder's own files
            link = sandbox / "innocent.csv"
            link.symlink_to(folder / ("results.sqlite" if operation == "export-own" else "config.json"))
            with pytest.raises(ConfigError):  # --output, or a planted link found first
                (open_run(folder).export if operation == "export-own" else open_run(folder).report)(link)
    except (ConfigError, EnvironmentFault, OSError):
        pass  # refused: fine, as long as nothing outside changed
    assert _state(outside) == before, (seed, operation, [PLACES[i] for i in chosen])
    return operation


def test_nothing_outside_the_folder_changes(tmp_path, finished):
    seen = {_trial(tmp_path, finished, seed) for seed in range(25)}
    assert len(seen) >= 4  # the trials cover most operations


@pytest.mark.slow
def test_nothing_outside_the_folder_changes_over_a_thousand_trials(tmp_path, finished):
    for seed in range(1000):
        _trial(tmp_path, finished, seed)
        shutil.rmtree(tmp_path / f"t{seed}")


def test_negative_control_a_plain_write_would_escape(tmp_path):
    """Without the gate, writing through a planted link changes a file outside (the test can fail)."""
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "report.html").symlink_to(outside)
    (folder / "report.html").write_text("<html>")  # what an ungated writer does
    assert outside.read_text() == "<html>"
    outside.write_text("keep me\n")
    with pytest.raises(ConfigError, match="symbolic link"):
        atomic_write_text(folder / "report.html", "<html>")
    assert outside.read_text() == "keep me\n"


def test_the_gate_refuses_links_and_escapes(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (folder / "plots").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="symbolic link"):
        gate(folder, folder / "plots")
    with pytest.raises(ConfigError, match="outside"):
        gate(folder, folder / "plots" / "x.png")
    with pytest.raises(ConfigError, match="symbolic link"):
        make_folder(folder, folder / "plots")
    assert gate(folder, folder / "new.txt") == folder.resolve() / "new.txt"


@pytest.mark.parametrize("name", sorted(OWN_FILES))
def test_an_output_onto_a_folders_own_file_is_refused(tmp_path, name):
    with pytest.raises(ConfigError, match="--output"):
        refuse_own_file("--output", tmp_path / name)
    with pytest.raises(ConfigError, match="--output"):
        refuse_own_file("--output", tmp_path)  # a folder
