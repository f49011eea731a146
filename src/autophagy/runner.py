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

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autophagy.errors import ConfigError
from autophagy.executors import Executor, make_executor
from autophagy.pictures import draw_snapshots
from autophagy.plots import plot_comparison, plot_run
from autophagy.store import Row, RunStore
from autophagy.sweep import Cell, ignored_notes, plan_cells
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
        cells = [
            {
                "values": c.values,
                "ignored": c.ignored,
                "config": c.resolved,
                **({"tags": c.tags} if c.tags else {}),
            }
            for c in self.cells
        ]
        return {"name": self.name, "sweep": self.sweep, "swept": self.swept, "cells": cells}

    @property
    def notes(self) -> list[str]:
        """Lines to show once before running: keys some cells ignore (see :func:`ignored_notes`)."""
        return ignored_notes(self.cells)

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
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{out} exists and is not a folder")
    mine, other = (SWEEP_FILE, CONFIG_FILE) if plan.is_sweep else (CONFIG_FILE, SWEEP_FILE)
    if (out / other).is_file() or (
        (out / mine).is_file() and json.loads((out / mine).read_text()) != plan.manifest
    ):
        raise ConfigError("--out", f"{out} holds a run with a different config; choose another folder")
    if (out / STORE_FILE).is_file():
        RunStore(out / STORE_FILE).close()  # refuses a store it cannot resume
    return plan


def execute(
    plan: RunPlan,
    *,
    executor: Executor | str = "local",
    progress: bool = True,
    plots: bool = True,
    task_seconds: float = TASK_SECONDS,
) -> Path:
    """Run (or resume) every block of every cell, committing each finished task; returns the folder."""
    plan.out.mkdir(parents=True, exist_ok=True)
    manifest_file = plan.out / (SWEEP_FILE if plan.is_sweep else CONFIG_FILE)
    manifest_file.write_text(json.dumps(plan.manifest, indent=2) + "\n")
    with RunStore(plan.out / STORE_FILE) as store:
        todo: list[Task] = []
        total = finished = 0
        for cell in plan.cells:
            generations = cell.config.generations
            for block in plan.blocks(cell):
                saved = store.checkpoint(cell.index, block[0])
                generation, state = saved if saved is not None else (0, None)
                total += generations
                finished += generation
                if generation < generations:
                    todo.append(
                        Task(cell.index, cell.raw_json, block[0], block.stop, generation, state, task_seconds)
                    )
        pool = make_executor(executor, tasks=len(todo)) if isinstance(executor, str) else executor
        try:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("generations"),
                TimeElapsedColumn(),
                disable=not progress,
            ) as bar:
                _drain(pool, store, todo, bar, bar.add_task(plan.name, total=total, completed=finished))
        finally:
            if isinstance(executor, str):
                pool.shutdown()
    if plots:
        plot_folder(plan.out)
    return plan.out


def _drain(pool: Executor, store: RunStore, todo: list[Task], bar: Progress, bar_task: Any) -> None:
    """Keep about two tasks per worker in flight; commit each as it finishes, then continue its block."""
    todo = todo[::-1]  # pop() from the end keeps the planned order
    running: dict[Future, Task] = {}
    while todo or running:
        while todo and len(running) < 2 * pool.workers:
            task = todo.pop()
            running[pool.submit(run_task, task)] = task
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            task = running.pop(future)
            result: TaskResult = future.result()
            store.commit_task(
                result.run, result.first, result.generation, result.state, result.rows, result.snapshots
            )
            bar.advance(bar_task, result.generation - task.generation)
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


@dataclass(frozen=True)
class Folder:
    """A finished or partial run or sweep folder, as the report and exports read it."""

    path: Path
    name: str
    swept: list[str]
    cells: list[dict[str, Any]]  # {"values": {key: value}, "config": resolved, "tags": {key: k}?}
    manifest: dict[str, Any]

    @property
    def is_sweep(self) -> bool:
        return (self.path / SWEEP_FILE).is_file()

    def rows(self) -> list[tuple[int, int, int, str, float]]:
        """Every row as (cell, replicate, generation, metric, value)."""
        with RunStore(self.path / STORE_FILE) as store:
            return store.all_rows()

    def table(self) -> tuple[list[str], list[tuple]]:
        """Columns and rows of the tidy export: one column per swept key, then the row keys.

        A sweep that repeats a value adds the column ``point`` (the cell's position), so rows of
        equal-valued points stay apart."""
        point = any(c.get("tags") for c in self.cells)
        values = [
            [c["values"][k] for k in self.swept] + ([i] if point else []) for i, c in enumerate(self.cells)
        ]
        rows = [(*values[run], r, g, m, v) for run, r, g, m, v in self.rows()]
        return [
            *self.swept,
            *(["point"] if point else []),
            "replicate",
            "generation",
            "metric",
            "value",
        ], rows


def open_folder(path: Path) -> Folder:
    """Read a run or sweep folder; a clear error if it is neither."""
    path = Path(path)
    if not (path / STORE_FILE).is_file():
        raise ConfigError("RUN", f"{path} is not a run or sweep folder (no {STORE_FILE})")
    if (path / SWEEP_FILE).is_file():
        manifest = json.loads((path / SWEEP_FILE).read_text())
        return Folder(path, manifest["name"], manifest["swept"], manifest["cells"], manifest)
    config_file = path / CONFIG_FILE
    manifest = json.loads(config_file.read_text()) if config_file.is_file() else {}
    return Folder(path, manifest.get("name", path.name), [], [{"values": {}, "config": manifest}], manifest)


def cell_label(values: dict[str, Any], skip: tuple[str, ...] = (), tags: dict[str, int] | None = None) -> str:
    """``key=value, ...`` for a cell, leaving out ``skip`` keys; the k-th repeat of a value on
    its axis (``tags``) reads ``key=value #k``."""
    tags = tags or {}
    return ", ".join(
        f"{k}={v}" + (f" #{tags[k]}" if k in tags else "") for k, v in values.items() if k not in skip
    )


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
        label = cell_label(folder.cells[run]["values"], skip=("seed",), tags=folder.cells[run].get("tags"))
        groups.setdefault(label, []).append((run * 1_000_000 + replicate, generation, metric, value))
    return plot_comparison(groups, folder.path / "plots", title=folder.name)


def read_rows(run: Path) -> list[Row]:
    """All stored rows of a run folder; clear error if it is not one."""
    folder = open_folder(run)
    if folder.is_sweep:
        raise ConfigError("RUN", f"{run} is a sweep folder; use `autophagy export` or `autophagy report`")
    with RunStore(folder.path / STORE_FILE) as store:
        return store.rows(0)
