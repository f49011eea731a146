"""One error path for the command line: every failure ends in one plain line and a documented
exit status.

=====  =========================================================================
exit   meaning
=====  =========================================================================
0      done
1      ``reproduce``: the result was not reproduced (FAIL)
2      bad input: config, data file, CLI argument (``error: <field>: <message>``)
3      environment: disk full, permission, folder locked or damaged, lost worker,
       out of memory, interrupted (SIGINT/SIGTERM); committed work is kept and the
       same command resumes
70     an internal error: the traceback is printed, followed by "this is a bug"
=====  =========================================================================

The line is written as plain text (never parsed as Rich markup: a ``[/]`` in a key, value or
path is printed as is). :class:`GuardedGroup` applies this to every command, and to click's
own usage errors, so a command body only raises.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import typer
import typer.core

try:  # typer >= 0.2x carries its own copy of click
    from typer._click import ClickException
except ImportError:  # pragma: no cover - older typer on the click package
    from click import ClickException

from autophagy.core.errors import ConfigError, EnvironmentFault

EXIT_FAIL, EXIT_INPUT, EXIT_ENVIRONMENT, EXIT_BUG = 1, 2, 3, 70


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)}


def printable(text: str) -> str:
    """``text`` with terminal control characters (escape sequences, carriage returns, bells, C1
    codes) written as ``\\xNN``: user text (keys, paths) can never drive the terminal."""
    return text.translate(_CONTROLS)


def say(line: str) -> None:
    """Write one plain line to stderr (no markup, no wrapping, no highlighting; control
    characters escaped by :func:`printable`)."""
    typer.echo(printable(line), err=True)


def _os_message(exc: OSError) -> tuple[str, str]:
    where = exc.filename if exc.filename is not None else "system"
    what = exc.strerror or str(exc)
    if exc.filename2 is not None:
        what += f" (and {exc.filename2})"
    return str(where), what


def classify(exc: BaseException) -> tuple[int, str] | None:
    """The exit status and the ``error: ...`` line for an expected failure, None for a bug."""
    if isinstance(exc, ConfigError):
        return EXIT_INPUT, f"error: {exc}"
    if isinstance(exc, EnvironmentFault):
        return EXIT_ENVIRONMENT, f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_ENVIRONMENT, "error: interrupted: committed work is kept; run the same command to resume"
    if isinstance(exc, MemoryError):
        return EXIT_ENVIRONMENT, "error: memory: out of memory; use smaller sizes (block_size, dim, n_eval)"
    if isinstance(exc, OSError):
        where, what = _os_message(exc)
        return EXIT_ENVIRONMENT, f"error: {where}: {what}"
    if isinstance(exc, sqlite3.DatabaseError):
        return EXIT_ENVIRONMENT, f"error: results.sqlite: the store is damaged or unreadable ({exc})"
    name = type(exc).__name__
    if name in ("BrokenProcessPool", "TerminatedWorkerError", "ShutdownExecutorError"):
        return EXIT_ENVIRONMENT, (
            f"error: worker: a worker process was lost ({name}); committed work is kept, "
            "run the same command to resume"
        )
    return None


def report(exc: BaseException) -> int:
    """Print the line for ``exc`` (a traceback and "this is a bug" when unexpected); the exit status."""
    known = classify(exc)
    if known is not None:
        say(known[1])
        return known[0]
    traceback.print_exception(exc, file=sys.stderr)
    say("error: internal: this is a bug in autophagy; please report it with the traceback above")
    return EXIT_BUG


@contextlib.contextmanager
def _terminate_raises() -> Iterator[None]:
    """While a command runs, SIGTERM raises ``KeyboardInterrupt`` (exit 3) instead of ending
    the process at once, so that ``finally`` blocks run: an export or report stopped midway
    removes its temporary file (:func:`autophagy.storage.safety.atomic_path`). A run installs
    its own handlers on top (:class:`autophagy.running.signals.GracefulStop`)."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


class GuardedGroup(typer.core.TyperGroup):
    """A typer group whose commands end every failure through :func:`report`."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            with _terminate_raises():
                return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except BaseException as exc:  # the single place failures become lines
            if isinstance(exc, SystemExit):
                raise
            raise typer.Exit(report(exc)) from None

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except ClickException as exc:  # usage errors: one line too
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `autophagy` or `autophagy run`
                typer.echo(exc.format_message())
                code = 0
            else:
                say(f"error: {exc.format_message()} (see --help)".replace("\n", " "))
                code = exc.exit_code
        except typer.Abort:
            say("error: aborted")
            code = EXIT_ENVIRONMENT
        else:
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code
