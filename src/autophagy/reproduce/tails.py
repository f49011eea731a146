"""Recipes T1-T4 (spec §4): the memoriser's scaling laws on Zipf data, and how synthetic data break them.

:func:`autophagy.tails.run_tails` returns per-replicate errors beside their exact
expectations, so every recipe first checks that the replicate means cover the expectation at
every T, then the qualitative claim of §4 with intervals over the independent replicates.
beta = 2 unless said otherwise.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy import stats
from autophagy.data.discrete import zipf_probabilities
from autophagy.reproduce.base import (
    Check,
    Note,
    Recipe,
    above,
    all_of,
    below,
    equals,
    matches_everywhere,
    save_figure,
)
from autophagy.tails import (
    TailsOptions,
    TailsResult,
    clean_exponent,
    draw_tails,
    fitted_slope,
    replicate_slopes,
    run_tails,
)

# --- T1: clean data, error ~ T^-(1 - 1/beta) ---------------------------------------------


def t1_measure(
    betas: tuple[float, ...], sizes: tuple[int, ...], n_items: int, replicates: int, seed: int = 0
):
    return [
        run_tails(
            TailsOptions(beta=b, sizes=list(sizes), n_items=n_items, replicates=replicates, seed=seed + i)
        )
        for i, b in enumerate(betas)
    ]


def _slope_bias(result: TailsResult, label: str, theory: float) -> float:
    """How far the exact expectation's own log-log slope sits from the power law (finite N and T)."""
    start = np.searchsorted(result.sizes, result.options.fit_from or result.sizes[1])
    return abs(fitted_slope(result.sizes[start:], result.expected[label][None, start:])[0] - theory)


def t1_judge(m: list[TailsResult]) -> list[Check | Note]:
    checks = []
    for result in m:
        beta, errors = result.options.beta, result.errors["clean"]
        checks.append(
            matches_everywhere(
                f"beta={beta:g}: mean error = sum_i p_i (1 - p_i)^T at every T",
                errors,
                result.expected["clean"],
            )
        )
        theory = -clean_exponent(beta)
        slope, se = result.slopes["clean"]  # mean and standard error of the replicate slopes
        r = errors.shape[0]
        # tolerance: the exact expectation's own finite-size deviation from the power law
        checks.append(
            equals(
                f"beta={beta:g}: log-log slope = -(1 - 1/beta)",
                stats.Estimate(slope, se, r - 1, r),
                theory,
                _slope_bias(result, "clean", theory),
            )
        )
    return checks


def _draw_results(results: list[TailsResult], path: Path, title: str) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.3), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        draw_tails(result, ax)
    fig.suptitle(title)
    save_figure(fig, path)


def t1_draw(m: list[TailsResult], path: Path) -> None:
    _draw_results(m, path, f"T1: memoriser on clean Zipf data, N = {m[0].options.n_items}")


# --- T2: tail cut at k, plateau near k^-(beta - 1) ---------------------------------------


def t2_measure(ks: tuple[int, ...], sizes: tuple[int, ...], n_items: int, replicates: int, seed: int = 0):
    return [
        run_tails(
            TailsOptions(
                experiment="tail_cut",
                top_k=k,
                sizes=list(sizes),
                n_items=n_items,
                replicates=replicates,
                seed=seed + i,
            )
        )
        for i, k in enumerate(ks)
    ]


