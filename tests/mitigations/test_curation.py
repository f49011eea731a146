"""Curation: keep-fraction 1 is a no-op, smaller fractions lower spread, scores are right."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import RecordingModel, base_config
from scipy.stats import multivariate_normal, norm

from autophagy.loop.engine import run_block
from autophagy.mitigations.curation import keep_best
from autophagy.models import FittedGaussian
from autophagy.running.config import resolve

Z = 4.5


def closest_to_origin(synthetic, reference):
    """A user score for the import-path test: minus the norm."""
    return -np.linalg.norm(synthetic, axis=-1)


def test_log_prob_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    cov, mean = a @ np.swapaxes(a, 1, 2) + 0.2 * np.eye(3), rng.standard_normal((2, 3))
    x = rng.standard_normal((2, 7, 3))
    got = FittedGaussian(mean, cov).log_prob(x)
    for r in range(2):
        np.testing.assert_allclose(got[r], multivariate_normal(mean[r], cov[r]).logpdf(x[r]), rtol=1e-12)


def test_keep_best_keeps_the_top_scores_in_order():
    rng = np.random.default_rng(1)
    x, scores = rng.standard_normal((3, 50, 2)), rng.standard_normal((3, 50))
    kept = keep_best(x, scores, 20)
    for r in range(3):
        top = np.sort(np.argsort(-scores[r])[:20])
        np.testing.assert_array_equal(kept[r], x[r][top])
    np.testing.assert_array_equal(keep_best(x, scores, 50), x)


def _fits(mitigation, generations=4, **loop):
    raw = base_config(**loop)
    raw["generations"] = generations
    raw["model"] = {"kind": "gaussian", "simulator": "samples"}
    if mitigation is not None:
        raw["mitigation"] = mitigation
        raw["plugins"] = [__name__]  # a hook's module must be listed (importing runs it)
    spy = RecordingModel()
    list(run_block(dataclasses.replace(resolve(raw)[0], model=spy), range(3)))
    return [data for data, _ in spy.fits]


SCORES = ["likelihood", "nearest_real", "real_mean", f"{__name__}:closest_to_origin"]


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("family", ["fully_synthetic", "synthetic_pool"])
def test_keep_fraction_one_equals_no_curation(score, family):
    plain = _fits(None, family=family)
    curated = _fits({"curate": {"keep_fraction": 1.0, "score": score}}, family=family)
    for a, b in zip(plain, curated, strict=True):
        np.testing.assert_array_equal(a, b)


def _variance_ratio(keep: float, reps: int, n: int) -> np.ndarray:
    """Per replicate: generation-2 variance / generation-1 variance, d = 1, lambda = 1."""
    raw = base_config(n_ini=n, n_synthetic=n, sampling_bias=1.0)
    raw.update(generations=2, data={"kind": "gaussian", "dim": 1, "covariance": 2.0})
    raw["metrics"] = {"names": ["trace_cov"]}
    raw["mitigation"] = {"curate": {"keep_fraction": keep}}
    trace = np.stack([m["trace_cov"] for _, m in run_block(resolve(raw)[0], range(reps))], axis=1)
    return trace[:, 1] / trace[:, 0]


def test_smaller_keep_fractions_lower_spread_as_truncation_predicts():
    """Keeping the most likely fraction f of N(m, s^2) samples keeps |x - m| < a s with
    a = Phi^-1((1 + f) / 2): the truncated normal's variance is s^2 (1 - 2 a phi(a) / f). Given
    generation 1, the generation-2 unbiased variance has that mean up to O(1/n) from the kept
    threshold being a sample quantile (we allow 2 / n); replicate-to-replicate noise enters via Z se."""
    reps, n = 200, 400
    means = []
    for keep in (1.0, 0.5, 0.25):
        ratio = _variance_ratio(keep, reps, n)
        a = norm.ppf((1 + keep) / 2)
        expected = 1.0 if keep == 1.0 else 1.0 - 2 * a * norm.pdf(a) / keep
        se = ratio.std(ddof=1) / np.sqrt(reps)
        assert abs(ratio.mean() - expected) <= Z * se + 2.0 / n, keep
        means.append(ratio.mean())
    assert means[0] > means[1] > means[2]


def _distance(score: str, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    if score == "real_mean":
        return np.linalg.norm(x - reference.mean(axis=1, keepdims=True), axis=-1)
    return np.linalg.norm(x[:, :, None] - reference[:, None], axis=-1).min(axis=-1)


@pytest.mark.parametrize("score", ["nearest_real", "real_mean"])
def test_distance_scores_keep_the_samples_closest_to_the_real_data(score):
    """Every kept sample is at most as far from the reference set as every dropped one: curation draws
    2 n, so the kept n are the n smallest distances of the oversampled batch, which contains the
    plain loop's n draws as its first rows (same stream)."""
    plain = _fits(None, generations=2)
    curated = _fits({"curate": {"keep_fraction": 0.5, "score": score}}, generations=2)
    reference = plain[0]  # fully synthetic: the generation-1 training set is the reference set
    kept, plain_dist = _distance(score, curated[1], reference), _distance(score, plain[1], reference)
    assert np.all(kept.max(axis=1) <= np.sort(plain_dist, axis=1)[:, kept.shape[1] - 1] + 1e-12)
    assert kept.mean() < plain_dist.mean()
