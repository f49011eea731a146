"""Coverage of every test the recipes use, by simulation on skewed data at R = 3, 5, 10.

The recipes judge with: the one-sided t test (``above``/``below`` on a mean, a paired difference
or per-replicate slopes), TOST equivalence (``inside``/``equals``), Welch's difference of
independent estimates, the exact binomial test with its Clopper-Pearson bound
(``proportion_above``; exact sizes by enumeration), the exact sign-flip test (skewed metrics at
R <= 6) and Holm's procedure across a recipe's checks (with ``any_of``'s Bonferroni inside a
claim). Each is simulated here on its null at the recipe's small R, on lognormal
(sigma = 1) and exponential draws, with numpy over thousands of trials at once: the vectorised
p-values are first shown to equal :mod:`autophagy.core.stats`'s (the code the recipes run) on
sample rows, then the share of p <= 0.05 is compared with 0.05 within three binomial standard
errors (a 99.7 % band; the conservative tests only from above, and a floor shows the test is
not vacuous where small p-values are attainable).

What the recipes judge at small R is a paired difference of two settings that share their
streams, or a per-replicate slope over generations: under the null the two settings (or the
generations) are exchangeable, so the statistic is symmetric however skewed the metric, and
every test holds its level there (the t test is conservative on skewed differences). A mean of
a skewed quantity against a fixed threshold is not covered at R <= 10 by the t test, TOST or
the sign-flip test (type-I error up to 0.23 on the lower side); the last tests say so, as a
negative control of the band. The recipes judge such levels at R >= 20 (T2, T3, T5, T6, G1-G5,
G8), in N4 as a paired difference of two loops, and in T4's quick profile at R = 10 on errors
that are close to normal (measured at R = 20, seed 0: pooled skewness -0.16, excess kurtosis
-0.19 over its 8 sizes), where the t test is exact. Two tests the recipes used failed here and
were replaced: the slope of the log of each size's mean (delta method; 7-8 % on lognormal
data, G5 now judges per-replicate slopes) and the score test for a proportion (size 0.125 at
n = 3; ``proportion_above`` is now the exact binomial test).

``python tests/core/test_small_samples.py`` prints the coverage table.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import special as sp
from scipy import stats as st

from autophagy.core import stats
from autophagy.reproduce.checks import any_of, below

ALPHA = 0.05
TRIALS = 10_000
SIZES = (3, 5, 10)
DRAWS = ("lognormal", "exponential")
MEANS = {"lognormal": math.exp(0.5), "exponential": 1.0}
SDS = {"lognormal": math.sqrt((math.e - 1) * math.e), "exponential": 1.0}


def binomial_margin(p: float, n: int) -> float:
    """Three binomial standard errors of a rate p over n trials (a 99.7 % band)."""
    return 3 * math.sqrt(p * (1 - p) / n)


MARGIN = binomial_margin(ALPHA, TRIALS)


def draw(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Skewed draws: lognormal (sigma = 1; skewness 6.2) or exponential (skewness 2)."""
    return getattr(np.random.default_rng(seed), name)(size=shape)


# --- vectorised p-values (rows are trials), equal to core.stats's -----------------------------


def t_p(x: np.ndarray, threshold: float | np.ndarray = 0.0, side: str = "above") -> np.ndarray:
    """One-sided t p-values of each row's mean (``Estimate.p_above`` / ``p_below``)."""
    r = x.shape[1]
    t = (x.mean(1) - threshold) / (x.std(1, ddof=1) / math.sqrt(r))
    return sp.stdtr(r - 1, -t if side == "above" else t)


