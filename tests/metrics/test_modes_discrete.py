"""Mode-grid statistics and discrete distances against known values."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import grid_modes, histogram, kl_divergence, mode_stats, total_variation


def _mixture(rng, modes, std, n, weights=None):
    index = rng.choice(len(modes), size=n, p=weights)
    return modes[index] + std * rng.normal(size=(n, modes.shape[1]))


def test_perfect_mixture_covers_every_mode():
    rng = np.random.default_rng(0)
    modes, std, n = grid_modes(5, spacing=2.0), 0.05, 20_000
    stats = mode_stats(_mixture(rng, modes, std, n), modes, std, min_count=20)
    assert stats["modes_covered"] == 25
    # 2-D isotropic: P(|x - mode| <= 3 std) = 1 - exp(-4.5); a binomial 4-sigma interval
    p = 1.0 - np.exp(-4.5)
    assert abs(stats["high_quality"] - p) < 4.0 * np.sqrt(p * (1 - p) / n)
    truncated = (1.0 - 5.5 * np.exp(-4.5)) / (1.0 - np.exp(-4.5)) * std**2
    assert stats["mode_variance"] == pytest.approx(truncated, rel=0.05)  # ~800 samples per mode


def test_collapse_and_dropped_modes():
    rng = np.random.default_rng(1)
    modes, std = grid_modes(3, spacing=1.0), 0.02
    collapsed = modes[4] + std * rng.normal(size=(2, 500, 2))
    stats = mode_stats(collapsed, modes, std)
    assert np.array_equal(stats["modes_covered"], [1, 1]) and np.all(stats["high_quality"] > 0.95)
    weights = np.r_[np.full(8, 0.999 / 8), 0.001]  # the last mode gets ~1 sample in 1000
    few = mode_stats(_mixture(rng, modes, std, 1000, weights), modes, std, min_count=10)
    assert few["modes_covered"] == 8
    off = mode_stats(modes + 0.5, modes, std)  # every sample between modes
    assert off["high_quality"] == 0.0 and off["modes_covered"] == 0 and np.isnan(off["mode_variance"])


def test_mode_stats_validates_and_caps():
    modes = grid_modes(2)
    x = np.random.default_rng(2).normal(size=(100, 2))
    with pytest.raises(ValueError, match="modes must be"):
        mode_stats(x, np.zeros((4, 3)), 0.1)
    with pytest.raises(ValueError, match="std"):
        mode_stats(x, modes, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        mode_stats(np.full((3, 2), np.nan), modes, 0.1)
    assert mode_stats(x, modes, 0.5, max_samples=100, rng=np.random.default_rng(0)) == mode_stats(
        x, modes, 0.5
    )
    first = mode_stats(x, modes, 0.5, max_samples=40, rng=np.random.default_rng(3))
    assert first == mode_stats(x, modes, 0.5, max_samples=40, rng=np.random.default_rng(3))


def test_total_variation_and_kl_known_values():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert total_variation(p, q) == pytest.approx(0.5)
    assert kl_divergence(p, q) == pytest.approx(np.log(2.0))
    assert kl_divergence(q, p) == np.inf
    assert kl_divergence(p, p) == 0.0 and total_variation(p, p) == 0.0
    assert total_variation([2, 2, 0], [1, 1, 2]) == pytest.approx(0.5)  # counts are normalised
    batched = kl_divergence(np.array([[1.0, 1.0], [3.0, 1.0]]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(batched, [0.0, 0.75 * np.log(1.5) + 0.25 * np.log(0.5)])


def test_histogram_and_discrete_validation():
    assert np.array_equal(histogram(np.array([[0, 1, 1], [2, 2, 2]]), 3), [[1, 2, 0], [0, 0, 3]])
    with pytest.raises(ValueError, match="labels"):
        histogram(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="same K"):
        total_variation([0.5, 0.5], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="nonnegative"):
        kl_divergence([-0.5, 1.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        kl_divergence([np.nan, 1.0], [0.5, 0.5])


def test_entropy_of_a_fitted_categorical_is_shannon_in_nats():
    """0 for one outcome, log K for uniform counts, scipy's value otherwise (0 log 0 = 0)."""
    from scipy.stats import entropy as scipy_entropy

    from autophagy.metrics import METRICS
    from autophagy.models.categorical import FittedCategorical

    counts = np.array([[5, 0, 0, 0], [3, 3, 3, 3], [6, 3, 1, 0]])
    h = METRICS["entropy"].fn(FittedCategorical(counts))
    np.testing.assert_allclose(h, [0.0, np.log(4), scipy_entropy([6, 3, 1])], atol=1e-12)
    assert METRICS["entropy"].higher_is_better
