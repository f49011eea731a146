"""Recipe D1 (Model Collapse Demystified): the loops agree with the closed form, the ridge
schedule is live, and every check fails on a measurement where its claim is false (controls)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.demystified import D1Data, per_generation
from autophagy.reproduce.verdict import INVALID, PASS, SUPPORTED

CELLS = ((2, 24), (4, 16), (8, 24), (16, 40))


@pytest.fixture(scope="module")
def tiny() -> D1Data:
    """D1's two configs at 200 replicates and 4 generations (the ridge loop at 6)."""
    profile = {"replicates": 200, "block_size": 200, "D1/generations": 4, "D1_ridge/generations": 6}
    return dataclasses.replace(RECIPES["D1"], profiles={"tiny": profile}).measure("tiny")


def test_d1_is_listed_with_both_profiles_and_a_ridge_schedule():
    recipe = RECIPES["D1"]
    assert set(recipe.profiles) == {"quick", "full"}
    configs = recipe.loop_configs("quick")
    assert configs["D1"]["generations"] == 12 and configs["D1_ridge"]["generations"] == 30
    ridges = configs["D1_ridge"]["sweep"]["grid"]["model.ridge"]
    assert ridges[0] == 0.0 and ridges[1] == {"ramp": [[1, 0.0], [101, 100.0]]}
    zipped = configs["D1"]["sweep"]["zip"]
    assert list(zip(zipped["data.dim"], zipped["data.samples"], strict=True)) == list(CELLS)


def test_the_loops_follow_the_closed_form(tiny):
    """Mean error within 4.5 standard errors of sigma^2 d n / (T - d - 1) at every (d, T) and n
    (16 points: a false alarm about once in 10^4 runs), and it grows with n."""
    assert set(tiny.errors) == set(CELLS)
    for (dim, samples), errors in tiny.errors.items():
        assert errors.shape == (200, 4)
        expected = tiny.expected(dim, samples, 4)
        se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
        assert np.all(np.abs(errors.mean(axis=0) - expected) < 4.5 * se), (dim, samples)
    assert tiny.signal > 0


def test_the_ridge_schedule_starts_at_zero_and_then_shrinks(tiny):
    """lambda_1 = 0: both loops share their first fit exactly; from generation 2 on the ridge
    is positive and the fits differ (paired streams: same design and noise)."""
    assert np.array_equal(tiny.ridge[:, 0], tiny.ols[:, 0])
    assert not np.allclose(tiny.ridge[:, 1], tiny.ols[:, 1])
    assert tiny.ridge[:, -1].mean() < tiny.ols[:, -1].mean()


def test_the_closed_form_needs_t_above_d_plus_1():
    assert per_generation(8, 24, 2.0) == pytest.approx(4 * 8 / 15)
    with pytest.raises(ValueError, match="T > d \\+ 1"):
        per_generation(8, 9, 1.0)


def _measurement(seed: int = 0, r: int = 2000, g: int = 12, gr: int = 30) -> D1Data:
    """Errors drawn around the closed forms (Gamma, relative SD 0.5), and a ridge loop that
    rises to |w*|^2 = 3.5 and stays (paired with the unregularised loop by a shared factor)."""
    rng = np.random.default_rng(seed)
    n = np.arange(1, g + 1)
    errors = {c: per_generation(*c, 1.0) * n * rng.gamma(4.0, 0.25, (r, g)) for c in CELLS}
    rate = per_generation(8, 24, 1.0)
    shared = rng.gamma(4.0, 0.25, (r, gr))
    ols = rate * np.arange(1, gr + 1) * shared
    ridge = 3.5 * (1 - np.exp(-np.arange(gr) / 6)) + 0.53 * np.exp(-np.arange(gr) / 6)
    return D1Data(1.0, errors, 8, 24, ols, ridge * shared, 3.5)


def _failed(m: D1Data) -> set[str]:
    report = RECIPES["D1"].verdict(m, "quick")
    return {c.name for c in report.checks if c.outcome != SUPPORTED}


def _names(m: D1Data) -> list[str]:
    return [c.name for c in RECIPES["D1"].verdict(m, "quick").checks]


def test_d1_passes_on_its_claims_and_its_controls_do_not():
    m = _measurement()
    report = RECIPES["D1"].verdict(m, "quick")
    assert report.outcome == PASS, [(c.name, c.outcome) for c in report.checks]
    assert all(c.control is not None and c.control.outcome != SUPPORTED for c in report.checks)


def test_d1_controls_fail_their_checks():
    """Each cell under another cell's law fails its closed form; the unregularised loop in the
    ridge's place fails all three ridge checks; a ridge loop that keeps growing at a third of the
    unregularised rate is "far below" yet not bounded."""
    m = _measurement()
    names = _names(m)
    closed, far, bounded, ends = names[:4], names[4], names[5], names[6]
    rolled = dict(zip(CELLS, [m.errors[c] for c in CELLS[1:] + CELLS[:1]], strict=True))
    assert _failed(dataclasses.replace(m, errors=rolled)) == set(closed)
    # one cell 15 % above its law at the last generations only
    drift = {**m.errors, CELLS[2]: m.errors[CELLS[2]] * np.r_[np.ones(8), np.full(4, 1.15)]}
    assert _failed(dataclasses.replace(m, errors=drift)) == {closed[2]}
    unregularised = m.ols * np.random.default_rng(2).gamma(400.0, 1 / 400, m.ols.shape)
    assert _failed(dataclasses.replace(m, ridge=unregularised)) == {far, bounded, ends}
    creeping = per_generation(8, 24, 1.0) / 5 * np.arange(1, 31) * np.ones((2000, 1))
    noisy = creeping * np.random.default_rng(1).gamma(4.0, 0.25, creeping.shape)
    assert _failed(dataclasses.replace(m, ridge=noisy)) == {bounded}


def test_d1_is_invalid_when_a_control_comes_out_supported():
    """Two cells with the same law (d = 4, T = 16 and d = 8, T = 31: d / (T - d - 1) = 4/11): each
    one's control, its errors against the other's law, is SUPPORTED, so the recipe is INVALID."""
    m = _measurement()
    assert per_generation(8, 31, 1.0) == pytest.approx(per_generation(4, 16, 1.0))
    twins = {(4, 16): m.errors[(4, 16)], (8, 31): m.errors[(4, 16)][::-1]}
    report = RECIPES["D1"].verdict(dataclasses.replace(m, errors=twins), "quick")
    assert report.outcome == INVALID
    assert any("control of 'd = 4, T = 16" in reason for reason in report.invalid_reasons())
