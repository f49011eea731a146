"""Checks and verdicts (``reproduce/verdict.py``): three outcomes per check and four per recipe,
equivalence margins, Holm across a recipe's checks and its controls, facts apart, reported-only
notes, full-only claims, exit statuses and the JSON of ``--all``."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy import reproduce
from autophagy.cli import app
from autophagy.core import stats
from autophagy.reproduce.checks import (
    above,
    all_of,
    any_of,
    below,
    controlled,
    equals,
    fact,
    inside,
    matches_everywhere,
    sign_flipped,
    undecided,
)
from autophagy.reproduce.recipe import Recipe
from autophagy.reproduce.verdict import (
    CONTRADICTED,
    FAIL,
    INCONCLUSIVE,
    INVALID,
    PASS,
    SUPPORTED,
    Note,
    verdict,
)

runner = CliRunner()


def est(value: float, se: float = 1.0, r: int = 5) -> stats.Estimate:
    return stats.Estimate(value, se, r - 1, r)


def test_three_outcomes_for_directional_and_equivalence_checks():
    """A directional check is SUPPORTED when its null is rejected, CONTRADICTED when the other
    direction is established, else INCONCLUSIVE; an equivalence (agreement) check is SUPPORTED
    when its interval lies inside the margin, CONTRADICTED when it lies entirely outside."""
    report = verdict(
        [
            above("clear rise", est(20.0)),
            above("no evidence of a rise", est(1.0)),
            above("clear fall claimed as a rise", est(-20.0)),
            below("clear fall", est(-20.0)),
            equals("agrees tightly", est(1.0, 0.01), 1.0, 0.5, "test"),
            equals("agrees with no data", est(1.0, 3.0), 1.0, 0.5, "test"),
            equals("clearly off", est(30.0), 0.0, 0.5, "test"),
            inside("inside the margin", est(0.0, 0.1), -2.0, 2.0),
            inside("margin too wide for the data", est(0.0, 3.0), -2.0, 2.0),
        ],
        alpha=0.05,
    )
    assert report.outcomes() == {
        "clear rise": SUPPORTED,
        "no evidence of a rise": INCONCLUSIVE,
        "clear fall claimed as a rise": CONTRADICTED,
        "clear fall": SUPPORTED,
        "agrees tightly": SUPPORTED,
        "agrees with no data": INCONCLUSIVE,
        "clearly off": CONTRADICTED,
        "inside the margin": SUPPORTED,
        "margin too wide for the data": INCONCLUSIVE,
    }
    assert report.outcome == FAIL and not report.passed


def test_recipe_outcomes_pass_fail_inconclusive_invalid():
    rise, flat, fall = above("r", est(20.0)), above("f", est(1.0)), above("x", est(-20.0))
    assert verdict([rise]).outcome == PASS
    assert verdict([rise, flat]).outcome == INCONCLUSIVE
    assert verdict([rise, flat, fall]).outcome == FAIL
    assert verdict([]).outcome == INCONCLUSIVE and verdict([Note("a figure", "3.2")]).outcome == INCONCLUSIVE
    bad_control = controlled(rise, above("", est(20.0)), "a null that shows an effect")
    invalid = verdict([bad_control])
    assert invalid.outcome == INVALID and "control of 'r'" in invalid.invalid_reasons()[0]
    good_control = controlled(rise, above("", est(0.3)), "a null")
    assert verdict([good_control]).outcome == PASS
    assert verdict([good_control]).checks[0].control.outcome == INCONCLUSIVE
    broken = verdict([rise, fact("an invariant", False, "it broke")])
    assert broken.outcome == INVALID and broken.facts[0].name == "an invariant"
    assert verdict([rise, fact("an invariant", True, "")]).outcome == PASS  # facts are never judged


def test_controls_form_their_own_holm_family():
    """Ten controls at t = 4 (p ~ 0.008 at df = 4): alone each would be SUPPORTED at 0.05, but
    Holm over the ten controls compares the smallest with 0.005: none is, the recipe is valid."""
    checks = [controlled(above(f"c{i}", est(50.0)), above("", est(4.0)), "null") for i in range(10)]
    report = verdict(checks, alpha=0.05)
    assert report.outcome == PASS
    assert all(c.control.outcome == INCONCLUSIVE for c in report.checks)


def test_a_check_with_zero_spread_is_refused():
    with pytest.raises(ValueError, match="standard error 0"):
        verdict([above("deterministic", stats.Estimate(1.0, 0.0, 4, 5))])
    with pytest.raises(ValueError, match="standard error 0"):
        verdict([matches_everywhere("plateau", np.ones((5, 3)), np.ones(3), 0.1, "test")])


def test_holm_levels_step_down():
    """t = 4 at df = 4 (one-sided p ~ 0.008): alone at alpha 0.05 it passes; after nine clear
    checks Holm still compares it with alpha / 1 (it is the largest p); ten such checks fail
    together, the smallest compared with alpha / 10 = 0.005 stopping the procedure."""
    alone = verdict([above("x", est(4.0))], alpha=0.05)
    assert alone.passed and alone.checks[0].alpha == 0.05
    crowd = verdict([above("x", est(4.0))] + [above(f"y{i}", est(50.0)) for i in range(9)], alpha=0.05)
    assert crowd.passed and crowd.checks[0].alpha == 0.05
    many = verdict([above(f"z{i}", est(4.0)) for i in range(10)], alpha=0.05)
    assert not any(many.by_name().values()) and many.outcome == INCONCLUSIVE
    assert all(math.isclose(c.alpha, 0.005) for c in many.checks)


def test_a_nan_statistic_is_inconclusive():
    report = verdict(
        [equals("nan agrees?", est(math.nan), 0.0, 1.0, "test"), above("nan rises?", est(math.nan))]
    )
    assert report.outcomes() == {"nan agrees?": INCONCLUSIVE, "nan rises?": INCONCLUSIVE}
    json.dumps([c.as_dict() for c in report.checks], allow_nan=False)


def test_notes_never_count_and_an_empty_verdict_does_not_pass():
    assert not verdict([Note("a figure", "3.2")]).passed
    report = verdict([above("rise", est(20.0)), Note("a figure", "3.2")])
    assert report.passed and [n.name for n in report.notes] == ["a figure"]


def test_full_only_checks_are_notes_below_the_full_profile_and_named_as_deferred():
    fragile = all_of("fragile", [above("a", est(0.1))], full_only=True)
    assert not verdict([above("rise", est(20.0)), fragile], profile="full").passed
    quick = verdict([above("rise", est(20.0)), fragile], profile="quick")
    assert quick.passed and quick.notes[0].name == "fragile (judged in the full profile only)"
    assert quick.deferred == ["fragile"]


def test_all_of_is_intersection_union_for_support_and_bonferroni_against():
    parts = [above("p1", est(20.0)), above("p2", est(3.0))]
    combined = all_of("every part", parts)
    assert combined.p == max(p.p for p in parts) and "worst of 2: p2" in combined.note
    assert math.isclose(combined.p_against, min(1.0, 2 * min(p.p_against for p in parts)))
    agree = all_of("all agree", [equals("a", est(0.5), 0.0, 1.0, "t"), equals("b", est(2.5), 0.0, 1.0, "t")])
    assert agree.p == equals("b", est(2.5), 0.0, 1.0, "t").p
    assert verdict([all_of("one part off", [above("a", est(20.0)), above("b", est(-20.0))])]).outcome == FAIL
    assert all_of("no threshold", [undecided("n_r=10", "none"), above("b", est(20.0))]).kind == "undecided"


def test_any_of_shows_its_bound_at_the_level_it_is_judged_at():
    """Bonferroni inside any_of: the best of K parts is judged at alpha / K, and the bound and
    the level printed are both at alpha / K (they used to disagree)."""
    best = above("FID", est(6.0, 1.0, 10))
    claim = verdict([any_of("apart", [best, above("recall", est(0.5, 1.0, 10))])], alpha=0.05).checks[0]
    a = 0.05 / 2
    assert claim.points == 2 and math.isclose(claim.bounds()[0], best.estimate.lower(a))
    assert "97.5 % lower bound" in claim.detail and f"{best.estimate.lower(a):.4g}" in claim.detail


def test_an_agreement_is_an_equivalence_with_a_declared_margin():
    with pytest.raises(ValueError, match="positive margin"):
        equals("no margin", est(0.0), 0.0, 0.0, "none")
    check = verdict([equals("in band", est(0.04, 0.001, 50), 0.0, 0.05, "a twentieth")]).checks[0]
    assert check.passed and check.as_dict()["margin"] == {"band": [-0.05, 0.05], "reason": check.margin}
    assert "a twentieth" in check.margin
    assert verdict([equals("out of band", est(0.1, 0.001, 50), 0.0, 0.05, "t")]).outcome == FAIL


def test_matches_everywhere_needs_every_point_inside_and_fails_on_any_point_outside():
    rng = np.random.default_rng(0)
    expected = np.array([1.0, 2.0, 4.0])
    close = expected + rng.normal(0, 0.01, (50, 3))
    assert verdict([matches_everywhere("close", close, expected, 0.05, "t")]).outcome == PASS
    one_off = close.copy()
    one_off[:, 2] += 1.0
    assert verdict([matches_everywhere("one off", one_off, expected, 0.05, "t")]).outcome == FAIL
    noisy = expected + rng.normal(0, 1.0, (3, 3))
    assert verdict([matches_everywhere("noisy", noisy, expected, 0.05, "t")]).outcome == INCONCLUSIVE


def test_small_r_checks_given_their_samples_use_the_exact_sign_flip_test():
    d = np.array([3.0, 2.5, 4.0, 0.5, 5.0])
    check = above("fid rises", stats.mean(d), samples=d)
    assert check.test == "sign-flip" and check.p == stats.sign_flip_p(d) == 1 / 32
    assert above("t at R = 7", stats.mean(np.r_[d, 1.0, 2.0]), samples=np.r_[d, 1.0, 2.0]).test == "t"
    band = inside("level", stats.mean(d - 3.0), -10.0, 10.0, samples=d - 3.0)
    assert band.test == "sign-flip" and band.p == 1 / 32  # every |d - 3| < 10: the exact minimum at R = 5


def test_every_check_reports_the_effect_it_can_detect():
    report = verdict([above("rise", est(20.0, 2.0, 10)), equals("same", est(0.0, 0.01, 10), 0.0, 0.1, "t")])
    for check in report.checks:
        body = check.as_dict()
        assert body["detectable_effect"] is not None and body["detectable_effect"] > 0
        assert "at 80 % power" in body["detail"]
    rise = report.checks[0]
    assert math.isclose(rise.detectable(), stats.detectable_effect(rise.estimate, rise.alpha))


def test_sign_flipped_controls_are_balanced_and_reproducible():
    x = np.arange(1.0, 11.0)
    a, b = sign_flipped(x, "key"), sign_flipped(x, "key")
    assert np.array_equal(a, b) and (a < 0).sum() == 5 and np.array_equal(np.abs(a), x)
    assert not np.array_equal(a, sign_flipped(x, "other key"))


def _fake(rid: str, values: np.ndarray) -> Recipe:
    return Recipe(
        rid,
        f"fake {rid}",
        "rises",
        {"quick": {"replicates": 5}, "full": {"replicates": 5}},
        lambda replicates, seed, folder, workers: values[:replicates] + seed,
        lambda m: [above("rises", stats.mean(m)), Note("shown", f"{m.mean():.3g}")],
        lambda m, path: path.write_bytes(b"png"),
    )


def test_all_runs_every_recipe_and_writes_one_json(tmp_path, monkeypatch):
    recipes = {
        "A1": _fake("A1", np.array([5.0, 5.1, 4.9, 5.2, 5.0, 4.8])),
        "A2": _fake("A2", np.array([-1.0, 1.0, 0.5, -0.5, 0.2])),
    }
    monkeypatch.setattr(reproduce, "RECIPES", recipes)
    verdict_file = tmp_path / "all.json"
    result = runner.invoke(
        app, ["reproduce", "--all", "--out", str(tmp_path), "--json", str(verdict_file), "--replicates", "4"]
    )
    assert result.exit_code == 4, result.output  # A2 is INCONCLUSIVE
    assert "all: 1 of 2 recipes pass (1 PASS, 1 INCONCLUSIVE, 0 FAIL, 0 INVALID)" in result.output
    body = json.loads(verdict_file.read_text())
    assert [r["id"] for r in body["recipes"]] == ["A1", "A2"] and body["passed"] is False
    assert body["outcome"] == "INCONCLUSIVE"
    a1 = body["recipes"][0]
    assert a1["passed"] and a1["outcome"] == "PASS" and a1["settings"] == {"replicates": 4, "seed": 0}
    assert a1["checks"][0]["replicates"] == 4 and a1["reported_not_judged"][0]["name"] == "shown"
    assert (tmp_path / "A1" / "A1.png").exists() and (tmp_path / "A2" / "A2.png").exists()


@pytest.mark.parametrize(
    ("values", "control", "status", "line"),
    [
        (np.array([5.0, 5.1, 4.9, 5.2, 5.0]), None, 0, "X1: PASS all 1 checks supported"),
        (np.array([-5.0, -5.1, -4.9, -5.2, -5.0]), None, 1, "X1: FAIL 1 of 1 checks contradicted"),
        (np.array([-1.0, 1.0, 0.5, -0.5, 0.2]), None, 4, "X1: INCONCLUSIVE 1 of 1 checks"),
        (np.array([5.0, 5.1, 4.9, 5.2, 5.0]), 5.0, 5, "X1: INVALID"),
    ],
)
def test_each_outcome_has_its_exit_status(tmp_path, monkeypatch, values, control, status, line):
    """0 PASS, 1 FAIL, 4 INCONCLUSIVE, 5 INVALID (a control SUPPORTED); the line names it."""

    def judge(m):
        check = above("rises", stats.mean(m))
        if control is not None:  # a "null" that holds the same effect: the control is SUPPORTED
            check = controlled(check, above("", stats.mean(m * 0 + control + np.arange(5) * 0.1)), "null")
        return [check]

    fake = Recipe(
        "X1",
        "fake",
        "rises",
        {"quick": {}},
        lambda seed, folder, workers: values,
        judge,
        lambda m, path: path.write_bytes(b"png"),
    )
    monkeypatch.setattr(reproduce, "RECIPES", {"X1": fake})
    out = tmp_path / "v.json"
    result = runner.invoke(app, ["reproduce", "X1", "--out", str(tmp_path), "--json", str(out)])
    assert result.exit_code == status, result.output
    assert line in result.output
    assert json.loads(out.read_text())["outcome"] == line.split()[1]


def test_all_keeps_the_verdicts_judged_before_a_stop(tmp_path, monkeypatch):
    """--all rewrites its JSON after every recipe (atomically, always the list form), so a run
    stopped in recipe k still holds recipes 1..k-1."""

    def stop(replicates, seed):
        raise KeyboardInterrupt

    recipes = {
        "A1": _fake("A1", np.array([5.0, 5.1, 4.9, 5.2, 5.0])),
        "A2": Recipe("A2", "stops", "-", {"quick": {"replicates": 5}}, stop, lambda m: [], lambda m, p: None),
    }
    monkeypatch.setattr(reproduce, "RECIPES", recipes)
    verdict_file = tmp_path / "all.json"
    result = runner.invoke(app, ["reproduce", "--all", "--out", str(tmp_path), "--json", str(verdict_file)])
    assert result.exit_code != 0
    body = json.loads(verdict_file.read_text())
    assert [r["id"] for r in body["recipes"]] == ["A1"] and body["recipes"][0]["passed"]
    assert body["complete"] is False and body["passed"] is False  # one of two judged: no PASS
    assert not list(tmp_path.glob(".all.json.*"))  # no temporary file left behind


def test_recipes_measure_on_one_thread_and_restore_the_settings(monkeypatch):
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_info

    from autophagy.reproduce import one_thread

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    torch.set_num_threads(2)
    with one_thread():
        assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == 2 and os.environ["OMP_NUM_THREADS"] == "7"
