"""Who is at fault for an exception raised while a loop ran: a user's plug-in or autophagy.

A failure inside plug-in code becomes a one-line :class:`~autophagy.core.errors.PluginError`
naming the plug-in; anything else in our own code is a :class:`~autophagy.core.errors.WorkerError`
that keeps its traceback, because it is a bug.
"""

from __future__ import annotations

import traceback

from autophagy.core.errors import EnvironmentFault, PluginError, WorkerError
from autophagy.core.registry import user_modules


def worker_error(exc: BaseException) -> BaseException:
    """The exception to send to the parent for ``exc``: a :class:`PluginError` naming the
    plug-in module when the innermost frame outside autophagy belongs to a user plug-in
    (registered by another package, or from ``__main__``), else a :class:`WorkerError`."""
    if isinstance(exc, MemoryError | OSError | EnvironmentFault):
        return exc  # the machine, not a bug: reported as an environment fault (exit 3)
    users = user_modules()
    frames = traceback.extract_tb(exc.__traceback__)
    for frame, _ in reversed(list(traceback.walk_tb(exc.__traceback__))):
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in users:
            where = frames[-1] if frames else None
            line = f" ({where.name}, {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
            return PluginError(f"plugin {module}", f"{type(exc).__name__}: {exc}{line}")
    trace = "".join(traceback.format_exception(exc))
    return WorkerError(
        f"internal error (this is a bug; please report it): {type(exc).__name__}: {exc}", trace
    )
