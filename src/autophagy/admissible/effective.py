"""The effective sample size n_e (paper eq. 4): the loop's stationary limit, the real-only
curve, and the inversion of one into the other. The one home of n_e, any model.

- the limit WD(n_r, n_s, lambda) (eq. 3): the mean metric over a window of generations once the
  loop is stationary (:func:`stationary_window`), with a Student-t 95 % interval over
  replicates (:mod:`autophagy.core.stats`); the burn-in it took is recorded;
- the real-only curve: the metric of a model trained once on n real samples, for n on a grid,
  mean and standard error over replicates;
- n_e: the real-only size with the same expected metric (:func:`effective_size`);
  n_e / n_r >= 1 is the admissible region.

Every loop runs through :func:`autophagy.api.run` into a run folder (``folder``; a temporary
one when None), metrics computed only on the generations the stationarity test reads
(``metrics.generations``), and is read back from the run's table. A loop runs in stages
(:func:`stage_ends`) so that one stationary early stops early; the stages share their random
streams, so the limit does not depend on where they stop, and a killed stage resumes.
"""

from __future__ import annotations

import contextlib
import copy
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autophagy.api import run as run_loops
from autophagy.core.stats import Estimate, mean, replicate_slopes
from autophagy.running.config import set_key

Z95 = 1.959964
W2 = "wasserstein2"  # closed form (moment_w2) for Gaussian fits: W2 of the fitted Gaussian to P_r


def _mean(samples: np.ndarray) -> Estimate:
    """:func:`autophagy.core.stats.mean`; a single replicate gets an infinite interval."""
    x = np.asarray(samples, dtype=np.float64)
    return mean(x) if x.size >= 2 else Estimate(float(x.mean()), math.inf, math.inf, int(x.size))


@dataclass(frozen=True)
class Limit:
    """A stationary limit: the window's mean over replicates (``estimate``), the burn-in
    (generations before the window), whether the flatness test passed (False: the cap on the
    burn-in was reached first), and each replicate's window mean."""

    estimate: Estimate
    burn_in: int = 0
    flat: bool = True
    per_replicate: tuple[float, ...] = ()

    @property
    def value(self) -> float:
        return self.estimate.value

    @property
    def low(self) -> float:
        return self.estimate.interval(0.05)[0]

    @property
    def high(self) -> float:
        return self.estimate.interval(0.05)[1]


@dataclass(frozen=True)
class Flatness:
    """The trend test of one window: mean drift over the window, its mean level, the verdict."""

    drift: Estimate
    level: float
    flat: bool


def flat_window(values: np.ndarray, tolerance: float, generations: np.ndarray | None = None) -> Flatness:
    """Is the metric stationary over this window? ``values`` ``(R, w)``: replicates x generations.

    Each replicate's least-squares slope over the window's ``generations`` (default 1..w) times
    the window's span is its drift (the replicates are independent, so their mean has a valid
    Student-t interval however autocorrelated one replicate's generations are). The window is
    flat unless the drift's 95 % interval lies wholly outside ``+-tolerance * |level|``: a trend
    the replicates cannot tell from a small one is not worth waiting for.
    """
    values = np.asarray(values, dtype=np.float64)
    gens = (
        np.arange(values.shape[1], dtype=np.float64)
        if generations is None
        else np.asarray(generations, float)
    )
    span = float(gens[-1] - gens[0])
    slopes = replicate_slopes(values, gens) if span > 0 else np.zeros(len(values))
    drift = _mean(slopes * span)
    low, high = drift.interval(0.05)
    level = float(values.mean())
    bound = tolerance * abs(level)
    return Flatness(drift, level, bool(low <= bound and high >= -bound))


