"""Stopping cleanly: SIGINT/SIGTERM in the parent, parent death in the workers.

:class:`GracefulStop` turns the first SIGINT or SIGTERM into a request the runner checks
after every task commit: it submits nothing more, commits the tasks in flight (each returns
within ``--task-seconds`` of work) and raises :class:`~autophagy.core.errors.Interrupted`, whose
message says what is saved and how to resume. A second SIGINT stops at once
(``KeyboardInterrupt``; the store's transactions keep it consistent all the same).

:func:`worker_init` runs in every local worker process: it ignores SIGINT (Ctrl-C reaches
the whole process group; the parent decides) and starts a watchdog thread that ends the
worker within :data:`WATCHDOG_S` seconds of its parent's death, SIGKILL included, instead of
letting it run on to loky's idle timeout.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType

WATCHDOG_S = 0.5  # seconds between a worker's checks that its parent is alive


class GracefulStop:
    """While active (a context manager, main thread only), SIGINT and SIGTERM set
    :attr:`signum` instead of stopping the process. Elsewhere it does nothing."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
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
