"""The checks a recipe's judge states, and how a verdict is reached.

A judge returns :class:`Check` items (falsifiable claims, each with its statistic, interval,
threshold and replicate count R) and :class:`Note` items (figures reported beside the
verdict, never counted toward it). :func:`verdict` applies Holm's correction across the
recipe's statistical checks at the recipe's level ``alpha``, so the probability that any
check line of the verdict is wrong is at most ``alpha``:

- a directional or equivalence check (``above``, ``below``, ``inside``, ``proportion_above``)
  passes only when its null "the claim is false" is rejected (a false PASS is the error);
- an agreement check (``equals``, ``matches_everywhere``) fails only when its null "the
  claim holds" is rejected (a false FAIL is the error);
- a ``fact`` is an exact property of the measurement (no sampling error) and takes no alpha.

Holm controls the family-wise error of all these rejections together under any dependence.
The interval formulas live in :mod:`autophagy.core.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from autophagy.core import stats
from autophagy.core.stats import Estimate

ALPHA = 0.01  # default recipe-level error: P(any check line wrong) <= 1 %
INF = math.inf


@dataclass(frozen=True)
class Check:
    """One falsifiable claim about a measurement.

    ``kind``: ``above`` (mean > low), ``below`` (mean < high), ``inside`` (TOST: low < mean <
    high), ``equals`` (the mean lies in [low, high]; fails only when significantly outside),
    ``proportion_above`` (share > low, Wilson/score), ``fact`` (exact, ``p`` 0 if it holds).
    ``points`` > 1 for an agreement at several points at once (Bonferroni inside the check:
    ``p`` is ``points`` times the smallest per-point p). ``passed`` and ``alpha`` are set by
    :func:`verdict`.
    """

    name: str
    kind: str
    estimate: Estimate | None
    low: float
    high: float
    p: float
    note: str = ""
    points: int = 1
    successes: tuple[int, int] | None = None
    full_only: bool = False  # a claim judged at the full profile only (reported at quick)
    alpha: float = math.nan
    passed: bool = False

    @property
    def rejection_passes(self) -> bool:
        """Whether rejecting this check's null makes it pass (directional, equivalence)."""
        return self.kind in ("above", "below", "inside", "proportion_above")

    def bounds(self) -> tuple[float, float]:
        """The interval the verdict compares with the threshold, at this check's ``alpha``."""
        e, a = self.estimate, self.alpha
        if self.kind == "proportion_above":
            k, n = self.successes
            return stats.wilson_lower(k, n, a), INF
        if e is None:
            return math.nan, math.nan
        if self.kind == "above":
            return e.lower(a), INF
        if self.kind == "below":
            return -INF, e.upper(a)
        if self.kind == "inside":
            return e.interval(2 * a)
        return e.interval(a / self.points)

    @property
    def detail(self) -> str:
        """Statistic, interval at the check's level, threshold and R, in one line."""
        if self.kind == "fact":
            return self.note
        low, high = self.bounds()
        level = _percent(1 - (2 * self.alpha if self.kind == "inside" else self.alpha / self.points))
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
            elif self.kind == "inside":
                band = f"({self.low:.4g}, {self.high:.4g})"
                text = f"{value}, {level} interval [{low:.4g}, {high:.4g}] inside {band}"
            else:
                target = f"{self.low:.4g}" if self.low == self.high else f"[{self.low:.4g}, {self.high:.4g}]"
                text = f"{value}, {level} interval [{low:.4g}, {high:.4g}] meets {target}"
            text += f", R = {e.n}"
        return f"{text}; {self.note}" if self.note else text

    def as_dict(self) -> dict[str, Any]:
        """Every number of the check, for the JSON verdict."""
        low, high = self.bounds()
        e = self.estimate
        return {
            "name": self.name,
            "kind": self.kind,
            "passed": self.passed,
            "statistic": None if e is None else _finite(e.value),
            "se": None if e is None else _finite(e.se),
            "df": None if e is None or math.isinf(e.df) else e.df,
            "replicates": None if e is None else e.n,
            "successes": None if self.successes is None else list(self.successes),
            "interval": None if self.kind == "fact" else [_finite(low), _finite(high)],
            "threshold": [_finite(self.low), _finite(self.high)],
            "points": self.points,
            "p_value": _finite(self.p),
            "alpha": None if self.kind == "fact" else self.alpha,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Note:
    """A figure reported beside the verdict; it never counts toward PASS or FAIL."""

    name: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "detail": self.detail}


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _percent(level: float) -> str:
    digits = max(1, min(6, math.ceil(-math.log10(max(1 - level, 1e-12))) - 1))
    return f"{100 * level:.{digits}f} %"


