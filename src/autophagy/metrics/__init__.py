"""Metrics as plain functions, and ``METRICS``: the registry configs name them from.

Two kinds, told apart by ``needs``:
- ``"moments"``: closed form from the fitted model's mean and covariance and P_r's;
  called as ``fn(mean (R, d), cov (R, d, d), ref_mean (d,), ref_cov (d, d)) -> (R,)``.
- ``"samples"``: computed from real and synthetic samples; called as
  ``fn(real (R, n, d), synthetic (R, m, d), k=...) -> (R,) or dict of (R,)``, where ``key``
  picks the entry when several metrics share one computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from autophagy.metrics.gaussian import (
    frechet_distance,
    mean_drift,
    trace_cov,
    wasserstein2_gaussian,
    wasserstein2_squared,
)
from autophagy.metrics.knn import precision_recall


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, inputs and a one-line summary."""

    fn: Callable
    higher_is_better: bool
    needs: Literal["moments", "samples"]
    summary: str
    key: str | None = None


METRICS: dict[str, Metric] = {
    "wasserstein2": Metric(
        lambda m, c, m0, c0: wasserstein2_gaussian(m0, c0, m, c),  # reference first: one root
        False,
        "moments",
        "closed-form W2 (not squared) between the fitted Gaussian and P_r",
    ),
    "trace_cov": Metric(
        lambda m, c, m0, c0: trace_cov(c), False, "moments", "total variance tr(Sigma_t) of the fit"
    ),
    "mean_drift": Metric(
        lambda m, c, m0, c0: mean_drift(m, m0), False, "moments", "|mu_t - mu0|, the mean's random walk"
    ),
    "frechet": Metric(
        lambda real, synthetic, k: frechet_distance(real, synthetic),
        False,
        "samples",
        "Frechet distance (squared, as FID) between Gaussian fits of real and synthetic samples",
    ),
    "precision": Metric(
        precision_recall, True, "samples", "quality: synthetic share inside real k-NN balls", "precision"
    ),
    "recall": Metric(
        precision_recall, True, "samples", "diversity: real share inside synthetic k-NN balls", "recall"
    ),
}

__all__ = [
    "METRICS",
    "Metric",
    "frechet_distance",
    "mean_drift",
    "precision_recall",
    "trace_cov",
    "wasserstein2_gaussian",
    "wasserstein2_squared",
]
