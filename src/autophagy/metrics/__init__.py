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

Every registered metric's ``summary`` starts with its direction ("higher is better" or "lower
is better", with the reason where it is not obvious) and gives its formula. Metrics with a
target value rather than an end point (``trace_cov``: P_r's tr(Sigma_r); ``tail_share``: 0.05)
are marked by the way collapse moves them: collapse shrinks variance and tails, so higher is
better up to the target.

Metrics that need inputs the engine does not supply are plain functions, not registered:
``mode_stats`` with other settings, ``total_variation`` / ``kl_divergence`` (discrete
distributions), and ``fid`` with a non-identity feature extractor.
"""

from __future__ import annotations

from autophagy.core.registry import METRICS, Metric, metric_for, register_metric
from autophagy.metrics.cas import classification_accuracy
from autophagy.metrics.density import density_l2, density_tv, heldout_nll, mixture_l2
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
    Coordinate,
    frechet_distance,
    logdet_ratio,
    mean_drift,
    mean_offset,
    trace_cov,
    variance_of,
    wasserstein2_gaussian,
    wasserstein2_squared,
)
from autophagy.metrics.images import data_image_metrics, image_metrics
from autophagy.metrics.kid import kid
from autophagy.metrics.knn import prdc, precision_recall
from autophagy.metrics.language import generation_stats
from autophagy.metrics.modes import grid_modes, known_mode_stats, mode_stats
from autophagy.metrics.summaries import generations_to_collapse
from autophagy.metrics.tails import tail_share
from autophagy.metrics.text import (
    cross_entropy,
    cross_entropy_true,
    distinct_n,
    lexical,
    perplexity,
    tail_mass,
    zipf_fit,
)
from autophagy.metrics.text_diversity import mean_cosine_distance, syntactic_diversity, token_classes
from autophagy.metrics.transport import wasserstein2_samples
from autophagy.metrics.truth import entropy, gini_simpson, surviving, test_error, true_tv
from autophagy.metrics.vendi import synthetic_vendi, vendi_score


def _lexical(real, synthetic, k=None, **kw):
    return lexical(real, synthetic, **kw)


register_metric(
    "moment_w2",
    lambda m, c, m0, c0: wasserstein2_gaussian(m0, c0, m, c),
    higher_is_better=False,
    needs="moments",
    summary=(
        "lower is better (0 = P_r): W2 (not squared) between N(fit's mean, covariance) and N(P_r's "
        "mean, covariance), sqrt(|mu - mu_r|^2 + tr(S + S_r - 2 (S_r^1/2 S S_r^1/2)^1/2)); the true "
        "W2 for Gaussian fits"
    ),
)
register_metric(
    "wasserstein2",
    lambda real, synthetic, k=None, **kw: wasserstein2_samples(real, synthetic, **kw),
    higher_is_better=False,
    needs="samples",
    summary=(
        "lower is better (0 = identical): W2 (not squared) between the real and synthetic samples, "
        "(min_pi E_pi |x - y|^2)^1/2 by POT (exact up to 2000 per set, sliced above; biased up at "
        "finite n); closed form (moment_w2) for gaussian fits"
    ),
    gaussian_form="moment_w2",
)
register_metric(
    "logdet_ratio",
    lambda m, c, m0, c0: logdet_ratio(c, c0),
    higher_is_better=True,
    needs="moments",
    summary=(
        "higher is better (0 = P_r's volume; collapse drives it to -inf): log det Sigma_t - log det "
        "Sigma_0, twice the change in Gaussian entropy"
    ),
)
register_metric(
    "heldout_nll",
    heldout_nll,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better (>= H(P_r)): -(1/n) sum_i log f(x_i) over 1000 fresh (or held-out) real "
        "samples, nats per sample"
    ),
    needs_log_prob=True,
)
register_metric(
    "density_l2",
    density_l2,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better (0 = the true density): (integral (f - p)^2 dx)^1/2, exact for Gaussian "
        "mixtures, else on a 2-D grid"
    ),
    models=("gaussian", "gmm", "kde", "flow"),
    data=("gaussian", "mode_grid", "ring", "rosenbrock"),
)
register_metric(
    "density_tv",
    density_tv,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better (0 = the true density, 1 = disjoint): TV = (1/2) integral |f - p| dx on a "
        "grid of the true mean +- 8 std (d <= 2)"
    ),
    models=("gaussian", "gmm", "kde", "flow"),
    data=("gaussian", "mode_grid", "ring", "rosenbrock"),
)
register_metric(
    "trace_cov",
    lambda m, c, m0, c0: trace_cov(c),
    higher_is_better=True,
    needs="moments",
    summary=(
        "higher is better up to P_r's tr(Sigma_r) (diversity): total variance tr(Sigma_t) of the "
        "fit; collapse shrinks it toward 0"
    ),
)
register_metric(
    "mean_drift",
    lambda m, c, m0, c0: mean_drift(m, m0),
    higher_is_better=False,
    needs="moments",
    summary=(
        "lower is better (0 = P_r's mean): |mu_t - mu_r|, the fitted mean's random walk away from P_r's"
    ),
)
COORDINATES = 10  # mean_offset_j and variance_j are registered for j < COORDINATES
for _j in range(COORDINATES):
    register_metric(
        f"mean_offset_{_j}",
        Coordinate("mean_offset", _j),
        higher_is_better=False,
        needs="moments",
        summary=(
            f"lower is better in absolute value (0 = P_r's mean): mu_t,{_j} - mu_r,{_j}, coordinate {_j} "
            "of the fitted mean's offset (signed, data units)"
        ),
    )
    register_metric(
        f"variance_{_j}",
        Coordinate("variance", _j),
        higher_is_better=True,
        needs="moments",
        summary=(
            f"higher is better up to P_r's Sigma_r,{_j}{_j} (diversity): Sigma_t,{_j}{_j}, the fitted "
            f"variance of coordinate {_j} (data units squared); collapse shrinks it toward 0"
        ),
    )
register_metric(
    "frechet",
    lambda real, synthetic, k=None, **kw: fid(real, synthetic, **kw),
    higher_is_better=False,
    needs="samples",
    summary=(
        "lower is better (0 = equal fits): |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2) "
        "between Gaussian fits of real and synthetic samples (squared, as FID)"
    ),
)
register_metric(
    "precision",
    precision_recall,
    higher_is_better=True,
    needs="samples",
    summary="higher is better (quality): share of synthetic samples inside some real sample's k-NN ball",
    key="precision",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "recall",
    precision_recall,
    higher_is_better=True,
    needs="samples",
    summary=("higher is better (diversity): share of real samples inside some synthetic sample's k-NN ball"),
    key="recall",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "density",
    prdc,
    higher_is_better=True,
    needs="samples",
    summary=(
        "higher is better (quality; about 1 when matched): mean over synthetic samples of (real "
        "k-NN balls holding it) / k"
    ),
    key="density",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "coverage",
    prdc,
    higher_is_better=True,
    needs="samples",
    summary="higher is better (diversity): share of real k-NN balls holding a synthetic sample",
    key="coverage",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "kid",
    lambda real, synthetic, k=None, **kw: kid(real, synthetic, **kw),
    higher_is_better=False,
    needs="samples",
    summary=("lower is better (0 in expectation when matched): unbiased MMD^2 with the kernel (x.y/d + 1)^3"),
)
register_metric(
    "vendi",
    lambda real, synthetic, k=None, **kw: synthetic_vendi(real, synthetic, **kw),
    higher_is_better=True,
    needs="samples",
    summary=(
        "higher is better (diversity): exp(-sum_i l_i log l_i), l the eigenvalues of the synthetic "
        "cosine Gram matrix / n"
    ),
)
register_metric(
    "gini_simpson",
    gini_simpson,
    higher_is_better=True,
    needs="model",
    summary=(
        "higher is better (diversity; collapse drives it to 0): 1 - sum_k p_k^2 of the fit (E = (1 "
        "- 1/n)^t (1 - sum p0^2), replace)"
    ),
    models=("categorical", "memorizer"),
)
register_metric(
    "entropy",
    entropy,
    higher_is_better=True,
    needs="model",
    summary=(
        "higher is better (diversity; 0 = one outcome, log K = uniform): -sum_k p_k log p_k of the fit, nats"
    ),
    models=("categorical", "memorizer"),
)
register_metric(
    "surviving",
    surviving,
    higher_is_better=True,
    needs="model",
    summary="higher is better (a lost outcome never returns): #{k: p_k > 0} of the fitted model",
    models=("categorical", "memorizer"),
)
register_metric(
    "true_tv",
    true_tv,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better (0 = the truth): (1/2) sum_k |p_k - q_k| between the fitted and the true "
        "distribution"
    ),
    models=("categorical", "memorizer"),
    data=("categorical", "zipf"),
)
register_metric(
    "cross_entropy",
    cross_entropy,
    higher_is_better=False,
    needs="model",
    summary="lower is better: -(1/N) sum log q(token | context), nats per token of held-out real text",
    models=("ngram", "transformer", "hf_causal_lm"),
    data=("text_grammar", "text_file", "documents"),
)
register_metric(
    "perplexity",
    perplexity,
    higher_is_better=False,
    needs="model",
    summary="lower is better: exp(cross_entropy), perplexity of held-out real text under the fitted model",
    models=("ngram", "transformer", "hf_causal_lm"),
    data=("text_grammar", "text_file", "documents"),
)
for _name, _higher, _summary in (
    (
        "generated_perplexity",
        True,
        "higher is better (tails kept): mean perplexity of generated documents under the reference "
        "model; falls as text turns 'probable', also rises as errors accumulate",
    ),
    (
        "generated_perplexity_q10",
        True,
        "higher is better: 10 % quantile of generated documents' reference perplexity",
    ),
    (
        "generated_perplexity_q50",
        True,
        "higher is better: median of generated documents' reference perplexity",
    ),
    (
        "generated_perplexity_q90",
        True,
        "higher is better: 90 % quantile of generated documents' reference perplexity",
    ),
    (
        "generated_distinct_2",
        True,
        "higher is better (diversity): distinct token bigrams / bigrams, generated documents",
    ),
    (
        "generated_distinct_3",
        True,
        "higher is better (diversity): distinct token trigrams / trigrams, generated documents",
    ),
    (
        "novelty_3",
        True,
        "higher is better (less copying): generated token trigrams absent from the training text",
    ),
    ("length_mean", True, "higher is better (no shrinking): mean tokens per generated document"),
    ("length_std", True, "higher is better (diversity): std of tokens per generated document"),
    (
        "rare_token_share",
        True,
        "higher is better (tail kept): share of the real text's rare types still produced",
    ),
    (
        "generated_syntactic_diversity",
        True,
        "higher is better (diversity of sentence shapes): mean over document pairs of 1 - |S_i & S_j| "
        "/ |S_i | S_j|, S the set of token-class 3-grams (word, Capital, CAPS, identifier, number, "
        "punctuation); 0 when all documents share their shapes",
    ),
    (
        "generated_semantic_diversity",
        True,
        "higher is better (diversity of meaning): mean over document pairs of 1 - cos(e_i, e_j), e the "
        "mean last hidden state of the reference network over a document's tokens; 0 if identical",
    ),
    (
        "generated_semantic_vendi",
        True,
        "higher is better (effective number of distinct meanings): Vendi score exp(-sum l log l) of "
        "the cosine Gram matrix / m of the reference network's document embeddings; 1 if identical",
    ),
):
    register_metric(
        _name,
        generation_stats,
        higher_is_better=_higher,
        needs="model",
        summary=_summary,
        key=_name,
        models=("hf_causal_lm",),
    )
register_metric(
    "cross_entropy_true",
    cross_entropy_true,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better (bounded below by the entropy rate): exact H(P, Q) / L against the built-in language"
    ),
    models=("ngram",),
    data=("text_grammar",),
)
for _name, _summary in {
    "type_token_ratio": "higher is better (diversity): distinct tokens / tokens of the synthetic text",
    "distinct_2": "higher is better (diversity): distinct bigrams / bigrams of the synthetic text",
    "distinct_3": "higher is better (diversity): distinct trigrams / trigrams of the synthetic text",
    "unigram_entropy": "higher is better (diversity): -sum_w f_w log f_w (nats), synthetic token frequencies",
    "tail_mass": "higher is better (diversity): synthetic share outside the real head (90 % of real text)",
}.items():
    register_metric(_name, _lexical, higher_is_better=True, needs="samples", summary=_summary, key=_name)
register_metric(
    "zipf_exponent",
    _lexical,
    higher_is_better=False,
    needs="samples",
    summary=(
        "lower is better (collapse steepens it; P_r's is the target): fitted s of count ~ rank^-s "
        "in the synthetic text"
    ),
    key="zipf_exponent",
)
register_metric(
    "test_error",
    test_error,
    higher_is_better=False,
    needs="model",
    summary=(
        "lower is better: the exact error against the truth; memoriser on zipf: sum_i p(i) (1 - "
        "P(answer_hat_i | i)), unseen items are errors; ols on linear_regression: |w - w*|^2"
    ),
    models=("memorizer", "ols"),
    data=("zipf", "linear_regression"),
)
register_metric(
    "modes_covered",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary=(
        "higher is better (diversity): known modes holding a synthetic sample within 3 std (mode_grid, ring)"
    ),
    key="modes_covered",
)
register_metric(
    "high_quality",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary=("higher is better (quality; 0.989 when matched): synthetic share within 3 std of a known mode"),
    key="high_quality",
)
register_metric(
    "mode_variance",
    known_mode_stats,
    higher_is_better=True,
    needs="modes",
    summary=(
        "higher is better up to P_r's std^2 (diversity): mean per-mode variance of the high-quality samples"
    ),
    key="mode_variance",
)
register_metric(
    "tail_share",
    lambda real, synthetic, k=None, **kw: tail_share(real, synthetic, **kw),
    higher_is_better=True,
    needs="samples",
    summary=(
        "higher is better up to 0.05 (diversity): synthetic share beyond the real 95 % Mahalanobis radius"
    ),
)
FEATURE_METRICS = {  # key: (higher is better, summary), for every feature space
    "fid": (False, "lower is better (0 = equal fits): Frechet distance (squared, as FID)"),
    "kid": (False, "lower is better (0 in expectation when matched): unbiased MMD^2, kernel (x.y/d + 1)^3"),
    "precision": (True, "higher is better (quality): precision (k-NN balls)"),
    "recall": (True, "higher is better (diversity): recall (k-NN balls)"),
    "density": (True, "higher is better (quality): density (real k-NN balls per synthetic sample / k)"),
    "coverage": (True, "higher is better (diversity): share of real k-NN balls holding a synthetic one"),
}
for _key in ("fid", "precision", "recall", "density", "coverage"):
    register_metric(
        f"lenet_{_key}",
        image_metrics,
        higher_is_better=FEATURE_METRICS[_key][0],
        needs="images",
        summary=f"{FEATURE_METRICS[_key][1]} on LeNet features",
        key=_key,
        takes_rng=False,  # its rng is one generator for subsampling
    )
register_metric(
    "legibility",
    image_metrics,
    higher_is_better=True,
    needs="images",
    summary=(
        "higher is better (quality): share of synthetic images the LeNet labels as their conditioning class"
    ),
    key="legibility",
    takes_rng=False,  # its rng is one generator for subsampling
)
register_metric(
    "cas",
    classification_accuracy,
    higher_is_better=True,
    needs="images",
    summary=(
        "higher is better (quality and diversity): classification accuracy score, the accuracy on real "
        "images of a ridge classifier trained on the synthetic images and their labels"
    ),
    takes_rng=False,  # deterministic: no subsampling
)

for _key, (_higher, _summary) in FEATURE_METRICS.items():
    register_metric(
        f"image_{_key}",
        data_image_metrics,
        higher_is_better=_higher,
        needs="images",
        summary=(
            f"{_summary} on the features data.features names (default: the classifier trained on the "
            "real images; a local TorchScript file or Hugging Face folder); not Inception"
        ),
        key=_key,
        takes_rng=False,  # its rng is one generator for subsampling
    )

__all__ = [
    "COORDINATES",
    "EXTRACTORS",
    "METRICS",
    "FeatureExtractor",
    "Identity",
    "Metric",
    "RandomProjection",
    "TorchFeatures",
    "classification_accuracy",
    "cross_entropy",
    "cross_entropy_true",
    "data_image_metrics",
    "density_l2",
    "density_tv",
    "distinct_n",
    "entropy",
    "fid",
    "frechet_distance",
    "generations_to_collapse",
    "gini_simpson",
    "grid_modes",
    "heldout_nll",
    "histogram",
    "image_metrics",
    "kid",
    "kl_divergence",
    "known_mode_stats",
    "lexical",
    "logdet_ratio",
    "mean_cosine_distance",
    "mean_drift",
    "mean_offset",
    "metric_for",
    "mixture_l2",
    "mode_stats",
    "prdc",
    "precision_recall",
    "surviving",
    "syntactic_diversity",
    "tail_mass",
    "tail_share",
    "test_error",
    "token_classes",
    "total_variation",
    "trace_cov",
    "true_tv",
    "variance_of",
    "vendi_score",
    "wasserstein2_gaussian",
    "wasserstein2_samples",
    "wasserstein2_squared",
    "zipf_fit",
]
