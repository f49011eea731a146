"""The checks a recipe's judge states, and how a verdict is reached.

A judge returns :class:`Check` items (claims about random quantities, each with its statistic,
interval, threshold and replicate count R), :class:`Fact` items (exact properties of the
measurement or of the code: no sampling error, reported apart and never judged) and
:class:`Note` items (figures reported beside the verdict). :func:`verdict` gives every check
one of three outcomes:

- ``SUPPORTED``: the claim's null ("the claim is false") is rejected at the check's level;
- ``CONTRADICTED``: the opposite is established at the check's level (a directional check: the
  other direction; an equivalence check: the interval lies entirely outside the margin);
- ``INCONCLUSIVE``: neither (too few replicates, too much spread, or a truth near the edge).

Every agreement claim ("equals the closed form", "the limit is the same") is an equivalence
test (TOST) with a margin declared in the recipe's design file, with its reason: with no data,
an agreement is INCONCLUSIVE, never SUPPORTED. Holm's step-down procedure runs twice across a
recipe's checks at level ``alpha``: once on the p-values of support (so the probability that
any SUPPORTED line is wrong is at most ``alpha``, and a PASS is wrong with probability at most
``alpha``) and once on the p-values of contradiction (a wrong CONTRADICTED line: at most
``alpha`` for directional checks, at most ``2 alpha`` for equivalence checks, whose two sides
are each tested at the level). A recipe PASSes only when every judged check is SUPPORTED,
FAILs when any is CONTRADICTED, and is INCONCLUSIVE otherwise (and with no judged check).

A check may carry a negative control (:func:`controlled`): the same test on a realistic null at
the same R (a swapped or equal setting, a sign-flip or permutation of the replicates), judged
by its own Holm family at ``alpha``. A control that comes out SUPPORTED, or a fact that does not
hold, makes the recipe INVALID: its tests find effects where there are none, or its
measurement is not what the recipe means. A check whose standard error is exactly 0 is a
programming error (a deterministic quantity belongs in a fact) and :func:`verdict` refuses it.
The interval formulas live in :mod:`autophagy.core.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from autophagy.core import stats
from autophagy.core.stats import Estimate

ALPHA = 0.01  # default recipe-level error: P(any SUPPORTED line wrong) <= 1 %
INF = math.inf
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "SUPPORTED", "CONTRADICTED", "INCONCLUSIVE"
PASS, FAIL, INVALID = "PASS", "FAIL", "INVALID"
EXACT_R = 6  # at most this many replicates: checks given their samples use the exact sign-flip test
POWER = 0.8


@dataclass(frozen=True)
class Check:
    """One claim about a random quantity.

    ``kind``: ``above`` (mean > low), ``below`` (mean < high), ``inside`` (equivalence, TOST:
    low < mean < high; ``margin`` says why the band is that wide), ``proportion_above`` (share
    > low, score test and Wilson bound), ``undecided`` (no test could be formed: INCONCLUSIVE).
    ``p`` is the p-value of support, ``p_against`` that of contradiction. ``points`` > 1 when
    the support p is Bonferroni over several parts (the interval shown is then at level
    ``alpha / points``). ``min_se``: the smallest standard error among the check's points (0 is
    refused). ``test``: ``t`` or ``sign-flip`` (exact, at R <= :data:`EXACT_R`). ``outcome``,
    ``alpha`` and ``alpha_against`` are set by :func:`verdict`."""

    name: str
    kind: str
    estimate: Estimate | None
    low: float
    high: float
    p: float
    p_against: float
    note: str = ""
    points: int = 1
    successes: tuple[int, int] | None = None
    full_only: bool = False  # a claim judged at the full profile only (reported at quick)
    margin: str = ""  # an equivalence check's declared margin and its reason
    min_se: float = math.nan
    test: str = "t"
    control: Check | None = None
    alpha: float = math.nan
    alpha_against: float = math.nan
    outcome: str = INCONCLUSIVE

    @property
    def passed(self) -> bool:
        """Whether the claim is SUPPORTED."""
        return self.outcome == SUPPORTED

    def bounds(self) -> tuple[float, float]:
        """The interval the verdict compares with the threshold, at level ``alpha / points``."""
        e, a = self.estimate, self.alpha / self.points
        if self.kind == "proportion_above":
            k, n = self.successes
            return stats.wilson_lower(k, n, a), INF
        if e is None or math.isnan(a):
            return math.nan, math.nan
        if self.kind == "above":
            return e.lower(a), INF
        if self.kind == "below":
            return -INF, e.upper(a)
        return e.interval(2 * a)

    def level(self) -> float:
        """The confidence level of the interval shown (one-sided bound or TOST interval)."""
        a = self.alpha / self.points
        return 1 - (2 * a if self.kind == "inside" else a)

    def detectable(self) -> float:
        """The smallest effect the check detects with 80 % power given the observed spread, in
        the statistic's units: a departure from the threshold (directional checks), or the
        half-width a margin needs for the equivalence to be supported with 80 % power when
        the truth sits at its centre (each side tested at 90 %). NaN without an estimate."""
        if self.estimate is None or math.isnan(self.alpha):
            return math.nan
        power = 0.9 if self.kind == "inside" else POWER
        return stats.detectable_effect(self.estimate, self.alpha / self.points, power)

    @property
    def detail(self) -> str:
        """Statistic, interval at the check's level, threshold, R and power, in one line."""
        if self.kind == "undecided":
            return self.note
        low, high = self.bounds()
        level = _percent(self.level())
        if self.kind == "proportion_above":
            k, n = self.successes
            text = f"{k}/{n} = {k / n:.3g}, {level} lower bound {low:.4g} > {self.low:g}"
        else:
            e = self.estimate
            value = f"{e.value:.4g}"
            if self.kind == "above":
                text = f"{value}, {level} lower bound {low:.4g} > {self.low:.4g}"
            elif self.kind == "below":
                text = f"{value}, {level} upper bound {high:.4g} < {self.high:.4g}"
            else:
                band = f"({self.low:.4g}, {self.high:.4g})"
                text = f"{value}, {level} interval [{low:.4g}, {high:.4g}] inside {band}"
            text += f", R = {e.n}"
            if self.test != "t":
                text += f", exact sign-flip p = {self.p:.3g}"
            if math.isfinite(self.detectable()):
                text += f", detects {self.detectable():.3g} at 80 % power"
        parts = [text, self.margin, self.note]
        return "; ".join(p for p in parts if p)

    def as_dict(self) -> dict[str, Any]:
        """Every number of the check, for the JSON verdict."""
        low, high = self.bounds()
        e = self.estimate
        out = {
            "name": self.name,
            "kind": self.kind,
            "outcome": self.outcome,
            "passed": self.passed,
            "test": self.test,
            "statistic": None if e is None else _finite(e.value),
            "se": None if e is None else _finite(e.se),
            "df": None if e is None or math.isinf(e.df) else e.df,
            "replicates": None if e is None else e.n,
            "successes": None if self.successes is None else list(self.successes),
            "interval": [_finite(low), _finite(high)],
            "interval_level": _finite(self.level()),
            "threshold": [_finite(self.low), _finite(self.high)],
            "margin": None
            if self.kind != "inside"
            else {
                "band": [_finite(self.low), _finite(self.high)],
                "reason": self.margin,
            },
            "points": self.points,
            "p_value": _finite(self.p),
            "p_against": _finite(self.p_against),
            "alpha": _finite(self.alpha),
            "alpha_against": _finite(self.alpha_against),
            "detectable_effect": _finite(self.detectable()),
            "detail": self.detail,
        }
        if self.control is not None:
            out["control"] = self.control.as_dict()
        return out


