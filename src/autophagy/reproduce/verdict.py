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
The interval formulas live in :mod:`autophagy.core.stats`; the functions that build checks
(:func:`~autophagy.reproduce.checks.above`, ``below``, ``inside``, ``equals``, ``all_of``,
``any_of``, ``controlled``, ...) in :mod:`autophagy.reproduce.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from autophagy.core import stats
from autophagy.core.stats import Estimate

ALPHA = 0.01  # default recipe-level error: P(any SUPPORTED line wrong) <= 1 %
INF = math.inf
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "SUPPORTED", "CONTRADICTED", "INCONCLUSIVE"
PASS, FAIL, INVALID = "PASS", "FAIL", "INVALID"
POWER = 0.8


@dataclass(frozen=True)
class Check:
    """One claim about a random quantity.

    ``kind``: ``above`` (mean > low), ``below`` (mean < high), ``inside`` (equivalence, TOST:
    low < mean < high; ``margin`` says why the band is that wide), ``proportion_above`` (share
    > low, exact binomial test and Clopper-Pearson bound), ``undecided`` (no test could be
    formed: INCONCLUSIVE).
    ``p`` is the p-value of support, ``p_against`` that of contradiction. ``points`` > 1 when
    the support p is Bonferroni over several parts (the interval shown is then at level
    ``alpha / points``). ``min_se``: the smallest standard error among the check's points (0 is
    refused). ``test``: ``t`` or ``sign-flip`` (exact, at R <=
    :data:`autophagy.reproduce.checks.EXACT_R`). ``outcome``, ``alpha`` and ``alpha_against``
    are set by :func:`verdict`."""

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
            return stats.clopper_pearson_lower(k, n, a), INF
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