@dataclass(frozen=True)
class Report:
    """The judged checks, the reported-only notes and the recipe-level error ``alpha``."""

    checks: list[Check]
    notes: list[Note]
    alpha: float

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def by_name(self) -> dict[str, bool]:
        return {c.name: c.passed for c in self.checks}


def verdict(items: Sequence[Check | Note], alpha: float = ALPHA, profile: str = "full") -> Report:
    """Judge ``items`` with Holm's correction at family-wise level ``alpha`` (see the module).
    Below the ``full`` profile, checks marked ``full_only`` are reported as notes instead."""
    demoted = [i for i in items if isinstance(i, Check) and i.full_only and profile != "full"]
    checks = [i for i in items if isinstance(i, Check) and i not in demoted]
    notes = [i for i in items if isinstance(i, Note)] + [
        Note(f"{c.name} (judged in the full profile only)", replace(c, alpha=alpha).detail) for c in demoted
    ]
    tested = [i for i, c in enumerate(checks) if c.kind != "fact"]
    rejected, levels = stats.holm([checks[i].p for i in tested], alpha)
    judged = [replace(c, passed=c.p == 0.0) if c.kind == "fact" else c for c in checks]
    for i, rej, level in zip(tested, rejected, levels, strict=True):
        c = checks[i]
        ok = rej if c.rejection_passes else not rej
        judged[i] = replace(c, alpha=level, passed=ok and not math.isnan(c.p))  # NaN: no evidence
    return Report(judged, notes, alpha)


# --- building checks ---------------------------------------------------------------------------


def above(name: str, estimate: Estimate, threshold: float = 0.0, note: str = "") -> Check:
    """Claim: the expectation exceeds ``threshold`` (one-sided t test)."""
    return Check(name, "above", estimate, threshold, INF, estimate.p_above(threshold), note)


def below(name: str, estimate: Estimate, threshold: float = 0.0, note: str = "") -> Check:
    """Claim: the expectation lies under ``threshold`` (one-sided t test)."""
    return Check(name, "below", estimate, -INF, threshold, estimate.p_below(threshold), note)


def inside(name: str, estimate: Estimate, low: float, high: float, note: str = "") -> Check:
    """Claim: ``low < expectation < high`` (TOST, the margin declared before the run)."""
    return Check(name, "inside", estimate, low, high, stats.tost_p(estimate, low, high), note)


def not_below(name: str, estimate: Estimate, threshold: float, note: str = "") -> Check:
    """Claim: the expectation is at least ``threshold``; fails when significantly below it."""
    return Check(name, "equals", estimate, threshold, INF, _agreement_p(estimate, threshold, INF), note)


def all_of(name: str, parts: Sequence[Check], note: str = "", full_only: bool = False) -> Check:
    """One claim made of parts that must all hold (e.g. at every n_r), shown by its worst part.

    Directional parts form an intersection-union test: the claim passes at level a when every
    part rejects at level a, so its p is the largest part p. Agreement parts fail when any part
    is off: Bonferroni, p = K x the smallest part p. A failed ``fact`` part fails the claim."""
    broken = [p for p in parts if p.kind == "fact" and p.p != 0.0]
    if broken:
        return fact(name, False, f"{broken[0].name}: {broken[0].note}")
    parts = [p for p in parts if p.kind != "fact"]
    if not parts:
        return fact(name, True, note)
    if all(p.rejection_passes for p in parts):
        worst = max(parts, key=lambda p: p.p)
        p_value, points = worst.p, worst.points
    elif not any(p.rejection_passes for p in parts):
        worst = min(parts, key=lambda p: p.p)
        p_value, points = min(1.0, len(parts) * worst.p), len(parts) * worst.points
    else:
        raise ValueError(f"{name}: cannot mix directional and agreement parts")
    text = f"worst of {len(parts)}: {worst.name}" + (f"; {worst.note}" if worst.note else "")
    text += f"; {note}" if note else ""
    return replace(worst, name=name, p=p_value, points=points, note=text, full_only=full_only)


