"""Effective sample size (paper eq. 4) and the fresh-data limit (eq. 3), with stationarity detected.

Reference P_r = N(0, I_d) and the exact sufficient-statistic simulator:
- the real-only curve E[W2(G(n), P_r)] of a Gaussian fitted on n real samples;
- the fresh-data limit WD(n_r, n_s, lambda): the mean W2 over a window of ``window``
  generations once the loop is stationary (:func:`stationary_window`), with a Student-t 95 %
  interval over replicates; the burn-in it took is recorded;
- n_e: the real-only size with the same expected distance, by log-log interpolation of
  the curve; n_e / n_r >= 1 is the admissible region.

Speed: the loop runs without metrics and W2 is computed only on the windows the
stationarity test reads, in closed form against N(0, I) (one ``eigvalsh`` per replicate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from autophagy.core.schedule import DataSchedule
from autophagy.data import GaussianData
from autophagy.loop.engine import Experiment, run_block
from autophagy.models import GaussianModel
from autophagy.running.executors import parallel_map

Z95 = 1.959964


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo mean with its 95 % confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Limit(Estimate):
    """A stationary limit: the window's mean over replicates with its 95 % interval, the
    burn-in (generations before the window), and whether the flatness test passed (False:
    the cap on the burn-in was reached first)."""

    burn_in: int = 0
    flat: bool = True
    per_replicate: tuple[float, ...] = ()


def t_interval(samples: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean of ``samples`` ``(R,)`` with its Student-t interval (R - 1 degrees of freedom)."""
    samples = np.asarray(samples, dtype=np.float64)
    mean = float(samples.mean())
    if len(samples) < 2:
        return Estimate(mean, -math.inf, math.inf)
    half = float(
        stats.t.ppf(0.5 + level / 2, len(samples) - 1) * samples.std(ddof=1) / math.sqrt(len(samples))
    )
    return Estimate(mean, mean - half, mean + half)


