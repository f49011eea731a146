"""Plan and execute runs and sweeps: validate, write the manifest, schedule tasks, resume.

Work is split into tasks (a cell times a block of replicates, see :mod:`autophagy.running.tasks`)
that an executor runs; the parent commits each finished task in one transaction and submits
the block's next piece. Starting again on a folder with the same manifest resumes every
block from its last committed generation. Reading a folder is :mod:`autophagy.results.run`'s job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
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

from autophagy.core.errors import ConfigError, Interrupted
from autophagy.core.registry import plugin_roots, unimportable_entries, user_modules
from autophagy.results.run import open_run
from autophagy.running.budget import check_budget
from autophagy.running.config import split_tracking
from autophagy.running.devices import check_devices, gpus_per_task
from autophagy.running.executors import Executor, InlineExecutor, make_executor
from autophagy.running.signals import GracefulStop, deadline
from autophagy.running.sweep import Cell, ignored_notes, plan_cells
from autophagy.running.tasks import Shipment, Task, TaskResult, run_task, ship, unship
from autophagy.running.telemetry import ProgressLines, live_sink
from autophagy.running.tracking import TrackingSession
from autophagy.storage.identity import KEY, resume_identity, strip
from autophagy.storage.layout import CONFIG_FILE, STORE_FILE, SWEEP_FILE, read_manifest
from autophagy.storage.safety import FolderLock, atomic_write_text, check_output_folder, make_folder
from autophagy.storage.store import RunStore, holds_results

TASK_SECONDS = 2.0  # a task returns after this long; its block continues in a new task


@dataclass(frozen=True)
class RunPlan:
    """A validated run or sweep, ready to execute into ``out``."""

    name: str
    swept: list[str]
    cells: list[Cell]
    out: Path
    sweep: dict[str, Any] | None = None
    tracking: tuple = ()  # (name, logger entry, options) of each tracker (running.tracking); not identity

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
    def task_count(self) -> int:
        """Blocks over all cells (computed, not listed: sizes are checked before blocks exist)."""
        return sum(-(-c.config.replicates // c.config.block_size) for c in self.cells)

    @property
    def notes(self) -> list[str]:
        """Lines to show once before running: keys some cells ignore (see :func:`ignored_notes`)."""
        return ignored_notes(self.cells)

    def blocks(self, cell: Cell) -> list[range]:
        """Replicates of a cell grouped into blocks that share the leading array axis."""
        n, size = cell.config.replicates, cell.config.block_size
        return [range(start, min(start + size, n)) for start in range(0, n, size)]


def plan_run(raw: dict[str, Any], out: Path | None = None) -> RunPlan:
    """Validate a raw config (with or without ``[sweep]``) and its output folder; writes nothing.

    A folder written before file data kept rows out (its ``data`` table has no ``held_out``)
    resumes as it was written: its config gets ``held_out = 0`` unless the config sets one.
    """
    raw, loggers = split_tracking(raw)  # trackers are not part of the run's identity
    plan = _plan(raw, out)
    stored = read_manifest(plan.out)
    if stored is not None and _legacy_file_data(stored[1]) and "held_out" not in raw.get("data", {}):
        raw = {**raw, "data": {**raw["data"], "held_out": 0}}
        plan = _plan(raw, out)
    _check_folder(plan, stored)
    return replace(plan, tracking=tuple(loggers))


def _check_folder(plan: RunPlan, stored: tuple[str, dict[str, Any]] | None) -> str | None:
    """Refuse a folder that holds another config, a store without a manifest or a store that
    cannot be resumed; returns the run id the store holds (None if none)."""
    if stored is not None and not _same_run(stored, plan):
        raise ConfigError(
            "--out",
            f"{plan.out} holds a run with a different config ({_difference(stored, plan)}); "
            "choose another folder, or run the folder's own config",
        )
    if not (plan.out / STORE_FILE).is_file():
        return None
    if stored is None and holds_results(plan.out / STORE_FILE):
        resume_identity(plan.manifest, None, None, True, where=f"--out {plan.out}")  # refuses
    with RunStore(plan.out / STORE_FILE) as store:  # refuses a store it cannot resume
        return store.meta("run_id")


def _plan(raw: dict[str, Any], out: Path | None) -> RunPlan:
    swept, cells = plan_cells(raw)
    name = cells[0].config.name
    out = Path(out) if out is not None else Path("runs") / name
    sweep = raw.get("sweep")
    plan = RunPlan(name, swept, cells, out, json.loads(json.dumps(sweep)) if sweep is not None else None)
    check_output_folder(out)
    return plan


def _data_tables(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [c.get("data", {}) for c in _configs(manifest)]


LEGACY_DEFAULTS = (  # keys added since folders were first written, with the value that reproduces
    # the behaviour of a folder written without them: (section, kind or None, key, value)
    ("", None, "plugins", []),
    ("loop", None, "retention", "all"),
    ("model", "gaussian", "estimator", "unbiased"),
    ("data", "file", "held_out", 0),
    ("data", "file", "split_seed", 0),
    ("model", "flow", "device", "auto"),
    ("model", "transformer", "device", "auto"),
    ("model", "gaussian", "backend", "numpy"),
    ("model", "gaussian", "device", "auto"),
    ("data", "digits", "classifier.device", "auto"),  # a dotted key: inside a nested table
    ("data", "mnist", "classifier.device", "auto"),
)


def _configs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [c["config"] for c in manifest["cells"]] if "cells" in manifest else [manifest]


def _fill_legacy(manifest: dict[str, Any]) -> None:
    """Give an older folder's configs, in place, the keys added since (see LEGACY_DEFAULTS)."""
    for config in _configs(manifest):
        for section, kind, key, value in LEGACY_DEFAULTS:
            table = config if not section else config.get(section)
            if isinstance(table, dict) and (kind is None or table.get("kind") == kind):
                *outer, last = key.split(".")
                for part in outer:
                    table = table.get(part) if isinstance(table, dict) else None
                if isinstance(table, dict):
                    table.setdefault(last, json.loads(json.dumps(value)))


