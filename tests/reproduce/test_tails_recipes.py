"""Recipes G8 and T1-T6: quick profiles pass through the CLI; every check fails on a
measurement contradicting it (its negative control)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.reproduce import RECIPES
from autophagy.reproduce.loops import T5Data, T6Data

runner = CliRunner()
IDS = ("G8", "T1", "T2", "T3", "T4", "T5", "T6")


def failed(rid: str, m, profile: str = "full") -> set[str]:
    """The checks not SUPPORTED, and the facts that do not hold."""
    report = RECIPES[rid].verdict(m, profile)
    return {c.name for c in report.checks if not c.passed} | {f.name for f in report.facts if not f.holds}


def tiny(rid: str, sizes: tuple[int, ...], **overrides):
    """Recipe ``rid`` measured at a tiny profile: T over ``sizes``, 10 replicates, N = 100 000."""
    zipped = {"loop.n_ini": list(sizes), "loop.n_synthetic": list(sizes)}
    profile = {"data.n_items": 100_000, "replicates": 10, "block_size": 10, "sweep.zip": zipped, **overrides}
    return dataclasses.replace(RECIPES[rid], profiles={"tiny": profile}).measure("tiny")


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


G8_REPLACE = "replace: mean error = sigma^2 d n / (T - d - 1) at every n"
G8_ACCUMULATE = "accumulate: mean error = sigma^2 d / (T - d - 1) sum_(i<=n) 1/i^2 at every n"
G8_SLOPE = "replace grows linearly: least-squares slope over all n = sigma^2 d / (T - d - 1)"
G8_FLATTENS = "accumulate flattens: growth from n = 6 to 12 = sigma^2 d / (T - d - 1) sum_(6<i<=12) 1/i^2"
G8_BOUND = "accumulate at n = 12 below pi^2/6 x the generation-1 error (margin ~ 1/n of it)"
G8_ENDS = "replace ends above accumulate (n = 12)"


def test_g8_controls_fail_their_checks():
    """Swapping the two modes' errors contradicts every claim: accumulate then grows linearly
    (closed form, flattening and the pi^2/6 bound fail), replace flattens (closed form and its
    slope fail), and replace ends below accumulate."""
    tiny = dataclasses.replace(RECIPES["G8"], profiles={"tiny": {"generations": 12, "replicates": 2000}})
    result = tiny.measure("tiny")
    assert not failed("G8", result)
    errors = result.errors
    swapped = dataclasses.replace(
        result, errors={"replace": errors["accumulate"], "accumulate": errors["replace"]}
    )
    assert failed("G8", swapped) == {G8_REPLACE, G8_ACCUMULATE, G8_SLOPE, G8_FLATTENS, G8_BOUND, G8_ENDS}
    # a tight bound: accumulate drifting 10 % above its closed form by n = 12 (1.72 x generation
    # 1 against pi^2/6 = 1.645) breaks the bound and the flattening; the loose check (the
    # interval's low end under pi^2/6 x generation 1) let such a loop through
    grown = errors["accumulate"] * np.linspace(1.0, 1.10, 12)
    bad = failed("G8", dataclasses.replace(result, errors={**errors, "accumulate": grown}))
    assert {G8_BOUND, G8_FLATTENS} <= bad


def test_t1_controls_fail_their_checks():
    """Errors tilted by T^0.2: off the closed form and off the slope -(1 - 1/beta)."""
    sizes = (1000, 3162, 10000, 31623)
    m = tiny("T1", sizes, **{"sweep.grid": {"data.beta": [2.0]}})
    assert not failed("T1", m)
    (result,) = m
    tilted = result.errors["clean"] * (result.sizes / result.sizes[0]) ** 0.2
    slope, se = result.slopes["clean"]
    bad = dataclasses.replace(result, errors={"clean": tilted}, slopes={"clean": (slope + 0.2, se)})
    assert failed("T1", [bad]) == {
        "beta=2: mean error = sum_i p_i (1 - p_i)^T at every T",
        "beta=2: log-log slope = -(1 - 1/beta)",
    }


def test_t2_controls_fail_their_checks():
    """Clean errors relabelled as the top-k curve: no plateau, and below where it should be."""
    (result,) = tiny("T2", (1000, 3162, 10000, 31623), **{"sweep.grid": {"data.top_k": [10, 100_000]}})
    assert not failed("T2", [result])
    clean = result.errors["clean"]
    falling = dataclasses.replace(result, errors={"top-10": clean, "clean": 1.1 * clean})
    assert failed("T2", [falling]) == {
        "k=10: mean error = sum_i p_i (1 - q_i)^T at every T where it varies (4 of 4)",
        "k=10: on the plateau every replicate's error is the mass beyond k",
        "k=10: clean data at the largest T fall below the plateau",
    }


def test_t3_controls_fail_their_checks():
    """Replace's generations relabelled in reverse (the error shrinks, generation 1 off its
    closed form), accumulate forgetting, and accumulate_subsample swapped with replace."""
    m = tiny("T3", (1000, 3162, 10000), generations=4, **{"metrics.generations": [1, 2, 4]})
    assert not failed("T3", m)
    labels = [f"generation {n}" for n in (1, 2, 4)]
    reverse = dict(zip(labels, reversed([m.errors[k] for k in labels]), strict=True))
    bad = failed("T3", dataclasses.replace(m, errors={**m.errors, **reverse}))
    assert {
        "replace: error at T = 10000 grows with every step in generations",
        "generation 1: mean error = sum_i p_i (1 - p_i)^T at every T",
    } <= bad
    forgets = {**m.errors, "accumulate, generation 4": m.errors["generation 4"]}
    assert failed("T3", dataclasses.replace(m, errors=forgets)) == {
        "accumulate: the error at generation 4 is generation 1's at every T (nothing is forgotten)"
    }
    swapped = {
        **m.errors,
        "generation 4": m.errors["accumulate_subsample, generation 4"],
        "accumulate_subsample, generation 4": m.errors["generation 4"],
    }
    assert "accumulate_subsample forgets less than replace (generation 4, T = 10000)" in failed(
        "T3", dataclasses.replace(m, errors=swapped)
    )


@pytest.mark.slow  # the quick profile's T4 (about 80 s on a loaded 2-core machine)
def test_t4_controls_fail_their_checks():
    """Mixed errors replaced by the synthetic-only ones (no resumption) or by their own
    expectation without the plateau (clean scaling from the start: no delay)."""
    m = RECIPES["T4"].measure("quick")
    assert not failed("T4", m)
    label = next(k for k in m.errors if "clean +" in k)
    noise = 1 + 0.01 * np.random.default_rng(0).standard_normal(m.errors[label].shape)
    flat = dataclasses.replace(m, errors={**m.errors, label: m.errors["synthetic only"] * noise})
    assert {
        "mean error = sum_i p_i (1 - pi p_i - (1 - pi) q_i)^T at every T where it varies",
        "then scaling resumes: slope over T >= 10 T* steeper than -(1 - 1/beta)/2 (-c = -0.5)",
        "mixing beats synthetic only at T = 3162278",
    } <= failed("T4", flat)
    sizes = m.sizes.astype(float)
    clean_law = m.errors[label][:, :1] * (sizes / sizes[0]) ** -0.5
    no_delay = failed("T4", dataclasses.replace(m, errors={**m.errors, label: clean_law}))
    assert any(name.startswith("a delay") for name in no_delay)


def test_t5_controls_fail_their_checks():
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
    assert failed("T5", data) == {
        "E[1 - sum p_t^2] = (1 - 1/n)^t (1 - sum p0^2) at every t",
        "a lost outcome never returns (surviving never increases)",
        "outcomes die out: surviving outcomes fall over generations 1-30 (slope)",
    }


def _t6(shares: dict[float, float], replicates: int = 20, generations: int = 10) -> T6Data:
    """Every metric starts at 1 and keeps ``shares[temperature]`` of it by the last generation
    (linearly), 1 % noise."""
    rng = np.random.default_rng(2)
    t = np.linspace(0, 1, generations)
    values = {
        temp: {
            name: (1 - (1 - keep) * t) * (1 + 0.01 * rng.standard_normal((replicates, generations)))
            for name in ("distinct_2", "unigram_entropy", "tail_mass")
        }
        for temp, keep in shares.items()
    }
    return T6Data(tuple(sorted(shares, reverse=True)), values)


def test_t6_controls_fail_their_checks():
    assert not failed("T6", _t6({1.0: 0.9, 0.7: 0.6}))
    stable = failed("T6", _t6({1.0: 1.0, 0.7: 1.0}))
    assert stable == {
        *(
            f"temperature {t}: {name} falls over generations (slope)"
            for t in ("1", "0.7")
            for name in ("distinct_2", "unigram_entropy")
        ),
        "temperature 0.7: tail_mass falls over generations (slope)",
        *(
            f"{name} falls faster at temperature 0.7 than 1 (slope of the share kept)"
            for name in ("distinct_2", "unigram_entropy", "tail_mass")
        ),
    }
    swapped = failed("T6", _t6({1.0: 0.6, 0.7: 0.9}))
    assert swapped == {
        f"{name} falls faster at temperature 0.7 than 1 (slope of the share kept)"
        for name in ("distinct_2", "unigram_entropy", "tail_mass")
    }
