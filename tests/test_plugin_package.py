"""The worked plug-in package ``examples/plugins/sklearn_gmm``: path-loaded it passes the
model contract, and found through its entry point it needs no ``--plugin``."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from autophagy.core.registry import MODELS
from autophagy.testing import check_model

PACKAGE = Path(__file__).resolve().parents[1] / "examples" / "plugins" / "sklearn_gmm"

pytest.importorskip("sklearn")


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PACKAGE))
    yield PACKAGE
    MODELS.pop("sklearn_gmm", None)
    sys.modules.pop("autophagy_sklearn_gmm", None)


def test_path_loaded_package_passes_the_contract(on_path):
    report = check_model("sklearn_gmm", plugins=["autophagy_sklearn_gmm"])
    assert report.passed, str(report)
    assert MODELS["sklearn_gmm"].provider == "autophagy_sklearn_gmm"
    assert MODELS["sklearn_gmm"].has_moments and MODELS["sklearn_gmm"].has_log_prob


def test_entry_point_makes_the_model_available_without_plugin(tmp_path):
    """An installed-looking distribution (dist-info with the package's declared entry points)."""
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    info = tmp_path / "autophagy_sklearn_gmm-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: 0.1.0\n")
    lines = [f"{name} = {value}" for name, value in project["entry-points"]["autophagy.models"].items()]
    (info / "entry_points.txt").write_text("[autophagy.models]\n" + "\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PACKAGE), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "autophagy", "check-model", "sklearn_gmm"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "13 passed, 0 failed"


@pytest.mark.slow
def test_the_package_own_test_suite_passes():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE), *sys.path])},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
