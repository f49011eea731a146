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
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autophagy.core.errors import ConfigError
from autophagy.results.run import Run, open_run
from autophagy.running.config import add_plugins, set_key, set_override
from autophagy.running.config import load_config as _load_toml

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


def run(
    config: str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    plots: bool = True,
    task_seconds: float = 2.0,
) -> Run:
    """Run (or resume) a config or sweep into ``out`` (default ``runs/NAME``) and open it.

    ``config`` is a raw config dict (see :func:`load_config`) or a TOML path. ``executor``:
    ``"local"`` (a process pool on every core, or ``workers``), ``"inline"`` (this process) or
    ``"ray"`` (``address`` joins a cluster). Plug-ins registered in this session's ``__main__``
    travel to the workers with each task; plug-in modules listed in ``plugins`` are imported
    by every worker. Starting again on the same folder resumes where it stopped.
    """
    from autophagy.running.executors import make_executor
    from autophagy.running.runner import execute, plan_run

    raw = load_config(config) if not isinstance(config, Mapping) else copy.deepcopy(dict(config))
    if task_seconds < 0:
        raise ConfigError("task_seconds", f"must be >= 0, got {task_seconds}")
    plan = plan_run(raw, Path(out) if out is not None else None)
    for note in plan.notes:  # keys some sweep cells ignore, said once
        warnings.warn(note, stacklevel=2)
    tasks = sum(len(plan.blocks(cell)) for cell in plan.cells)
    pool = make_executor(executor, workers=workers, address=address, tasks=tasks)
    try:
        folder = execute(plan, executor=pool, progress=progress, plots=plots, task_seconds=task_seconds)
    finally:
        pool.shutdown()
    return open_run(folder)