def t2_judge(m: list[TailsResult]) -> list[Check | Note]:
    checks = []
    for result in m:
        o, cut = result.options, result.errors[f"top-{result.options.top_k}"]
        plateau = result.reference["plateau"]  # exact mass beyond k: nothing there is ever seen
        checks.append(
            matches_everywhere(
                f"k={o.top_k}: mean error = sum_i p_i (1 - q_i)^T at every T",
                cut,
                result.expected[f"top-{o.top_k}"],
            )
        )
        flat = matches_everywhere(
            f"k={o.top_k}: flat in T: the error at the two largest T is the mass beyond k",
            cut[:, -2:],
            np.full(2, plateau),
        )
        checks.append(flat)
        # sum_(k<i<=N) i^-beta lies between the integrals from k+1 to N+1 and from k to N
        b, n = o.beta, o.n_items
        norm = 1 / zipf_probabilities(b, n)[0]  # sum_(i<=N) i^-beta
        low = ((o.top_k + 1) ** (1 - b) - (n + 1) ** (1 - b)) / ((b - 1) * norm)
        high = (o.top_k ** (1 - b) - n ** (1 - b)) / ((b - 1) * norm)
        checks.append(
            equals(
                f"k={o.top_k}: plateau near k^-(beta - 1) / ((beta - 1) Z) (between its integral bounds)",
                stats.mean(cut[:, -1]),
                (low + high) / 2,
                (high - low) / 2,
            )
        )
        checks.append(
            above(
                f"k={o.top_k}: clean data at the largest T fall below the plateau",
                stats.paired(cut[:, -1], result.errors["clean"][:, -1]),
            )
        )
    return checks


def t2_draw(m: list[TailsResult], path: Path) -> None:
    _draw_results(m, path, "T2: memoriser trained on top-k samples")


# --- T3: generations of synthetic data ---------------------------------------------------


def t3_measure(
    sizes: tuple[int, ...],
    generations: tuple[int, ...],
    initial_size: int,
    n_items: int,
    replicates: int,
    seed: int = 0,
) -> TailsResult:
    return run_tails(
        TailsOptions(
            experiment="generations",
            sizes=list(sizes),
            generations=list(generations),
            initial_size=initial_size,
            n_items=n_items,
            replicates=replicates,
            seed=seed,
        )
    )


def t3_judge(m: TailsResult) -> list[Check | Note]:
    gens = m.options.generations
    checks = [
        matches_everywhere(
            f"generation {n}: mean error = its exact expectation at every T",
            m.errors[f"generation {n}"],
            m.expected[f"generation {n}"],
        )
        for n in gens
    ]
    grows = [
        above(
            f"generation {a} -> {b}",
            stats.paired(m.errors[f"generation {b}"][:, -1], m.errors[f"generation {a}"][:, -1]),
        )
        for a, b in itertools.pairwise(gens)
    ]
    checks.append(all_of(f"error at T = {m.sizes[-1]} grows with every step in generations", grows))
    first, last = (
        replicate_slopes(m.sizes[1:], m.errors[f"generation {n}"][:, 1:]) for n in (gens[0], gens[-1])
    )
    checks.append(
        above(
            f"scaling is lost: generation {gens[-1]}'s slope flatter than generation {gens[0]}'s",
            stats.paired(last, first),
        )
    )
    return checks


def t3_draw(m: TailsResult, path: Path) -> None:
    _draw_results([m], path, f"T3: generations of synthetic data, T0 = {m.options.initial_size}")


# --- T4: clean fraction pi mixed in, scaling resumes after a delay ------------------------


def t4_measure(
    sizes: tuple[int, ...], top_k: int, clean_fraction: float, n_items: int, replicates: int, seed: int = 0
) -> TailsResult:
    return run_tails(
        TailsOptions(
            experiment="mixing",
            sizes=list(sizes),
            top_k=top_k,
            clean_fraction=clean_fraction,
            n_items=n_items,
            replicates=replicates,
            seed=seed,
        )
    )


