"""Tasks: one sweep cell times one block of replicates, run from its checkpoint.

A task carries where the cell's experiment lies as the parent resolved it (a pickle written
once per cell into the run folder, with its digest: tasks stay small however large the data),
a replicate range and the encoded checkpoint, so any executor can ship it to any worker that
sees the run folder; the worker unpickles the experiment once per process, after importing the
config's plug-ins (so their classes resolve), checks the digest, and never re-reads data or
re-validates the config. It
runs generations until the block is finished or the time budget is spent, and returns the
rows and the new checkpoint. Because every random
draw is keyed by (replicate, generation, role) and a checkpoint round trip is exact, the
numbers do not depend on where, in how many pieces, or after how many restarts a block ran.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autophagy.core.blame import worker_error
from autophagy.core.boundary import check_samples, stop_error, who
from autophagy.core.errors import ConfigError, EnvironmentFault
from autophagy.core.registry import adopt, extend_path
from autophagy.core.rng import streams
from autophagy.loop.checkpoint import decode_state, encode_state
from autophagy.loop.engine import Experiment, LoopState, run_block
from autophagy.running.telemetry import TrainingRecorder, TrainingRow
from autophagy.storage.layout import SHIPMENT_PREFIX
from autophagy.storage.safety import atomic_path
from autophagy.storage.store import Row

if TYPE_CHECKING:
    from autophagy.running.config import RunConfig


@dataclass(frozen=True)
class Shipment:
    """Where a cell's pickled ``(Experiment, RunConfig)`` lies, and the sha256 of its bytes."""

    path: str
    digest: str


def ship(folder: Path, index: int, blob: bytes) -> Shipment:
    """Write cell ``index``'s pickled experiment into the run ``folder`` (through the folder gate,
    atomically) for its workers; :func:`unship` removes it when the run ends."""
    path = Path(folder).absolute() / f"{SHIPMENT_PREFIX}{index}.pickle"  # workers may start elsewhere
    with atomic_path(path, folder) as tmp:
        tmp.write_bytes(blob)
    return Shipment(str(path), hashlib.sha256(blob).hexdigest())


def unship(shipments: Iterable[Shipment]) -> None:
    """Remove the pickled experiments once no task needs them (a resume writes them again)."""
    for shipment in shipments:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(shipment.path)


@dataclass(frozen=True)
class Task:
    """What a worker needs: the cell, its replicates ``[first, stop)`` and where to resume."""

    run: int
    experiment: Shipment  # the cell's (Experiment, RunConfig), pickled once by the parent
    first: int
    stop: int
    generation: int  # the last generation in ``checkpoint`` (0: start from scratch)
    checkpoint: bytes | None
    budget_s: float
    registrations: tuple = ()  # plug-ins registered in the parent's __main__ (see registry.adopt)
    plugin_paths: tuple[str, ...] = ()  # where the parent found the config's plug-in modules


@dataclass(frozen=True)
class TaskResult:
    """Rows of the generations the task ran, and the block's checkpoint after the last one."""

    run: int
    first: int
    generation: int
    done: bool
    state: bytes  # empty once the block is done
    rows: list[Row]
    seconds: float
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)  # generation -> samples (n, d)
    training: list[TrainingRow] = field(default_factory=list)  # the models' telemetry, see running.telemetry


@functools.lru_cache(maxsize=16)
def _experiment(shipment: Shipment) -> tuple[Experiment, RunConfig]:
    """The experiment a task points to, read and unpickled once per process. Its bytes must be
    the ones the parent wrote (sha256): a file changed under a running run is refused."""
    with open(shipment.path, "rb") as handle:
        blob = handle.read()
    if hashlib.sha256(blob).hexdigest() != shipment.digest:
        raise EnvironmentFault(shipment.path, "changed while the run was going; run the command again")
    return pickle.loads(blob)  # only bytes whose sha256 the parent computed in memory are unpickled


def snapshot(exp: Experiment, replicates: range, state: LoopState, n: int) -> np.ndarray:
    """``n`` samples ``(n, d)`` of the first replicate's model just fitted, from their own stream
    and with the evaluation's sampling bias (pictures never change a run's numbers)."""
    rng = streams(exp.seed, replicates, state.generation, "snapshot")
    model = state.models[0]
    drawn = model.sample(n, rng=rng, sampling_bias=exp.bias_at(state.generation))
    return check_samples(drawn, len(replicates), n, exp.data.dim, who(model))[0]


def run_task(task: Task) -> TaskResult:
    """Run one task (in a worker or inline); see the module docstring.

    Errors reach the parent as exceptions that pickle: a :class:`ConfigError` as it is, an
    exception raised in a user plug-in's code as a one-line :class:`PluginError`, anything else
    as a :class:`WorkerError` carrying the worker's traceback (an internal bug).
    """
    extend_path(task.plugin_paths)
    adopt(task.registrations)
    try:
        return _run_task(task)
    except ConfigError:
        raise
    except Exception as exc:
        raise worker_error(exc) from None
    except (SystemExit, KeyboardInterrupt) as exc:  # sys.exit() in a plug-in is its error, not a stop
        converted = stop_error(exc)
        if converted is None:
            raise  # a real Ctrl-C (delivered by a signal) still stops the run
        raise converted from None


def _run_task(task: Task) -> TaskResult:
    start = time.perf_counter()
    exp, config = _experiment(task.experiment)
    replicates = range(task.first, task.stop)
    chosen, n_pictured = config.plots.chosen(exp.data, exp.generations)
    pictured = set(chosen) if task.first == 0 else set()
    snapshots: dict[int, np.ndarray] = {}
    state = None if not task.checkpoint else decode_state(task.checkpoint, exp.model)
    rows: list[Row] = []
    generation = task.generation
    size = config.block_size
    where = f"block {task.first // size + 1}/{-(-config.replicates // size)}"
    recorder = TrainingRecorder(replicates, where, exp.generations, str(config.model.get("kind")))
    for new_state, metrics in run_block(exp, replicates, state, recorder.for_generation):
        state, generation = new_state, new_state.generation
        rows += [
            (r, generation, name, float(values[i]))
            for name, values in metrics.items()
            for i, r in enumerate(replicates)
        ]
        if generation in pictured:
            snapshots[generation] = snapshot(exp, replicates, state, n_pictured)
        if time.perf_counter() - start >= task.budget_s:
            break
    done = generation >= exp.generations
    blob = b"" if done or state is None else encode_state(state)
    seconds = time.perf_counter() - start
    training = [row for row in recorder.rows if row[1] <= generation]
    return TaskResult(task.run, task.first, generation, done, blob, rows, seconds, snapshots, training)
