"""Weights & Biases, offline by default: one W&B run per cell, a sweep is a W&B group (plus
one run of the group holding the plots and the report). ``mode = "offline"`` (the default)
writes ``wandb/offline-run-*`` folders under ``dir`` (default: the run folder) and never
touches the network; ``wandb sync DIR/wandb/offline-run-*`` uploads them later. Run ids are
kept in the run store, so a resumed run continues the same W&B runs (a new offline folder per
resume, merged by ``wandb sync``); steps already sent are never sent again."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Literal

from autophagy.core.registry import Options, register_logger
from autophagy.core.telemetry import TrackedRun


class WandbOptions(Options):
    """``[tracking.wandb]``: project, entity, folder and mode (``offline`` unless ``online``)."""

    project: str = "autophagy"
    entity: str | None = None
    dir: str | None = None
    mode: Literal["offline", "online"] = "offline"


class WandbTracker:
    """See the module docstring."""

    def __init__(self, options: WandbOptions) -> None:
        self.options = options
        self.run: TrackedRun | None = None
        self.ids: dict[str, str] = {}
        self.open: dict[int, Any] = {}

    def start(self, run: TrackedRun, state: dict[str, Any]) -> dict[str, Any]:
        import wandb  # noqa: F401  (fails early if missing)

        self.run = run
        self.ids = dict(state.get("ids", {}))
        for key in [str(c.index) for c in run.cells] + (["sweep"] if run.is_sweep else []):
            self.ids.setdefault(key, uuid.uuid4().hex[:12])  # W&B run ids: letters and digits
        return {"ids": self.ids}

    def _init(self, key: str, name: str, config: dict[str, Any], job: str | None = None) -> Any:
        import wandb

        assert self.run is not None
        if self.options.mode == "offline":
            os.environ["WANDB_MODE"] = "offline"
        folder = Path(self.options.dir) if self.options.dir else Path(self.run.folder)
        folder.mkdir(parents=True, exist_ok=True)
        return wandb.init(
            project=self.options.project,
            entity=self.options.entity,
            dir=str(folder),
            id=self.ids[key],
            name=name,
            group=self.run.name if self.run.is_sweep else None,
            job_type=job,
            config=config,
            mode=self.options.mode,
            resume="allow",
            reinit="create_new",
            settings=wandb.Settings(silent=True, console="off", save_code=False),
        )

    def log(self, cell: int, generation: int, values: dict[str, float], timestamp_ms: int) -> None:
        assert self.run is not None
        if cell not in self.open:
            entry = self.run.cells[cell]
            self.open[cell] = self._init(str(cell), entry.label, entry.params)
        self.open[cell].log(dict(values), step=generation)
        if generation >= self.run.cells[cell].generations:  # the cell is done: free its run
            self.open.pop(cell).finish(exit_code=0)

    def artifacts(self, paths: list[Path], cell: int | None = None) -> None:
        assert self.run is not None
        if self.run.is_sweep:
            target = self._init("sweep", f"{self.run.name} (sweep)", {"swept": self.run.swept}, "sweep")
        else:
            target = self.open.get(0) or self._init("0", self.run.cells[0].label, self.run.cells[0].params)
        for path in paths:
            target.save(str(path), base_path=str(Path(path).parent), policy="now")
        target.finish(exit_code=0)
        self.open = {k: v for k, v in self.open.items() if v is not target}

    def close(self, complete: bool) -> None:
        for run in self.open.values():
            run.finish(exit_code=0 if complete else 1)
        self.open.clear()


register_logger(
    "wandb",
    options=WandbOptions,
    build=WandbTracker,
    summary="Weights & Biases runs (offline by default; a sweep is a group), synced later with wandb sync",
    requires=("wandb",),
    extra="wandb",
)
