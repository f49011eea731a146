"""Scaling laws of the memoriser on Zipf data (spec T1-T4), against exact expectations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from autophagy.tails import TailsOptions, fitted_slope, run_tails

Z = 4.5  # normal quantile for every mean-versus-expectation check (false alarm < 1e-5 each)
SIZES = [1000, 3162, 10000, 31623, 100000]


def within(errors: np.ndarray, expected: np.ndarray) -> bool:
    """Replicate means within Z standard errors of the exact expectation at every T.

    On a plateau every replicate can agree exactly (zero spread) while the expectation still
    holds events too rare for them to show; 1e-6 of error mass absorbs those.
    """
    se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    return bool(np.all(np.abs(errors.mean(axis=0) - expected) <= Z * se + 1e-6))


@pytest.mark.parametrize("beta", [2.0, 3.0])
def test_clean_error_slope_is_one_minus_one_over_beta(beta):
    """T1. Tolerance: Z standard errors of the mean per-replicate slope, plus the finite-size
    deviation of the exact expectation sum_i p_i (1 - p_i)^T from the pure power law."""
    result = run_tails(TailsOptions(beta=beta, sizes=SIZES, replicates=40, fit_from=SIZES[0]))
    errors, expected = result.errors["clean"], result.expected["clean"]
    assert within(errors, expected)
    slope, se = result.slopes["clean"]
    exact_slope = fitted_slope(result.sizes, expected[None])[0]
    theory = -(1 - 1 / beta)
    assert abs(exact_slope - theory) < 0.01  # the finite vocabulary and finite T barely matter here
    assert abs(slope - theory) <= Z * se + abs(exact_slope - theory)


def test_tail_cut_error_plateaus_at_the_tail_mass_and_narrowing_slows_the_decay():
    """T2: top-k data leave the mass beyond k unlearnt, ~ k^-(beta - 1) / ((beta - 1) zeta(beta))."""
    cut = run_tails(TailsOptions(experiment="tail_cut", beta=2.0, top_k=50, sizes=SIZES, replicates=20))
    assert within(cut.errors["top-50"], cut.expected["top-50"])
    plateau = cut.reference["plateau"]
    assert abs(cut.expected["top-50"][-1] - plateau) < 1e-3 * plateau  # top 50 items all seen by T = 1e5
    assert abs(plateau - cut.reference["plateau_law"]) < 0.05 * plateau
    # every replicate is at the plateau at the two largest T: nothing beyond k can be learnt
    assert np.all(cut.errors["top-50"][:, -2:] >= plateau - 1e-12)

    narrow = run_tails(
        TailsOptions(experiment="tail_cut", beta=2.0, temperature=0.6, sizes=SIZES, replicates=20)
    )
    slope, se = narrow.slopes["temperature 0.6"]
    exact_slope = fitted_slope(narrow.sizes, narrow.expected["temperature 0.6"][None])[0]
    theory = narrow.reference["narrowed_slope"]  # -(beta - 1) temperature / beta = -0.3
    assert abs(slope - theory) <= Z * se + abs(exact_slope - theory)
    assert abs(exact_slope - theory) < 0.03


def test_generations_lose_the_scaling_law_progressively():
    """T3: at the largest T the error grows with the number of generations (and matches E)."""
    result = run_tails(
        TailsOptions(experiment="generations", beta=2.0, sizes=SIZES, replicates=20, initial_size=2000)
    )
    finals = []
    for n in (1, 2, 4, 8):
        errors = result.errors[f"generation {n}"]
        assert within(errors, result.expected[f"generation {n}"])
        finals.append(errors[:, -1])
    for before, after in itertools.pairwise(finals):
        se = np.sqrt(before.var(ddof=1) / before.size + after.var(ddof=1) / after.size)
        assert after.mean() - before.mean() > Z * se
    slopes = [result.slopes[f"generation {n}"][0] for n in (1, 2, 4, 8)]
    assert slopes == sorted(slopes)  # flatter and flatter


def test_mixing_clean_data_resumes_scaling_after_a_delay():
    """T4: with 10 % clean data the error leaves the top-k plateau once T >> k^beta / 0.1."""
    sizes = [1000, 10000, 100000, 1000000]
    result = run_tails(
        TailsOptions(experiment="mixing", beta=2.0, top_k=30, clean_fraction=0.1, sizes=sizes, replicates=10)
    )
    mixed, synthetic = result.errors["0.1 clean + top-30"], result.errors["synthetic only"]
    assert within(mixed, result.expected["0.1 clean + top-30"])
    plateau = result.reference["plateau"]
    assert result.reference["delay"] == pytest.approx(9000)
    assert np.all(synthetic[:, -1] >= plateau - 1e-12)
    # before the delay the mixture sits near the plateau; well after it, far below
    assert mixed[:, 0].mean() > 0.8 * plateau
    assert mixed[:, -1].mean() < 0.2 * plateau


def test_options_are_validated():
    with pytest.raises(ValidationError, match="beta"):
        TailsOptions(beta=1.0)
    with pytest.raises(ValidationError, match="needs top_k"):
        TailsOptions(experiment="tail_cut")
    with pytest.raises(ValidationError, match="increasing"):
        TailsOptions(sizes=[1000, 100])
