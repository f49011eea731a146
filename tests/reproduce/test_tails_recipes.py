"""Recipes G8 and T1-T6: quick profiles pass through the CLI; data that violate spec §4 fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.reproduce import RECIPES
from autophagy.reproduce.loops import T5Data, T6Data, g8_judge, g8_measure, t5_judge, t6_judge, t6_measure
from autophagy.reproduce.tails import t2_judge, t2_measure

runner = CliRunner()
IDS = ("G8", "T1", "T2", "T3", "T4", "T5", "T6")


def failed(checks) -> set[str]:
    return {c.name for c in checks if not c.passed}


def test_list_names_the_tails_and_loop_recipes():
    result = runner.invoke(app, ["reproduce", "--list"])
    assert result.exit_code == 0
    for rid in IDS:
        assert rid in result.output
        assert set(RECIPES[rid].profiles) == {"quick", "full"}


@pytest.mark.parametrize(
    "rid", [r if r not in ("T3", "T4", "T6") else pytest.param(r, marks=pytest.mark.slow) for r in IDS]
)
def test_quick_profile_passes_and_writes_its_figure(rid, tmp_path):
    """The default suite runs the quick profiles that take a few seconds each on an idle machine
    (G8, T1, T2, T5, all through `autophagy run` sweeps); T3, T4 and T6 are marked slow."""
    result = runner.invoke(app, ["reproduce", rid, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"{rid}: PASS")
    assert (tmp_path / f"{rid}.png").stat().st_size > 0


def test_g8_judge_fails_when_accumulate_grows_like_replace():
    """Feeding replace's errors as accumulate's: linear growth breaks the closed form and the bound."""
    result = g8_measure(samples=20, dim=4, generations=12, replicates=1000)
    assert not failed(g8_judge(result))
    grown = dataclasses.replace(
        result, errors={"replace": result.errors["replace"]} | {"accumulate": result.errors["replace"]}
    )
    bad = failed(g8_judge(grown))
    assert "accumulate: mean error = sigma^2 d / (T - d - 1) sum_(i<=n) 1/i^2 at every n" in bad
    assert "accumulate stays under pi^2/6 x the generation-1 error (n = 12 not above it)" in bad
    assert "replace grows linearly: slope in n = sigma^2 d / (T - d - 1)" not in bad


def test_t2_judge_fails_when_the_cut_curve_keeps_falling():
    """Clean errors relabelled as the top-k curve: no plateau, so the plateau checks fail."""
    (result,) = t2_measure(ks=(10,), sizes=(1000, 3162, 10000, 31623), n_items=100_000, replicates=10)
    assert not failed(t2_judge([result]))
    clean = result.errors["clean"]
    falling = dataclasses.replace(result, errors={"top-10": clean, "clean": clean})
    bad = failed(t2_judge([falling]))
    assert "k=10: flat in T: the error at the two largest T is the mass beyond k" in bad
    assert "k=10: clean data at the largest T fall below the plateau" in bad


def test_t5_judge_fails_on_a_loop_that_refits_on_real_data():
    """Each generation fits n fresh real draws: Gini-Simpson stays at (1 - 1/n) (1 - sum p0^2)
    instead of decaying, and lost outcomes come back."""
    p0 = np.arange(1, 21, dtype=float) ** -1.0
    p0 /= p0.sum()
    n, replicates, generations = 50, 500, 30
    counts = np.random.default_rng(0).multinomial(n, p0, size=(replicates, generations))
    fitted = counts / n
    data = T5Data(
        n, 20, float(1 - (p0**2).sum()), 1 - (fitted**2).sum(-1), (counts > 0).sum(-1).astype(float)
    )
    bad = failed(t5_judge(data))
    assert bad == {
        "E[1 - sum p_t^2] = (1 - 1/n)^t (1 - sum p0^2) at every t",
        "a lost outcome never returns (surviving never increases)",
        "outcomes die out: fewer survive at t = 30 than at t = 1",
    }


def test_t6_judge_fails_when_the_temperatures_are_swapped():
    """Labelling the cold run as the hot one reverses 'faster at lower temperature'."""
    m = t6_measure(**(RECIPES["T6"].profiles["quick"] | {"temperatures": (1.0, 0.7)}))
    assert not failed(t6_judge(m))
    swapped = T6Data(m.temperatures, {1.0: m.values[0.7], 0.7: m.values[1.0]})
    bad = failed(t6_judge(swapped))
    assert "distinct_2 falls faster at temperature 0.7 than 1 (smaller share kept)" in bad
    assert "temperature 0.7: tail_mass falls over generations" in bad
