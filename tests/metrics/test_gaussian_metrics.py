"""Closed-form Gaussian metrics against known values and SciPy's matrix square root."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import sqrtm

from autophagy.metrics import (
    frechet_distance,
    mean_drift,
    trace_cov,
    wasserstein2_gaussian,
    wasserstein2_squared,
)


def _random_psd(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.normal(size=(d, rank or d))
    return a @ a.T


def _reference(m1, c1, m2, c2) -> float:
    root = sqrtm(c1)
    cross = sqrtm(root @ c2 @ root)
    return float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * np.real(cross)))


def test_one_dimensional_known_value():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2
    value = wasserstein2_squared(np.array([1.0]), np.array([[4.0]]), np.array([-0.5]), np.array([[0.25]]))
    assert value == pytest.approx(1.5**2 + 1.5**2)


@pytest.mark.parametrize("d", [2, 5, 20])
def test_matches_scipy_sqrtm_reference(d):
    rng = np.random.default_rng(d)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _random_psd(rng, d), _random_psd(rng, d)
    assert wasserstein2_squared(m1, c1, m2, c2) == pytest.approx(_reference(m1, c1, m2, c2), rel=1e-8)


def test_singular_covariances_are_handled():
    rng = np.random.default_rng(3)
    c1, c2 = _random_psd(rng, 6, rank=2), _random_psd(rng, 6, rank=3)
    value = wasserstein2_squared(np.zeros(6), c1, np.ones(6), c2)
    assert np.isfinite(value) and value == pytest.approx(
        _reference(np.zeros(6), c1, np.ones(6), c2), rel=1e-6
    )


def test_identity_symmetry_and_batching():
    rng = np.random.default_rng(4)
    means = rng.normal(size=(5, 3))
    covs = np.stack([_random_psd(rng, 3) for _ in range(5)])
    np.testing.assert_allclose(wasserstein2_gaussian(means, covs, means, covs), 0.0, atol=1e-6)
    forward = wasserstein2_gaussian(means, covs, means[::-1], covs[::-1])
    np.testing.assert_allclose(
        forward, wasserstein2_gaussian(means[::-1], covs[::-1], means, covs), rtol=1e-8
    )
    single = [wasserstein2_gaussian(means[i], covs[i], means[4 - i], covs[4 - i]) for i in range(5)]
    np.testing.assert_allclose(forward, single, rtol=1e-12)


def test_frechet_distance_is_w2_squared_of_the_sample_fits():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(300, 4)), rng.normal(loc=0.5, size=(200, 4))
    expected = _reference(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-8)


def test_trace_and_drift():
    cov = np.diag([1.0, 2.0, 3.0])
    assert trace_cov(cov) == pytest.approx(6.0)
    assert mean_drift(np.array([3.0, 4.0]), np.zeros(2)) == pytest.approx(5.0)


def test_coordinate_metrics_read_one_entry_and_sum_to_the_trace():
    """mean_offset_j = mu_j - mu_r,j and variance_j = Sigma_jj, registered per coordinate; the
    variances of all coordinates add up to trace_cov; a coordinate beyond the data's is an error."""
    from autophagy.metrics import COORDINATES, METRICS, mean_offset, variance_of

    rng = np.random.default_rng(0)
    mean, cov = rng.normal(size=(5, 3)), np.stack([_random_psd(rng, 3) for _ in range(5)])
    ref_mean, ref_cov = np.array([1.0, -2.0, 0.5]), np.eye(3)
    for j in range(3):
        np.testing.assert_array_equal(
            METRICS[f"mean_offset_{j}"].fn(mean, cov, ref_mean, ref_cov), mean[:, j] - ref_mean[j]
        )
        np.testing.assert_array_equal(METRICS[f"variance_{j}"].fn(mean, cov, ref_mean, ref_cov), cov[:, j, j])
        assert METRICS[f"variance_{j}"].higher_is_better and not METRICS[f"mean_offset_{j}"].higher_is_better
    total = sum(variance_of(cov, j) for j in range(3))
    np.testing.assert_allclose(total, trace_cov(cov), rtol=1e-12)
    assert f"variance_{COORDINATES - 1}" in METRICS and f"variance_{COORDINATES}" not in METRICS
    with pytest.raises(ValueError, match="at least 4 dimensions"):
        variance_of(cov, 3)
    with pytest.raises(ValueError, match="at least 4 dimensions"):
        mean_offset(mean, ref_mean, 3)
