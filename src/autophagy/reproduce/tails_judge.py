"""Recipes T1-T4: the measurement, its exact laws, T1's and T2's judges, and the drawings.

:mod:`.tails` reads the ``autophagy run`` sweeps (``reproduce/configs/T1.toml`` ... ``T4.toml``)
into :class:`TailsResult` objects; here they are judged against sum_i p_i (1 - law_i)^T and
the power laws, and drawn. T3's and T4's judges (generations, and mixing clean data in) are in
:mod:`.tails_mixed_judge`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import gamma

from autophagy.core import stats
from autophagy.data.discrete import zipf_probabilities
from autophagy.reproduce.checks import (
    controlled,
    equals,
    fact,
    flip_controlled,
    matches_everywhere,
)
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import save_figure
from autophagy.reproduce.verdict import Check, Fact, Note


@dataclass(frozen=True)
class TailsResult:
    """Errors per curve ``(replicates, len(sizes))`` beside their exact expectation ``(len(sizes),)``."""

    experiment: str
    beta: float
    n_items: int
    sizes: np.ndarray
    errors: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    slopes: dict[str, tuple[float, float]] = field(default_factory=dict)  # mean and standard error
    reference: dict[str, float] = field(default_factory=dict)  # theoretical slope / plateau values
    top_k: int | None = None
    clean_fraction: float = 0.0
    fit_from: int | None = None


def clean_exponent(beta: float) -> float:
    """The clean-data scaling exponent c = 1 - 1/beta (error ~ T^-c)."""
    return 1.0 - 1.0 / beta


def asymptote(probabilities: np.ndarray, beta: float, sizes: np.ndarray) -> np.ndarray:
    """Large-T law of the clean error, Gamma(1 - 1/beta) / (beta Z^(1/beta)) T^-(1 - 1/beta),
    where p_i = i^-beta / Z (integral approximation of sum_i p_i exp(-T p_i))."""
    z = 1.0 / probabilities[0]
    c = clean_exponent(beta)
    return gamma(1 - 1 / beta) / (beta * z ** (1 / beta)) * np.asarray(sizes, dtype=float) ** -c


def cut_law(p: np.ndarray, top_k: int) -> np.ndarray:
    """q: p cut to its k most probable items (p decreasing) and renormalised."""
    q = p.copy()
    q[top_k:] = 0.0
    return q / q.sum()


def unseen_mass(p: np.ndarray, law: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """sum_i p_i (1 - law_i)^T for each T: the expected mass of items T draws of ``law`` miss."""
    return np.array([(p * (1 - law) ** t).sum() for t in sizes])


def replicate_slopes(sizes: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Least-squares slope of log error on log T, one per replicate row of ``errors`` (R, K) -> (R,)."""
    return np.polyfit(np.log(sizes), np.log(np.maximum(errors, 1e-300)).T, 1)[0]


def fitted_slope(sizes: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of log error on log T per replicate: mean and standard error."""
    slopes = replicate_slopes(sizes, errors)
    se = slopes.std(ddof=1) / np.sqrt(slopes.size) if slopes.size > 1 else 0.0
    return float(slopes.mean()), float(se)


def with_slopes(result: TailsResult) -> TailsResult:
    sizes = result.sizes
    start = int(np.searchsorted(sizes, result.fit_from if result.fit_from else sizes[1]))
    slopes = {label: fitted_slope(sizes[start:], e[:, start:]) for label, e in result.errors.items()}
    return TailsResult(**{**result.__dict__, "slopes": slopes})


def slope_bias(result: TailsResult, label: str, theory: float) -> float:
    """How far the exact expectation's own log-log slope sits from the power law (finite N and T)."""
    start = np.searchsorted(result.sizes, result.fit_from or result.sizes[1])
    return abs(fitted_slope(result.sizes[start:], result.expected[label][None, start:])[0] - theory)


def random_points(errors: np.ndarray) -> np.ndarray:
    """The sizes (columns of ``errors`` ``(R, K)``) at which the replicates differ: where every
    replicate agrees exactly (a plateau) the error is not random and is reported as a fact."""
    return np.flatnonzero(errors.std(axis=0) > 0)


def closed_form(
    name: str,
    rid: str,
    errors: np.ndarray,
    expected: np.ndarray,
    control: np.ndarray,
    control_expected: np.ndarray | None = None,
    how: str = "another setting's errors against this closed form",
) -> Check:
    """The closed-form agreement at every T (relative margin from the design), with a control
    where the claim is false: another setting's errors ``control`` against ``expected`` (or
    ``control`` against another closed form ``control_expected``)."""
    width, why = margin(rid, "closed_form")
    check = matches_everywhere(name, errors, expected, width, why)
    target = expected if control_expected is None else control_expected
    return controlled(check, matches_everywhere("", control, target, width, why), how)


def t1_judge(m: list[TailsResult]) -> list[Check | Note]:
    """Per beta: the closed form at every T and the log-log slope as an equivalence with the
    exponent (margins in ``designs/T1.toml``). Controls (with two betas or more): the next
    beta's errors against this closed form, its slopes against this exponent."""
    checks = []
    width, why = margin("T1", "slope")
    for i, result in enumerate(m):
        other = m[(i + 1) % len(m)] if len(m) > 1 else None
        beta, errors = result.beta, result.errors["clean"]
        start = int(np.searchsorted(result.sizes, result.fit_from or result.sizes[1]))
        theory = -clean_exponent(beta)
        bias = slope_bias(result, "clean", theory)
        name = f"beta={beta:g}: mean error = sum_i p_i (1 - p_i)^T at every T"
        slope = equals(
            f"beta={beta:g}: log-log slope = -(1 - 1/beta)",
            stats.mean(replicate_slopes(result.sizes[start:], errors[:, start:])),
            theory,
            width,
            why,
            f"the exact expectation's own slope is {bias:.2g} off the power law (finite N and T)",
        )
        if other is None:
            closed = margin("T1", "closed_form")
            checks += [matches_everywhere(name, errors, result.expected["clean"], *closed), slope]
            continue
        checks.append(closed_form(name, "T1", errors, result.expected["clean"], other.errors["clean"]))
        others = replicate_slopes(other.sizes[start:], other.errors["clean"][:, start:])
        checks.append(
            controlled(
                slope,
                equals("", stats.mean(others), theory, width, why),
                f"beta={other.beta:g}'s slopes against beta={beta:g}'s exponent",
            )
        )
    return checks


def draw_results(results: list[TailsResult], path: Path, title: str) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.3), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        draw_tails(result, ax)
    fig.suptitle(title)
    save_figure(fig, path)


