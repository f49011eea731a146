"""The small-sample tools of core.stats: the exact sign-flip test against scipy's permutation
test, its type-I error on skewed paired nulls by simulation at R = 3, 5, 10 (within the
binomial interval of the nominal level), and the detectable effect against simulated power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from autophagy.core import stats

ALPHA = 0.05
TRIALS = 4000


def binomial_margin(p: float, n: int) -> float:
    """Three binomial standard errors of a rate p over n trials (a 99.7 % band)."""
    return 3 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("size", [3, 5, 8, 11])
def test_sign_flip_equals_scipys_exact_permutation_test(size):
    rng = np.random.default_rng(size)
    for _ in range(5):
        d = rng.lognormal(size=size) - 1.2
        for alternative in ("greater", "less"):
            reference = st.permutation_test(
                (d,), np.mean, permutation_type="samples", alternative=alternative, n_resamples=np.inf
            ).pvalue
            assert stats.sign_flip_p(d, alternative=alternative) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("draw", ["lognormal", "exponential"])
@pytest.mark.parametrize("replicates", [3, 5, 10])
def test_sign_flip_holds_its_level_on_skewed_paired_nulls(draw, replicates):
    """Two exchangeable settings with skewed metrics (lognormal sigma = 1, exponential): the
    share of p <= 0.05 over 4,000 nulls stays within the binomial band of 0.05 or below."""
    rng = np.random.default_rng(7)
    sample = getattr(rng, draw)
    a, b = sample(size=(TRIALS, replicates)), sample(size=(TRIALS, replicates))
    rate = np.mean([stats.sign_flip_p(x - y) <= ALPHA for x, y in zip(a, b, strict=True)])
    assert rate <= ALPHA + binomial_margin(ALPHA, TRIALS)
    if replicates == 10:  # attainable levels near 0.05 exist: the test is not vacuous
        assert rate >= ALPHA / 2


@pytest.mark.parametrize("replicates", [3, 5, 10])
def test_t_test_holds_its_level_on_normal_nulls(replicates):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(TRIALS, replicates))
    rate = np.mean([stats.mean(row).p_above(0.0) <= ALPHA for row in x])
    assert abs(rate - ALPHA) <= binomial_margin(ALPHA, TRIALS)


def test_the_level_check_catches_the_normal_quantile_at_small_r():
    """Negative control: a one-sided test using the normal quantile on the t statistic at R = 3
    rejects a true null far more often than 5 %, and the same band check flags it."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(TRIALS, 3))
    z = x.mean(axis=1) / (x.std(axis=1, ddof=1) / math.sqrt(3))
    rate = np.mean(st.norm.sf(z) <= ALPHA)
    assert rate > ALPHA + binomial_margin(ALPHA, TRIALS)


@pytest.mark.parametrize("replicates", [4, 10])
def test_detectable_effect_is_detected_with_the_stated_power(replicates):
    """Replicates N(delta, 1) with delta = detectable_effect(se = 1 / sqrt(R)): the one-sided
    t test at 5 % rejects in 80 % of 4,000 trials, within the binomial band."""
    se = 1 / math.sqrt(replicates)
    delta = stats.detectable_effect(stats.Estimate(0.0, se, replicates - 1, replicates), ALPHA, 0.8)
    rng = np.random.default_rng(3)
    x = rng.normal(loc=delta, size=(TRIALS, replicates))
    rate = np.mean([stats.mean(row).p_above(0.0) <= ALPHA for row in x])
    assert abs(rate - 0.8) <= binomial_margin(0.8, TRIALS)
    assert math.isnan(stats.detectable_effect(stats.Estimate(0.0, 0.0, 3, 4), ALPHA))  # no spread
