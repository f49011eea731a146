"""Recipes G4 and G5: where the fresh-data loop's data come from. G4 samples from the K latest
models (paper fig. 30), G5 mixes a real fraction p into a total of n (fig. 31); both measured
with :mod:`autophagy.admissible` by :mod:`.gaussian_phase`."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.core.stats import Estimate
from autophagy.reproduce.checks import (
    above,
    all_of,
    controlled,
    equals,
    flip_controlled,
    sign_flipped,
)
from autophagy.reproduce.design import margin
from autophagy.reproduce.gaussian_phase_judge import errorbars
from autophagy.reproduce.recipe import save_figure
from autophagy.reproduce.verdict import Check, Note

# --- G4: sampling from the K latest models ----------------------------------------------


G4_N_REAL, G4_N_SYNTHETIC = 1000, 10_000  # the paper's fig. 30 sizes
G4_CONTROLS = 3  # loops repeating the smallest K on independent streams: the checks' equal-settings nulls


@dataclass(frozen=True)
class G4Data:
    """log(n_e / n_r) per K (independent loops at n_r = G4_N_REAL, n_s = G4_N_SYNTHETIC, lambda = 1)."""

    dim: int
    ratio: dict[int, Estimate]
    controls: list[Estimate] = field(default_factory=list)  # log ratio of G4_CONTROLS loops at the smallest K


def _gain(first: tuple[int, int], last: tuple[int, int], r: list[Estimate]) -> Estimate:
    """(r1 - r0) / (k1 - k0) - (r3 - r2) / (kL - kL-1): the first step's gain per model minus
    the last's, for ``r`` = [r at k1, r at k0, r at kL, r at kL-1] (independent estimates)."""
    a, b = 1 / (first[1] - first[0]), 1 / (last[1] - last[0])
    return stats.combine([a, -a, -b, b], r)


def g4_judge(m: G4Data) -> list[Check | Note]:
    """Fig. 30: n_e / n_r rises with K, at every step, with diminishing returns. Controls: the
    same contrasts on loops of equal settings (the smallest K repeated on independent streams)."""
    ks = sorted(m.ratio)
    r = {k: _exp(m.ratio[k]) for k in ks}  # n_e / n_r by the delta method
    steps = [above(f"K={a}->{b}", stats.difference(r[b], r[a]), 0.0) for a, b in itertools.pairwise(ks)]
    first, last = (ks[0], ks[1]), (ks[-2], ks[-1])
    gain = _gain(first, last, [r[first[1]], r[first[0]], r[last[1]], r[last[0]]])
    checks = [
        above(f"n_e / n_r rises with K (K={ks[-1]} above K={ks[0]})", stats.difference(r[ks[-1]], r[ks[0]])),
        all_of("every step in K helps", steps),
        above(
            f"diminishing returns: gain per model K={first[0]}->{first[1]} exceeds K={last[0]}->{last[1]}",
            gain,
        ),
    ]
    if len(m.controls) < G4_CONTROLS:
        return checks
    same = [r[ks[0]], *(_exp(e) for e in m.controls)]  # K = ks[0], four times
    nulls = [
        above("", stats.difference(same[1], same[0])),
        all_of("", [above("", stats.difference(b, a)) for a, b in itertools.pairwise(same)][: len(steps)]),
        above("", _gain(first, last, [same[1], same[0], same[3], same[2]])),
    ]
    how = f"K={ks[0]} repeated on independent streams (equal settings)"
    return [controlled(check, null, how) for check, null in zip(checks, nulls, strict=True)]


def _exp(e: Estimate) -> Estimate:
    """exp of an estimate of a log (delta method)."""
    value = math.exp(e.value)
    return Estimate(value, value * e.se, e.df, e.n)


def g4_draw(m: G4Data, path: Path) -> None:
    ks = sorted(m.ratio)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    errorbars(ax, ks, [m.ratio[k] for k in ks], "n_e / n_r (95 %)", log=True)
    ax.set_xlabel("K (latest models sampled from)")
    ax.set_ylabel("n_e / n_r")
    ax.set_title(f"G4: n_r = {G4_N_REAL}, n_s = {G4_N_SYNTHETIC}, lambda = 1, d = {m.dim}")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


# --- G5: data environment with real fraction p ------------------------------------------

RATE = -0.5  # E[W2] of a Gaussian fitted on n samples falls like n^-1/2


@dataclass(frozen=True)
class G5Data:
    """Fresh-data limit of W2 per (lambda, p, total size n): each loop's replicate window means
    ``per`` ``(R,)`` (independent loops; replicate i of every loop is paired by index only) and
    their mean estimates ``wd`` (for the figure and the level comparisons)."""

    dim: int
    per: dict[tuple[float, float, int], np.ndarray]

    @property
    def wd(self) -> dict[tuple[float, float, int], Estimate]:
        return {k: stats.mean(v) for k, v in self.per.items()}


