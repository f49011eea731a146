"""Checks and verdicts (``reproduce/verdict.py``): Holm across a recipe's checks, which way each
kind of check can fail, reported-only notes, full-only claims, and the JSON of ``--all``."""

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
from autophagy.reproduce.recipe import Recipe
from autophagy.reproduce.verdict import Note, above, all_of, below, equals, fact, inside, verdict

runner = CliRunner()


def est(value: float, se: float = 1.0, r: int = 5) -> stats.Estimate:
    return stats.Estimate(value, se, r - 1, r)


def test_directional_checks_pass_only_on_evidence_and_agreement_checks_fail_only_on_evidence():
    report = verdict(
        [
            above("clear rise", est(20.0)),
            above("no evidence of a rise", est(1.0)),
            equals("agrees", est(1.0), 0.0),
            equals("clearly off", est(30.0), 0.0),
            below("clear fall", est(-20.0)),
            inside("inside the margin", est(0.0, 0.1), -2.0, 2.0),
            inside("margin too wide for the data", est(0.0, 3.0), -2.0, 2.0),
        ],
        alpha=0.05,
    )
    assert report.by_name() == {
        "clear rise": True,
        "no evidence of a rise": False,
        "agrees": True,
        "clearly off": False,
        "clear fall": True,
        "inside the margin": True,
        "margin too wide for the data": False,
    }
    assert not report.passed


def test_holm_levels_step_down():
    """t = 4 at df = 4 (one-sided p ~ 0.008): alone at alpha 0.05 it passes; after nine clear
    checks Holm still compares it with alpha / 1 (it is the largest p); ten such checks fail
    together, the smallest compared with alpha / 10 = 0.005 stopping the procedure."""
    alone = verdict([above("x", est(4.0))], alpha=0.05)
    assert alone.passed and alone.checks[0].alpha == 0.05
    crowd = verdict([above("x", est(4.0))] + [above(f"y{i}", est(50.0)) for i in range(9)], alpha=0.05)
    assert crowd.passed and crowd.checks[0].alpha == 0.05
    many = verdict([above(f"z{i}", est(4.0)) for i in range(10)], alpha=0.05)
    assert not any(many.by_name().values())
    assert all(math.isclose(c.alpha, 0.005) for c in many.checks)


def test_a_nan_statistic_never_passes():
    report = verdict([equals("nan agrees?", est(math.nan), 0.0), above("nan rises?", est(math.nan))])
    assert report.by_name() == {"nan agrees?": False, "nan rises?": False}
    json.dumps([c.as_dict() for c in report.checks], allow_nan=False)


def test_notes_never_count_and_an_empty_verdict_does_not_pass():
    assert not verdict([Note("a figure", "3.2")]).passed
    report = verdict([above("rise", est(20.0)), Note("a figure", "3.2")])
    assert report.passed and [n.name for n in report.notes] == ["a figure"]


def test_full_only_checks_are_notes_below_the_full_profile():
    fragile = all_of("fragile", [above("a", est(0.1))], full_only=True)
    assert not verdict([above("rise", est(20.0)), fragile], profile="full").passed
    quick = verdict([above("rise", est(20.0)), fragile], profile="quick")
    assert quick.passed and quick.notes[0].name == "fragile (judged in the full profile only)"


def test_all_of_is_intersection_union_for_directions_and_bonferroni_for_agreement():
    parts = [above("p1", est(20.0)), above("p2", est(3.0))]
    combined = all_of("every part", parts)
    assert combined.p == max(p.p for p in parts) and "worst of 2: p2" in combined.note
    agree = all_of("all agree", [equals("a", est(0.5), 0.0), equals("b", est(2.5), 0.0)])
    assert math.isclose(agree.p, 2 * equals("b", est(2.5), 0.0).p) and agree.points == 2
    assert not all_of("with a broken fact", [fact("f", False, "it broke"), above("p", est(20.0))]).p == 0.0
    with pytest.raises(ValueError, match="mix"):
        all_of("mixed", [above("a", est(1.0)), equals("b", est(1.0), 1.0)])


def test_an_agreement_check_with_a_tolerance_fails_only_outside_the_band():
    assert verdict([equals("in band", est(0.04, 0.001, 50), 0.0, 0.05)]).passed
    assert not verdict([equals("out of band", est(0.1, 0.001, 50), 0.0, 0.05)]).passed


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
    assert result.exit_code == 1, result.output
    assert "all: 1 of 2 recipes pass" in result.output
    body = json.loads(verdict_file.read_text())
    assert [r["id"] for r in body["recipes"]] == ["A1", "A2"] and body["passed"] is False
    a1 = body["recipes"][0]
    assert a1["passed"] and a1["settings"] == {"replicates": 4, "seed": 0}
    assert a1["checks"][0]["replicates"] == 4 and a1["reported_not_judged"][0]["name"] == "shown"
    assert (tmp_path / "A1" / "A1.png").exists() and (tmp_path / "A2" / "A2.png").exists()


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
