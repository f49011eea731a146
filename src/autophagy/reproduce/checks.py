"""The functions a recipe's judge builds its checks with (see :mod:`autophagy.reproduce.verdict`
for the outcomes and how a recipe is judged).

Directional claims (:func:`above`, :func:`below`) are one-sided t tests on an
:class:`~autophagy.core.stats.Estimate`, or, given the replicate values at R <= :data:`EXACT_R`,
the exact paired sign-flip test (skewed metrics at small R). Agreements (:func:`inside`,
:func:`equals`, :func:`matches_everywhere`) are equivalence tests (TOST) with a declared margin.
:func:`all_of` and :func:`any_of` combine parts (intersection-union; Bonferroni within the
claim), :func:`proportion_above` is the exact binomial test with its Clopper-Pearson bound,
:func:`fact` an exact property reported apart, :func:`controlled` attaches a negative control and
:func:`sign_flipped` builds the usual one (the replicates' signs flipped by fair coins).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from autophagy.core import stats
from autophagy.core.stats import Estimate
from autophagy.reproduce.verdict import INF, Check, Fact

EXACT_R = 6  # at most this many replicates: checks given their samples use the exact sign-flip test


def _exact(samples: np.ndarray | None, threshold: float, direction: str) -> tuple[float, float] | None:
    """Exact sign-flip p-values (support, against) at R <= EXACT_R, or None for the t test."""
    if samples is None:
        return None
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size > EXACT_R or not np.all(np.isfinite(x)):
        return None
    other = "less" if direction == "greater" else "greater"
    return stats.sign_flip_p(x, threshold, direction), stats.sign_flip_p(x, threshold, other)


def above(
    name: str, estimate: Estimate, threshold: float = 0.0, note: str = "", samples: np.ndarray | None = None
) -> Check:
    """Claim: the expectation exceeds ``threshold`` (one-sided t test; CONTRADICTED when it is
    significantly below). ``samples``: the replicate values ``(R,)`` whose mean ``estimate`` is
    (per-replicate differences or slopes); at R <= :data:`EXACT_R` they are judged by the exact
    sign-flip test instead of t (for skewed metrics such as FID)."""
    return _one_sided("above", name, estimate, threshold, note, samples)


def below(
    name: str, estimate: Estimate, threshold: float = 0.0, note: str = "", samples: np.ndarray | None = None
) -> Check:
    """Claim: the expectation lies under ``threshold`` (see :func:`above`)."""
    return _one_sided("below", name, estimate, threshold, note, samples)


def _one_sided(
    kind: str, name: str, estimate: Estimate, threshold: float, note: str, samples: np.ndarray | None
) -> Check:
    """The check of :func:`above` (``kind = "above"``) or :func:`below`."""
    up = kind == "above"
    exact = _exact(samples, threshold, "greater" if up else "less")
    toward, away = (estimate.p_above, estimate.p_below) if up else (estimate.p_below, estimate.p_above)
    p, q = exact or (toward(threshold), away(threshold))
    low, high = (threshold, INF) if up else (-INF, threshold)
    return Check(
        name,
        kind,
        estimate,
        low,
        high,
        p,
        q,
        note,
        min_se=_se(estimate),
        test="t" if exact is None else "sign-flip",
    )


def _se(estimate: Estimate) -> float:
    return math.nan if math.isnan(estimate.value) else estimate.se


def _against(estimate: Estimate, low: float, high: float) -> float:
    """p-value of "the expectation lies outside [low, high]": the level-(1 - 2a) interval lies
    entirely outside the band when it is at most a."""
    return min(estimate.p_below(low), estimate.p_above(high))


def inside(
    name: str,
    estimate: Estimate,
    low: float,
    high: float,
    note: str = "",
    margin: str = "",
    samples: np.ndarray | None = None,
) -> Check:
    """Claim: ``low < expectation < high`` (TOST; the band and its reason ``margin`` declared in
    the recipe's design before the run). ``samples``: as for :func:`above` (two exact
    one-sided sign-flip tests at R <= :data:`EXACT_R`)."""
    if not low < high:
        raise ValueError(f"{name}: an equivalence band needs low < high, got [{low}, {high}]")
    lower, upper = _exact(samples, low, "greater"), _exact(samples, high, "less")
    if lower is not None and upper is not None:
        p, against, test = max(lower[0], upper[0]), min(lower[1], upper[1]), "sign-flip"
    else:
        p, against, test = stats.tost_p(estimate, low, high), _against(estimate, low, high), "t"
    return Check(
        name, "inside", estimate, low, high, p, against, note, margin=margin, min_se=_se(estimate), test=test
    )


def equals(name: str, estimate: Estimate, target: float, margin: float, reason: str, note: str = "") -> Check:
    """Claim: the expectation is ``target`` within ``margin`` (an equivalence test, TOST);
    ``reason`` says why the margin is that wide (a fraction of the paper's effect, the
    resolution of its figure, a finite-size allowance)."""
    if not margin > 0:
        raise ValueError(f"{name}: an agreement needs a positive margin, got {margin}")
    return inside(
        name,
        estimate,
        target - margin,
        target + margin,
        note,
        f"margin +-{margin:.3g}: {reason}" if reason else f"margin +-{margin:.3g}",
    )


def matches_everywhere(
    name: str, samples: np.ndarray, expected: np.ndarray, relative: float, reason: str, note: str = ""
) -> Check:
    """Claim: the replicate means of ``samples`` ``(R, K)`` equal ``expected`` ``(K,)`` within
    ``relative |expected|`` at all K points. Supported when every point's TOST rejects
    (intersection-union: p is the largest point p), contradicted when any point lies outside its
    band (Bonferroni: K times the smallest point p); shown by the worst-supported point."""
    samples = np.asarray(samples, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    ests = [stats.mean(samples[:, k]) for k in range(expected.size)]
    bands = [(x - relative * abs(x), x + relative * abs(x)) for x in expected]
    support = [stats.tost_p(e, lo, hi) for e, (lo, hi) in zip(ests, bands, strict=True)]
    against = [_against(e, lo, hi) for e, (lo, hi) in zip(ests, bands, strict=True)]
    worst = int(np.nanargmax(support)) if not np.all(np.isnan(support)) else 0
    p = float(np.max(support))  # NaN at any point: no support
    where = f"worst of {expected.size} points (#{worst + 1})" if expected.size > 1 else ""
    return Check(
        name,
        "inside",
        ests[worst],
        *bands[worst],
        p,
        min(1.0, expected.size * min(against)),
        "; ".join(filter(None, [where, note])),
        margin=f"margin +-{relative:.3g} x the expectation: {reason}",
        min_se=min(_se(e) for e in ests),
    )


def all_of(name: str, parts: Sequence[Check], note: str = "", full_only: bool = False) -> Check:
    """One claim made of parts that must all hold (e.g. at every n_r), shown by its worst part:
    supported when every part is (intersection-union: p is the largest part p), contradicted
    when any part is (Bonferroni: K times the smallest part p against)."""
    if not parts:
        raise ValueError(f"{name}: all_of needs parts")
    if any(p.kind == "undecided" for p in parts):
        bad = next(p for p in parts if p.kind == "undecided")
        return undecided(name, f"{bad.name}: {bad.note}", full_only)
    worst = max(parts, key=lambda p: (math.isnan(p.p), p.p))
    text = f"worst of {len(parts)}: {worst.name}" + (f"; {worst.note}" if worst.note else "")
    text += f"; {note}" if note else ""
    against = min(1.0, len(parts) * min(p.p_against for p in parts))
    return replace(
        worst,
        name=name,
        p_against=against,
        note=text,
        full_only=full_only,
        min_se=min((p.min_se for p in parts), key=lambda s: (math.isnan(s), s)),
    )


def any_of(name: str, parts: Sequence[Check], note: str = "") -> Check:
    """One claim that holds when any of its directional parts holds (e.g. "the two loops start
    apart in FID or in recall"), shown by its best part. Bonferroni within the claim: supported
    when some part rejects at a / K (its p is K x the smallest part p, and its bound is shown at
    that level); contradicted when every part is (the largest part p against)."""
    if not parts or not all(p.kind in ("above", "below") for p in parts):
        raise ValueError(f"{name}: any_of takes directional parts only")
    best = min(parts, key=lambda p: p.p)
    text = f"best of {len(parts)}: {best.name}" + (f"; {best.note}" if best.note else "")
    text += f"; {note}" if note else ""
    return replace(
        best,
        name=name,
        p=min(1.0, len(parts) * best.p),
        p_against=max(p.p_against for p in parts),
        points=len(parts) * best.points,
        note=text,
    )


def proportion_above(name: str, successes: int, n: int, threshold: float, note: str = "") -> Check:
    """Claim: the probability of success exceeds ``threshold`` (exact binomial test, Clopper-Pearson
    bound; the score test it replaced exceeds its level at small n, see
    ``tests/core/test_small_samples.py``); contradicted when the share is significantly below
    (``P(Bin(n, threshold) <= k)``)."""
    p = stats.binomial_p(successes, n, threshold)
    against = stats.binomial_p(n - successes, n, 1.0 - threshold)  # P(Bin(n, p0) <= k)
    return Check(name, "proportion_above", None, threshold, INF, p, against, note, successes=(successes, n))


def undecided(name: str, note: str, full_only: bool = False) -> Check:
    """A claim no test could be formed for (e.g. a threshold the grid never reached): INCONCLUSIVE."""
    return Check(name, "undecided", None, math.nan, math.nan, math.nan, math.nan, note, full_only=full_only)


def fact(name: str, holds: bool, note: str) -> Fact:
    """An exact property of the measurement (no sampling error), reported apart, never judged."""
    return Fact(name, bool(holds), note)


def controlled(check: Check, control: Check, how: str) -> Check:
    """``check`` with its negative control: the same test on a realistic null at the same R
    (``how`` says which). The control should not come out SUPPORTED; if it does, the recipe is
    INVALID."""
    return replace(check, control=replace(control, name=f"control: {how}", full_only=False, control=None))


def at_margin_edge(estimate: Estimate, target: float, margin: float) -> Estimate:
    """``estimate`` moved by ``margin`` away from ``target`` on its own side (same se and df): a
    truth at the edge of an agreement's margin, the least favourable null of its equivalence
    test, with the recipe's real spread (the control of an agreement that has no other setting
    to swap in)."""
    return replace(estimate, value=estimate.value + (margin if estimate.value >= target else -margin))


def sign_flipped(values: np.ndarray, key: str) -> np.ndarray:
    """``values`` ``(R, ...)`` with each replicate's sign flipped by a fair coin from a stream
    keyed on ``key``: the permutation null of a paired difference or a per-replicate slope
    (expectation 0, the real spread). The coins are balanced (R // 2 flips) so the control's mean
    cannot inherit the sign of a large effect by chance of a lopsided draw."""
    x = np.asarray(values, dtype=np.float64)
    seq = np.random.SeedSequence(list(key.encode()))
    rng = np.random.default_rng(seq)
    signs = np.ones(x.shape[0])
    signs[rng.permutation(x.shape[0])[: x.shape[0] // 2]] = -1.0
    return x * signs.reshape((-1,) + (1,) * (x.ndim - 1))


def flip_controlled(
    direction: str, name: str, values: np.ndarray, key: str, note: str = "", how: str = "signs flipped"
) -> Check:
    """``above`` or ``below`` (``direction``) 0 for the mean of per-replicate ``values`` ``(R,)``
    (paired differences or slopes), controlled by the same check on the values with their signs
    flipped by balanced fair coins keyed on ``key`` (:func:`sign_flipped`): the permutation null
    at the same spread."""
    test = {"above": above, "below": below}[direction]
    return controlled(
        test(name, stats.mean(values), note=note), test("", stats.mean(sign_flipped(values, key))), how
    )