def welch_p(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """p of ``mean a > mean b`` for independent rows (``stats.difference(...).p_above(0)``)."""
    va, vb = a.var(1, ddof=1) / a.shape[1], b.var(1, ddof=1) / b.shape[1]
    se = np.sqrt(va + vb)
    df = se**4 / (va**2 / (a.shape[1] - 1) + vb**2 / (b.shape[1] - 1))
    return sp.stdtr(df, -(a.mean(1) - b.mean(1)) / se)


def tost(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """TOST p of ``low < mean < high`` (``stats.tost_p``)."""
    return np.maximum(t_p(x, low, "above"), t_p(x, high, "below"))


def log_slope_p(x: np.ndarray, at: np.ndarray) -> np.ndarray:
    """G5's test: x ``(trials, K, R)`` independent replicates at K sizes ``at``; the slope of the
    K log means on log size (delta method, Welch-Satterthwaite df; ``stats.slope`` of
    ``stats.log`` estimates), p of ``slope > 0``."""
    r = x.shape[2]
    means = x.mean(2)
    rel = x.std(2, ddof=1) / math.sqrt(r) / means  # se of log mean
    c = np.log(at) - np.log(at).mean()
    c = c / (c @ c)
    value = np.log(means) @ c
    parts = (c * rel) ** 2
    se = np.sqrt(parts.sum(1))
    df = se**4 / (parts**2 / (r - 1)).sum(1)
    return sp.stdtr(df, -value / se)


def flip_p(d: np.ndarray, side: str = "greater", chunk: int = 2000) -> np.ndarray:
    """Exact sign-flip p-values of each row (``stats.sign_flip_p``), every sign vector."""
    d = d if side == "greater" else -d
    r = d.shape[1]
    signs = (1 - 2 * ((np.arange(2**r)[:, None] >> np.arange(r)) & 1)).astype(np.float64)
    out = []
    for rows in np.array_split(d, max(1, d.shape[0] // chunk)):
        totals = signs @ np.abs(rows).T  # (2^R, rows)
        out.append(np.mean(totals >= rows.sum(1) - 1e-12 * np.abs(rows).sum(1), axis=0))
    return np.concatenate(out)


def test_vectorised_p_values_equal_core_stats():
    """The reference formulas above are the code the recipes run, row by row."""
    x, y = draw("lognormal", (20, 5), 1), draw("lognormal", (20, 5), 2)
    lo, hi = -0.5, 2.0
    at = np.array([100.0, 200.0, 400.0, 800.0])
    z = draw("exponential", (20, 4, 5), 3)
    vec = [
        t_p(x, 1.0),
        t_p(x, 1.0, "below"),
        welch_p(x, y),
        tost(x, lo, hi),
        flip_p(x - y),
        log_slope_p(z, at),
    ]
    vec.append(flip_p(x - y, "less"))
    for i in range(20):
        mean = stats.mean(x[i])
        slope = stats.slope(list(np.log(at)), [stats.log(stats.mean(row)) for row in z[i]])
        ref = [
            mean.p_above(1.0),
            mean.p_below(1.0),
            stats.difference(mean, stats.mean(y[i])).p_above(0.0),
            stats.tost_p(mean, lo, hi),
            stats.sign_flip_p(x[i] - y[i]),
            slope.p_above(0.0),
            stats.sign_flip_p(x[i] - y[i], alternative="less"),
        ]
        assert [v[i] for v in vec] == pytest.approx(ref, rel=1e-9, abs=1e-12)


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


# --- the nulls the recipes test, and each test's type-I error on them ---------------------------


def paired_null(name: str, r: int, seed: int) -> np.ndarray:
    """Differences of two exchangeable settings sharing nothing but their law, ``(TRIALS, R)``."""
    return draw(name, (TRIALS, r), seed) - draw(name, (TRIALS, r), seed + 1)


def slope_null(name: str, r: int, seed: int, generations: int = 8) -> np.ndarray:
    """Per-replicate least-squares slopes over ``generations`` exchangeable skewed values, by
    ``stats.replicate_slopes`` itself: ``(TRIALS, R)``."""
    y = draw(name, (TRIALS * r, generations), seed)
    return stats.replicate_slopes(y).reshape(TRIALS, r)


def rate(p: np.ndarray) -> float:
    return float(np.mean(p <= ALPHA))


def holds(level: float, floor: float | None = ALPHA / 4) -> None:
    """At most nominal + the binomial margin (the conservative side is allowed) and, where
    small p-values are attainable, not vacuous."""
    assert level <= ALPHA + MARGIN
    if floor is not None:
        assert level >= floor


def coverage_table() -> dict[tuple[str, str, int], float]:
    """Type-I error at nominal 0.05 of each test x distribution x R (the printed table)."""
    out = {}
    for name in DRAWS:
        for r in SIZES:
            d, s = paired_null(name, r, 10 + r), slope_null(name, r, 20 + r)
            out[("t above, paired", name, r)] = rate(t_p(d))
            out[("t below, paired", name, r)] = rate(t_p(d, side="below"))
            out[("t above, slopes", name, r)] = rate(t_p(s))
            out[("t below, slopes", name, r)] = rate(t_p(s, side="below"))
            out[("TOST at margin edge, paired", name, r)] = _tost_rate(name, r)
            out[("Welch", name, r)] = _welch_rate(name, r)
            out[("sign-flip, paired", name, r)] = rate(flip_p(d))
            out[("sign-flip, slopes", name, r)] = rate(flip_p(s, "less"))
            out[("Holm, 4 correlated checks", name, r)] = _holm_rate(name, r, "t")
            out[("Holm, 4 sign-flip checks", name, r)] = _holm_rate(name, r, "flip")
            out[("any_of, 2 parts (Bonferroni)", name, r)] = _any_of_rate(name, r)
            x = draw(name, (TRIALS, r), 30 + r) - MEANS[name]
            out[("t below, one-sample level [not covered]", name, r)] = rate(t_p(x, side="below"))
            out[("sign-flip, one-sample level [not covered]", name, r)] = rate(flip_p(x, "less"))
            out[("slope of log means, delta method [not covered]", name, r)] = _log_slope_rate(name, r)
    return out


@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("r", SIZES)
def test_one_sided_t_on_paired_differences_and_slopes(name, r):
    """``above``/``below`` on paired differences (two exchangeable settings) and on
    per-replicate slopes over exchangeable generations: both sides hold 0.05."""
    d, s = paired_null(name, r, 10 + r), slope_null(name, r, 20 + r)
    for p in (t_p(d), t_p(d, side="below"), t_p(s), t_p(s, side="below")):
        holds(rate(p))


def _tost_rate(name: str, r: int) -> float:
    """Paired differences shifted to the upper edge of a +-2 sd margin: the equivalence must not
    be supported more than 5 % of the time (the lower edge is the mirror image)."""
    width = 2 * math.sqrt(2) * SDS[name]
    d = paired_null(name, r, 40 + r) + width
    return rate(tost(d, -width, width))


def _welch_rate(name: str, r: int) -> float:
    return rate(welch_p(draw(name, (TRIALS, r), 50 + r), draw(name, (TRIALS, r), 60 + r)))


def _log_slope_rate(name: str, r: int) -> float:
    """Four sizes with the same law (no trend): the slope of log means on log size."""
    x = draw(name, (TRIALS, 4, r), 70 + r)
    return rate(log_slope_p(x, np.array([100.0, 200.0, 400.0, 800.0])))


@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("r", SIZES)
def test_tost_and_welch_hold_their_level(name, r):
    holds(_tost_rate(name, r), floor=None if r < 10 else ALPHA / 4)  # R < 10: +-2 sd is out of reach
    holds(_welch_rate(name, r))


def test_the_slope_of_log_means_is_not_covered_on_skewed_data():
    """Why G5 judges per-replicate slopes of log W2 (one-sample t on slopes, covered above)
    rather than the slope of the log of each size's mean (delta method, Welch-Satterthwaite
    df, what it used before): on lognormal data the latter rejects a true "no trend" 7-8 % of
    the time at 5 %, at R = 3 to 10 (and 6 % at G5's R = 60)."""
    for r in SIZES:
        assert _log_slope_rate("lognormal", r) > ALPHA + MARGIN


@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("r", SIZES)
def test_sign_flip_holds_its_level_on_paired_differences_and_slopes(name, r):
    """Exact at any R on a symmetric null; its smallest p is 2^-R, so at R = 3 it never rejects
    at 0.05 (conservative, never anti-conservative)."""
    for p in (flip_p(paired_null(name, r, 10 + r)), flip_p(slope_null(name, r, 20 + r), "less")):
        holds(rate(p), floor=ALPHA / 2 if r == 10 else None)


@functools.cache
def _family(name: str, r: int, seed: int) -> np.ndarray:
    """Four correlated paired nulls ``(4, TRIALS, R)``: a shared skewed component (a loop's
    streams reused by every check) plus each check's own."""
    shared = paired_null(name, r, seed)
    return np.stack([shared + paired_null(name, r, seed + 2 + 2 * j) for j in range(4)])


def _holm_rate(name: str, r: int, test: str) -> float:
    """Family-wise error: the share of trials where Holm at 0.05 rejects any of four true nulls."""
    family = _family(name, r, 80 + r)
    p = np.stack([t_p(d) if test == "t" else flip_p(d) for d in family], axis=1)  # (TRIALS, 4)
    any_rejected = p.min(1) <= ALPHA / p.shape[1]  # Holm rejects anything iff its first step does
    for i in range(20):
        assert any(stats.holm(list(p[i]), ALPHA)[0]) == any_rejected[i]
    return float(np.mean(any_rejected))


def _any_of_rate(name: str, r: int) -> float:
    """``any_of`` over two parts: K x the smallest part p, checked on its real builder."""
    a, b = _family(name, r, 90 + r)[:2]
    p = np.minimum(1.0, 2 * np.minimum(t_p(a, side="below"), t_p(b, side="below")))
    for i in range(3):
        parts = [below("a", stats.mean(a[i])), below("b", stats.mean(b[i]))]
        assert any_of("x", parts).p == pytest.approx(p[i], rel=1e-12)
    return rate(p)


@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("r", SIZES)
def test_holm_and_any_of_hold_the_family_level(name, r):
    holds(_holm_rate(name, r, "t"), floor=None)
    holds(_holm_rate(name, r, "flip"), floor=None)
    holds(_any_of_rate(name, r), floor=None)


def _size(test, n: int, p0: float, alpha: float) -> float:
    """Exact size at p = p0 (the least favourable null): the binomial law summed over the k the
    test rejects."""
    rejects = [k for k in range(n + 1) if test(k, n, p0) <= alpha]
    return float(st.binom.pmf(rejects, n, p0).sum()) if rejects else 0.0


@pytest.mark.parametrize("p0", [0.5, 0.9])
@pytest.mark.parametrize("n", [3, 5, 10, 60, 300])
def test_binomial_test_size_is_at_most_its_level_by_enumeration(n, p0):
    """``proportion_above`` (exact binomial test, Clopper-Pearson bound): its exact size at 0.05
    and at G1's Holm levels (n = 300, p0 = 0.9, alpha 0.01 over up to 8 checks) is at most the
    level; the p-value agrees with scipy's ``binomtest`` and the bound inverts it."""
    for alpha in (0.05, 0.01, 0.01 / 8):
        assert _size(stats.binomial_p, n, p0, alpha) <= alpha
    for k in range(n + 1):
        p = stats.binomial_p(k, n, p0)
        assert p == pytest.approx(st.binomtest(k, n, p0, alternative="greater").pvalue, rel=1e-9)
        assert (p <= 0.05) == (stats.clopper_pearson_lower(k, n, 0.05) > p0 - 1e-12)


def test_the_size_check_catches_the_score_test_at_small_n():
    """Negative control, and why the recipes left the score test: at n = 3, p0 = 1/2 its size
    at 0.05 is 1/8 (3 of 3 successes give p = 0.042)."""
    assert _size(stats.proportion_p, 3, 0.5, 0.05) == pytest.approx(0.125)


def score_sizes() -> dict[tuple[str, int, float, float], float]:
    out = {}
    for test in ("binomial_p", "proportion_p"):
        for n in (3, 5, 10, 60, 300):
            for p0 in (0.5, 0.9):
                for alpha in (0.05, 0.01 / 8):
                    out[(test, n, p0, alpha)] = _size(getattr(stats, test), n, p0, alpha)
    return out


@pytest.mark.parametrize("name", DRAWS)
def test_one_sample_levels_of_skewed_metrics_are_not_covered(name):
    """Negative control of the band, and the reason small-R recipes judge only paired
    differences and slopes: a mean of a right-skewed metric against its true value, tested
    on the lower side by t or by sign-flip, rejects far more than 5 % even at R = 10."""
    x = draw(name, (TRIALS, 10), 31) - MEANS[name]
    assert rate(t_p(x, side="below")) > ALPHA + 10 * MARGIN
    assert rate(flip_p(x, "less")) > ALPHA + 5 * MARGIN


def test_t_test_holds_its_level_on_normal_nulls():
    """On normal data the t test is exact: within the band from both sides."""
    for r in SIZES:
        assert abs(rate(t_p(np.random.default_rng(11 + r).normal(size=(TRIALS, r)))) - ALPHA) <= MARGIN


def test_the_level_check_catches_the_normal_quantile_at_small_r():
    """Negative control: a one-sided test using the normal quantile on the t statistic at R = 3
    rejects a true null far more often than 5 %, and the same band check flags it."""
    x = np.random.default_rng(11).normal(size=(TRIALS, 3))
    z = x.mean(axis=1) / (x.std(axis=1, ddof=1) / math.sqrt(3))
    assert rate(st.norm.sf(z)) > ALPHA + MARGIN


@pytest.mark.parametrize("replicates", [4, 10])
def test_detectable_effect_is_detected_with_the_stated_power(replicates):
    """Replicates N(delta, 1) with delta = detectable_effect(se = 1 / sqrt(R)): the one-sided
    t test at 5 % rejects in 80 % of the trials, within the binomial band."""
    se = 1 / math.sqrt(replicates)
    delta = stats.detectable_effect(stats.Estimate(0.0, se, replicates - 1, replicates), ALPHA, 0.8)
    x = np.random.default_rng(3).normal(loc=delta, size=(TRIALS, replicates))
    assert abs(rate(t_p(x)) - 0.8) <= binomial_margin(0.8, TRIALS)
    assert math.isnan(stats.detectable_effect(stats.Estimate(0.0, 0.0, 3, 4), ALPHA))  # no spread


if __name__ == "__main__":
    table = coverage_table()
    tests = list(dict.fromkeys(t for t, _, _ in table))
    print(f"type-I error at nominal {ALPHA} over {TRIALS} trials (band +-{MARGIN:.4f})")
    print("| test | " + " | ".join(f"{d[:4]} R={r}" for d in DRAWS for r in SIZES) + " |")
    print("|---|" + "---|" * (len(DRAWS) * len(SIZES)))
    for t in tests:
        print(f"| {t} | " + " | ".join(f"{table[(t, d, r)]:.4f}" for d in DRAWS for r in SIZES) + " |")
    print()
    for (test, n, p0, alpha), size in score_sizes().items():
        print(f"{test} n={n} p0={p0} alpha={alpha:.5f}: exact size {size:.5f}")