@dataclass(frozen=True)
class Fact:
    """An exact property of the measurement or of the code (no sampling error): reported apart,
    never judged; one that does not hold makes the recipe INVALID."""

    name: str
    holds: bool
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "holds": self.holds, "detail": self.note}


@dataclass(frozen=True)
class Note:
    """A figure reported beside the verdict; it never counts toward the outcome."""

    name: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "detail": self.detail}


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _percent(level: float) -> str:
    if math.isnan(level):
        return "unjudged"
    digits = max(1, min(6, math.ceil(-math.log10(max(1 - level, 1e-12))) - 1))
    return f"{100 * level:.{digits}f} %"


@dataclass(frozen=True)
class Report:
    """The judged checks, the facts, the reported-only notes and the recipe-level ``alpha``;
    ``deferred`` names the claims left to the full profile."""

    checks: list[Check]
    notes: list[Note]
    alpha: float
    facts: list[Fact] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """INVALID (a control SUPPORTED or a fact broken), FAIL (a check CONTRADICTED), PASS
        (every check SUPPORTED, at least one) or INCONCLUSIVE."""
        if self.invalid_reasons():
            return INVALID
        if any(c.outcome == CONTRADICTED for c in self.checks):
            return FAIL
        if self.checks and all(c.outcome == SUPPORTED for c in self.checks):
            return PASS
        return INCONCLUSIVE

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    def invalid_reasons(self) -> list[str]:
        """Why the verdict is INVALID: controls that came out SUPPORTED, facts that do not hold."""
        out = [f"control of '{c.name}' came out SUPPORTED" for c in self.checks if _control_supported(c)]
        return out + [f"fact '{f.name}' does not hold" for f in self.facts if not f.holds]

    def by_name(self) -> dict[str, bool]:
        return {c.name: c.passed for c in self.checks}

    def outcomes(self) -> dict[str, str]:
        return {c.name: c.outcome for c in self.checks}