def any_of(name: str, parts: Sequence[Check], note: str = "") -> Check:
    """One claim that holds when any of its directional parts holds (e.g. "the two loops start
    apart in FID or in recall"), shown by its best part. Bonferroni within the claim: it
    passes at level a when some part rejects at level a / K, so its p is K x the smallest part p."""
    if not parts or not all(p.rejection_passes and p.kind != "fact" for p in parts):
        raise ValueError(f"{name}: any_of takes directional parts only")
    best = min(parts, key=lambda p: p.p)
    text = f"best of {len(parts)}: {best.name}" + (f"; {best.note}" if best.note else "")
    text += f"; {note}" if note else ""
    return replace(
        best, name=name, p=min(1.0, len(parts) * best.p), points=len(parts) * best.points, note=text
    )


def _agreement_p(estimate: Estimate, low: float, high: float) -> float:
    """Two-sided p-value of H0 "the expectation lies in [low, high]" (NaN for a NaN statistic)."""
    if math.isnan(estimate.value) or math.isnan(estimate.se):
        return math.nan
    if low <= estimate.value <= high:
        return 1.0
    return min(1.0, 2 * min(estimate.p_below(low), estimate.p_above(high)))


def equals(name: str, estimate: Estimate, target: float, tolerance: float = 0.0, note: str = "") -> Check:
    """Claim: the expectation is ``target`` (within ``tolerance``); fails when the two-sided
    interval misses [target - tolerance, target + tolerance]."""
    low, high = target - tolerance, target + tolerance
    return Check(name, "equals", estimate, low, high, _agreement_p(estimate, low, high), note)


def matches_everywhere(
    name: str, samples: np.ndarray, expected: np.ndarray, floor: float = 1e-3, note: str = ""
) -> Check:
    """Claim: the replicate means of ``samples`` ``(R, K)`` equal ``expected`` ``(K,)`` at all K
    points. Each point is a t test with tolerance ``floor |expected|`` (events too rare for R
    replicates to show, e.g. on a plateau where every replicate agrees exactly, move an
    expectation by well under ``floor`` of its value); the check's p is Bonferroni over K."""
    samples = np.asarray(samples, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    ests = [stats.mean(samples[:, k]) for k in range(expected.size)]
    ps = [
        _agreement_p(e, x - floor * abs(x), x + floor * abs(x)) for e, x in zip(ests, expected, strict=True)
    ]
    worst = int(np.argmin(ps))
    x = expected[worst]
    return Check(
        f"{name}",
        "equals",
        ests[worst],
        x - floor * abs(x),
        x + floor * abs(x),
        min(1.0, expected.size * ps[worst]),
        "; ".join(
            filter(
                None, [f"worst of {expected.size} points (#{worst + 1})" if expected.size > 1 else "", note]
            )
        ),
        points=expected.size,
    )


def proportion_above(name: str, successes: int, n: int, threshold: float, note: str = "") -> Check:
    """Claim: the probability of success exceeds ``threshold`` (score test, Wilson bound)."""
    p = stats.proportion_p(successes, n, threshold)
    return Check(name, "proportion_above", None, threshold, INF, p, note, successes=(successes, n))


def fact(name: str, holds: bool, note: str) -> Check:
    """An exact property of the measurement (no sampling error), e.g. a count that never rises."""
    return Check(name, "fact", None, math.nan, math.nan, 0.0 if holds else 1.0, note)
