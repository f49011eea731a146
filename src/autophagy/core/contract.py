"""The small case on which :func:`autophagy.testing.check_model` exercises a model family.

A family registers its case with :func:`autophagy.core.registry.register_model` (``contract=``),
so the case lives next to the registration and the contract check reads it from ``MODELS``.
The spread measures below are the ones the built-in cases use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def total_spread(x: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
    """Squared deviations about each replicate's sample mean, ``(R,)``."""
    return ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))


def off_mode(x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Discrete draws that differ from the lambda = 0 draw (the mode): a lower temperature never
    raises their number under common random numbers."""
    return np.any(x != mode, axis=2).sum(axis=1).astype(float)


def within_class_spread(x: np.ndarray, mode: np.ndarray | None) -> np.ndarray:
    """Squared deviations of the pixels from their class mean, summed per replicate."""
    out = np.zeros(len(x))
    for r, rows in enumerate(x):
        for label in np.unique(rows[:, -1]):
            group = rows[rows[:, -1] == label, :-1]
            out[r] += ((group - group.mean(axis=0)) ** 2).sum()
    return out


@dataclass(frozen=True)
class ModelCase:
    """How one model family is exercised: options, data, and what its sampling bias promises.

    ``source`` builds a real-data source (drawn ``n`` rows per replicate, and bound by the
    settings' ``for_data``); ``data`` gives the rows ``(R, n, d)`` directly; with neither, the
    check uses 3-d Gaussian rows ``(3, 60, 3)``. ``spread(x, mode) -> (R,)`` measures how
    spread-out samples are (``mode`` is the lambda = 0 draw, or None when lambda = 0 is
    undefined); ``monotone`` promises the spread never widens as lambda falls under common
    random numbers (otherwise only lambda = 0.1 (0.05 without lambda = 0) below lambda = 1 is
    required). ``torch`` marks families that need PyTorch (test suites skip them without)."""

    options: dict = field(default_factory=dict)
    source: Callable[[], Any] | None = None
    data: Callable[[], np.ndarray] | None = None
    spread: Callable[[np.ndarray, Any], np.ndarray] = total_spread
    monotone: bool = True
    torch: bool = False
