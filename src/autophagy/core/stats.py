"""Interval arithmetic for verdicts over a few independent replicates.

Every statistic a recipe judges is an :class:`Estimate`: a value, its standard error and the
degrees of freedom of its Student-t reference distribution. With R independent replicates
x_1..x_R of a quantity:

- mean: ``x̄ = sum x_i / R``, ``se = s / sqrt(R)`` with ``s^2 = sum (x_i - x̄)^2 / (R - 1)``,
  ``df = R - 1``; the two-sided level-(1 - a) interval is ``x̄ ± t_(1 - a/2, R-1) se`` (exact for
  normal x_i, and the normal quantile under-covers at small R: at R = 3 a nominal 99.9 %
  normal interval covers about 92 %);
- paired difference: the mean interval of ``d_i = a_i - b_i`` where replicate i of both
  settings shares its random streams (valid however a_i and b_i are correlated);
- trend: each replicate's least-squares slope over all generations,
  ``b_i = sum_t (t - t̄)(y_it - ȳ_i) / sum_t (t - t̄)^2``, then the mean interval of the b_i (the
  replicates are independent; the generations of one replicate need not be);
- difference of independent estimates: ``se = sqrt(se_a^2 + se_b^2)`` with Welch-Satterthwaite
  ``df = se^4 / (se_a^4 / df_a + se_b^4 / df_b)``;
- proportion: the Wilson score interval of k successes in n,
  ``(p̂ + z^2/2n ± z sqrt(p̂(1 - p̂)/n + z^2/4n^2)) / (1 + z^2/n)``, which inverts the score test
  ``z = (p̂ - p0) / sqrt(p0 (1 - p0) / n)`` (:func:`proportion_p`); the recipes judge a
  proportion by the exact binomial test ``p = P(Bin(n, p0) >= k)`` (:func:`binomial_p`, size at
  most the level at any n; the score test's exceeds it at small n: 0.125 at n = 3, p0 = 1/2)
  with its Clopper-Pearson bound (:func:`clopper_pearson_lower`);
- equivalence (TOST): the claim ``low < mu < high`` with a margin declared before the run holds
  at level a when both one-sided tests reject, ``p = max(P(T >= (x̄ - low)/se), P(T <= (x̄ - high)/se))``;
  equivalently the two-sided level-(1 - 2a) interval lies inside the margin;
- Holm's step-down correction across one recipe's checks (:func:`holm`): sort the m p-values,
  compare the j-th smallest with ``a / (m - j + 1)`` and stop at the first that exceeds it;
  the probability that any rejected hypothesis was true is at most ``a`` under any dependence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special as _sp


@dataclass(frozen=True)
class Estimate:
    """A statistic with standard error ``se`` on a Student-t reference with ``df`` degrees of
    freedom (``math.inf``: normal); ``n`` is the number of replicates it comes from."""

    value: float
    se: float
    df: float
    n: int

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the reference distribution (t with ``df``, or normal)."""
        return float(_sp.ndtri(q) if math.isinf(self.df) else _sp.stdtrit(self.df, q))

    def interval(self, alpha: float) -> tuple[float, float]:
        """Two-sided level-(1 - ``alpha``) interval ``value ± t_(1 - alpha/2) se``."""
        half = self.quantile(1 - alpha / 2) * self.se
        return self.value - half, self.value + half

    def lower(self, alpha: float) -> float:
        """One-sided level-(1 - ``alpha``) lower bound ``value - t_(1 - alpha) se``."""
        return self.value - self.quantile(1 - alpha) * self.se

    def upper(self, alpha: float) -> float:
        """One-sided level-(1 - ``alpha``) upper bound ``value + t_(1 - alpha) se``."""
        return self.value + self.quantile(1 - alpha) * self.se

    def p_above(self, threshold: float) -> float:
        """p-value of H0 ``mu <= threshold`` against ``mu > threshold`` (small: clearly above)."""
        return self._sf(
            (self.value - threshold) / self.se if self.se > 0 else _signed_inf(self.value - threshold)
        )

    def p_below(self, threshold: float) -> float:
        """p-value of H0 ``mu >= threshold`` against ``mu < threshold`` (small: clearly below)."""
        return self._sf(
            (threshold - self.value) / self.se if self.se > 0 else _signed_inf(threshold - self.value)
        )

    def _sf(self, x: float) -> float:
        return float(_sp.ndtr(-x) if math.isinf(self.df) else _sp.stdtr(self.df, -x))

    def scaled(self, factor: float, shift: float = 0.0) -> Estimate:
        """``factor * x + shift`` (exact for a linear map)."""
        return Estimate(factor * self.value + shift, abs(factor) * self.se, self.df, self.n)


def _signed_inf(x: float) -> float:
    return math.inf if x > 0 else -math.inf if x < 0 else 0.0


