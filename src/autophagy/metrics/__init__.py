"""Metrics as plain functions, and ``METRICS``: the registry configs name them from.

Three kinds, told apart by ``needs``:
- ``"moments"``: closed form from the fitted model's mean and covariance and P_r's;
  called as ``fn(mean (R, d), cov (R, d, d), ref_mean (d,), ref_cov (d, d)) -> (R,)``.
- ``"samples"``: computed from real and synthetic samples; called as
  ``fn(real (R, n, d), synthetic (R, m, d), k=...) -> (R,) or dict of (R,)``, where ``key``
  picks the entry when several metrics share one computation. Every sample metric also takes
  ``max_samples`` and ``rng`` (a subset per set when larger) and raises ``ValueError`` on bad
  shapes, NaNs or too few samples.
- ``"modes"``: sample metrics that also need P_r's known modes; called as
  ``fn(real, synthetic, k=..., data=source)`` where ``source`` has ``modes`` ``(K, d)`` and
  ``mode_std`` (the mixture sources ``mode_grid`` and ``ring``).

Metrics that need inputs the engine does not supply are plain functions, not registered:
``mode_stats`` with other settings, ``total_variation`` / ``kl_divergence`` (discrete
distributions), and ``fid`` with a non-identity feature extractor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from autophagy.metrics.discrete import histogram, kl_divergence, total_variation
from autophagy.metrics.features import (
    EXTRACTORS,
    FeatureExtractor,
    Identity,
    RandomProjection,
    TorchFeatures,
    fid,
)
from autophagy.metrics.gaussian import (
    frechet_distance,
    mean_drift,
    trace_cov,
    wasserstein2_gaussian,
    wasserstein2_squared,
)
from autophagy.metrics.kid import kid
from autophagy.metrics.knn import prdc, precision_recall
from autophagy.metrics.modes import grid_modes, known_mode_stats, mode_stats
from autophagy.metrics.tails import tail_share
from autophagy.metrics.vendi import synthetic_vendi, vendi_score


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, inputs and a one-line summary."""

    fn: Callable
    higher_is_better: bool
    needs: Literal["moments", "samples", "modes"]
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
        lambda real, synthetic, k=None, **kw: fid(real, synthetic, **kw),
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
    "density": Metric(
        prdc, True, "samples", "quality: real k-NN balls holding each synthetic sample / k", "density"
    ),
    "coverage": Metric(
        prdc, True, "samples", "diversity: share of real k-NN balls holding a synthetic sample", "coverage"
    ),
    "kid": Metric(
        lambda real, synthetic, k=None, **kw: kid(real, synthetic, **kw),
        False,
        "samples",
        "unbiased MMD^2 with the cubic kernel (x.y/d + 1)^3 between real and synthetic samples",
    ),
    "vendi": Metric(
        lambda real, synthetic, k=None, **kw: synthetic_vendi(real, synthetic, **kw),
        True,
        "samples",
        "diversity: Vendi score (effective number of distinct directions) of the synthetic samples",
    ),
    "modes_covered": Metric(
        known_mode_stats,
        True,
        "modes",
        "diversity: known modes holding a synthetic sample within 3 std (mode_grid, ring)",
        "modes_covered",
    ),
    "high_quality": Metric(
        known_mode_stats,
        True,
        "modes",
        "quality: synthetic share within 3 std of a known mode (0.989 when matched)",
        "high_quality",
    ),
    "mode_variance": Metric(
        known_mode_stats,
        True,
        "modes",
        "diversity: mean per-mode variance of the high-quality samples (paper fig. 15)",
        "mode_variance",
    ),
    "tail_share": Metric(
        lambda real, synthetic, k=None, **kw: tail_share(real, synthetic, **kw),
        True,
        "samples",
        "diversity: synthetic share beyond the real 95 % Mahalanobis radius (0.05 when matched)",
    ),
}

__all__ = [
    "EXTRACTORS",
    "METRICS",
    "FeatureExtractor",
    "Identity",
    "Metric",
    "RandomProjection",
    "TorchFeatures",
    "fid",
    "frechet_distance",
    "grid_modes",
    "histogram",
    "kid",
    "kl_divergence",
    "known_mode_stats",
    "mean_drift",
    "mode_stats",
    "prdc",
    "precision_recall",
    "tail_share",
    "total_variation",
    "trace_cov",
    "vendi_score",
    "wasserstein2_gaussian",
    "wasserstein2_squared",
]
