"""Run and sweep folders: validate, write the manifest, schedule tasks, store, resume, plot.

A run folder holds ``config.json`` (the resolved config); a sweep folder holds
``sweep.json`` (the sweep table, the swept keys and every cell's values and resolved
config). Both hold ``results.sqlite`` (one store for all cells) and ``plots/``. Work is
split into tasks (a cell times a block of replicates, see :mod:`autophagy.tasks`) that an
executor runs; the parent commits each finished task in one transaction and submits the
block's next piece. Starting again on a folder with the same manifest resumes every block
from its last committed generation.
"""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from autophagy.budget import check_budget
from autophagy.errors import ConfigError, EnvironmentFault, Interrupted
from autophagy.executors import Executor, make_executor
from autophagy.pictures import draw_snapshots
from autophagy.plots import plot_comparison, plot_run
from autophagy.safety import FolderLock, atomic_write_text, check_output_folder
from autophagy.signals import GracefulStop
from autophagy.store import Row, RunStore
from autophagy.sweep import Cell, plan_cells
from autophagy.tasks import Task, TaskResult, run_task

CONFIG_FILE = "config.json"
SWEEP_FILE = "sweep.json"
STORE_FILE = "results.sqlite"
TASK_SECONDS = 2.0  # a task returns after this long; its block continues in a new task


