"""Gaussian family: paper eq. 1 estimators and the eq. 2 martingale / contraction identities."""

from __future__ import annotations

import numpy as np

from autophagy.models import FittedGaussian, GaussianModel

Z = 4.5  # two-sided z bound: with a dozen checks, the family-wise false alarm is below 1e-4


def test_fit_is_the_unbiased_estimator():
    data = np.random.default_rng(0).normal(size=(2, 30, 4))
    fitted = GaussianModel().fit(data, rng=[])
    for r in range(2):
        np.testing.assert_allclose(fitted.mean[r], data[r].mean(axis=0))
        np.testing.assert_allclose(fitted.cov[r], np.cov(data[r], rowvar=False, ddof=1))


def test_sampling_bias_scales_the_covariance():
    cov = np.array([[[2.0, 0.6], [0.6, 1.0]]])
    model = FittedGaussian(np.zeros((1, 2)), cov)
    n, bias = 200_000, 0.6
    x = model.sample(n, rng=[np.random.default_rng(1)], sampling_bias=bias)[0]
    # Var of a sample covariance entry: (S_ij^2 + S_ii S_jj) / (n - 1)
    target = bias * cov[0]
    se = np.sqrt((target**2 + np.outer(np.diag(target), np.diag(target))) / (n - 1))
    assert np.all(np.abs(np.cov(x, rowvar=False) - target) <= Z * se)


def test_eq2_conditional_expectations():
    """E[mu_t | mu_(t-1)] = mu_(t-1) and E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1) (paper eq. 2)."""
    mu = np.array([1.0, -2.0, 0.5])
    sigma = np.array([[1.5, 0.4, -0.2], [0.4, 1.0, 0.1], [-0.2, 0.1, 0.7]])
    reps, n, bias = 4000, 15, 0.7
    previous = FittedGaussian(np.tile(mu, (reps, 1)), np.tile(sigma, (reps, 1, 1)))
    rngs = [np.random.default_rng([7, r]) for r in range(reps)]
    nxt = GaussianModel().fit(previous.sample(n, rng=rngs, sampling_bias=bias), rng=rngs)
    target = bias * sigma
    mean_se = np.sqrt(np.diag(target) / n / reps)  # Var(mu_t) = lambda Sigma / n
    assert np.all(np.abs(nxt.mean.mean(axis=0) - mu) <= Z * mean_se)
    cov_se = np.sqrt((target**2 + np.outer(np.diag(target), np.diag(target))) / (n - 1) / reps)
    assert np.all(np.abs(nxt.cov.mean(axis=0) - target) <= Z * cov_se)
