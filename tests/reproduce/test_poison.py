"""Recipe P1 (poison, then heal): its schedules, the control loop's own seed, and every check
failing on a measurement where its claim is false (negative controls, default suite)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.images_judges import ImageRuns
from autophagy.reproduce.poison import CONTROL, NEVER, PAUSED, POISONED, P1Data, heal_start, paused
from autophagy.reproduce.recipe import recipe_seed
from autophagy.reproduce.verdict import INVALID, PASS, SUPPORTED
from autophagy.running.sweep import plan_cells

R, T, HEAL = 6, 7, 5  # poisoned at generations 2-4, healed from 5


def _loops(
    poisoned: list[float],
    never: list[float],
    control: list[float],
    paused: list[float] | None = None,
    seed: int = 0,
) -> P1Data:
    """FID curves (one mean per generation) with 5 % multiplicative noise per value; the
    poisoned and paused loops' noise is the never-poisoned loop's plus a little (paired
    streams). The paused loop defaults to missing k generations of training: the never-poisoned
    curve shifted by k = HEAL - 2 from generation HEAL on."""
    rng = np.random.default_rng(seed)
    shared = 1 + 0.05 * rng.standard_normal((R, T))
    if paused is None:
        k = HEAL - 2
        paused = list(never[:1]) * (HEAL - 1) + list(never[1 : T - k])

    def metrics(fid: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "lenet_fid": fid,
            "lenet_precision": np.full((R, T), 0.9),
            "lenet_recall": np.full((R, T), 0.8),
        }

    fids = {
        POISONED: np.asarray(poisoned) * shared * (1 + 0.01 * rng.standard_normal((R, T))),
        NEVER: np.asarray(never) * shared,
        PAUSED: np.asarray(paused) * shared * (1 + 0.01 * rng.standard_normal((R, T))),
        CONTROL: np.asarray(control) * (1 + 0.05 * rng.standard_normal((R, T))),
    }
    runs = ImageRuns("test", {k: metrics(v) for k, v in fids.items()}, {k: {} for k in fids}, (8, 8))
    return P1Data(runs, HEAL)


NEVER_CURVE = [20.0, 15.0, 12.0, 10.0, 9.0, 8.5, 8.0]
SCARRED = [20.0, 40.0, 60.0, 80.0, 30.0, 20.0, 15.0]  # heals partly: stays above
HEALED = [20.0, 40.0, 60.0, 80.0, 9.0, 8.5, 8.0]  # heals fully at once


def _outcomes(m: P1Data) -> dict[str, str]:
    return RECIPES["P1"].verdict(m, "quick").outcomes()


def test_p1_passes_when_the_poison_scars_and_its_controls_do_not_pass():
    report = RECIPES["P1"].verdict(_loops(SCARRED, NEVER_CURVE, NEVER_CURVE), "quick")
    assert report.outcome == PASS, report.outcomes()
    assert all(c.control.outcome != SUPPORTED for c in report.checks)
    assert all(c.test == "sign-flip" for c in report.checks)  # FID at R = 6: the exact test


def test_p1_controls_fail_their_checks():
    """A loop that heals fully fails "stays above" (and only that); a poison that never takes
    (the poisoned loop is the never-poisoned one, up to noise) fails both; a control loop that
    sits above the never-poisoned one (a stream or seed effect, not the poison) makes the recipe
    INVALID."""
    take, stay, scar = list(_outcomes(_loops(SCARRED, NEVER_CURVE, NEVER_CURVE)))
    healed = _outcomes(_loops(HEALED, NEVER_CURVE, NEVER_CURVE))
    assert healed[take] == SUPPORTED and healed[stay] != SUPPORTED and healed[scar] != SUPPORTED
    # healed as far as its real-data rounds allow: exactly as the loop paused for the poisoned
    # generations (never poisoned, k rounds behind), yet above the never-poisoned loop
    behind = [20.0, 20.0, 20.0, 20.0, 15.0, 12.0, 10.0]
    missed = _outcomes(_loops(behind, NEVER_CURVE, NEVER_CURVE, paused=behind))
    assert missed[take] == SUPPORTED and missed[stay] == SUPPORTED and missed[scar] != SUPPORTED
    harmless = _outcomes(_loops(NEVER_CURVE, NEVER_CURVE, NEVER_CURVE))
    assert SUPPORTED not in (harmless[take], harmless[stay], harmless[scar])
    biased = RECIPES["P1"].verdict(_loops(SCARRED, NEVER_CURVE, [x * 2 for x in NEVER_CURVE]), "quick")
    assert biased.outcome == INVALID


def test_heal_start_reads_the_poisoned_schedule_and_paused_the_paused_one():
    assert heal_start({"n_real": [{"from": 1, "value": 0}, {"from": 5, "value": 1000}]}) == 5
    assert heal_start({"n_real": 1000}) is None
    assert paused(
        {"train_steps": [{"from": 1, "value": 9}, {"from": 2, "value": 1}, {"from": 5, "value": 9}]}
    )
    assert not paused({"train_steps": [{"from": 1, "value": 9}, {"from": 2, "value": 3}]})
    assert not paused({"train_steps": 1})


def test_p1_configs_poison_pause_then_heal_and_the_control_has_its_own_seed():
    recipe = RECIPES["P1"]
    for profile in ("quick", "full"):
        configs = recipe.loop_configs(profile, seed=3)
        main, control = configs["P1"], configs["P1_control"]
        assert main["seed"] == 3 and control["seed"] == recipe_seed("P1", 3, "control") != 3
        assert main["loop"]["finetune"] and control["loop"]["finetune"]
        zipped = main["sweep"]["zip"]
        poisoned, never, pause = zipped["loop.n_real"]
        heal = heal_start({"n_real": poisoned})
        assert 2 < heal <= main["generations"] and never == pause == main["loop"]["n_ini"]
        assert zipped["loop.n_synthetic"][1:] == [0, 0]
        long_fit, short_fit = (s["value"] for s in zipped["model.train_steps"][0])
        assert long_fit > short_fit  # a pretrained first fit, then fine-tunes
        assert (
            zipped["model.train_steps"][1]
            == zipped["model.train_steps"][0]
            == control["model"]["train_steps"]
        )
        assert zipped["model.train_steps"][2] == [
            {"from": 1, "value": long_fit},
            {"from": 2, "value": 1},  # paused exactly while the other loop is poisoned
            {"from": heal, "value": short_fit},
        ]
        assert [paused({"train_steps": s}) for s in zipped["model.train_steps"]] == [False, False, True]
        assert heal_start(control["loop"]) == 2  # poisoned for 0 generations
        for key in ("generations", "replicates", "data"):
            assert control[key] == main[key], key


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_p1_loop_validates(profile):
    """Both configs expand into valid cells at both profiles (schedules included)."""
    for raw in RECIPES["P1"].loop_configs(profile).values():
        assert plan_cells(raw)[1]


def test_p1_data_needs_poisoned_and_healed_generations():
    m = _loops(SCARRED, NEVER_CURVE, NEVER_CURVE)
    with pytest.raises(ValueError, match="poisoned generations and healed ones"):
        RECIPES["P1"].verdict(dataclasses.replace(m, heal=2), "quick")
