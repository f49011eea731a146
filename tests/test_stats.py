"""Coverage of the verdict intervals by simulation: many small samples with a known mean; the
share of intervals that cover it must lie within the binomial tolerance of the nominal level.

With N simulated intervals at nominal coverage c, the observed share has standard deviation
sqrt(c (1 - c) / N); every test allows 4 of them (a true interval fails about once in 16,000).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from autophagy.core import stats

N = 4000
ALPHA = 0.05


def tolerance(c: float, n: int = N) -> float:
    return 4 * math.sqrt(c * (1 - c) / n)


def estimates(samples: np.ndarray) -> list[stats.Estimate]:
    return [stats.mean(row) for row in samples]


def coverage(ests: list[stats.Estimate], truth: float, alpha: float = ALPHA) -> float:
    return float(np.mean([low <= truth <= high for low, high in (e.interval(alpha) for e in ests)]))


@pytest.mark.parametrize("r", [3, 5, 30])
def test_mean_interval_covers_at_its_level(r):
    rng = np.random.default_rng(r)
    ests = estimates(rng.normal(2.5, 0.7, size=(N, r)))
    assert abs(coverage(ests, 2.5) - 0.95) < tolerance(0.95)
    # one-sided bounds at the same level
    lower = np.mean([e.lower(ALPHA) <= 2.5 for e in ests])
    assert abs(lower - 0.95) < tolerance(0.95)


def test_normal_quantile_under_covers_at_three_replicates():
    """The interval this module replaces: z instead of t at R = 3 falls outside the tolerance."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, size=(N, 3))
    half = st.norm.ppf(0.975) * x.std(axis=1, ddof=1) / math.sqrt(3)
    covered = float(np.mean(np.abs(x.mean(axis=1)) <= half))
    assert covered < 0.95 - tolerance(0.95)  # about 0.88


@pytest.mark.parametrize("r", [3, 5, 30])
def test_paired_difference_covers_with_correlated_settings(r):
    rng = np.random.default_rng(10 + r)
    shared = rng.normal(0, 3.0, size=(N, r))  # a common first fit moves both settings
    a = shared + rng.normal(1.0, 0.5, size=(N, r))
    b = shared + rng.normal(0.2, 0.5, size=(N, r))
    ests = [stats.paired(x, y) for x, y in zip(a, b, strict=True)]
    assert abs(coverage(ests, 0.8) - 0.95) < tolerance(0.95)


@pytest.mark.parametrize("r", [3, 5, 30])
def test_trend_interval_covers_the_slope_with_autocorrelated_generations(r):
    """Per-replicate slopes over 8 generations with AR(1) noise inside each replicate."""
    rng = np.random.default_rng(20 + r)
    t = np.arange(1, 9)
    noise = np.zeros((N, r, t.size))
    for g in range(t.size):
        noise[..., g] = (
            0.7 * noise[..., g - 1] + rng.normal(0, 1, size=(N, r)) if g else rng.normal(0, 1, (N, r))
        )
    values = 5.0 - 0.3 * t + noise
    ests = [stats.trend(v) for v in values]
    assert abs(coverage(ests, -0.3) - 0.95) < tolerance(0.95)


def test_replicate_slopes_are_least_squares():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(4, 7))
    x = np.geomspace(1, 50, 7)
    np.testing.assert_allclose(stats.replicate_slopes(y, x), np.polyfit(x, y.T, 1)[0], rtol=1e-12)


@pytest.mark.parametrize("r", [3, 5, 30])
def test_welch_difference_covers_with_unequal_variances(r):
    rng = np.random.default_rng(30 + r)
    a = rng.normal(1.0, 2.0, size=(N, r))
    b = rng.normal(0.0, 0.3, size=(N, r + 2))
    ests = [stats.difference(stats.mean(x), stats.mean(y)) for x, y in zip(a, b, strict=True)]
    # Welch-Satterthwaite is an approximation: allow 1 % on top of the binomial tolerance
    assert abs(coverage(ests, 1.0) - 0.95) < tolerance(0.95) + 0.01


