"""Sample panels: chosen generations' samples of the first replicate kept in the store with their
task, reproducible, independent of blocks and task splitting, drawn."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.results.run import open_run
from autophagy.running.runner import execute, plan_run
from autophagy.storage.layout import STORE_FILE
from autophagy.storage.store import RunStore


def _config(**changes) -> dict:
    raw = {
        "name": "panels",
        "seed": 3,
        "replicates": 3,
        "generations": 4,
        "block_size": 3,
        "data": {"kind": "ring"},
        "model": {"kind": "gmm", "components": 8},
        "loop": {"family": "fully_synthetic", "n_ini": 200, "n_synthetic": 200},
        "metrics": {"names": ["modes_covered"], "n_eval": 100},
        "plots": {"generations": [1, 4], "n_samples": 300},
    }
    return raw | changes


def _snapshots(folder) -> dict[int, np.ndarray]:
    with RunStore(folder / STORE_FILE) as store:
        return store.snapshots(0)


def test_panels_are_kept_reproducible_and_drawn(tmp_path):
    first = execute(plan_run(_config(), tmp_path / "a"), executor="inline", progress=False)
    # other blocks, and every generation its own task: the same samples
    again = execute(
        plan_run(_config(block_size=2), tmp_path / "b"), executor="inline", progress=False, task_seconds=0
    )
    assert (first / "plots" / "samples.png").is_file()
    kept, other = _snapshots(first), _snapshots(again)
    assert sorted(kept) == [1, 4] and kept[4].shape == (300, 2)
    for generation in (1, 4):
        np.testing.assert_array_equal(kept[generation], other[generation])
    (first / "plots" / "samples.png").unlink()
    assert first / "plots" / "samples.png" in open_run(first).write_plots()


def test_panels_outside_the_run_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"plots\.generations: 9 is beyond generations = 4"):
        plan_run(_config(plots={"generations": [1, 9]}), tmp_path / "c")