def _legacy_file_data(manifest: dict[str, Any]) -> bool:
    return any(d.get("kind") == "file" and "held_out" not in d for d in _data_tables(manifest))


def first_difference(old: Any, new: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first dotted key (``cells[2].config.loop.sampling_bias``) at which two JSON values
    differ, with the old and new values (a missing key reads ``<unset>``); None if equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                return where, old.get(key, "<unset>"), new.get(key, "<unset>")
            found = first_difference(old[key], new[key], where)
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if old == new else (path or "config", old, new)


def _difference(stored: tuple[str, dict[str, Any]], plan: RunPlan) -> str:
    """Which key differs between a folder's manifest and this plan's, in words."""
    name, manifest = stored
    if name != (SWEEP_FILE if plan.is_sweep else CONFIG_FILE):
        there = "sweep" if name == SWEEP_FILE else "single run"
        return f"it holds a {there}, this is a {'sweep' if plan.is_sweep else 'single run'}"
    manifest = json.loads(json.dumps(strip(manifest)))
    _fill_legacy(manifest)
    found = first_difference(manifest, plan.manifest)
    if found is None:  # pragma: no cover - only data paths written relative differ
        return "its data paths differ"
    key, old, new = found
    old, new = (json.dumps(v)[:60] if v != "<unset>" else v for v in (old, new))
    return f"{key}: {old} there, {new} here"


def _same_run(stored: tuple[str, dict[str, Any]], plan: RunPlan) -> bool:
    """Whether a folder's manifest is this plan's. Older folders stored data paths as given
    (relative to the working directory) and lack keys added since (``LEGACY_DEFAULTS``)."""
    name, manifest = stored
    if name != (SWEEP_FILE if plan.is_sweep else CONFIG_FILE):
        return False
    manifest = json.loads(json.dumps(strip(manifest)))
    _fill_legacy(manifest)
    for table in _data_tables(manifest):
        if isinstance(table.get("path"), str):
            table["path"] = os.path.abspath(table["path"])
    return manifest == plan.manifest


def execute(
    plan: RunPlan,
    *,
    executor: Executor | str = "local",
    progress: bool = True,
    plots: bool = True,
    task_seconds: float | None = None,
    force_data: bool = False,
) -> Path:
    """Run (or resume) every block of every cell, committing each finished task; returns the folder.

    Sizes are checked first (:mod:`autophagy.running.budget`); the folder is locked for the whole run
    (:class:`~autophagy.storage.safety.FolderLock`) and its manifest written atomically. SIGINT or
    SIGTERM stops after the tasks in flight are committed, raising
    :class:`~autophagy.core.errors.Interrupted` (see :mod:`autophagy.running.signals`).

    The manifest carries the run's identity (:func:`~autophagy.storage.identity.resume_identity`:
    version, run id shared with the store, input fingerprints); a resume whose inputs changed
    is refused unless ``force_data``, which records the change in the manifest.

    ``task_seconds`` defaults to the executor's own (``task_seconds`` attribute: SLURM's tasks
    are minutes long) or :data:`TASK_SECONDS`.
    """
    gpus = gpus_per_task(c.resolved for c in plan.cells)
    if isinstance(executor, str):
        pool = make_executor(executor, tasks=plan.task_count, task_seconds=task_seconds, gpus=gpus)
    else:
        pool = executor
    if task_seconds is None:
        task_seconds = float(getattr(pool, "task_seconds", TASK_SECONDS))
    try:
        check_devices((c.resolved for c in plan.cells), pool)  # a GPU asked for and absent: exit 3
        check_budget(plan.cells, plan.out, getattr(pool, "local_tasks", pool.workers))
        make_folder(plan.out)
        with FolderLock(plan.out), GracefulStop() as stop:
            stored = read_manifest(plan.out, identity=True)
            store_id = _check_folder(plan, stored)  # again under the lock: another writer may be first
            identity = resume_identity(
                plan.manifest,
                stored[1] if stored is not None else None,
                store_id,
                holds_results(plan.out / STORE_FILE),
                force_data=force_data,
                where=f"--out {plan.out}",
            )
            manifest_file = plan.out / (SWEEP_FILE if plan.is_sweep else CONFIG_FILE)
            text = json.dumps({**plan.manifest, KEY: identity}, indent=2) + "\n"
            if not manifest_file.is_file() or manifest_file.read_text(encoding="utf-8") != text:
                atomic_write_text(manifest_file, text)
            with RunStore(plan.out / STORE_FILE) as store:  # the store holds the manifest's run id
                if store.meta("run_id") is None:  # a new store, or one written before run ids
                    store.set_meta("run_id", identity["run_id"])
            if hasattr(pool, "bind"):  # e.g. SLURM: its logs go in the folder, written under the lock
                pool.bind(plan.out, task_seconds)
            done, total, session = _execute(plan, pool, progress, task_seconds, stop)
            if stop.requested:
                raise Interrupted(
                    str(plan.out),
                    f"stopped by {stop.name}; {done:,} of {total:,} replicate-generations are saved",
                )
            try:
                if plots:
                    open_run(plan.out).write_plots()
                if session is not None:  # the plots and the report as artifacts, unless plots=False
                    session.finish(_artifacts(plan) if plots else [], done == total)
            finally:
                if session is not None:
                    session.abandon()  # closes what finish did not (after a failure)
    finally:
        if isinstance(executor, str):
            pool.shutdown()
    return plan.out


def _artifacts(plan: RunPlan) -> list[Path]:
    """The plots and the report (written now) that trackers receive at the end."""
    from autophagy.results.report import write_report

    return [*sorted((plan.out / "plots").glob("*.png")), write_report(open_run(plan.out))]


def _execute(
    plan: RunPlan, pool: Executor, progress: bool, task_seconds: float, stop: GracefulStop
) -> tuple[int, int, TrackingSession | None]:
    """Run the blocks not yet finished; returns (done, planned) replicate x generation units
    and the open tracking session (None without trackers; closed after a stop).

    Trackers (``plan.tracking``) are sent each (cell, generation) as soon as all its replicates
    are committed (:mod:`autophagy.running.tracking`); tasks run inline feed the step-level
    progress line under the bar (:mod:`autophagy.running.telemetry`)."""
    with RunStore(plan.out / STORE_FILE) as store:
        shipped = unimportable_entries()
        modules = {m for cell in plan.cells for m in cell.config.plugins} | user_modules()
        paths = plugin_roots(sorted(modules - {"__main__"}))
        todo: list[Task] = []
        total = finished = 0
        shipments: dict[int, Shipment] = {}
        for cell in plan.cells:
            generations = cell.config.generations
            for block in plan.blocks(cell):
                saved = store.checkpoint(cell.index, block[0])
                generation, state = saved if saved is not None else (0, None)
                total += generations * len(block)
                finished += generation * len(block)
                if generation < generations:
                    if cell.index not in shipments:  # once per cell, only when a block still runs
                        shipments[cell.index] = ship(plan.out, cell.index, cell.shipped)
                    todo.append(
                        Task(
                            cell.index,
                            shipments[cell.index],
                            block[0],
                            block.stop,
                            generation,
                            state,
                            task_seconds,
                            shipped,
                            paths,
                        )
                    )
        session = TrackingSession(list(plan.tracking), store) if plan.tracking else None
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            disable=not progress,
        ) as bar:
            bar_task = bar.add_task(
                escape(plan.name), total=total, completed=finished, unit="replicate-generations"
            )
            lines = ProgressLines(plan.name, bar, progress, finished, total)
            inline = isinstance(pool, InlineExecutor)
            try:
                if session is not None:
                    session.start(plan.name, plan.out, plan.swept, plan.cells)
                with live_sink(lines.step if inline and lines.wanted else None):
                    finished += _drain(pool, store, todo, bar, bar_task, stop, _on_commit(session, lines))
            except BaseException:
                if session is not None:
                    session.abandon()
                raise
            finally:
                unship(shipments.values())
            if session is not None and stop.requested:
                session.abandon()
                session = None
    return finished, total, session