@pytest.mark.parametrize("n,p", [(30, 0.5), (100, 0.9), (400, 0.05)])
def test_wilson_interval_covers_a_proportion(n, p):
    rng = np.random.default_rng(n)
    k = rng.binomial(n, p, size=N)
    bounds = np.array([stats.wilson(int(x), n, ALPHA) for x in k])
    covered = float(np.mean((bounds[:, 0] <= p) & (p <= bounds[:, 1])))
    # the binomial is discrete: Wilson's coverage oscillates around the nominal by ~1 %
    assert abs(covered - 0.95) < tolerance(0.95) + 0.015
    # the score test rejects p0 = p (one-sided) about alpha of the time, and agrees with the bound
    rejected = np.array([stats.proportion_p(int(x), n, p) <= ALPHA for x in k])
    below = np.array([stats.wilson_lower(int(x), n, ALPHA) > p for x in k])
    np.testing.assert_array_equal(rejected, below)
    assert rejected.mean() < ALPHA + tolerance(ALPHA) + 0.015


@pytest.mark.parametrize("r", [3, 5, 30])
def test_tost_rejects_at_most_alpha_on_the_margin_and_agrees_with_the_interval(r):
    rng = np.random.default_rng(40 + r)
    margin = 0.5
    on_edge = estimates(rng.normal(margin, 1.0, size=(N, r)))  # the claim |mu| < margin is false
    rate = np.mean([stats.tost_p(e, -margin, margin) <= ALPHA for e in on_edge])
    assert rate < ALPHA + tolerance(ALPHA)
    for e in on_edge[:200]:
        low, high = e.interval(2 * ALPHA)
        assert (stats.tost_p(e, -margin, margin) <= ALPHA) == (-margin < low and high < margin)


def test_tost_accepts_a_true_equivalence_with_enough_replicates():
    rng = np.random.default_rng(5)
    inside = estimates(rng.normal(0.0, 1.0, size=(200, 60)))
    assert np.mean([stats.tost_p(e, -0.8, 0.8) <= ALPHA for e in inside]) > 0.95


def test_holm_controls_the_family_wise_error():
    """Five true nulls with uniform p-values plus two false ones: P(any true null rejected) <= alpha."""
    rng = np.random.default_rng(6)
    wrong = 0
    for _ in range(N):
        p = [*rng.uniform(size=5), 1e-6, 1e-5]
        rejected, _ = stats.holm(p, ALPHA)
        wrong += any(rejected[:5])
        assert rejected[5] and rejected[6]
    assert wrong / N < ALPHA + tolerance(ALPHA)


def test_holm_steps_down_and_stops():
    rejected, levels = stats.holm([0.001, 0.04, 0.012, 0.3], 0.05)
    assert levels == [0.05 / 4, 0.05 / 2, 0.05 / 3, 0.05 / 2]
    assert rejected == [True, False, True, False]  # 0.04 > 0.025 stops; 0.3 stays unrejected


def test_estimate_needs_two_replicates():
    with pytest.raises(ValueError, match="2 replicates"):
        stats.mean(np.array([1.0]))


def test_log_ratio_and_from_interval():
    a = stats.from_interval(2.0, 1.8, 2.2, n=50)
    assert a.df == 49 and a.se == pytest.approx(0.2 / 1.959964)
    r = stats.log_ratio(a, a)
    assert r.value == 0 and r.se == pytest.approx(math.sqrt(2) * a.se / 2.0)


def test_combine_and_slope_of_independent_estimates_cover():
    """Second difference a - 2b + c and a log-log slope of three independent means (R = 4)."""
    rng = np.random.default_rng(7)
    x = np.log([10.0, 40.0, 160.0])
    truth = np.array([3.0, 2.0, 1.5])
    hits_combine, hits_slope = 0, 0
    true_slope = float(np.polyfit(x, truth, 1)[0])
    n = 1000
    for _ in range(n):
        ests = [stats.mean(rng.normal(t, s, size=4)) for t, s in zip(truth, (0.5, 0.2, 1.0), strict=True)]
        low, high = stats.combine([1, -2, 1], ests).interval(ALPHA)
        hits_combine += low <= truth[0] - 2 * truth[1] + truth[2] <= high
        low, high = stats.slope(list(x), ests).interval(ALPHA)
        hits_slope += low <= true_slope <= high
    for hits in (hits_combine, hits_slope):
        assert abs(hits / n - 0.95) < tolerance(0.95, n) + 0.01  # Welch-Satterthwaite allowance
