"""Kernel density estimate: variance = data variance + bandwidth^2, bandwidth rules, lambda."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from autophagy.models.kde import KernelDensityModel


def _rngs(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def _data(replicates: int = 3, n: int = 200) -> np.ndarray:
    x = np.stack([g.standard_normal((n, 2)) for g in _rngs(0, replicates)])
    return x * np.array([1.0, 3.0]) + np.array([0.5, -2.0])


@pytest.mark.parametrize("bandwidth", ["scott", "silverman", 0.4])
def test_sample_variance_is_data_variance_plus_bandwidth_squared(bandwidth):
    data = _data()
    fit = KernelDensityModel(bandwidth).fit(data, rng=_rngs(1, 3))
    m = 100_000
    x = fit.sample(m, rng=_rngs(2, 3), sampling_bias=1.0)
    expected = data.var(axis=1) + fit.bandwidth**2  # (R, d): variance over n, plus h^2
    # each draw is a uniform point plus N(0, h^2): the sample variance has standard error
    # sqrt((mu4 - sigma^4) / m), mu4 estimated from the draws; 5 standard errors
    centred = x - x.mean(axis=1, keepdims=True)
    se = np.sqrt((np.mean(centred**4, axis=1) - expected**2) / m)
    assert np.all(np.abs(x.var(axis=1) - expected) < 5 * se)
    mean, cov = fit.moments()
    np.testing.assert_allclose(np.diagonal(cov, axis1=1, axis2=2), expected, rtol=1e-12)
    np.testing.assert_allclose(mean, data.mean(axis=1), rtol=1e-12)


def test_rule_bandwidths_match_scipy():
    """scipy's gaussian_kde uses kernel covariance factor^2 * Cov(data): its diagonal is our h^2."""
    data = _data(1, 150)
    for rule in ("scott", "silverman"):
        fit = KernelDensityModel(rule).fit(data, rng=_rngs(3, 1))
        reference = gaussian_kde(data[0].T, bw_method=rule)
        np.testing.assert_allclose(fit.bandwidth[0] ** 2, np.diag(reference.covariance), rtol=1e-12)


def test_lambda_scales_the_bandwidth():
    """With common random numbers a draw is point + sqrt(lambda) h z, so the kernel noise scales exactly."""
    data = _data()
    fit = KernelDensityModel(0.3).fit(data, rng=_rngs(4, 3))
    at = {lam: fit.sample(500, rng=_rngs(5, 3), sampling_bias=lam) for lam in (0.0, 0.25, 1.0)}
    np.testing.assert_allclose(at[0.25] - at[0.0], 0.5 * (at[1.0] - at[0.0]), atol=1e-12)
    assert all(any(np.array_equal(row, p) for p in data[0]) for row in at[0.0][0][:20])
