"""The public Python API: load a config, run it, open its folder.

Three lines from a notebook::

    import autophagy as ap
    run = ap.run(ap.load_config("sweep.toml"), out="runs/my-sweep")
    run.summary()          # pandas: mean and Student-t interval per sweep point, generation, metric

Every function validates before any work, raising :class:`autophagy.ConfigError` (its
message names the field) for bad input; nothing is written then.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError, did_you_mean
from autophagy.models.sklearn_adapter import from_sklearn
from autophagy.results.compare import Comparison, compare
from autophagy.results.run import Run, open_run
from autophagy.running.config import add_plugins, refuse_swept_overrides, set_key, set_override
from autophagy.running.config import load_config as _load_toml
from autophagy.running.devices import gpus_per_task
from autophagy.running.executors import Executor, make_executor
from autophagy.running.runner import execute, plan_run
from autophagy.running.slurm_options import SlurmOptions, slurm_options
from autophagy.running.sweep import plan_cells

__all__ = ["Comparison", "compare", "from_sklearn", "load_config", "open_run", "run"]


def load_config(
    source: str | Path | Mapping[str, Any],
    overrides: Sequence[str] | Mapping[str, Any] = (),
    plugins: Sequence[str] = (),
    *,
    validate: bool = True,
) -> dict[str, Any]:
    """A raw config dict from a TOML file or a dict (copied), with overrides applied.

    ``overrides`` are ``"key.path=value"`` strings (values parsed as TOML, as ``--set`` does) or
    a mapping ``{"key.path": value}``; ``plugins`` are module names appended to the config's
    ``plugins`` list (they are imported, i.e. executed, when the config is validated). Relative
    paths in a TOML file are relative to its folder; in a dict, to the working directory.

    With overrides (and ``validate``, the default) the result is validated as :func:`run`
    would (every sweep cell), so a bad value raises :class:`ConfigError` here, naming the key.
    An override of a key the sweep sets in every cell (a swept key, or ``seed`` next to
    ``sweep.seeds``) is refused: it would be ignored in every cell.
    """
    if isinstance(plugins, str):  # one module name, never its letters
        plugins = [plugins]
    if isinstance(overrides, str):  # one "key=value", never its letters
        overrides = [overrides]
    if not isinstance(source, str | Path | Mapping):
        raise ConfigError("config", f"must be a TOML path or a dict, got {type(source).__name__}")
    strings = list(overrides) if not isinstance(overrides, Mapping) else []
    if isinstance(source, Mapping):
        raw = copy.deepcopy(dict(source))
        for assignment in strings:
            set_override(raw, assignment)
        add_plugins(raw, plugins)
    else:
        raw = _load_toml(Path(source), strings, plugins)
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            set_key(raw, key, copy.deepcopy(value))
        refuse_swept_overrides(raw, list(overrides))
    elif isinstance(source, Mapping):
        refuse_swept_overrides(raw, [a.partition("=")[0].strip() for a in strings])
    if validate and overrides:
        plan_cells(raw)  # raises ConfigError naming the field; writes nothing
    return raw


def _check_arguments(executor: Any, workers: Any, address: Any, task_seconds: Any, **flags: Any) -> None:
    """The CLI's rules for :func:`run`'s own arguments (a value the CLI could not pass is
    refused here as it is there, naming the option)."""
    if not isinstance(executor, str) and not (hasattr(executor, "submit") and hasattr(executor, "workers")):
        raise ConfigError("--executor", f"must be a name or an executor, got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError("--workers", f"must be at least 1 (a whole number), got {workers!r}")
    if address is not None and not isinstance(address, str):
        raise ConfigError("--address", f"must be a string, got {address!r}")
    if task_seconds is not None and (
        isinstance(task_seconds, bool)
        or not isinstance(task_seconds, int | float)
        or not 0 <= task_seconds < math.inf  # NaN too
    ):
        raise ConfigError("--task-seconds", f"must be >= 0 and finite, got {task_seconds!r}")
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be True or False, got {value!r}")


SLURM_KEYS = ("partition", "time", "cpus_per_task", "gpus_per_task", "options")


def _slurm(slurm: Any, executor: Any) -> SlurmOptions | None:
    """``run``'s ``slurm`` mapping, checked (ConfigError naming the key or its CLI flag)."""
    if slurm is None:
        return None
    if not isinstance(slurm, Mapping):
        raise ConfigError("slurm", f"must be a mapping of {', '.join(SLURM_KEYS)}, got {slurm!r}")
    unknown = [k for k in slurm if k not in SLURM_KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], SLURM_KEYS)
        raise ConfigError(f"slurm.{unknown[0]}", f"unknown key{hint}; choose from {', '.join(SLURM_KEYS)}")
    if not isinstance(executor, str):
        raise ConfigError("slurm", "sizes the jobs of executor='slurm'; an executor object carries its own")
    options = slurm_options(**slurm)
    if executor != "slurm":
        flag = options.given[0] if options.given else "slurm"
        raise ConfigError(flag, "asks SLURM for resources; use it with --executor slurm")
    return options


