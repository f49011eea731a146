"""A worker gets the experiment the parent resolved: pickled once per cell into the run folder,
checked by digest, never rebuilt from the config; tasks stay small however large the data."""

from __future__ import annotations

import pickle

import pytest
from conftest import base_config

from autophagy.api import run
from autophagy.core.errors import EnvironmentFault
from autophagy.running import tasks
from autophagy.running.sweep import plan_cells
from autophagy.running.tasks import Task, run_task, ship
from autophagy.storage.layout import SHIPMENT_PREFIX


def _cell():
    _, (cell,) = plan_cells({**base_config(), "replicates": 2, "generations": 2, "block_size": 2})
    return cell


def test_a_task_runs_the_shipped_experiment_and_stays_small(tmp_path):
    cell = _cell()
    shipment = ship(tmp_path, cell.index, cell.shipped)
    task = Task(cell.index, shipment, 0, 2, 0, None, 60.0)
    assert len(pickle.dumps(task)) < 1_000  # a path and a digest, not the data
    result = run_task(task)
    assert result.done and {g for _, g, _, _ in result.rows} == {1, 2}


def test_a_shipment_changed_under_a_run_is_refused(tmp_path):
    cell = _cell()
    shipment = ship(tmp_path, cell.index, cell.shipped)
    with open(shipment.path, "ab") as handle:
        handle.write(b"\0")  # the same file, other bytes
    tasks._experiment.cache_clear()
    with pytest.raises(EnvironmentFault, match="changed while the run was going"):
        run_task(Task(cell.index, shipment, 0, 2, 0, None, 60.0))


def test_a_finished_run_leaves_no_shipment(tmp_path):
    out = tmp_path / "run"
    run(
        {**base_config(), "replicates": 2, "generations": 2, "block_size": 1},
        out,
        progress=False,
        plots=False,
    )
    assert not list(out.glob(f"{SHIPMENT_PREFIX}*"))