def w2_to_standard(mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """W2 between N(mean, cov) and N(0, I), batched over leading axes (``(..., d)``, ``(..., d, d)``).

    With eigenvalues l_i of cov: W2^2 = |mean|^2 + sum_i (sqrt(l_i) - 1)^2, the closed form of
    |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2) at S2 = I; lower is better.
    """
    eig = np.clip(np.linalg.eigvalsh(cov), 0.0, None)
    return np.sqrt(np.sum(np.asarray(mean) ** 2, axis=-1) + np.sum((np.sqrt(eig) - 1.0) ** 2, axis=-1))


@dataclass(frozen=True)
class Flatness:
    """The trend test of one window: mean drift over the window with its 95 % interval, the
    window's mean level, and the verdict."""

    drift: Estimate
    level: float
    flat: bool


def flat_window(values: np.ndarray, tolerance: float, generations: np.ndarray | None = None) -> Flatness:
    """Is the metric stationary over this window? ``values`` ``(R, w)``: replicates x generations.

    Each replicate's least-squares slope over the window's ``generations`` (default 1..w)
    times the window's span is its drift (the
    replicates are independent, so their mean has a valid Student-t interval however strongly
    a replicate's generations are autocorrelated). The window is flat unless the drift is
    significantly larger than ``tolerance * |level|`` in either direction, i.e. unless its 95 %
    interval lies wholly outside ``+-tolerance * |level|``: a trend the replicates cannot tell
    from a small one is not worth waiting for, since the limit's own interval is as wide.
    """
    values = np.asarray(values, dtype=np.float64)
    gens = (
        np.arange(values.shape[1], dtype=np.float64)
        if generations is None
        else np.asarray(generations, float)
    )
    x = gens - gens.mean()
    span = float(gens[-1] - gens[0])
    slopes = values @ x / np.sum(x**2) if span > 0 else np.zeros(len(values))
    drift = t_interval(slopes * span)
    level = float(values.mean())
    bound = tolerance * abs(level)
    return Flatness(drift, level, bool(drift.low <= bound and drift.high >= -bound))


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


def stationary_window(
    states: Iterable[object],
    measure: Callable[[object], np.ndarray],
    *,
    window: int = 20,
    tolerance: float = 0.01,
    max_generations: int = 400,
) -> Limit:
    """The limit of a loop from its successive ``states`` (one per generation, numbered from 1).

    The windows of :func:`stationarity_windows` are tested in turn with :func:`flat_window`
    (the slope over the generations measured); the metric is measured (``measure(state)`` ->
    ``(R,)``) only on generations some window reads, once each. The first flat window, or the
    last one (``flat`` False: the cap was reached), gives the limit: each replicate's mean over
    the window, then their Student-t interval; its first generation - 1 is the burn-in.
    ``states`` must run to generation ``max_generations``.
    """
    windows = stationarity_windows(window, max_generations)
    wanted = set(np.concatenate(windows).tolist())
    ends = {int(g[-1]): g for g in windows}
    seen: dict[int, np.ndarray] = {}
    for t, state in enumerate(states, start=1):
        if t in wanted:
            seen[t] = np.asarray(measure(state), dtype=np.float64)
        if t not in ends:
            continue
        gens = ends[t]
        values = np.stack([seen[int(g)] for g in gens], axis=1)
        test = flat_window(values, tolerance, gens)
        if test.flat or t == int(windows[-1][-1]):
            per = values.mean(axis=1)
            est = t_interval(per)
            return Limit(est.value, est.low, est.high, int(gens[0]) - 1, test.flat, tuple(per.tolist()))
    raise ValueError("the loop ended before a stationary window was found; run more generations")


def _experiment(dim: int, schedule: DataSchedule, generations: int, seed: int, metrics=("wasserstein2",)):
    data = GaussianData(np.zeros(dim), np.eye(dim))
    return Experiment(seed, generations, schedule, GaussianModel(), data, tuple(metrics), simulator="exact")


def w2_by_generation(
    dim: int, schedule: DataSchedule, generations: int, replicates: int, seed: int
) -> np.ndarray:
    """W2 to P_r of every replicate and generation, shape ``(replicates, generations)``."""
    exp = _experiment(dim, schedule, generations, seed, metrics=())
    return np.stack([_w2(state) for state, _ in run_block(exp, range(replicates))], axis=1)


def _w2(state) -> np.ndarray:
    model = state.models[0]
    return w2_to_standard(model.mean, model.cov)


@dataclass(frozen=True)
class Curve:
    """E[W2(G(n), P_r)] of real-only fits: ``sizes`` ``(m,)``, ``mean`` and standard error ``(m,)``."""

    sizes: np.ndarray
    mean: np.ndarray
    se: np.ndarray


def curve_point(dim: int, n: int, replicates: int, seed: int) -> tuple[float, float]:
    """E[W2(G(n), P_r)] of one real-only size n, and its standard error."""
    schedule = DataSchedule(n_ini=int(n), fixed_real=0, fresh_real=0, synthetic=0, sampling_bias=1.0)
    with threadpool_limits(limits=1, user_api="blas"):  # d x d products: threads only contend
        w2 = w2_by_generation(dim, schedule, 1, replicates, seed)[:, 0]
    return float(w2.mean()), float(w2.std(ddof=1) / math.sqrt(replicates))


def real_only_curve(dim: int, sizes: np.ndarray, replicates: int, seed: int, *, workers: int = 1) -> Curve:
    """E[W2(G(n), P_r)] for each real-only training size n in ``sizes``, with standard errors."""
    points = parallel_map(curve_point, [(dim, int(n), replicates, seed) for n in sizes], workers)
    mean, se = (np.array(v) for v in zip(*points, strict=True))
    return Curve(np.asarray(sizes, dtype=np.float64), mean, se)


def fresh_limit(
    dim: int,
    n_real: int,
    n_synthetic: int,
    sampling_bias: float,
    *,
    from_latest: int = 1,
    replicates: int = 200,
    seed: int = 0,
    tail: int = 20,
    tolerance: float = 0.01,
    max_generations: int = 400,
) -> Limit:
    """WD(n_r, n_s, lambda): mean W2 over the first stationary window (:func:`stationary_window`,
    ``tail`` generations measured per window, the loop capped at ``max_generations``), with a
    Student-t 95 % interval over replicates."""
    schedule = DataSchedule(
        n_ini=n_real + n_synthetic,
        fixed_real=0,
        fresh_real=n_real,
        synthetic=n_synthetic,
        sampling_bias=sampling_bias,
        from_latest=from_latest,
    )
    exp = _experiment(dim, schedule, max_generations, seed, metrics=())
    states = (state for state, _ in run_block(exp, range(replicates)))
    with threadpool_limits(limits=1, user_api="blas"):  # d x d products: threads only contend
        return stationary_window(
            states, _w2, window=tail, tolerance=tolerance, max_generations=max_generations
        )


def invert_curve(distance: float, curve: Curve) -> float:
    """The size n with E[W2(G(n))] = ``distance`` (log-log interpolation, clipped to the sizes)."""
    order = np.argsort(curve.mean)  # the curve decreases with n
    log_n = np.interp(np.log(distance), np.log(curve.mean[order]), np.log(curve.sizes[order]))
    return float(np.exp(log_n))


def effective_ratio(limit: Estimate, n_real: int, curve: Curve) -> Estimate:
    """n_e / n_r; its 95 % interval inverts the limit's interval widened by the curve's own
    Monte-Carlo error at that distance (the two estimates are independent)."""
    n_e = invert_curve(limit.value, curve)
    curve_se = float(np.interp(np.log(n_e), np.log(curve.sizes), curve.se))
    half = math.hypot(limit.high - limit.value, Z95 * curve_se)
    low = invert_curve(limit.value + half, curve)  # a larger distance means fewer samples
    high = invert_curve(max(limit.value - half, 1e-12), curve)
    return Estimate(n_e / n_real, low / n_real, high / n_real)
