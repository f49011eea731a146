"""Effective sample size (paper eq. 4) and the fresh-data phase maps (figs. 10-12, 30, 31).

All quantities use P_r = N(0, I_d) and the exact sufficient-statistic simulator:
- the real-only curve E[W2(G(n), P_r)] of a Gaussian fitted on n real samples;
- the fresh-data limit WD(n_r, n_s, lambda) of eq. 3: the mean W2 over the stationary
  tail of the generations, after a burn-in of ``burn_factor / (1 - rho^2)`` generations
  (rho = K n_s / (n_r + n_s) bounds the loop's memory), with a 95 % interval over replicates;
- n_e: the real-only size with the same expected distance, by log-log interpolation of
  the curve; n_e / n_r >= 1 is the admissible region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from autophagy.data import GaussianData
from autophagy.engine import Experiment, run_block
from autophagy.models import GaussianModel
from autophagy.schedule import DataSchedule

Z95 = 1.959964


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo mean with its 95 % confidence interval."""

    value: float
    low: float
    high: float


def _experiment(dim: int, schedule: DataSchedule, generations: int, seed: int) -> Experiment:
    data = GaussianData(np.zeros(dim), np.eye(dim))
    return Experiment(
        seed, generations, schedule, GaussianModel(), data, ("wasserstein2",), simulator="exact"
    )


def w2_by_generation(
    dim: int, schedule: DataSchedule, generations: int, replicates: int, seed: int
) -> np.ndarray:
    """W2 to P_r of every replicate and generation, shape ``(replicates, generations)``."""
    exp = _experiment(dim, schedule, generations, seed)
    return np.stack([m["wasserstein2"] for _, m in run_block(exp, range(replicates))], axis=1)


@dataclass(frozen=True)
class Curve:
    """E[W2(G(n), P_r)] of real-only fits: ``sizes`` ``(m,)``, ``mean`` and standard error ``(m,)``."""

    sizes: np.ndarray
    mean: np.ndarray
    se: np.ndarray


def real_only_curve(dim: int, sizes: np.ndarray, replicates: int, seed: int) -> Curve:
    """E[W2(G(n), P_r)] for each real-only training size n in ``sizes``, with standard errors."""
    means, ses = [], []
    for n in sizes:
        schedule = DataSchedule(n_ini=int(n), fixed_real=0, fresh_real=0, synthetic=0, sampling_bias=1.0)
        w2 = w2_by_generation(dim, schedule, 1, replicates, seed)[:, 0]
        means.append(w2.mean())
        ses.append(w2.std(ddof=1) / math.sqrt(replicates))
    return Curve(np.asarray(sizes, dtype=np.float64), np.asarray(means), np.asarray(ses))


def burn_in(n_real: int, n_synthetic: int, from_latest: int, burn_factor: float, max_generations: int) -> int:
    """Generations before the fresh-data loop is treated as stationary: second moments forget
    the start like rho^(2t), so ``burn_factor / (1 - rho^2)`` generations leave e^-burn_factor."""
    memory = min(1.0, from_latest * n_synthetic / (n_real + n_synthetic))
    if memory >= 1:
        return max_generations
    return min(max_generations, math.ceil(burn_factor / (1 - memory**2)))


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
    burn_factor: float = 4.0,
    max_generations: int = 400,
) -> Estimate:
    """WD(n_r, n_s, lambda): mean W2 over the stationary tail, with a 95 % interval."""
    burn = burn_in(n_real, n_synthetic, from_latest, burn_factor, max_generations)
    schedule = DataSchedule(
        n_ini=n_real + n_synthetic,
        fixed_real=0,
        fresh_real=n_real,
        synthetic=n_synthetic,
        sampling_bias=sampling_bias,
        from_latest=from_latest,
    )
    per_replicate = w2_by_generation(dim, schedule, burn + tail, replicates, seed)[:, burn:].mean(axis=1)
    half = Z95 * per_replicate.std(ddof=1) / math.sqrt(replicates)
    mean = float(per_replicate.mean())
    return Estimate(mean, mean - half, mean + half)


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
