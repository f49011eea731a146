"""G3-G5 (spec §4, paper figs. 11, 12, 30, 31): what is measured (the n_e / n_r ratios and W2
limits per setting), the checks on it and the figures.

The n_e ratios carry their standard error on the log scale (from the interval of
:func:`autophagy.admissible.effective.effective_ratio`); loops are independent (each seeded by
:func:`~autophagy.reproduce.recipe.recipe_seed`), so differences combine by Welch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.admissible.effective import Z95
from autophagy.core import stats
from autophagy.core.stats import Estimate
from autophagy.reproduce.checks import (
    above,
    all_of,
    below,
    controlled,
    undecided,
)
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import save_figure
from autophagy.reproduce.verdict import Check, Note

# --- G3: admissible region of the effective sample size ---------------------------------


@dataclass(frozen=True)
class G3Data:
    """log(n_e / n_r) per (lambda, n_r, n_s): estimates over ``replicates`` independent runs
    (the se is the 95 % interval of :func:`autophagy.admissible.effective.effective_ratio` on the log
    scale)."""

    dim: int
    ratio: dict[tuple[float, int, int], Estimate]
    control: dict[tuple[int, int], Estimate] = field(default_factory=dict)  # lambda = 0.9 again, (n_r, n_s)


def threshold(m: G3Data, bias: float, nr: int) -> Estimate | None:
    """log of the n_s where log(n_e / n_r) first crosses 0 from above, by linear interpolation
    in log n_s between the two grid points around the crossing; the se by the delta method:
    with f = log ratio at log sizes x_a < x_b and D = f_a - f_b,
    ``se^2 = (x_b - x_a)^2 (f_b^2 se_a^2 + f_a^2 se_b^2) / D^4``. None without a crossing."""
    sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
    ests = [m.ratio[(bias, nr, ns)] for ns in sizes]
    for i in range(1, len(sizes)):
        fa, fb = ests[i - 1].value, ests[i].value
        if fa >= 0 > fb:
            xa, xb, d = math.log(sizes[i - 1]), math.log(sizes[i]), fa - fb
            value = xa + fa / d * (xb - xa)
            se = (xb - xa) * math.hypot(fb * ests[i - 1].se, fa * ests[i].se) / d**2
            df = min(ests[i - 1].df, ests[i].df)
            return Estimate(value, se, df, ests[i].n)
    return None


def _settles(nrs: tuple[int, int, int], logs: list[Estimate]) -> list[Check]:
    """|L_c - L_b| < |L_b - L_a| for log thresholds L at three successive n_r: the threshold
    approaches a limit (from below or above), "stops growing with n_r". With s the sign of the
    first change, both ``s (L_c - L_a) > 0`` and ``-s (L_c - 2 L_b + L_a) > 0`` (independent
    estimates, Welch); s is read from the estimate, so a first change near 0 is hard to support."""
    a, b, c = nrs
    s = 1.0 if logs[1].value >= logs[0].value else -1.0
    return [
        above(f"n_r {a}-{b}-{c}: moves on the first change's side", stats.combine([-s, 0, s], logs)),
        above(f"n_r {a}-{b}-{c}: second change smaller", stats.combine([-s, 2 * s, -s], logs)),
    ]


def g3_judge(m: G3Data) -> list[Check | Note]:
    n_real = sorted({nr for _, nr, _ in m.ratio})
    sizes = sorted({ns for _, _, ns in m.ratio})
    width, why = margin("G3", "admissible")

    def admissible(bias: float) -> list[Check]:
        return [above(f"n_r={nr}, n_s={ns}", e, -width) for (b, nr, ns), e in m.ratio.items() if b == bias]

    checks: list[Check | Note] = [
        controlled(
            replace(
                all_of(f"lambda=1: admissible everywhere (log n_e / n_r above -{width:g})", admissible(1.0)),
                margin=f"non-inferiority margin {width:g}: {why}",
            ),
            all_of("", admissible(0.8)),
            "lambda=0.8's cells (inadmissible beyond its threshold)",
        )
    ]
    thresholds = {(b, nr): threshold(m, b, nr) for b in (0.9, 0.8) for nr in n_real}
    for bias in (0.9, 0.8):
        checks.append(
            controlled(
                all_of(
                    f"lambda={bias:g}: inadmissible at n_s={sizes[-1]} for every n_r (a threshold exists)",
                    [below(f"n_r={nr}", m.ratio[(bias, nr, sizes[-1])], 0.0) for nr in n_real],
                ),
                all_of("", [below(f"n_r={nr}", m.ratio[(1.0, nr, sizes[-1])], 0.0) for nr in n_real]),
                f"lambda=1 at n_s={sizes[-1]} (admissible there)",
            )
        )
        found = [thresholds[(bias, nr)] for nr in n_real]
        name = f"lambda={bias:g}: the threshold settles as n_r grows (successive log changes shrink in size)"
        if any(t is None for t in found):
            checks.append(undecided(name, "no crossing of n_e = n_r for some n_r", full_only=True))
            continue
        parts = [
            part
            for i, nrs in enumerate(zip(n_real, n_real[1:], n_real[2:], strict=False))
            for part in _settles(nrs, found[i : i + 3])
        ]
        growth = ", ".join(f"{round(math.exp(t.value))}" for t in found)
        checks.append(all_of(name, parts, note=f"thresholds per n_r {n_real}: {growth}", full_only=True))
    again = G3Data(m.dim, {(0.9, nr, ns): e for (nr, ns), e in m.control.items()})
    repeated = {nr: threshold(again, 0.9, nr) for nr in n_real} if m.control else {}

    def shrinks(first: dict[int, Estimate | None], second: dict[int, Estimate | None]) -> list[Check]:
        parts = []
        for nr in n_real:
            high, low = first.get(nr), second.get(nr)
            if high is None or low is None:
                return [undecided(f"n_r={nr}", "no threshold")]
            parts.append(above(f"n_r={nr}", stats.difference(high, low), 0.0))
        return parts

    at = {b: {nr: thresholds[(b, nr)] for nr in n_real} for b in (0.9, 0.8)}
    checks.append(
        controlled(
            all_of(
                "smaller lambda strictly shrinks the threshold (log thr 0.9 - log thr 0.8 > 0)",
                shrinks(at[0.9], at[0.8]),
            ),
            all_of("", shrinks(repeated, at[0.9])),
            "lambda=0.9 repeated on independent streams against lambda=0.9 (equal settings)",
        )
    )
    return checks


def errorbars(ax: plt.Axes, xs: list[int], estimates: list[Estimate], label: str, log: bool = False) -> None:
    """Estimates at ``xs`` with their 95 % intervals (``log``: estimates of a log, drawn exp'd)."""
    mid = np.array([e.value for e in estimates])
    half = np.array([Z95 * e.se for e in estimates])
    if log:
        low, high, mid = np.exp(mid - half), np.exp(mid + half), np.exp(mid)
    else:
        low, high = mid - half, mid + half
    ax.errorbar(xs, mid, yerr=[mid - low, high - mid], marker="o", capsize=2, label=label)


def g3_draw(m: G3Data, path: Path) -> None:
    biases = sorted({b for b, _, _ in m.ratio}, reverse=True)
    fig, axes = plt.subplots(1, len(biases), figsize=(12, 3.8), sharey=True)
    for ax, bias in zip(axes, biases, strict=True):
        for nr in sorted({nr for _, nr, _ in m.ratio}):
            sizes = sorted(ns for b, r, ns in m.ratio if b == bias and r == nr)
            errorbars(ax, sizes, [m.ratio[(bias, nr, ns)] for ns in sizes], f"n_r = {nr}", log=True)
            t = threshold(m, bias, nr) if bias < 1 else None
            if t is not None:
                ax.axvline(math.exp(t.value), color=ax.lines[-1].get_color(), linestyle=":", linewidth=1)
        ax.axhline(1, color="k", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"lambda = {bias:g}")
        ax.set_xlabel("n_s (dotted: threshold)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("n_e / n_r (admissible above 1; 95 %)")
    fig.suptitle(f"G3: effective sample size of the fresh-data loop, d = {m.dim}")
    save_figure(fig, path)
