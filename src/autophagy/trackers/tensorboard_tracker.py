"""TensorBoard event files: one folder per cell under ``logdir`` (default ``tensorboard/`` in
the run folder), a scalar per metric mean, interval bound and training summary, with the
generation as the step. Written with TensorBoard's own event writer (no PyTorch needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from autophagy.core.registry import Options, register_logger
from autophagy.core.telemetry import TrackedRun


class TensorBoardOptions(Options):
    """``[tracking.tensorboard]``: ``logdir`` (default: ``tensorboard/`` in the run folder)."""

    logdir: str | None = None


def cell_folder(run: TrackedRun, index: int) -> str:
    """The sub-folder of cell ``index``: ``run`` for a single run, else ``cell-003_key=value...``."""
    if not run.is_sweep:
        return "run"
    label = re.sub(r"[^A-Za-z0-9_.=-]+", "_", run.cells[index].label)[:80]
    return f"cell-{index:03d}_{label}"


class TensorBoardTracker:
    """See the module docstring."""

    def __init__(self, options: TensorBoardOptions) -> None:
        self.options = options
        self.writers: dict[int, Any] = {}
        self.run: TrackedRun | None = None
        self.root = Path()

    def start(self, run: TrackedRun, state: dict[str, Any]) -> dict[str, Any]:
        import tensorboard.summary.writer.event_file_writer  # noqa: F401  (fails early if missing)

        self.run = run
        self.root = Path(self.options.logdir) if self.options.logdir else Path(run.folder) / "tensorboard"
        return {"logdir": str(self.root)}

    def _writer(self, cell: int) -> Any:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        if cell not in self.writers:
            assert self.run is not None
            folder = self.root / cell_folder(self.run, cell)
            folder.mkdir(parents=True, exist_ok=True)
            self.writers[cell] = EventFileWriter(str(folder))
        return self.writers[cell]

    def log(self, cell: int, generation: int, values: dict[str, float], timestamp_ms: int) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()])
        writer = self._writer(cell)
        writer.add_event(Event(wall_time=timestamp_ms / 1000, step=generation, summary=summary))
        writer.flush()

    def artifacts(self, paths: list[Path], cell: int | None = None) -> None:
        pass  # TensorBoard shows scalars; the plots and report stay in the run folder

    def close(self, complete: bool) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


register_logger(
    "tensorboard",
    options=TensorBoardOptions,
    build=TensorBoardTracker,
    summary="TensorBoard event files, one folder per cell, the generation as the step",
    requires=("tensorboard",),
    extra="tensorboard",
)
