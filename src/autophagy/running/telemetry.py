"""Training telemetry inside a task, and the step-level progress line it feeds.

:class:`TrainingRecorder` is the callback a task hands the engine (one per generation, see
:func:`autophagy.loop.engine.run_block`): it checks each call, keeps the rows the parent
commits with the task (``training`` table of :mod:`autophagy.storage.store`), and, when the
task runs in the parent process (the inline executor), writes a progress line such as
``generation 3/10, block 2/4, replicate 1/8, step 800/2000, loss 0.41, fit ETA 0:00:12`` to
the sink the runner installed with :func:`live_sink`. Worker processes have no sink: with a
pool, progress advances per committed task only.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from rich.markup import escape
from rich.progress import Progress

from autophagy.core.errors import PluginError
from autophagy.storage.store import TrainingRow

_SINK: dict[str, Callable[..., None]] = {}


@contextlib.contextmanager
def _installed(key: str, sink: Callable[..., None] | None) -> Iterator[None]:
    previous = _SINK.pop(key, None)
    if sink is not None:
        _SINK[key] = sink
    try:
        yield
    finally:
        _SINK.pop(key, None)
        if previous is not None:
            _SINK[key] = previous


def live_sink(sink: Callable[[str, int, int | None], None] | None) -> contextlib.AbstractContextManager:
    """While inside, tasks run in this process send ``sink(text, step, total)`` at each
    training report (the runner's line under the bar)."""
    return _installed("live", sink)


def status_sink(sink: Callable[[str], None] | None) -> contextlib.AbstractContextManager:
    """While inside, runs started without a bar (``reproduce``, ``admissible``) send their
    progress as one line of text, with an ETA, to ``sink`` (e.g. a spinner's ``update``)."""
    return _installed("status", sink)


def current_status() -> Callable[[str], None] | None:
    """The sink :func:`status_sink` installed, or None."""
    return _SINK.get("status")


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds))) if math.isfinite(seconds) else "?"


class TrainingRecorder:
    """Collects a task's training rows; ``for_generation(t)`` is the engine's callback factory.

    ``replicates`` are the block's global replicate indices; ``where`` names the block in the
    progress line (``block 2/4``); ``generations`` the cell's last generation; ``model`` the
    model kind, named when a call is malformed (a :class:`PluginError`).
    """

    def __init__(self, replicates: Sequence[int], where: str, generations: int, model: str) -> None:
        self.replicates = list(replicates)
        self.where = where
        self.generations = generations
        self.model = model
        self.rows: list[TrainingRow] = []

    def for_generation(self, generation: int) -> Callable[..., None]:
        start = time.perf_counter()
        count = len(self.replicates)

        def telemetry(
            replicate: int,
            step: int,
            loss: float,
            *,
            total: int | None = None,
            seconds: float | None = None,
        ) -> None:
            if isinstance(replicate, bool) or not isinstance(replicate, int) or not 0 <= replicate < count:
                raise PluginError(
                    f"model {self.model}", f"telemetry: replicate must be in [0, {count}), got {replicate!r}"
                )
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                raise PluginError(
                    f"model {self.model}", f"telemetry: step must be a positive integer, got {step!r}"
                )
            try:
                value = float(loss)
            except (TypeError, ValueError):
                raise PluginError(
                    f"model {self.model}", f"telemetry: loss must be a number, got {loss!r}"
                ) from None
            elapsed = float(seconds) if seconds is not None else time.perf_counter() - start
            self.rows.append((self.replicates[replicate], generation, step, value, elapsed))
            sink = _SINK.get("live")
            if sink is not None:
                sink(self._line(generation, replicate, step, value, total, elapsed), step, total)

        return telemetry

    def _line(
        self, generation: int, replicate: int, step: int, loss: float, total: int | None, elapsed: float
    ) -> str:
        parts = [f"generation {generation}/{self.generations}", self.where]
        if len(self.replicates) > 1:
            parts.append(f"replicate {replicate + 1}/{len(self.replicates)}")
        parts.append(f"step {step}/{total}" if total else f"step {step}")
        parts.append(f"loss {loss:.3g}")
        if total and step < total:
            parts.append(f"fit ETA {_clock(elapsed * (total - step) / step)}")
        return ", ".join(parts)


class ProgressLines:
    """The step-level line under the bar (inline tasks: generation, block, replicate, step, loss,
    with the fit's own bar and ETA), and, without a bar, the same text with the overall ETA sent
    to the status sink that ``reproduce`` and ``admissible`` show (:func:`status_sink`)."""

    def __init__(self, name: str, bar: Progress, progress: bool, done: int, total: int) -> None:
        self.name, self.bar, self.progress = name, bar, progress
        self.sink = current_status()
        self.start, self.first, self.done, self.total = time.monotonic(), done, done, total
        self.step_task: Any = None
        self.last = ""

    @property
    def wanted(self) -> bool:
        return self.progress or self.sink is not None

    def overall(self) -> str:
        rate = (self.done - self.first) / max(time.monotonic() - self.start, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else math.inf
        clock = str(timedelta(seconds=round(eta))) if math.isfinite(eta) else "?"
        return f"{self.name}: {self.done:,}/{self.total:,} replicate-generations, ETA {clock}"

    def advance(self, units: int) -> None:
        self.done += units
        if self.sink is not None:
            self.sink(self.overall() + (f"; {self.last}" if self.last else ""))

    def step(self, text: str, step: int, total: int | None) -> None:
        self.last = text
        if self.progress:
            if self.step_task is None:
                self.step_task = self.bar.add_task("", total=total, unit="steps")
            self.bar.update(self.step_task, description=escape(f"  {text}"), completed=step, total=total)
        if self.sink is not None:
            self.sink(f"{self.overall()}; {text}")
