"""Metrics as plain functions, and ``METRICS``: the registry configs name them from.

Five kinds, told apart by ``needs``:
- ``"moments"``: closed form from the fitted model's mean and covariance and P_r's;
  called as ``fn(mean (R, d), cov (R, d, d), ref_mean (d,), ref_cov (d, d)) -> (R,)``.
- ``"samples"``: computed from real and synthetic samples; called as
  ``fn(real (R, n, d), synthetic (R, m, d), k=...) -> (R,) or dict of (R,)``, where ``key``
  picks the entry when several metrics share one computation. Every sample metric also takes
  ``max_samples`` and ``rng`` (a subset per set when larger) and raises ``ValueError`` on bad
  shapes, NaNs or too few samples.
- ``"model"``: computed from the fitted model and the data source (the known truth, or
  held-out real data drawn from it); called as ``fn(model, data, *, rng) -> (R,)`` with one
  generator per replicate from the stream ``metric:<name>``. ``models`` / ``data`` list the
  plug-in kinds such a metric accepts (empty = any); configs are checked against them.
- ``"modes"``: sample metrics that also need P_r's known modes; called as
  ``fn(real, synthetic, k=..., data=source)`` where ``source`` has ``modes`` ``(K, d)`` and
  ``mode_std`` (the mixture sources ``mode_grid`` and ``ring``).
- ``"images"``: sample metrics of image rows (pixels, then the class label) that also need the
  real image set: called as ``fn(real, synthetic, k=..., data=<LabelledImages source>)``;
  configs must use an image data source (``digits``, ``mnist``).

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
from autophagy.metrics.images import image_metrics
from autophagy.metrics.kid import kid
from autophagy.metrics.knn import prdc, precision_recall
from autophagy.metrics.modes import grid_modes, known_mode_stats, mode_stats
from autophagy.metrics.tails import tail_share
from autophagy.metrics.text import cross_entropy, cross_entropy_true, distinct_n, lexical, tail_mass, zipf_fit
from autophagy.metrics.truth import gini_simpson, surviving, test_error, true_tv
from autophagy.metrics.vendi import synthetic_vendi, vendi_score


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, inputs and a one-line summary."""

    fn: Callable
    higher_is_better: bool
    needs: Literal["moments", "samples", "model", "modes", "images"]
    summary: str
    key: str | None = None
    models: tuple[str, ...] = ()  # model kinds a "model" metric accepts (empty = any)
    data: tuple[str, ...] = ()  # data kinds it accepts (empty = any)


def _lexical(real, synthetic, k=None, **kw):
    return lexical(real, synthetic, **kw)


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
    "gini_simpson": Metric(
        gini_simpson,
        True,
        "model",
        "1 - sum p_k^2 of the fitted discrete distribution (E = (1 - 1/n)^t (1 - sum p0^2), replace loop)",
        models=("categorical", "memorizer"),
    ),
    "surviving": Metric(
        surviving,
        True,
        "model",
        "outcomes the fitted model can still produce",
        models=("categorical", "memorizer"),
    ),
    "true_tv": Metric(
        true_tv,
        False,
        "model",
        "total variation between the fitted and the true discrete distribution",
        models=("categorical", "memorizer"),
        data=("categorical", "zipf"),
    ),
    "cross_entropy": Metric(
        cross_entropy,
        False,
        "model",
        "nats per token of held-out real text under the fitted language model",
        models=("ngram", "transformer"),
        data=("text_grammar", "text_file"),
    ),
    "cross_entropy_true": Metric(
        cross_entropy_true,
        False,
        "model",
        "exact H(P, Q) / L against the built-in language (>= its entropy rate)",
        models=("ngram",),
        data=("text_grammar",),
    ),
    **{
        name: Metric(_lexical, True, "samples", summary, name)
        for name, summary in {
            "type_token_ratio": "distinct tokens / tokens of the synthetic text (distinct-1)",
            "distinct_2": "distinct bigrams / bigrams of the synthetic text",
            "distinct_3": "distinct trigrams / trigrams of the synthetic text",
            "unigram_entropy": "entropy (nats) of the synthetic text's token frequencies",
            "tail_mass": "share of synthetic tokens outside the real head (types holding 90 % of real text)",
        }.items()
    },
    "zipf_exponent": Metric(
        _lexical,
        False,
        "samples",
        "fitted s of count ~ rank^-s in the synthetic text (steeper = narrower)",
        "zipf_exponent",
    ),
    "test_error": Metric(
        test_error,
        False,
        "model",
        "memoriser's exact error on (item, answer) pairs from the truth; unseen items are errors",
        models=("memorizer",),
        data=("zipf",),
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
    "cross_entropy",
    "cross_entropy_true",
    "distinct_n",
    "fid",
    "frechet_distance",
    "gini_simpson",
    "grid_modes",
    "histogram",
    "image_metrics",
    "kid",
    "kl_divergence",
    "known_mode_stats",
    "lexical",
    "mean_drift",
    "mode_stats",
    "prdc",
    "precision_recall",
    "surviving",
    "tail_mass",
    "tail_share",
    "test_error",
    "total_variation",
    "trace_cov",
    "true_tv",
    "vendi_score",
    "wasserstein2_gaussian",
    "wasserstein2_squared",
    "zipf_fit",
]