def t1_draw(m: list[TailsResult], path: Path) -> None:
    draw_results(m, path, f"T1: memoriser on clean Zipf data, N = {m[0].n_items}")


def t2_judge(m: list[TailsResult]) -> list[Check | Fact | Note]:
    """Per cut k: the closed form at the sizes where the error is random (control: the clean
    curve against it), and clean data falling below the plateau (control: signs flipped).
    Where every replicate sits on the plateau (all its items seen, none beyond k ever), the
    error is the tail mass exactly: that, and the plateau lying between its integral bounds
    (mathematics), are facts."""
    items: list[Check | Fact | Note] = []
    for result in m:
        k, cut = result.top_k, result.errors[f"top-{result.top_k}"]
        plateau = result.reference["plateau"]  # exact mass beyond k: nothing there is ever seen
        random = random_points(cut)
        name = f"k={k}: mean error = sum_i p_i (1 - q_i)^T at every T where it varies"
        if random.size:
            clean = result.errors["clean"][:, random]
            items.append(
                closed_form(
                    name + f" ({random.size} of {cut.shape[1]})",
                    "T2",
                    cut[:, random],
                    result.expected[f"top-{k}"][random],
                    clean,
                )
            )
        flat = np.setdiff1d(np.arange(cut.shape[1]), random)
        off = float(np.abs(cut[:, flat] - plateau).max()) if flat.size else math.nan
        items.append(
            fact(
                f"k={k}: on the plateau every replicate's error is the mass beyond k",
                flat.size > 0 and off <= 1e-9 * plateau,
                f"{flat.size} of {cut.shape[1]} sizes on the plateau; largest deviation {off:.3g}",
            )
        )
        # sum_(k<i<=N) i^-beta lies between the integrals from k+1 to N+1 and from k to N
        b, n = result.beta, result.n_items
        norm = 1 / zipf_probabilities(b, n)[0]  # sum_(i<=N) i^-beta
        low = ((k + 1) ** (1 - b) - (n + 1) ** (1 - b)) / ((b - 1) * norm)
        high = (k ** (1 - b) - n ** (1 - b)) / ((b - 1) * norm)
        items.append(
            fact(
                f"k={k}: the plateau lies between the integral bounds of k^-(beta - 1) / ((beta - 1) Z)",
                low <= plateau <= high,
                f"{low:.4g} <= {plateau:.4g} <= {high:.4g}",
            )
        )
        gap = cut[:, -1] - result.errors["clean"][:, -1]
        items.append(
            flip_controlled(
                "above", f"k={k}: clean data at the largest T fall below the plateau", gap, f"T2 {k}"
            )
        )
    return items


def t2_draw(m: list[TailsResult], path: Path) -> None:
    draw_results(m, path, "T2: memoriser trained on top-k samples")


def draw_tails(result: TailsResult, ax) -> None:
    """Log-log error versus T on a matplotlib ``ax``: replicate mean (points, 10-90 % band), exact
    expectation (solid, where known), the clean asymptote C T^-(1 - 1/beta) (dashed) and any
    plateau (dotted); slopes in the legend."""
    sizes = result.sizes
    for label, e in result.errors.items():
        slope, se = result.slopes[label]
        (line,) = ax.plot(sizes, e.mean(axis=0), "o", ms=4, label=f"{label}: slope {slope:.3f} ± {se:.3f}")
        low, high = np.quantile(e, [0.1, 0.9], axis=0)
        ax.fill_between(sizes, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        if np.all(np.isfinite(result.expected[label])):
            ax.plot(sizes, result.expected[label], "-", color=line.get_color(), lw=1)
    p = zipf_probabilities(result.beta, result.n_items)
    c = clean_exponent(result.beta)
    ax.plot(sizes, asymptote(p, result.beta, sizes), "k--", lw=1, label=f"T^-{c:.3f} (theory)")
    if result.experiment == "mixing":
        clean_law = asymptote(p, result.beta, result.clean_fraction * sizes)
        ax.plot(sizes, clean_law, "k-.", lw=1, label="(pi T)^-c: the clean part alone")
        ax.axvline(result.reference["delay"], color="grey", ls=":", lw=1, label="k^beta / pi")
    if "plateau" in result.reference:
        ax.axhline(
            result.reference["plateau"], color="k", ls=":", lw=1, label=f"tail mass beyond k={result.top_k}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training size T")
    ax.set_ylabel("test error")
    ax.set_title(f"{result.experiment}, beta = {result.beta:g}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
