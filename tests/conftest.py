"""Shared fixtures and test-only plug-ins."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autophagy.data import GaussianData
from autophagy.models import GaussianModel


def base_config(**loop) -> dict:
    """A small valid raw config; ``loop`` entries override the [loop] table (None deletes a key)."""
    table = {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20, "sampling_bias": 0.9, **loop}
    return {
        "name": "test",
        "seed": 0,
        "replicates": 6,
        "generations": 4,
        "block_size": 4,
        "data": {"kind": "gaussian", "dim": 3},
        "model": {"kind": "gaussian"},
        "loop": {k: v for k, v in table.items() if v is not None},
        "metrics": {
            "names": ["wasserstein2", "trace_cov", "mean_drift", "precision", "recall"],
            "n_eval": 50,
        },
    }


@dataclass
class RecordingModel:
    """A Gaussian model that records every fit's training data and ``init`` (test spy)."""

    inner: GaussianModel = field(default_factory=GaussianModel)
    fits: list = field(default_factory=list)
    min_samples: int = 2

    def fit(self, data, *, rng, init=None):
        self.fits.append((data.copy(), init))
        return self.inner.fit(data, rng=rng, init=init)

    def load(self, state):
        return self.inner.load(state)


@pytest.fixture
def gaussian3() -> GaussianData:
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
    return GaussianData(np.array([1.0, -1.0, 0.5]), cov)


@pytest.fixture(scope="session")
def digits_images(tmp_path_factory):
    """scikit-learn's digits as an image source whose LeNet is cached in a session folder."""
    from autophagy.data import DATA

    cache = tmp_path_factory.mktemp("lenet-cache")
    entry = DATA["digits"]
    return entry.build(entry.options.model_validate({"classifier": {"cache_dir": str(cache)}}))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks train faster on one thread, and much faster on a busy machine."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def committed_generations(store: Path) -> int:
    """Generations committed so far in a run folder's store, summed over blocks (0 while the
    store is not readable yet)."""
    try:
        with sqlite3.connect(store, timeout=1) as conn:
            return conn.execute("SELECT COALESCE(SUM(generation), 0) FROM checkpoints").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_after(proc: subprocess.Popen, store: Path, generations: int, timeout: float = 120) -> None:
    """SIGKILL ``proc`` once ``generations`` are committed in ``store``; fail if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if committed_generations(store) >= generations:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
