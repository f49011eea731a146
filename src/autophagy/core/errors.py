"""The errors autophagy reports to users as one plain line (``error: <field>: <message>``).

They pickle with their arguments, so an error raised in a worker process (loky, Ray) reaches
the parent as the same exception, with the same message, as it would inline.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid input; ``field`` is the dotted config key (or CLI argument) at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self):
        return (type(self), (self.field, self.message))


class PluginError(ConfigError):
    """A user plug-in (model, data source, metric, hook) raised while the loop ran it."""


class WorkerError(RuntimeError):
    """An unexpected exception in autophagy's own code, raised in a worker: an internal bug.
    Carries the worker's formatted traceback, since the original exception may not pickle."""

    def __init__(self, summary: str, trace: str) -> None:
        super().__init__(f"{summary}\n--- worker traceback ---\n{trace}")
        self.summary = summary
        self.trace = trace

    def __reduce__(self):
        return (type(self), (self.summary, self.trace))


class EnvironmentFault(Exception):
    """The machine, not the input, stopped the work: a full disk, a permission, a folder locked
    by another process, a damaged file, an interrupt. ``where`` names the file, folder or
    resource at fault. The CLI prints ``error: <where>: <message>`` and exits with status 3;
    what was committed before the fault stays in the folder and a rerun resumes from it."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    def __reduce__(self):
        return (type(self), (self.where, self.message))


class Interrupted(EnvironmentFault):
    """SIGINT or SIGTERM arrived; the run stopped after committing the tasks in flight."""


def did_you_mean(word: object, choices: object) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, or an empty string."""
    import difflib

    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
