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

from autophagy.core.errors import ConfigError
from autophagy.results.run import Run, open_run
from autophagy.running.config import add_plugins, set_key, set_override
from autophagy.running.config import load_config as _load_toml
from autophagy.running.devices import gpus_per_task
from autophagy.running.executors import Executor, make_executor
from autophagy.running.runner import TASK_SECONDS, execute, plan_run

__all__ = ["load_config", "open_run", "run"]


def load_config(
    source: str | Path | Mapping[str, Any],
    overrides: Sequence[str] | Mapping[str, Any] = (),
    plugins: Sequence[str] = (),
) -> dict[str, Any]:
    """A raw config dict from a TOML file or a dict (copied), with overrides applied.

    ``overrides`` are ``"key.path=value"`` strings (values parsed as TOML, as ``--set`` does) or
    a mapping ``{"key.path": value}``; ``plugins`` are module names appended to the config's
    ``plugins`` list (they are imported, i.e. executed, when the config is validated). Relative
    paths in a TOML file are relative to its folder; in a dict, to the working directory.
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
    if (
        isinstance(task_seconds, bool)
        or not isinstance(task_seconds, int | float)
        or not 0 <= task_seconds < math.inf  # NaN too
    ):
        raise ConfigError("--task-seconds", f"must be >= 0 and finite, got {task_seconds!r}")
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be True or False, got {value!r}")


def run(
    config: str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    executor: str | Executor = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    plots: bool = True,
    task_seconds: float = TASK_SECONDS,
    note: Callable[[str], None] | None = None,
    force_data: bool = False,
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
    """
    _check_arguments(
        executor, workers, address, task_seconds, progress=progress, plots=plots, force_data=force_data
    )
    raw = load_config(config) if not isinstance(config, Mapping) else copy.deepcopy(dict(config))
    plan = plan_run(raw, Path(out) if out is not None else None)
    for line in plan.notes:  # keys some sweep cells ignore, said once
        note(line) if note is not None else warnings.warn(line, stacklevel=2)
    owned = isinstance(executor, str)
    gpus = gpus_per_task(c.resolved for c in plan.cells)  # Ray asks for a GPU per task when one is wanted
    pool = (
        make_executor(executor, workers=workers, address=address, tasks=plan.task_count, gpus=gpus)
        if owned
        else None
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
