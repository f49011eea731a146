"""What a recipe is, and the interval arithmetic its checks use.

Every interval is a two-sided 99.9 % normal interval over independent replicates (``Z``):
wide enough that a true expectation fails a check about once in a thousand, while the
effects the paper reports are many interval widths large at the quick profile's sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

Z = 3.2905  # two-sided 99.9 % normal quantile


@dataclass(frozen=True)
class Check:
    """One statistical claim about a measurement and whether it held."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Recipe:
    """One reproducible result: settings per profile, measurement, figure and verdict."""

    id: str
    title: str
    expected: str  # the behaviour spec §4 describes, in a line
    profiles: dict[str, dict[str, Any]]  # "quick" and "full" keyword settings for ``measure``
    measure: Callable[..., Any]
    judge: Callable[[Any], list[Check]]
    draw: Callable[[Any, Path], None]


@dataclass(frozen=True)
class Interval:
    """A mean and its half-width at level ``Z``."""

    value: float
    half: float

    @property
    def low(self) -> float:
        return self.value - self.half

    @property
    def high(self) -> float:
        return self.value + self.half

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def mean_interval(samples: np.ndarray) -> Interval:
    """Mean of independent ``samples`` ``(R,)`` with its 99.9 % interval."""
    samples = np.asarray(samples, dtype=np.float64)
    return Interval(float(samples.mean()), Z * float(samples.std(ddof=1)) / math.sqrt(samples.size))


def difference(a: Interval, b: Interval) -> Interval:
    """a - b for independent estimates (half-widths add in quadrature)."""
    return Interval(a.value - b.value, math.hypot(a.half, b.half))


def from_bounds(value: float, low: float, high: float, level_z: float = 1.959964) -> Interval:
    """Re-express an interval given at ``level_z`` (default 95 %) at this module's level."""
    return Interval(value, max(value - low, high - value) * Z / level_z)


def wilson_low(successes: int, n: int) -> float:
    """Lower end of the 99.9 % Wilson interval of a binomial proportion."""
    p = successes / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - spread) / (1 + Z * Z / n)


def contains(name: str, estimate: Interval, target: float) -> Check:
    """The interval covers ``target``."""
    return Check(name, estimate.low <= target <= estimate.high, f"{estimate} vs expected {target:g}")


def positive(name: str, estimate: Interval) -> Check:
    """The interval lies above zero."""
    return Check(name, estimate.low > 0, f"{estimate} > 0")


def paired(name: str, larger: np.ndarray, smaller: np.ndarray) -> Check:
    """``larger`` exceeds ``smaller`` on average over replicates ``(R,)``: the interval of the
    per-replicate difference lies above zero (valid however the two are correlated)."""
    return positive(name, mean_interval(np.asarray(larger) - np.asarray(smaller)))


def matches_everywhere(name: str, samples: np.ndarray, expected: np.ndarray, floor: float = 1e-3) -> Check:
    """Replicate means of ``samples`` ``(R, K)`` cover ``expected`` ``(K,)`` at all K points at once.

    Bonferroni: each of the K intervals is at level 1 - 0.001 / K, so the family keeps the
    module's 99.9 %. Where every replicate agrees exactly (zero spread, e.g. on a plateau) the
    expectation can still hold events too rare for R replicates to show (a top-k item missed
    with probability well under 1 / R moves the tails expectations by ~1e-4 of their value); a
    half-width of at least ``floor`` times the expectation absorbs them.
    """
    samples = np.asarray(samples, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    z = float(norm.isf(0.0005 / expected.size))
    mean = samples.mean(axis=0)
    half = np.maximum(z * samples.std(axis=0, ddof=1) / math.sqrt(len(samples)), floor * np.abs(expected))
    score = np.abs(mean - expected) / half
    worst = int(np.argmax(score))
    return Check(
        name,
        bool(np.all(score <= 1)),
        f"worst of {expected.size}: {mean[worst]:.4g} ± {half[worst]:.2g} vs expected {expected[worst]:.4g}",
    )


def save_figure(fig: Any, path: Path, dpi: int = 80) -> None:
    """Lay out, write and close a matplotlib figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    import matplotlib.pyplot as plt

    plt.close(fig)


@dataclass(frozen=True)
class EngineCell:
    """One cell of a run through the engine: its swept values and every metric ``(R, G)``."""

    values: dict[str, Any]
    metrics: dict[str, np.ndarray]


def run_engine(
    raw: dict[str, Any], out: Path | None = None, executor: str = "inline", task_seconds: float = 3600.0
) -> list[EngineCell]:
    """Run a raw config (with or without ``[sweep]``) with :func:`autophagy.run` (validate, run
    folder, tasks, store, as ``autophagy run`` does) and read every cell back as arrays; a
    temporary folder unless ``out``. Recipes run each block in one task (``task_seconds``), so
    no checkpoint is written midway."""
    import tempfile

    from autophagy.api import run

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp) / "run"
        done = run(raw, folder, executor=executor, progress=False, plots=False, task_seconds=task_seconds)
        rows = done.rows()
        planned = done.cells
    by_cell: dict[int, dict[str, dict[tuple[int, int], float]]] = {}
    for cell, replicate, generation, metric, value in rows:
        by_cell.setdefault(cell, {}).setdefault(metric, {})[(replicate, generation)] = value
    cells = []
    for index, cell in enumerate(planned):
        metrics = {}
        for name, table in by_cell.get(index, {}).items():
            reps = 1 + max(r for r, _ in table)
            gens = max(g for _, g in table)
            values = np.full((reps, gens), np.nan)
            for (r, g), v in table.items():
                values[r, g - 1] = v
            metrics[name] = values
        cells.append(EngineCell(dict(cell["values"]), metrics))
    return cells