@dataclass(frozen=True)
class RunPlan:
    """A validated run or sweep, ready to execute into ``out``."""

    name: str
    swept: list[str]
    cells: list[Cell]
    out: Path
    sweep: dict[str, Any] | None = None

    @property
    def is_sweep(self) -> bool:
        return self.sweep is not None

    @property
    def manifest(self) -> dict[str, Any]:
        """What the folder records: the resolved config of a run, or the whole sweep."""
        if not self.is_sweep:
            return self.cells[0].resolved
        cells = [{"values": c.values, "ignored": c.ignored, "config": c.resolved} for c in self.cells]
        return {"name": self.name, "sweep": self.sweep, "swept": self.swept, "cells": cells}

    @property
    def task_count(self) -> int:
        """Blocks over all cells (computed, not listed: sizes are checked before blocks exist)."""
        return sum(-(-c.config.replicates // c.config.block_size) for c in self.cells)

    def blocks(self, cell: Cell) -> list[range]:
        """Replicates of a cell grouped into blocks that share the leading array axis."""
        n, size = cell.config.replicates, cell.config.block_size
        return [range(start, min(start + size, n)) for start in range(0, n, size)]


def plan_run(raw: dict[str, Any], out: Path | None = None) -> RunPlan:
    """Validate a raw config (with or without ``[sweep]``) and its output folder; writes nothing."""
    swept, cells = plan_cells(raw)
    name = cells[0].config.name
    out = Path(out) if out is not None else Path("runs") / name
    sweep = raw.get("sweep")
    plan = RunPlan(name, swept, cells, out, json.loads(json.dumps(sweep)) if sweep is not None else None)
    check_output_folder(out)
    _check_folder(plan)
    return plan


def _check_folder(plan: RunPlan) -> None:
    """Refuse a folder that holds another config or a store that cannot be resumed."""
    out = plan.out
    mine, other = (SWEEP_FILE, CONFIG_FILE) if plan.is_sweep else (CONFIG_FILE, SWEEP_FILE)
    if (out / other).is_file() or ((out / mine).is_file() and _read_json(out / mine) != plan.manifest):
        raise ConfigError("--out", f"{out} holds a run with a different config; choose another folder")
    if (out / STORE_FILE).is_file():
        RunStore(out / STORE_FILE).close()  # refuses a store it cannot resume


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvironmentFault(
            str(path), f"cannot be read ({type(exc).__name__}); it is damaged: move the folder away"
        ) from None


def execute(
    plan: RunPlan,
    *,
    executor: Executor | str = "local",
    progress: bool = True,
    plots: bool = True,
    task_seconds: float = TASK_SECONDS,
) -> Path:
    """Run (or resume) every block of every cell, committing each finished task; returns the folder.

    Sizes are checked first (:mod:`autophagy.budget`); the folder is locked for the whole run
    (:class:`~autophagy.safety.FolderLock`) and its manifest written atomically. SIGINT or
    SIGTERM stops after the tasks in flight are committed, raising
    :class:`~autophagy.errors.Interrupted` (see :mod:`autophagy.signals`).
    """
    pool = make_executor(executor, tasks=plan.task_count) if isinstance(executor, str) else executor
    try:
        check_budget(plan.cells, plan.out, pool.workers)
        plan.out.mkdir(parents=True, exist_ok=True)
        with FolderLock(plan.out), GracefulStop() as stop:
            _check_folder(plan)  # again under the lock: another process may have written meanwhile
            manifest_file = plan.out / (SWEEP_FILE if plan.is_sweep else CONFIG_FILE)
            text = json.dumps(plan.manifest, indent=2) + "\n"
            if not manifest_file.is_file() or manifest_file.read_text(encoding="utf-8") != text:
                atomic_write_text(manifest_file, text)
            done, total = _execute(plan, pool, progress, task_seconds, stop)
            if stop.requested:
                raise Interrupted(
                    str(plan.out),
                    f"stopped by {stop.name}; {done:,} of {total:,} replicate-generations are saved",
                )
            if plots:
                plot_folder(plan.out)
    finally:
        if isinstance(executor, str):
            pool.shutdown()
    return plan.out


def _execute(
    plan: RunPlan, pool: Executor, progress: bool, task_seconds: float, stop: GracefulStop
) -> tuple[int, int]:
    """Run the blocks not yet finished; returns (done, planned) replicate x generation units."""
    with RunStore(plan.out / STORE_FILE) as store:
        todo: list[Task] = []
        total = finished = 0
        for cell in plan.cells:
            generations = cell.config.generations
            for block in plan.blocks(cell):
                saved = store.checkpoint(cell.index, block[0])
                generation, state = saved if saved is not None else (0, None)
                total += generations * len(block)
                finished += generation * len(block)
                if generation < generations:
                    todo.append(
                        Task(cell.index, cell.raw_json, block[0], block.stop, generation, state, task_seconds)
                    )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("replicate-generations"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            disable=not progress,
        ) as bar:
            bar_task = bar.add_task(escape(plan.name), total=total, completed=finished)
            finished += _drain(pool, store, todo, bar, bar_task, stop)
    return finished, total


def _drain(
    pool: Executor,
    store: RunStore,
    todo: list[Task],
    bar: Progress,
    bar_task: Any,
    stop: GracefulStop | None = None,
) -> int:
    """Keep about two tasks per worker in flight; commit each as it finishes, then continue its
    block. After a stop request nothing new is submitted and the tasks in flight are committed.
    Returns the replicate x generation units committed."""
    todo = todo[::-1]  # pop() from the end keeps the planned order
    running: dict[Future, Task] = {}
    committed = 0
    while (todo and not (stop and stop.requested)) or running:
        while todo and len(running) < 2 * pool.workers and not (stop and stop.requested):
            task = todo.pop()
            running[pool.submit(run_task, task)] = task
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            task = running.pop(future)
            try:
                result: TaskResult = future.result()
            except Exception:
                if stop is not None and stop.requested:
                    continue  # a worker stopped by the same signal: its block resumes next time
                raise
            store.commit_task(
                result.run, result.first, result.generation, result.state, result.rows, result.snapshots
            )
            units = (result.generation - task.generation) * (task.stop - task.first)
            committed += units
            bar.advance(bar_task, units)
            if not result.done:
                todo.append(
                    Task(
                        task.run,
                        task.config_json,
                        task.first,
                        task.stop,
                        result.generation,
                        result.state,
                        task.budget_s,
                    )
                )
    return committed


@dataclass(frozen=True)
class Folder:
    """A finished or partial run or sweep folder, as the report and exports read it."""

    path: Path
    name: str
    swept: list[str]
    cells: list[dict[str, Any]]  # {"values": {key: value}, "config": resolved}
    manifest: dict[str, Any]

    @property
    def is_sweep(self) -> bool:
        return (self.path / SWEEP_FILE).is_file()

    def rows(self) -> list[tuple[int, int, int, str, float]]:
        """Every row as (cell, replicate, generation, metric, value)."""
        with RunStore(self.path / STORE_FILE) as store:
            rows = store.all_rows()
        for run, *_ in rows[:1] + rows[-1:]:  # sorted by cell: the first and last bound them
            if not 0 <= run < len(self.cells):
                raise EnvironmentFault(
                    str(self.path), f"results hold rows of cell {run}, which is not planned"
                )
        return rows

    def table(self) -> tuple[list[str], list[tuple]]:
        """Columns and rows of the tidy export: one column per swept key, then the row keys."""
        values = [[c["values"][k] for k in self.swept] for c in self.cells]
        rows = [(*values[run], r, g, m, v) for run, r, g, m, v in self.rows()]
        return [*self.swept, "replicate", "generation", "metric", "value"], rows


def open_folder(path: Path) -> Folder:
    """Read a run or sweep folder; a clear error if it is neither."""
    path = Path(path)
    if not (path / STORE_FILE).is_file():
        raise ConfigError("RUN", f"{path} is not a run or sweep folder (no {STORE_FILE})")
    if (path / SWEEP_FILE).is_file():
        manifest = _read_json(path / SWEEP_FILE)
        try:
            return Folder(path, manifest["name"], manifest["swept"], manifest["cells"], manifest)
        except (TypeError, KeyError):
            raise EnvironmentFault(str(path / SWEEP_FILE), "is not a sweep manifest") from None
    config_file = path / CONFIG_FILE
    manifest = _read_json(config_file) if config_file.is_file() else {}
    if not isinstance(manifest, dict) or not isinstance(manifest.get("name", ""), str):
        raise EnvironmentFault(str(config_file), "is not a run manifest")
    return Folder(path, manifest.get("name", path.name), [], [{"values": {}, "config": manifest}], manifest)


def cell_label(values: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    """``key=value, ...`` for a cell, leaving out ``skip`` keys."""
    return ", ".join(f"{k}={v}" for k, v in values.items() if k not in skip)


def plot_folder(path: Path) -> list[Path]:
    """Metric-versus-generation PNGs in ``plots/`` (one band a run, or one line a cell, seeds
    pooled), and a run's pictures of its sample snapshots."""
    folder = open_folder(path)
    if not folder.is_sweep:
        with RunStore(folder.path / STORE_FILE) as store:
            rows, snapshots = store.rows(0), store.snapshots(0)
        paths = plot_run(rows, folder.path / "plots", title=folder.name)
        if snapshots:
            paths += draw_snapshots(folder.manifest, snapshots, folder.path / "plots")
        return paths
    groups: dict[str, list[Row]] = {}
    for run, replicate, generation, metric, value in folder.rows():
        label = cell_label(folder.cells[run]["values"], skip=("seed",))
        groups.setdefault(label, []).append((run * 1_000_000 + replicate, generation, metric, value))
    return plot_comparison(groups, folder.path / "plots", title=folder.name)


def read_rows(run: Path) -> list[Row]:
    """All stored rows of a run folder; clear error if it is not one."""
    folder = open_folder(run)
    if folder.is_sweep:
        raise ConfigError("RUN", f"{run} is a sweep folder; use `autophagy export` or `autophagy report`")
    with RunStore(folder.path / STORE_FILE) as store:
        return store.rows(0)
