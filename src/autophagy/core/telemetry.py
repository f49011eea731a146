"""Training telemetry and what experiment trackers are told about a run.

A model's ``fit`` may take a ``telemetry`` callback (:class:`~autophagy.core.protocols.TrainingTelemetry`):
:class:`LossReport` is the small helper the built-in neural models use to call it every
logging interval with the mean loss since the last call, without a device sync per step.
:class:`TrackedRun` and :class:`TrackedCell` are the plain description of a run or sweep that
the runner hands to a :class:`~autophagy.core.protocols.Tracker` when it starts.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORTS_PER_FIT = 50
"""About how many times a built-in model reports per replicate's fit (plus the last step)."""


def accepts_telemetry(fit: Callable[..., Any]) -> bool:
    """Whether ``fit`` has a ``telemetry`` parameter (or takes ``**kwargs``): only then does the
    engine pass the callback, so plug-ins written without it keep working unchanged."""
    try:
        parameters = inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return False
    return "telemetry" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class LossReport:
    """Calls ``telemetry`` every ``every`` steps (and at the last planned step) with the mean
    loss since the previous call; a ``None`` telemetry makes every method a no-op.

    ``add(loss)`` takes a float or a 0-d tensor; tensors are summed on their device and read
    (one sync) only when a report is due, so logging does not slow a GPU loop. ``total`` is the
    planned optimiser steps of this replicate's fit; ``every`` defaults to ``ceil(total / 50)``.
    """

    def __init__(
        self, telemetry: Callable[..., Any] | None, replicate: int, total: int, every: int | None = None
    ) -> None:
        self.telemetry = telemetry
        self.replicate = int(replicate)
        self.total = max(1, int(total))
        self.every = every or max(1, math.ceil(self.total / REPORTS_PER_FIT))
        self.step = 0
        self._sum: Any = 0.0
        self._count = 0
        self._start = time.perf_counter()

    def add(self, loss: Any) -> None:
        """Record one optimiser step's loss; reports when an interval ends."""
        if self.telemetry is None:
            return
        self.step += 1
        self._sum = self._sum + (loss.detach() if hasattr(loss, "detach") else float(loss))
        self._count += 1
        if self.step % self.every == 0 or self.step == self.total:
            self.flush()

    def flush(self) -> None:
        """Report the steps added since the last report (if any); call once after an early stop."""
        if self.telemetry is None or self._count == 0:
            return
        mean = float(self._sum) / self._count
        self._sum, self._count = 0.0, 0
        self.telemetry(
            self.replicate,
            self.step,
            mean,
            total=self.total,
            seconds=time.perf_counter() - self._start,
        )


@dataclass(frozen=True)
class TrackedCell:
    """One run of a sweep as a tracker sees it: its index, a label (``key=value, ...`` or the run
    name), the resolved config flattened to dotted keys, and the swept values."""

    index: int
    label: str
    params: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    generations: int = 0


@dataclass(frozen=True)
class TrackedRun:
    """What a tracker's ``start`` gets: the run or sweep name, its folder, the swept keys (empty
    for a run), every cell, and the store's run id (stable across resumes)."""

    name: str
    folder: Path
    swept: list[str]
    cells: list[TrackedCell]
    run_id: str = ""

    @property
    def is_sweep(self) -> bool:
        return bool(self.swept) or len(self.cells) > 1


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as ``{"loop.sampling_bias": 0.9, ...}`` (lists and scalars are leaves)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat
