"""MLflow: one run per cell; a sweep is a parent run with one child run per cell.

Params are the cell's resolved config (dotted keys; lists as JSON) and, on the parent, the
swept keys; each (cell, generation) is one step of the metric means and their t-interval
bounds (``metric/low``, ``metric/high``) and of the training summary; the plots and the report
are the run's (or the parent's) artifacts. The server is ``tracking_uri`` (default: the
``MLFLOW_TRACKING_URI`` variable, else a SQLite file ``mlflow.db`` in the run folder, with
artifacts in ``mlartifacts/`` beside it). Run ids are kept in the run store, so a resumed run
logs into the same MLflow runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from autophagy.core.registry import Options, register_logger
from autophagy.core.telemetry import TrackedRun

PARAM_LENGTH = 6000  # MLflow's longest param value


class MLflowOptions(Options):
    """``[tracking.mlflow]``: the server (``tracking_uri``) and experiment name (default: the
    run or sweep name)."""

    tracking_uri: str | None = None
    experiment: str | None = None


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= PARAM_LENGTH else text[: PARAM_LENGTH - 3] + "..."


class MLflowTracker:
    """See the module docstring."""

    def __init__(self, options: MLflowOptions) -> None:
        self.options = options
        self.client: Any = None
        self.runs: dict[int, str] = {}
        self.parent: str | None = None

    def start(self, run: TrackedRun, state: dict[str, Any]) -> dict[str, Any]:
        from mlflow.tracking import MlflowClient

        local = not (self.options.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"))
        uri = self.options.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        uri = uri or f"sqlite:///{Path(run.folder).resolve() / 'mlflow.db'}"
        self.client = client = MlflowClient(tracking_uri=uri)
        name = self.options.experiment or run.name
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            where = (Path(run.folder).resolve() / "mlartifacts").as_uri() if local else None
            experiment_id = client.create_experiment(name, artifact_location=where)
        else:
            experiment_id = experiment.experiment_id
        if state.get("uri") == uri and state.get("experiment") == experiment_id and self._reopen(state):
            return state
        tags = {"autophagy.run_id": run.run_id, "autophagy.folder": str(run.folder)}
        if run.is_sweep:
            self.parent = client.create_run(experiment_id, run_name=run.name, tags=tags).info.run_id
            self._params(self.parent, {"swept": run.swept, "cells": len(run.cells)})
        for cell in run.cells:
            cell_tags = {**tags, **{f"swept.{k}": _param(v) for k, v in cell.values.items()}}
            if self.parent is not None:
                cell_tags["mlflow.parentRunId"] = self.parent
            made = client.create_run(experiment_id, run_name=cell.label, tags=cell_tags)
            self.runs[cell.index] = made.info.run_id
            self._params(made.info.run_id, cell.params)
        return {
            "uri": uri,
            "experiment": experiment_id,
            "parent": self.parent,
            "runs": {str(k): v for k, v in self.runs.items()},
        }

    def _reopen(self, state: dict[str, Any]) -> bool:
        """Reuse the runs a previous start created (False if the server lost them)."""
        try:
            ids = {int(k): v for k, v in state["runs"].items()}
            for run_id in [*ids.values(), *([state["parent"]] if state.get("parent") else [])]:
                self.client.get_run(run_id)
                self.client.update_run(run_id, status="RUNNING")
        except Exception:  # a new server or a deleted run: start new runs
            return False
        self.runs, self.parent = ids, state.get("parent")
        return True

    def _params(self, run_id: str, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k)[:250], _param(v)) for k, v in params.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[start : start + 100])

    def log(self, cell: int, generation: int, values: dict[str, float], timestamp_ms: int) -> None:
        from mlflow.entities import Metric

        metrics = [Metric(k, float(v), timestamp_ms, generation) for k, v in values.items()]
        for start in range(0, len(metrics), 1000):
            self.client.log_batch(self.runs[cell], metrics=metrics[start : start + 1000])

    def artifacts(self, paths: list[Path], cell: int | None = None) -> None:
        run_id = self.runs[cell] if cell is not None else self.parent or self.runs[min(self.runs)]
        for path in paths:
            self.client.log_artifact(run_id, str(path), "plots" if Path(path).suffix == ".png" else None)

    def close(self, complete: bool) -> None:
        if self.client is None:
            return
        status = "FINISHED" if complete else "KILLED"
        for run_id in [*self.runs.values(), *([self.parent] if self.parent else [])]:
            self.client.set_terminated(run_id, status)
        self.client = None


register_logger(
    "mlflow",
    options=MLflowOptions,
    build=MLflowTracker,
    summary="MLflow runs (a sweep: parent run, child run per cell); metrics per generation, plots and report",
    requires=("mlflow",),
    extra="mlflow",
)