def mean(samples: np.ndarray) -> Estimate:
    """Mean of independent replicate values ``(R,)``, R >= 2: Student-t with df = R - 1."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"a mean interval needs at least 2 replicates, got {x.size}")
    return Estimate(float(x.mean()), float(x.std(ddof=1)) / math.sqrt(x.size), x.size - 1, x.size)


def t_interval(values: np.ndarray, ci: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and two-sided Student-t interval (df = n - 1) of the finite values among independent
    replicates' ``values``: ``mean -+ t_{(1+ci)/2, n-1} * s / sqrt(n)``, with n; the interval is
    NaN for fewer than 2 values (and everything for none)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan, 0
    centre = float(x.mean())
    if x.size < 2:
        return centre, math.nan, math.nan, 1
    half = float(_sp.stdtrit(x.size - 1, (1 + ci) / 2) * x.std(ddof=1) / math.sqrt(x.size))
    return centre, centre - half, centre + half, int(x.size)


def paired(a: np.ndarray, b: np.ndarray) -> Estimate:
    """Mean of the per-replicate differences ``a_i - b_i`` ``(R,)`` (shared streams)."""
    return mean(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def replicate_slopes(values: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
    """Least-squares slope of each replicate row of ``values`` ``(R, T)`` on ``x`` ``(T,)``
    (default generations 1..T): ``(R,)``, in units of value per unit of x."""
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(1, y.shape[1] + 1, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    centred = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)


def trend(values: np.ndarray, x: np.ndarray | None = None) -> Estimate:
    """Mean per-replicate least-squares slope over all T points of ``values`` ``(R, T)``."""
    return mean(replicate_slopes(values, x))


def combine(coefficients: list[float], estimates: list[Estimate]) -> Estimate:
    """``sum c_i x_i`` of independent estimates: ``se^2 = sum c_i^2 se_i^2``, Welch-Satterthwaite
    ``df = se^4 / sum (c_i se_i)^4 / df_i``."""
    value = sum(c * e.value for c, e in zip(coefficients, estimates, strict=True))
    parts = [(abs(c) * e.se, e.df) for c, e in zip(coefficients, estimates, strict=True) if c != 0]
    se = math.sqrt(sum(s * s for s, _ in parts))
    finite = [s**4 / d for s, d in parts if s > 0 and not math.isinf(d)]
    df = (
        se**4 / sum(finite) if se > 0 and finite and len(finite) == sum(s > 0 for s, _ in parts) else math.inf
    )
    return Estimate(value, se, df, min(e.n for e in estimates))


def difference(a: Estimate, b: Estimate) -> Estimate:
    """``a - b`` for independent estimates, Welch-Satterthwaite degrees of freedom."""
    return combine([1.0, -1.0], [a, b])


def from_interval(value: float, low: float, high: float, n: int, level: float = 0.95) -> Estimate:
    """An estimate given as a symmetric normal ``level`` interval over ``n`` replicates, re-read
    as a t estimate with df = n - 1 (the se is the half-width over the normal quantile)."""
    half = max(value - low, high - value)
    return Estimate(value, half / float(_sp.ndtri(0.5 + level / 2)), n - 1, n)


def log(a: Estimate) -> Estimate:
    """``log a`` of a positive estimate by the delta method (``se / value``)."""
    return Estimate(math.log(a.value), a.se / a.value, a.df, a.n)


def log_ratio(a: Estimate, b: Estimate) -> Estimate:
    """``log(a / b)`` of independent positive estimates by the delta method:
    ``se^2 = (se_a / a)^2 + (se_b / b)^2``, Welch-Satterthwaite df on the relative errors."""
    return difference(log(a), log(b))


def slope(x: list[float], estimates: list[Estimate]) -> Estimate:
    """Least-squares slope of independent estimates on ``x``: the linear combination with
    ``c_k = (x_k - x̄) / sum (x_j - x̄)^2`` (unweighted, so its se follows from :func:`combine`)."""
    xs = np.asarray(x, dtype=np.float64)
    centred = xs - xs.mean()
    return combine(list(centred / float(centred @ centred)), estimates)


# --- proportions ---------------------------------------------------------------------------


def wilson(successes: int, n: int, alpha: float) -> tuple[float, float]:
    """Two-sided level-(1 - ``alpha``) Wilson score interval of a binomial proportion."""
    z = float(_sp.ndtri(1 - alpha / 2))
    return _wilson(successes, n, z)


def wilson_lower(successes: int, n: int, alpha: float) -> float:
    """One-sided level-(1 - ``alpha``) Wilson lower bound of a binomial proportion."""
    return _wilson(successes, n, float(_sp.ndtri(1 - alpha)))[0]


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def proportion_p(successes: int, n: int, p0: float) -> float:
    """Score-test p-value of H0 ``p <= p0`` against ``p > p0`` (inverts :func:`wilson_lower`)."""
    z = (successes / n - p0) / math.sqrt(p0 * (1 - p0) / n)
    return float(_sp.ndtr(-z))


def binomial_p(successes: int, n: int, p0: float) -> float:
    """Exact binomial p-value of H0 ``p <= p0`` against ``p > p0``: ``P(Bin(n, p0) >= k)``
    (its size is at most the level at any n, unlike the score test's)."""
    if successes <= 0:
        return 1.0
    return float(_sp.bdtrc(successes - 1, n, p0))


def clopper_pearson_lower(successes: int, n: int, alpha: float) -> float:
    """One-sided level-(1 - ``alpha``) Clopper-Pearson lower bound of a binomial proportion,
    the ``alpha`` quantile of Beta(k, n - k + 1) (0 for k = 0): it inverts :func:`binomial_p`,
    so ``binomial_p(k, n, p0) <= alpha`` exactly when the bound exceeds ``p0``."""
    if successes <= 0:
        return 0.0
    return float(_sp.betaincinv(successes, n - successes + 1, alpha))


# --- equivalence and multiplicity -----------------------------------------------------------


def tost_p(estimate: Estimate, low: float, high: float) -> float:
    """TOST p-value of the claim ``low < mu < high`` (small: clearly inside the margin)."""
    return max(estimate.p_above(low), estimate.p_below(high))


def holm(p_values: list[float], alpha: float) -> tuple[list[bool], list[float]]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha``,
    and the level each was compared with (``alpha / (m - j + 1)`` for the j-th smallest p; the
    hypotheses after the first non-rejection keep the level at which the procedure stopped)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: (math.isnan(p_values[i]), p_values[i]))  # NaN: last, kept
    rejected, levels = [False] * m, [alpha] * m
    stopped: float | None = None
    for j, i in enumerate(order):
        level = alpha / (m - j) if stopped is None else stopped
        levels[i] = level
        if stopped is None and p_values[i] <= level:
            rejected[i] = True
        elif stopped is None:
            stopped = level
    return rejected, levels


