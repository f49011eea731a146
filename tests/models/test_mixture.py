"""Batched EM Gaussian mixture: recovery of known parameters, scikit-learn agreement, moments."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.models.mixture import FittedMixture, GaussianMixtureModel

MEANS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
WEIGHTS = np.array([0.5, 0.3, 0.2])


def _rngs(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def _separated(replicates: int, n: int) -> np.ndarray:
    """Draws ``(R, n, 2)`` from the mixture of N(MEANS_k, I) with WEIGHTS: modes 10 std apart."""
    truth = FittedMixture(
        np.tile(WEIGHTS, (replicates, 1)),
        np.tile(MEANS, (replicates, 1, 1)),
        np.tile(np.eye(2), (replicates, 3, 1, 1)),
    )
    return truth.sample(n, rng=_rngs(0, replicates), sampling_bias=1.0)


def _by_mean(fit: FittedMixture, r: int) -> np.ndarray:
    """Component order of replicate ``r`` matching MEANS (nearest fitted mean)."""
    return np.argmin(np.linalg.norm(fit.means[r][None] - MEANS[:, None], axis=-1), axis=1)


def test_recovers_means_and_weights_on_separated_data():
    n = 4000
    fit = GaussianMixtureModel(components=3).fit(_separated(4, n), rng=_rngs(1, 4))
    for r in range(4):
        order = _by_mean(fit, r)
        assert sorted(order) == [0, 1, 2]
        # MLE on separated modes: mean error ~ N(0, 1 / (n w_k)), weight error ~ binomial; 5 sigma bounds
        se_mean = 1.0 / np.sqrt(n * WEIGHTS)
        assert np.all(np.abs(fit.means[r][order] - MEANS) < 5 * se_mean[:, None])
        se_weight = np.sqrt(WEIGHTS * (1 - WEIGHTS) / n)
        assert np.all(np.abs(fit.weights[r][order] - WEIGHTS) < 5 * se_weight)
        np.testing.assert_allclose(fit.covs[r][order], np.tile(np.eye(2), (3, 1, 1)), atol=0.15)


@pytest.mark.parametrize("covariance", ["full", "diag", "spherical", "tied"])
def test_agrees_with_scikit_learn(covariance):
    """Both run EM to the same optimum (tol 1e-3 on the mean log-likelihood) on the same data."""
    mixture = pytest.importorskip("sklearn.mixture")
    data = _separated(2, 1500)
    fit = GaussianMixtureModel(components=3, covariance=covariance, tol=1e-6).fit(data, rng=_rngs(2, 2))
    for r in range(2):
        reference = mixture.GaussianMixture(3, covariance_type=covariance, tol=1e-6, random_state=0)
        reference.fit(data[r])
        ours = fit.log_prob(data)[r].mean()
        assert ours == pytest.approx(reference.score(data[r]), abs=1e-5)
        order = _by_mean(fit, r)
        ref_order = np.argmin(np.linalg.norm(reference.means_[None] - MEANS[:, None], axis=-1), axis=1)
        np.testing.assert_allclose(fit.means[r][order], reference.means_[ref_order], atol=1e-4)
        np.testing.assert_allclose(fit.weights[r][order], reference.weights_[ref_order], atol=1e-5)


def test_covariance_types_have_their_structure():
    data = _separated(2, 600)
    for covariance in ("diag", "spherical", "tied"):
        covs = GaussianMixtureModel(covariance=covariance).fit(data, rng=_rngs(3, 2)).covs
        assert np.all(covs[..., 0, 1] == 0) or covariance == "tied"
        if covariance == "spherical":
            np.testing.assert_array_equal(covs[..., 0, 0], covs[..., 1, 1])
        if covariance == "tied":
            np.testing.assert_array_equal(covs[:, 0], covs[:, 2])


def test_moments_match_samples():
    fit = GaussianMixtureModel(components=3).fit(_separated(2, 500), rng=_rngs(4, 2))
    mean, cov = fit.moments()
    n = 200_000
    x = fit.sample(n, rng=_rngs(5, 2), sampling_bias=1.0)
    # sample mean error ~ N(0, Sigma / n): 5 standard errors
    assert np.all(np.abs(x.mean(axis=1) - mean) < 5 * np.sqrt(np.diagonal(cov, axis1=1, axis2=2) / n))
    np.testing.assert_allclose(np.stack([np.cov(xr.T) for xr in x]), cov, rtol=0.02, atol=0.05)


def test_lambda_scales_each_component_covariance():
    """Samples of one replicate assigned to their component: within-component variance = lambda Sigma_k."""
    fit = GaussianMixtureModel(components=3).fit(_separated(1, 2000), rng=_rngs(6, 1))
    n, lam = 60_000, 0.25
    x = fit.sample(n, rng=_rngs(7, 1), sampling_bias=lam)[0]
    nearest = np.argmin(np.linalg.norm(x[:, None] - fit.means[0][None], axis=-1), axis=1)
    for k in range(3):
        var = np.var(x[nearest == k], axis=0)
        expected = lam * np.diagonal(fit.covs[0, k])
        # variance of a sample variance: 2 sigma^4 / m; 5 standard errors
        assert np.all(np.abs(var - expected) < 5 * expected * np.sqrt(2 / np.sum(nearest == k)))


def test_warm_start_from_the_optimum_stays_there():
    data = _separated(3, 800)
    settings = GaussianMixtureModel(components=3, tol=1e-8)
    fit = settings.fit(data, rng=_rngs(8, 3))
    again = settings.fit(data, rng=_rngs(9, 3), init=fit)
    np.testing.assert_allclose(again.means, fit.means, atol=1e-5)
    np.testing.assert_allclose(again.weights, fit.weights, atol=1e-6)


def test_restarts_and_covariance_types_stay_batch_invariant():
    data = _separated(3, 300)
    settings = GaussianMixtureModel(components=4, covariance="diag", restarts=3)
    batch = settings.fit(data, rng=_rngs(10, 3))
    alone = settings.fit(data[2:], rng=_rngs(10, 3)[2:])
    for a, b in zip(alone.state_dict().values(), batch.state_dict().values(), strict=True):
        np.testing.assert_allclose(a[0], b[2], rtol=1e-12, atol=1e-12)


def test_too_few_samples_is_a_clear_error():
    with pytest.raises(ValueError, match="n >= 5"):
        GaussianMixtureModel(components=5).fit(np.zeros((1, 4, 2)), rng=_rngs(0, 1))
