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
from autophagy.registry import METRICS, Metric, register_metric


def _lexical(real, synthetic, k=None, **kw):
    return lexical(real, synthetic, **kw)


register_metric(
    "wasserstein2",
    lambda m, c, m0, c0: wasserstein2_gaussian(m0, c0, m, c),
    higher_is_better=False,
    needs="moments",
    summary="closed-form W2 (not squared) between the fitted Gaussian and P_r",
)
register_metric(
    "trace_cov",
    lambda m, c, m0, c0: trace_cov(c),
    higher_is_better=False,
    needs="moments",
    summary="total variance tr(Sigma_t) of the fit",
)
register_metric(
    "mean_drift",
    lambda m, c, m0, c0: mean_drift(m, m0),
    higher_is_better=False,
    needs="moments",
    summary="|mu_t - mu0|, the mean's random walk",
)
register_metric(
    "frechet",
    lambda real, synthetic, k=None, **kw: fid(real, synthetic, **kw),
    higher_is_better=False,
    needs="samples",
    summary="Frechet distance (squared, as FID) between Gaussian fits of real and synthetic samples",
)
register_metric(
    "precision",
    precision_recall,
    higher_is_better=True,
    needs="samples",
    summary="quality: synthetic share inside real k-NN balls",
    key="precision",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "recall",
    precision_recall,
    higher_is_better=True,
    needs="samples",
    summary="diversity: real share inside synthetic k-NN balls",
    key="recall",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "density",
    prdc,
    higher_is_better=True,
    needs="samples",
    summary="quality: real k-NN balls holding each synthetic sample / k",
    key="density",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "coverage",
    prdc,
    higher_is_better=True,
    needs="samples",
    summary="diversity: share of real k-NN balls holding a synthetic sample",
    key="coverage",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "kid",
    lambda real, synthetic, k=None, **kw: kid(real, synthetic, **kw),
    higher_is_better=False,
    needs="samples",
    summary="unbiased MMD^2 with the cubic kernel (x.y/d + 1)^3 between real and synthetic samples",
)
register_metric(
    "vendi",
    lambda real, synthetic, k=None, **kw: synthetic_vendi(real, synthetic, **kw),
    higher_is_better=True,
    needs="samples",
    summary="diversity: Vendi score (effective number of distinct directions) of the synthetic samples",
)
register_metric(
    "gini_simpson",
    gini_simpson,
    higher_is_better=True,
    needs="model",
    summary="1 - sum p_k^2 of the fitted discrete distribution (E = (1 - 1/n)^t (1 - sum p0^2), replace)",
    models=("categorical", "memorizer"),
)
register_metric(
    "surviving",
    surviving,
    higher_is_better=True,
    needs="model",
    summary="outcomes the fitted model can still produce",
    models=("categorical", "memorizer"),
)
register_metric(
    "true_tv",
    true_tv,
    higher_is_better=False,
    needs="model",
    summary="total variation between the fitted and the true discrete distribution",
    models=("categorical", "memorizer"),
    data=("categorical", "zipf"),
)
register_metric(
    "cross_entropy",
    cross_entropy,
    higher_is_better=False,
    needs="model",
    summary="nats per token of held-out real text under the fitted language model",
    models=("ngram", "transformer"),
    data=("text_grammar", "text_file"),
)
register_metric(
    "cross_entropy_true",
    cross_entropy_true,
    higher_is_better=False,
    needs="model",
    summary="exact H(P, Q) / L against the built-in language (>= its entropy rate)",
    models=("ngram",),
    data=("text_grammar",),
)
for _name, _summary in {
    "type_token_ratio": "distinct tokens / tokens of the synthetic text (distinct-1)",
    "distinct_2": "distinct bigrams / bigrams of the synthetic text",
    "distinct_3": "distinct trigrams / trigrams of the synthetic text",
    "unigram_entropy": "entropy (nats) of the synthetic text's token frequencies",
    "tail_mass": "share of synthetic tokens outside the real head (types holding 90 % of real text)",
}.items():
    register_metric(_name, _lexical, higher_is_better=True, needs="samples", summary=_summary, key=_name)
register_metric(
    "zipf_exponent",
    _lexical,
    higher_is_better=False,
    needs="samples",
    summary="fitted s of count ~ rank^-s in the synthetic text (steeper = narrower)",
    key="zipf_exponent",
)
register_metric(
    "test_error",
    test_error,
    higher_is_better=False,
    needs="model",
    summary="memoriser's exact error on (item, answer) pairs from the truth; unseen items are errors",
    models=("memorizer",),
    data=("zipf",),
)
register_metric(
    "modes_covered",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary="diversity: known modes holding a synthetic sample within 3 std (mode_grid, ring)",
    key="modes_covered",
)
register_metric(
    "high_quality",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary="quality: synthetic share within 3 std of a known mode (0.989 when matched)",
    key="high_quality",
)
register_metric(
    "mode_variance",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary="diversity: mean per-mode variance of the high-quality samples (paper fig. 15)",
    key="mode_variance",
)
register_metric(
    "tail_share",
    lambda real, synthetic, k=None, **kw: tail_share(real, synthetic, **kw),
    higher_is_better=True,
    needs="samples",
    summary="diversity: synthetic share beyond the real 95 % Mahalanobis radius (0.05 when matched)",
)
register_metric(
    "lenet_fid",
    image_metrics,
    higher_is_better=False,
    needs="images",
    summary="FID on features of the cached local LeNet",
    key="fid",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "lenet_precision",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary="quality: precision (k-NN balls) on LeNet features",
    key="precision",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "lenet_recall",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary="diversity: recall (k-NN balls) on LeNet features",
    key="recall",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "lenet_density",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary="quality: density on LeNet features",
    key="density",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "lenet_coverage",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary="diversity: coverage on LeNet features",
    key="coverage",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "legibility",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary="share of synthetic images the LeNet labels as the class they were generated for",
    key="legibility",
    takes_rng=False,  # its rng is one generator for subsampling
)

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
