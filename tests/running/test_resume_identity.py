"""Invariant: a resume continues the same run, with the same inputs, or is refused.

One home: :func:`autophagy.storage.identity.resume_identity`, called by the runner under the
folder lock. The manifest records the package version, a fingerprint of every input file
(size, mtime, sha256) and a run id that the store's ``meta`` table holds too.

Property test: a finished run on file data is copied, then a random set of changes is made
(the data file's bytes, its mtime only, the store swapped for another run's, the manifest
deleted, the identity stripped as an older folder has it) and the run resumed, with or
without ``force_data``. The resume must be refused exactly when an input's bytes changed
(without ``force_data``), the store is another run's, or the manifest is gone; an accepted
resume leaves a manifest and store with one run id, and a forced change is appended to the
manifest's history, never replacing what was there.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import base_config

from autophagy.api import run
from autophagy.core.errors import ConfigError
from autophagy.storage.identity import KEY

CHANGES = ("data", "mtime", "store", "manifest", "legacy", "force")


def _raw(data: Path, seed: int = 0) -> dict:
    raw = {**base_config(), "seed": seed, "replicates": 2, "generations": 2, "block_size": 2}
    raw["data"] = {"kind": "file", "path": str(data), "held_out": 0}
    raw["metrics"] = {"names": ["mean_drift"], "n_eval": 20}
    return raw


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("identity")
    data = root / "data.npy"
    original = np.random.default_rng(0).normal(size=(40, 3))
    np.save(data, original)
    run(_raw(data), root / "a", executor="inline", progress=False, plots=False)
    run(_raw(data, seed=1), root / "b", executor="inline", progress=False, plots=False)
    return {"root": root, "data": data, "original": data.read_bytes()}


def _store_id(folder: Path) -> str | None:
    with sqlite3.connect(folder / "results.sqlite") as db:
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'run_id'").fetchone()
        except sqlite3.OperationalError:
            return None
    return None if row is None else row[0]


def _trial(tmp_path: Path, base: dict, seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng(seed)
    data: Path = base["data"]
    data.write_bytes(base["original"])
    folder = tmp_path / f"t{seed}"
    shutil.copytree(base["root"] / "a", folder)
    changes = tuple(c for c in CHANGES if rng.random() < 0.3)
    manifest_file = folder / "config.json"
    history_before = json.loads(manifest_file.read_text()).get(KEY, {}).get("history", [])
    if "legacy" in changes:  # a folder written before identities: no identity, no meta table
        manifest = json.loads(manifest_file.read_text())
        manifest.pop(KEY)
        manifest_file.write_text(json.dumps(manifest, indent=2))
        with sqlite3.connect(folder / "results.sqlite") as db:
            db.execute("DROP TABLE meta")
    if "data" in changes:
        array = np.load(data)
        if rng.random() < 0.5:
            array[int(rng.integers(len(array))), int(rng.integers(3))] += 1.0  # same size
        else:
            array = np.concatenate([array, array[:2]])
        np.save(data, array)
    if "mtime" in changes:
        stat = data.stat()
        os.utime(data, (stat.st_atime, stat.st_mtime + 1000))
    if "store" in changes:
        for suffix in ("", "-wal", "-shm"):
            (folder / f"results.sqlite{suffix}").unlink(missing_ok=True)
        shutil.copy(base["root"] / "b" / "results.sqlite", folder / "results.sqlite")
    if "manifest" in changes:
        manifest_file.unlink()
    force = "force" in changes
    legacy = "legacy" in changes
    refused_for = None
    if "manifest" in changes:
        refused_for = "no config.json"
    elif "store" in changes and not legacy:
        refused_for = "another run"
    elif "data" in changes and not force and not legacy:
        refused_for = "differs from the file"
    try:
        run(_raw(data), folder, executor="inline", progress=False, plots=False, force_data=force)
    except ConfigError as exc:
        assert refused_for is not None and refused_for in str(exc), (seed, changes, str(exc))
        return changes
    assert refused_for is None, (seed, changes)
    identity = json.loads(manifest_file.read_text())[KEY]
    assert identity["run_id"] == _store_id(folder), (seed, changes)
    assert identity["inputs"][str(data)]["sha256"]
    history = identity.get("history", [])
    assert history[: len(history_before)] == history_before  # appended, never rewritten
    if "data" in changes and force and not legacy:
        assert len(history) == len(history_before) + 1
    return changes


def test_a_resume_with_other_inputs_is_refused(tmp_path, base):
    seen = [_trial(tmp_path, base, seed) for seed in range(25)]
    assert len({c for changes in seen for c in changes}) == len(CHANGES)


@pytest.mark.slow
def test_a_resume_with_other_inputs_is_refused_over_a_thousand_trials(tmp_path, base):
    for seed in range(1000):
        _trial(tmp_path, base, seed)
        shutil.rmtree(tmp_path / f"t{seed}")


def test_the_named_examples(tmp_path, base):
    """Change the data file -> refused; another run's store -> refused; no manifest -> refused."""
    data = base["data"]
    for name, change, message in (
        ("data", lambda f: np.save(data, np.load(data) * 2), "data.path"),
        ("store", lambda f: shutil.copy(base["root"] / "b" / "results.sqlite", f), "run id"),
        ("manifest", lambda f: (f / "config.json").unlink(), "no config.json"),
    ):
        data.write_bytes(base["original"])
        folder = tmp_path / name
        shutil.copytree(base["root"] / "a", folder)
        for suffix in ("-wal", "-shm"):
            (folder / f"results.sqlite{suffix}").unlink(missing_ok=True)
        change(folder)
        with pytest.raises(ConfigError, match=message):
            run(_raw(data), folder, executor="inline", progress=False, plots=False)
    data.write_bytes(base["original"])


def test_negative_control_without_the_check_a_changed_file_is_taken(tmp_path, base, monkeypatch):
    """With the identity check switched off, the changed data is adopted silently: the test can fail."""
    from autophagy.running import runner

    monkeypatch.setattr(runner, "resume_identity", lambda manifest, *a, **k: {"run_id": "x", "inputs": {}})
    data = base["data"]
    folder = tmp_path / "control"
    shutil.copytree(base["root"] / "a", folder)
    np.save(data, np.load(data) * 2)
    try:
        run(_raw(data), folder, executor="inline", progress=False, plots=False)  # no refusal
    finally:
        data.write_bytes(base["original"])


def test_an_empty_store_without_a_manifest_starts_afresh(tmp_path):
    """A zero-byte results.sqlite (what ``sqlite3.connect`` leaves when a reader opens the path
    before the run creates it) holds no run: the run starts instead of being refused, while a
    store that holds rows and no manifest is still refused (its negative control)."""
    import sqlite3

    from conftest import base_config

    from autophagy.api import run
    from autophagy.core.errors import ConfigError

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    sqlite3.connect(fresh / "results.sqlite").close()  # creates an empty file
    done = run(base_config(), fresh, executor="inline", progress=False, plots=False)
    assert done.complete
    (fresh / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"no config\.json"):
        run(base_config(), fresh, executor="inline", progress=False, plots=False)