def _control_supported(check: Check) -> bool:
    return check.control is not None and check.control.outcome == SUPPORTED


def _judge(checks: list[Check], alpha: float) -> list[Check]:
    """Holm on the support p-values and, separately, on the contradiction p-values."""
    for c in checks:
        if c.min_se == 0.0:
            raise ValueError(
                f"check '{c.name}' has standard error 0: a deterministic quantity cannot be judged "
                "(report it as a Fact)"
            )
    support, levels = stats.holm([c.p for c in checks], alpha)
    against, levels_against = stats.holm([c.p_against for c in checks], alpha)
    out = []
    for c, s, a, x, ax in zip(checks, support, levels, against, levels_against, strict=True):
        outcome = SUPPORTED if s and not x else CONTRADICTED if x and not s else INCONCLUSIVE
        out.append(replace(c, alpha=a, alpha_against=ax, outcome=outcome))
    return out


def verdict(items: Sequence[Check | Fact | Note], alpha: float = ALPHA, profile: str = "full") -> Report:
    """Judge ``items`` (see the module). Below the ``full`` profile, checks marked ``full_only``
    are reported as notes instead, and named in the report's ``deferred``."""
    demoted = [i for i in items if isinstance(i, Check) and i.full_only and profile != "full"]
    checks = [i for i in items if isinstance(i, Check) and i not in demoted]
    facts = [i for i in items if isinstance(i, Fact)]
    notes = [i for i in items if isinstance(i, Note)]
    for c in demoted:
        shown = _judge([replace(c, control=None)], alpha)[0]
        notes.append(
            Note(f"{c.name} (judged in the full profile only)", f"{shown.outcome} alone: {shown.detail}")
        )
    judged = _judge(checks, alpha)
    with_control = [i for i, c in enumerate(judged) if c.control is not None]
    controls = _judge([judged[i].control for i in with_control], alpha) if with_control else []
    for i, control in zip(with_control, controls, strict=True):
        judged[i] = replace(judged[i], control=control)
    return Report(judged, notes, alpha, facts, [c.name for c in demoted])


# --- building checks ---------------------------------------------------------------------------


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
    exact = _exact(samples, threshold, "greater")
    p, q = exact or (estimate.p_above(threshold), estimate.p_below(threshold))
    return Check(
        name,
        "above",
        estimate,
        threshold,
        INF,
        p,
        q,
        note,
        min_se=_se(estimate),
        test="t" if exact is None else "sign-flip",
    )


def below(
    name: str, estimate: Estimate, threshold: float = 0.0, note: str = "", samples: np.ndarray | None = None
) -> Check:
    """Claim: the expectation lies under ``threshold`` (see :func:`above`)."""
    exact = _exact(samples, threshold, "less")
    p, q = exact or (estimate.p_below(threshold), estimate.p_above(threshold))
    return Check(
        name,
        "below",
        estimate,
        -INF,
        threshold,
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
    """Claim: the probability of success exceeds ``threshold`` (score test, Wilson bound)."""
    p = stats.proportion_p(successes, n, threshold)
    return Check(name, "proportion_above", None, threshold, INF, p, 1.0 - p, note, successes=(successes, n))


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