# --- small samples: an exact paired test and the effect a check can detect --------------------


SIGN_FLIP_EXACT = 16  # up to this many replicates every sign vector is enumerated


def sign_flip_p(differences: np.ndarray, threshold: float = 0.0, alternative: str = "greater") -> float:
    """Exact paired sign-flip (permutation) p-value of H0 ``median(d) = threshold`` against
    ``mean(d) > threshold`` (``alternative="greater"``) or ``< threshold`` (``"less"``).

    Under H0 with d_i - threshold symmetric about 0 (exchangeable paired settings: equal or
    swapped loops sharing streams), each of the 2^R sign vectors is equally likely, so
    ``p = #{s : sum s_i |d_i - threshold| >= sum (d_i - threshold)} / 2^R`` is exact at any R
    and any shape of the d_i's distribution, skewed ones included. The smallest attainable p is
    ``2^-R`` (R = 4: 0.0625), so at small R it is conservative, never anti-conservative.
    Above :data:`SIGN_FLIP_EXACT` replicates, 2^16 sign vectors drawn from a fixed seed."""
    d = np.asarray(differences, dtype=np.float64).ravel() - threshold
    if d.size < 1 or not np.all(np.isfinite(d)):
        raise ValueError("a sign-flip test needs at least one finite difference")
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative must be 'greater' or 'less', got {alternative!r}")
    d = d if alternative == "greater" else -d
    if d.size <= SIGN_FLIP_EXACT:
        signs = 1 - 2 * ((np.arange(2**d.size)[:, None] >> np.arange(d.size)) & 1)
    else:
        signs = np.random.default_rng(0).choice((-1, 1), size=(2**16, d.size))
    totals = signs @ np.abs(d)
    return float(np.mean(totals >= d.sum() - 1e-12 * np.abs(d).sum()))


def detectable_effect(estimate: Estimate, alpha: float, power: float = 0.8) -> float:
    """The smallest true effect a one-sided level-``alpha`` t test on ``estimate`` detects with
    probability ``power``, in the estimate's units, taking its standard error as the truth:
    the delta solving ``P(T'(df, delta / se) > t_(1 - alpha, df)) = power`` with T' noncentral t
    (``(z_(1-alpha) + z_power) se`` for a normal reference). NaN without a spread."""
    from scipy import optimize
    from scipy import stats as _st

    if not (estimate.se > 0 and math.isfinite(estimate.se)):
        return math.nan
    if math.isinf(estimate.df):
        return float((_sp.ndtri(1 - alpha) + _sp.ndtri(power)) * estimate.se)
    critical = _sp.stdtrit(estimate.df, 1 - alpha)

    def shortfall(shift: float) -> float:
        return float(_st.nct.sf(critical, estimate.df, shift) - power)

    return float(optimize.brentq(shortfall, 0.0, 100.0 + 10 * critical) * estimate.se)