def t4_judge(m: TailsResult) -> list[Check | Note]:
    o, sizes = m.options, m.sizes
    label = f"{o.clean_fraction:g} clean + top-{o.top_k}"
    mixed, delay = m.errors[label], m.reference["delay"]  # k^beta / pi
    before = (sizes >= delay / 10) & (sizes <= delay)
    after = sizes >= 10 * delay
    half = -clean_exponent(o.beta) / 2
    slope_before = stats.mean(replicate_slopes(sizes[before], mixed[:, before]))
    slope_after = stats.mean(replicate_slopes(sizes[after], mixed[:, after]))
    return [
        matches_everywhere(
            "mean error = sum_i p_i (1 - p_i)^(pi T) (1 - q_i)^((1 - pi) T) at every T",
            mixed,
            m.expected[label],
        ),
        matches_everywhere(
            "synthetic only: on the plateau at the largest T",
            m.errors["synthetic only"][:, -1:],
            np.array([m.reference["plateau"]]),
        ),
        above(
            f"a delay: slope over T in [T*/10, T*] shallower than -(1 - 1/beta)/2 "
            f"(T* = k^beta/pi = {delay:g})",
            slope_before,
            half,
        ),
        below(
            f"then scaling resumes: slope over T >= 10 T* steeper than -(1 - 1/beta)/2 (-c = {2 * half:g})",
            slope_after,
            half,
        ),
        above(
            f"mixing beats synthetic only at T = {sizes[-1]}",
            stats.paired(m.errors["synthetic only"][:, -1], mixed[:, -1]),
        ),
    ]


def t4_draw(m: TailsResult, path: Path) -> None:
    _draw_results(
        [m], path, f"T4: {m.options.clean_fraction:g} clean data mixed into top-{m.options.top_k} data"
    )


def _half_decades(low: float, high: float) -> tuple[int, ...]:
    return tuple(round(10**e) for e in np.arange(low, high + 0.01, 0.5))


RECIPES: dict[str, Recipe] = {
    "T1": Recipe(
        "T1",
        "memoriser on clean Zipf(beta) data of size T",
        "test error ~ T^-(1 - 1/beta)",
        {
            "quick": {
                "betas": (2.0, 3.0),
                "sizes": _half_decades(3, 5),
                "n_items": 100_000,
                "replicates": 40,
            },
            "full": {
                "betas": (1.5, 2.0, 3.0),
                "sizes": _half_decades(3, 6),
                "n_items": 1_000_000,
                "replicates": 100,
            },
        },
        t1_measure,
        t1_judge,
        t1_draw,
    ),
    "T2": Recipe(
        "T2",
        "memoriser trained on a generator cut at the top k items, beta = 2",
        "error plateaus near k^-(beta - 1) however large T grows",
        {
            "quick": {"ks": (10, 50), "sizes": _half_decades(3, 5), "n_items": 100_000, "replicates": 20},
            "full": {
                "ks": (10, 30, 100),
                "sizes": _half_decades(3, 6),
                "n_items": 1_000_000,
                "replicates": 50,
            },
        },
        t2_measure,
        t2_judge,
        t2_draw,
    ),
    "T3": Recipe(
        "T3",
        "generations of synthetic data, each learning from its predecessor's output, beta = 2",
        "scaling is lost progressively; error grows with the number of generations",
        {
            "quick": {
                "sizes": _half_decades(3, 5),
                "generations": (1, 2, 4, 8),
                "initial_size": 2000,
                "n_items": 100_000,
                "replicates": 20,
            },
            "full": {
                "sizes": _half_decades(3, 6),
                "generations": (1, 2, 4, 8, 16),
                "initial_size": 10_000,
                "n_items": 1_000_000,
                "replicates": 50,
            },
        },
        t3_measure,
        t3_judge,
        t3_draw,
    ),
    "T4": Recipe(
        "T4",
        "a fraction pi of clean data mixed into top-k synthetic data, beta = 2",
        "after a delay (T ~ k^beta / pi) the error resumes falling with T",
        {
            "quick": {
                "sizes": _half_decades(3, 6.5),
                "top_k": 30,
                "clean_fraction": 0.05,
                "n_items": 100_000,
                "replicates": 10,
            },
            "full": {
                "sizes": _half_decades(3, 7),
                "top_k": 30,
                "clean_fraction": 0.05,
                "n_items": 1_000_000,
                "replicates": 40,
            },
        },
        t4_measure,
        t4_judge,
        t4_draw,
    ),
}