def log_slopes(m: G5Data, bias: float, p: float, sizes: list[int]) -> np.ndarray:
    """Each replicate's least-squares slope of log W2 on log n over ``sizes`` ``(R,)``. The
    per-replicate slope, not the slope of the log of each size's mean: the latter (delta method)
    rejects a true null 6-8 % of the time at 5 % on skewed data (tests/core/test_small_samples.py)."""
    logs = np.log(np.stack([m.per[(bias, p, n)] for n in sizes], axis=1))
    return stats.replicate_slopes(logs, np.log(np.asarray(sizes, dtype=np.float64)))


def _slower(name: str, gap: np.ndarray, key: str, note: str = "") -> Check:
    """``gap`` ``(R,)`` (a per-replicate slope difference) above 0, with its sign-flip control."""
    return flip_controlled(
        "above",
        name,
        gap,
        key,
        note=note,
        how="signs flipped (independent loops paired by replicate index: an exact permutation null)",
    )


def g5_judge(m: G5Data) -> list[Check | Note]:
    """Paper fig. 31: with lambda = 1 W2 falls like n^-1/2 at every p (equivalence on
    per-replicate log-log slopes), p < 1 needs more data for the same W2 (above p = 1 at every
    n); synthetic data with lambda < 1 slows the decrease: the mixed loop's slope over all sizes
    is above (less steep than) the fresh-only loop's, and it flattens (last sizes against first
    sizes, and against half lambda = 1's)."""
    sizes = sorted({n for _, _, n in m.per})
    wd = m.wd
    checks: list[Check | Note] = []
    width, why = margin("G5", "rate")
    fresh = log_slopes(m, 1.0, 1.0, sizes)
    for p in sorted({p for b, p, _ in m.per if b == 1.0}, reverse=True):
        slopes = log_slopes(m, 1.0, p, sizes)
        checks.append(
            controlled(
                equals(
                    f"lambda=1, p={p:g}: log-log slope of W2 on n = {RATE:g}",
                    stats.mean(slopes),
                    RATE,
                    width,
                    why,
                ),
                equals("", stats.mean(log_slopes(m, 0.9, 0.5, sizes[-2:])), RATE, width, why),
                f"lambda=0.9, p=0.5's slope over n {sizes[-2:]} (flattened) against {RATE:g}",
            )
        )
        if p < 1:
            gaps = [above(f"n={n}", stats.difference(wd[(1.0, p, n)], wd[(1.0, 1.0, n)])) for n in sizes]
            flipped = [
                above(
                    "", stats.mean(sign_flipped(m.per[(1.0, p, n)] - m.per[(1.0, 1.0, n)], f"G5 gap {p} {n}"))
                )
                for n in sizes
            ]
            checks.append(
                controlled(
                    all_of(f"lambda=1, p={p:g}: W2 above p=1's at every n (more data for the same W2)", gaps),
                    all_of("", flipped),
                    "signs flipped (independent loops paired by replicate index: an exact permutation null)",
                )
            )
            same = stats.mean(slopes - fresh)
            low, high = same.interval(0.05)
            checks.append(
                Note(
                    f"lambda=1, p={p:g}: slope minus the fresh-only loop's (reported, not judged)",
                    f"{same.value:.4g} [{low:.4g}, {high:.4g}] (95 %; at lambda = 1 the n^-1/2 rate is "
                    "judged above, the slowing as a level: W2 above p=1's)",
                )
            )
    mixed = log_slopes(m, 0.9, 0.5, sizes)
    first, last = sizes[:2], sizes[-2:]
    biased_first, biased_last = log_slopes(m, 0.9, 0.5, first), log_slopes(m, 0.9, 0.5, last)
    unbiased_last = log_slopes(m, 1.0, 0.5, last)
    checks += [
        _slower(
            "synthetic data slows the decrease: lambda=0.9, p=0.5's log-log slope over all n above "
            "the fresh-only loop's (lambda=1, p=1)",
            mixed - fresh,
            "G5 slower",
            note=f"slopes {mixed.mean():.3g} vs {fresh.mean():.3g}",
        ),
        _slower(
            f"lambda=0.9, p=0.5: W2 flattens (log-log slope over n {last} above over n {first})",
            biased_last - biased_first,
            "G5 flattens",
        ),
        _slower(
            f"lambda=0.9, p=0.5: stops improving (slope over n {last} flatter than half lambda=1's)",
            biased_last - 0.5 * unbiased_last,
            "G5 stops",
        ),
    ]
    return checks


def g5_draw(m: G5Data, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    wd = m.wd
    for bias, p in sorted({(b, p) for b, p, _ in wd}, reverse=True):
        sizes = sorted(n for b, q, n in wd if (b, q) == (bias, p))
        errorbars(ax, sizes, [wd[(bias, p, n)] for n in sizes], f"p = {p:g}, lambda = {bias:g}")
    ns = np.array(sorted({n for _, _, n in wd}), dtype=float)
    start = wd[(1.0, 1.0, int(ns[0]))].value
    ax.plot(ns, start * (ns / ns[0]) ** RATE, "k--", linewidth=1, label="n^-1/2")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("total size n")
    ax.set_ylabel("fresh-data limit of W2 (95 %)")
    ax.set_title(f"G5: data environment with real fraction p, d = {m.dim}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)
