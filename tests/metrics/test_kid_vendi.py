"""KID against its Gaussian closed form, and the Vendi score's known values."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import kid, vendi_score


def test_kid_expectation_between_zero_mean_gaussians():
    # E[k(x, y)] = 1 + 3 tr(S1 S2) / d^2 for the cubic kernel, so E[MMD^2] = 3 |S1 - S2|_F^2 / d^2
    rng = np.random.default_rng(0)
    reps, n, d = 300, 80, 4
    s1 = np.diag([1.0, 0.5, 2.0, 1.0])
    a = rng.normal(size=(d, d)) / 2
    s2 = a @ a.T + 0.5 * np.eye(d)
    x = rng.normal(size=(reps, n, d)) @ np.linalg.cholesky(s1).T
    y = rng.normal(size=(reps, n, d)) @ np.linalg.cholesky(s2).T
    values = kid(x, y)
    expected = 3.0 * np.sum((s1 - s2) ** 2) / d**2
    assert abs(values.mean() - expected) < 4.0 * values.std(ddof=1) / np.sqrt(reps)
    same = kid(x, rng.normal(size=(reps, n, d)) @ np.linalg.cholesky(s1).T)  # unbiased: mean 0
    assert abs(same.mean()) < 4.0 * same.std(ddof=1) / np.sqrt(reps)


def test_kid_subsets_are_seeded_and_validated():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 3)), rng.normal(loc=0.5, size=(150, 3))
    first = kid(x, y, subsets=20, subset_size=50, rng=np.random.default_rng(2))
    assert first == kid(x, y, subsets=20, subset_size=50, rng=np.random.default_rng(2))
    whole = kid(x[:150], y, subsets=3, subset_size=150, rng=rng)  # every subset is the whole set
    assert whole == pytest.approx(kid(x[:150], y), rel=1e-10)
    assert kid(x, y, max_samples=500, rng=np.random.default_rng(3)) == kid(x, y)
    with pytest.raises(ValueError, match="rng"):
        kid(x, y, subset_size=50)
    with pytest.raises(ValueError, match="subset_size"):
        kid(x, y, subset_size=151, rng=rng)
    with pytest.raises(ValueError, match="at least 2"):
        kid(x[:1], y)
    with pytest.raises(ValueError, match="NaN"):
        kid(np.full((5, 3), np.nan), y)


def test_vendi_known_values():
    assert vendi_score(np.eye(7)) == pytest.approx(7.0)  # n orthogonal samples
    assert vendi_score(np.ones((9, 4))) == pytest.approx(1.0)  # all parallel
    two = np.vstack([np.tile([1.0, 0.0], (5, 1)), np.tile([0.0, 3.0], (5, 1))])
    assert vendi_score(two) == pytest.approx(2.0)  # two equal groups of orthogonal directions
    wide = np.eye(5, 50)  # n < d uses the n x n Gram matrix
    assert vendi_score(wide) == pytest.approx(5.0)


def test_vendi_batched_scale_invariant_capped_and_validated():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 100, 6))
    batched = vendi_score(x)
    assert batched.shape == (3,) and np.all((batched >= 1) & (batched <= 6))
    scaled = x * rng.uniform(0.1, 10.0, size=(3, 100, 1))
    np.testing.assert_allclose(vendi_score(scaled), batched, rtol=1e-10)
    assert vendi_score(x[0]) == pytest.approx(batched[0], rel=1e-12)
    assert np.array_equal(vendi_score(x, max_samples=100, rng=rng), batched)
    capped = vendi_score(x, max_samples=30, rng=np.random.default_rng(5))
    assert np.array_equal(capped, vendi_score(x, max_samples=30, rng=np.random.default_rng(5)))
    with pytest.raises(ValueError, match="nonzero"):
        vendi_score(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        vendi_score(np.array([[1.0, np.nan]]))