def run(
    config: str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    executor: str | Executor = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    plots: bool = True,
    task_seconds: float | None = None,
    note: Callable[[str], None] | None = None,
    force_data: bool = False,
    slurm: Mapping[str, Any] | None = None,
    log: Sequence[str] = (),
) -> Run:
    """Run (or resume) a config or sweep into ``out`` (default ``runs/NAME``) and open it.

    The one way loops run: the CLI, the demo, every recipe and the admissible maps call it, so
    every loop gets the manifest, the folder lock, checkpoints and resume, progress and the
    executor's parallelism. ``config`` is a raw config dict (see :func:`load_config`) or a TOML
    path. ``executor``: ``"local"`` (a process pool on every core, or ``workers``),
    ``"inline"`` (this process), ``"ray"`` (``address`` joins a cluster), or an executor
    already started (it is left running, so several runs can share warm workers). Keys that
    some sweep cells ignore are passed to ``note`` once (default: a warning). Plug-ins
    registered in this session's ``__main__`` travel to the workers with each task; plug-in
    modules listed in ``plugins`` are imported by every worker. Starting again on the same
    folder resumes where it stopped; SIGINT or SIGTERM stop after committing the tasks in
    flight and raise :class:`~autophagy.core.errors.Interrupted` naming the folder. A resume
    whose input file changed is refused unless ``force_data`` (recorded in the manifest).

    ``task_seconds``: a task commits and hands its block on after this long (default
    ``TASK_SECONDS``, 2 s; 600 s with ``"slurm"``). ``executor="slurm"`` submits SLURM job
    arrays through submitit (``workers``: jobs queued at once); ``slurm`` asks for the jobs'
    resources: ``{"partition": ..., "time": "HH:MM:SS" or minutes, "cpus_per_task": ...,
    "gpus_per_task": ..., "options": {"account": ...}}`` (the CLI's ``--slurm-*`` flags;
    see the guide's "Running on a cluster").
    ``log`` names experiment trackers (``"mlflow"``, ``"tensorboard"``, ``"wandb"`` or a
    plug-in's) added to the config's ``[tracking] loggers``; they are sent each generation as it
    is committed, in this process (see the tracking guide).
    """
    _check_arguments(
        executor, workers, address, task_seconds, progress=progress, plots=plots, force_data=force_data
    )
    options = _slurm(slurm, executor)
    raw = load_config(config) if not isinstance(config, Mapping) else copy.deepcopy(dict(config))
    if isinstance(log, str):  # one name, never its letters
        log = [log]
    if log:
        if not all(isinstance(name, str) for name in log):
            raise ConfigError("--log", f"must be logger names, got {log!r}")
        table = raw.setdefault("tracking", {})
        if not isinstance(table, dict):
            raise ConfigError("tracking", f"must be a table, got {table!r}")
        listed = table.get("loggers", [])
        listed = listed if isinstance(listed, list) else [listed]
        table["loggers"] = [*listed, *(name for name in log if name not in listed)]
    plan = plan_run(raw, Path(out) if out is not None else None)
    for line in plan.notes:  # keys some sweep cells ignore, said once
        note(line) if note is not None else warnings.warn(line, stacklevel=2)
    owned = isinstance(executor, str)
    gpus = gpus_per_task(c.resolved for c in plan.cells)  # Ray asks for a GPU per task when one is wanted
    pool = None
    if owned:
        pool = make_executor(
            executor,
            workers=workers,
            address=address,
            tasks=plan.task_count,
            slurm=options,
            task_seconds=task_seconds,
            gpus=gpus,
        )
    pool = pool or executor
    try:
        folder = execute(
            plan,
            executor=pool,
            progress=progress,
            plots=plots,
            task_seconds=task_seconds,
            force_data=force_data,
        )
    finally:
        if owned:
            pool.shutdown()
    return open_run(folder)
