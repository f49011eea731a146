"""Stopping cleanly: SIGINT/SIGTERM in the parent, parent death in the workers.

:class:`GracefulStop` turns the first SIGINT or SIGTERM into a request the runner checks
after every task commit: it submits nothing more, commits the tasks in flight (each returns
within ``--task-seconds`` of work) and raises :class:`~autophagy.core.errors.Interrupted`, whose
message says what is saved and how to resume. A second SIGINT or SIGTERM (either, in any
order) stops at once, whatever a worker is doing: ``KeyboardInterrupt`` is raised in the
parent, which commits the tasks that had finished, terminates the pool (then kills it) and
exits 3; :func:`deadline` ends the process if that cleanup itself hangs. A third signal ends
the process at once (the store's transactions keep it consistent all the same).

:func:`worker_init` runs in every local worker process: it ignores SIGINT (Ctrl-C reaches
the whole process group; the parent decides) and starts a watchdog thread that ends the
worker within :data:`WATCHDOG_S` seconds of its parent's death, SIGKILL included, instead of
letting it run on to loky's idle timeout.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

WATCHDOG_S = 0.5  # seconds between a worker's checks that its parent is alive
FORCED_EXIT_S = 10.0  # after a forced stop, the process ends within this long whatever happens
EXIT_NOW = 3  # the environment status: committed work is kept, the same command resumes


def deadline(seconds: float = FORCED_EXIT_S) -> None:
    """End this process with status 3 in ``seconds`` unless it has ended by then (a daemon
    timer): after a forced stop, nothing (a pool that will not die, a stuck join) can keep it."""

    if hasattr(sys, "ps1") or "ipykernel" in sys.modules:
        return  # an interactive session (a notebook, a REPL) is never ended for it

    def end() -> None:
        os.write(2, b"error: interrupted: stopped by force; committed work is kept\n")
        os._exit(EXIT_NOW)

    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()


class GracefulStop:
    """While active (a context manager, main thread only), SIGINT and SIGTERM set
    :attr:`signum` instead of stopping the process. Elsewhere it does nothing."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.forced = False
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.forced:
            os._exit(EXIT_NOW)  # a third signal: the cleanup is taking too long
        if self.signum is not None:
            self.forced = True
            raise KeyboardInterrupt  # a second SIGINT or SIGTERM: stop now
        self.signum = signum

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCHDOG_S)
        if os.getppid() != parent:  # re-parented: the parent is gone
            os._exit(1)


def worker_init(parent: int) -> None:
    """Initializer of a local worker process whose parent has pid ``parent`` (see module doc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="autophagy-parent-watchdog", daemon=True).start()