def _on_commit(session: TrackingSession | None, lines: ProgressLines) -> Callable[[int, int], None]:
    def on_commit(cell: int, units: int) -> None:
        lines.advance(units)
        if session is not None:
            session.committed(cell)

    return on_commit


def _drain(
    pool: Executor,
    store: RunStore,
    todo: list[Task],
    bar: Progress,
    bar_task: Any,
    stop: GracefulStop | None = None,
    on_commit: Callable[[int, int], None] | None = None,
) -> int:
    """Keep about two tasks per worker in flight; commit each as it finishes, then continue its
    block. Returns the replicate x generation units committed.

    Nothing finished is lost: after a stop request or a failed task nothing new is submitted,
    every task still in flight is awaited and committed if it finished, and only then is the
    first failure raised (a task that failed because the same signal stopped its worker is not
    a failure: its block resumes next time)."""
    todo = todo[::-1]  # pop() from the end keeps the planned order
    running: dict[Future, Task] = {}
    committed = 0
    failure: BaseException | None = None
    limit = getattr(pool, "in_flight", 2 * pool.workers)
    cancel = getattr(pool, "cancel", None)  # an executor whose tasks are long (SLURM) stops them:
    poll = 0.5 if cancel is not None else None  # it looks at the stop request while waiting
    cancelled = 0  # 1: queued tasks cancelled (after a failure), 2: every task (a stop request)

    def halted() -> bool:
        return failure is not None or (stop is not None and stop.requested)

    def commit(task: Task, result: TaskResult) -> int:
        store.commit_task(
            result.run,
            result.first,
            result.generation,
            result.state,
            result.rows,
            result.snapshots,
            result.training,
        )
        units = (result.generation - task.generation) * (task.stop - task.first)
        bar.advance(bar_task, units)
        return units

    def after(task: Task, units: int) -> None:
        """Trackers and progress lines after a commit; a tracker's failure waits, like a task's,
        until everything in flight is committed."""
        nonlocal failure
        if on_commit is None or failure is not None:
            return
        try:
            on_commit(task.run, units)
        except Exception as exc:
            failure = exc

    try:
        while (todo and not halted()) or running:
            batch: list[Task] = []
            while todo and len(running) + len(batch) < limit and not halted():
                batch.append(todo.pop())
            running.update(zip(_submit(pool, batch), batch, strict=True))
            finished, _ = wait(running, timeout=poll, return_when=FIRST_COMPLETED)
            wanted = 2 if stop is not None and stop.requested else int(failure is not None)
            if cancel is not None and wanted > cancelled:  # their futures fail, which is ignored then
                cancel(queued_only=wanted == 1)
                cancelled = wanted
            for future in finished:
                task = running.pop(future)
                try:
                    result: TaskResult = future.result()
                except Exception as exc:
                    if failure is None and not (stop is not None and stop.requested):
                        failure = exc
                    continue
                units = commit(task, result)
                committed += units
                after(task, units)
                if not result.done:
                    todo.append(replace(task, generation=result.generation, checkpoint=result.state))
    except KeyboardInterrupt:  # a forced stop (second signal): commit what finished, end the pool
        if stop is not None and stop.forced:
            deadline()  # a real second signal: end the process even if the cleanup hangs
        for future, task in running.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                committed += commit(task, future.result())
        getattr(pool, "terminate", lambda: None)()  # an executor passed in may lack it
        raise
    if failure is not None:
        raise failure
    return committed


def _submit(pool: Executor, tasks: list[Task]) -> list[Future]:
    """Futures of ``tasks``, in one submission where the executor takes several (a job array)."""
    if not tasks:
        return []
    many = getattr(pool, "submit_many", None)
    return many(run_task, tasks) if many is not None else [pool.submit(run_task, t) for t in tasks]