def stationarity_windows(window: int, max_generations: int) -> list[np.ndarray]:
    """The windows tried in turn, as the generations measured in each.

    Candidate burn-ins b = ceil(window / 4), then doubling; the window after b spans
    L = max(window, b // 2) generations (b+1 .. b+L), so a loop still approaching its limit
    with a time constant up to about b shows a drift of a sizeable share of its remaining gap;
    ``window`` evenly spaced generations of it are measured. Windows must end by
    ``max_generations``; the last one ends there (b = 2/3 of it), the cap.
    """
    window = min(window, max_generations)
    out, b = [], max(1, math.ceil(window / 4))
    while b + max(window, b // 2) <= max_generations:
        out.append(b)
        b *= 2
    last = max(out[-1] + 1 if out else 0, 2 * max_generations // 3)
    if last + window <= max_generations or not out:
        out.append(min(last, max(0, max_generations - window)))
    return [
        np.unique(
            np.linspace(b + 1, b + max(window, (max_generations - b) if b == out[-1] else b // 2), window)
            .round()
            .astype(int)
        )
        for b in out
    ]


def stage_ends(windows: list[np.ndarray]) -> list[int]:
    """The generations a loop runs to in turn: the first window's end, then window ends at least
    twice the last stage (each stage reruns from generation 1, so the work stays within about
    twice that of stopping at the first flat window), then the cap."""
    ends = [int(w[-1]) for w in windows]
    out = [ends[0]]
    for end in ends[1:]:
        if end >= 2 * out[-1] or end == ends[-1]:
            out.append(end)
    return out


def first_flat(windows: list[np.ndarray], seen: Mapping[int, np.ndarray], tolerance: float) -> Limit | None:
    """The limit from the first flat window, or from the last one (not flat: the cap); None when
    ``seen`` (generation -> values ``(R,)``) ends before that window does."""
    for i, gens in enumerate(windows):
        if any(int(g) not in seen for g in gens):
            return None
        values = np.stack([seen[int(g)] for g in gens], axis=1)
        test = flat_window(values, tolerance, gens)
        if test.flat or i == len(windows) - 1:
            per = values.mean(axis=1)
            return Limit(_mean(per), int(gens[0]) - 1, test.flat, tuple(per.tolist()))
    return None


def stationary_window(
    states: Iterable[object],
    measure: Callable[[object], np.ndarray],
    *,
    window: int = 20,
    tolerance: float = 0.01,
    max_generations: int = 400,
) -> Limit:
    """The limit of a loop from its successive ``states`` (one per generation, numbered from 1),
    ``measure(state)`` -> ``(R,)`` taken only on generations some window reads (see
    :func:`first_flat`); ``states`` must run to ``max_generations``."""
    windows = stationarity_windows(window, max_generations)
    wanted = set(np.concatenate(windows).tolist())
    ends = {int(g[-1]) for g in windows}
    seen: dict[int, np.ndarray] = {}
    for t, state in enumerate(states, start=1):
        if t in wanted:
            seen[t] = np.asarray(measure(state), dtype=np.float64)
        limit = first_flat(windows, seen, tolerance) if t in ends else None
        if limit is not None:
            return limit
    raise ValueError("the loop ended before a stationary window was found; run more generations")


# --- loops through autophagy.api.run ---------------------------------------------------------


@contextlib.contextmanager
def temporary_folder(folder: Path | None) -> Iterator[Path]:
    """``folder``, or a temporary one removed afterwards."""
    if folder is not None:
        yield Path(folder)
        return
    with tempfile.TemporaryDirectory(prefix="autophagy-ne-") as tmp:
        yield Path(tmp) / "run"


def run_values(
    raw: dict[str, Any],
    out: Path,
    metric: str,
    key: str = "generation",
    executor: str = "inline",
    workers: int | None = None,
) -> dict[Any, np.ndarray]:
    """Run (or resume) ``raw`` into ``out`` with :func:`autophagy.api.run`; ``metric``'s values
    ``(R,)`` by ``key`` (a generation, or a swept key at generation 1), replicates in order."""
    table = run_loops(raw, out, executor=executor, workers=workers, progress=False, plots=False).table()
    table = table[table["metric"] == metric].sort_values([key, "replicate"])
    return {k: group["value"].to_numpy(np.float64) for k, group in table.groupby(key, sort=True)}


def loop_limit(
    raw: dict[str, Any],
    metric: str,
    folder: Path | None = None,
    *,
    window: int = 20,
    tolerance: float = 0.01,
    max_generations: int = 400,
) -> Limit:
    """The stationary limit of ``raw``'s loop: run in stages (:func:`stage_ends`), one run folder
    ``folder/gNNNN`` each, ``metric`` computed only on the windows' generations."""
    windows = stationarity_windows(window, max_generations)
    measured = sorted(set(np.concatenate(windows).tolist()))
    with temporary_folder(folder) as root:
        for end in stage_ends(windows):
            stage = copy.deepcopy(raw)
            stage["generations"] = end
            set_key(stage, "metrics.names", [metric])
            set_key(stage, "metrics.generations", [int(g) for g in measured if g <= end])
            limit = first_flat(windows, run_values(stage, root / f"g{end:04d}", metric), tolerance)
            if limit is not None:
                return limit
    raise AssertionError("the last stage ends with the last window")  # pragma: no cover


@dataclass(frozen=True)
class Curve:
    """The real-only curve: ``sizes`` ``(m,)``, the metric's ``mean`` and standard error ``(m,)``."""

    sizes: np.ndarray
    mean: np.ndarray
    se: np.ndarray


def real_only_values(
    raw: dict[str, Any], metric: str, sizes: list[int], out: Path, workers: int | None = None
) -> Curve:
    """The metric at generation 1 of ``raw`` with ``loop.n_ini`` = each of ``sizes``: one sweep
    run into ``out`` (workers processes; 1: this one)."""
    raw = {**copy.deepcopy(raw), "generations": 1, "sweep": {"grid": {"loop.n_ini": [int(n) for n in sizes]}}}
    executor = "inline" if workers == 1 else "local"
    values = run_values(raw, out, metric, key="loop.n_ini", executor=executor, workers=workers)
    points = [values[int(n)] for n in sizes]
    mean = np.array([v.mean() for v in points])
    se = np.array([v.std(ddof=1) / math.sqrt(len(v)) for v in points])
    return Curve(np.asarray(sizes, dtype=np.float64), mean, se)


# --- the inversion ----------------------------------------------------------------------------


def monotone(sizes: np.ndarray, mean: np.ndarray, se: np.ndarray, increasing: bool) -> np.ndarray:
    """Weighted least-squares monotone fit of ``mean`` over sorted ``sizes`` (pool adjacent violators)."""
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(sign * mean, 1.0 / np.maximum(se, 1e-12) ** 2, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return sign * np.concatenate([[v] * c for v, _, c in blocks])


def invert(value: float, curve: Curve, higher_is_better: bool, log_value: bool = False) -> tuple[float, bool]:
    """The size n whose monotone-fitted curve equals ``value``, interpolated in log n (and in
    log value with ``log_value``: exact on a power law), and whether it was clipped to the
    curve's ends."""
    fit = monotone(curve.sizes, curve.mean, curve.se, increasing=higher_is_better)
    keep = np.r_[True, np.diff(fit) != 0]  # flat stretches: their first size
    xs, logs = fit[keep], np.log(curve.sizes[keep])
    if not higher_is_better:
        xs, logs = xs[::-1], logs[::-1]
    censored = not xs[0] <= value <= xs[-1]
    if log_value:
        xs, value = np.log(xs), math.log(max(value, 1e-12))
    return float(np.exp(np.interp(value, xs, logs))), censored


@dataclass(frozen=True)
class EffectiveSize:
    """n_e (or n_e / n_r, :meth:`per`) with its 95 % interval, asymmetric as it inverts a
    curve, and whether n_e was clipped to the curve's ends."""

    value: float
    low: float
    high: float
    censored: bool = False

    def per(self, n_real: int) -> EffectiveSize:
        return EffectiveSize(self.value / n_real, self.low / n_real, self.high / n_real, self.censored)


def effective_size(
    limit: Limit, curve: Curve, higher_is_better: bool, log_value: bool = False
) -> EffectiveSize:
    """n_e with its 95 % interval: the limit's interval widened by the curve's own Monte-Carlo
    error at n_e (the two are independent), inverted."""
    n_e, censored = invert(limit.value, curve, higher_is_better, log_value)
    se = float(np.interp(math.log(n_e), np.log(curve.sizes), curve.se))
    half = math.hypot(limit.high - limit.value, Z95 * se)
    worse, better = (-half, half) if higher_is_better else (half, -half)
    low = invert(limit.value + worse, curve, higher_is_better, log_value)[0]
    high = invert(limit.value + better, curve, higher_is_better, log_value)[0]
    return EffectiveSize(n_e, low, high, censored)


def effective_ratio(limit: Limit, n_real: int, curve: Curve) -> EffectiveSize:
    """n_e / n_r of a W2 limit (lower is better, log-log interpolation)."""
    return effective_size(limit, curve, higher_is_better=False, log_value=True).per(n_real)
