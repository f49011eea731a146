"""Metrics as plain functions, and ``METRICS``: the registry configs name them from.

Two kinds, told apart by ``needs``:
- ``"moments"``: closed form from the fitted model's mean and covariance and P_r's;
  called as ``fn(mean (R, d), cov (R, d, d), ref_mean (d,), ref_cov (d, d)) -> (R,)``.
- ``"samples"``: computed from real and synthetic samples; called as
  ``fn(real (R, n, d), synthetic (R, m, d), k=...) -> (R,) or dict of (R,)``, where ``key``
  picks the entry when several metrics share one computation. Every sample metric also takes
  ``max_samples`` and ``rng`` (a subset per set when larger) and raises ``ValueError`` on bad
  shapes, NaNs or too few samples.
- ``"images"``: sample metrics of image rows (pixels, then the class label) that also need the
  real image set: called as ``fn(real, synthetic, k=..., data=<LabelledImages source>)``;
  configs must use an image data source (``digits``, ``mnist``).

Metrics that need inputs the engine does not supply are plain functions, not registered:
``mode_stats`` (known mixture modes), ``total_variation`` / ``kl_divergence`` (discrete
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
from autophagy.metrics.images import image_metrics
from autophagy.metrics.kid import kid
from autophagy.metrics.knn import prdc, precision_recall
from autophagy.metrics.modes import grid_modes, mode_stats
from autophagy.metrics.vendi import synthetic_vendi, vendi_score


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, inputs and a one-line summary."""

    fn: Callable
    higher_is_better: bool
    needs: Literal["moments", "samples", "images"]
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
    "lenet_fid": Metric(image_metrics, False, "images", "FID on features of the cached local LeNet", "fid"),
    "lenet_precision": Metric(
        image_metrics, True, "images", "quality: precision (k-NN balls) on LeNet features", "precision"
    ),
    "lenet_recall": Metric(
        image_metrics, True, "images", "diversity: recall (k-NN balls) on LeNet features", "recall"
    ),
    "lenet_density": Metric(image_metrics, True, "images", "quality: density on LeNet features", "density"),
    "lenet_coverage": Metric(
        image_metrics, True, "images", "diversity: coverage on LeNet features", "coverage"
    ),
    "legibility": Metric(
        image_metrics,
        True,
        "images",
        "share of synthetic images the LeNet labels as the class they were generated for",
        "legibility",
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
    "image_metrics",
    "kid",
    "kl_divergence",
    "mean_drift",
    "mode_stats",
    "prdc",
    "precision_recall",
    "total_variation",
    "trace_cov",
    "vendi_score",
    "wasserstein2_gaussian",
    "wasserstein2_squared",
]
