"""Schedules of values over generations (core.varying): parsing, values, errors naming the entry."""

from __future__ import annotations

import json

import pytest
from pydantic import NonNegativeFloat, NonNegativeInt, ValidationError

from autophagy.core.schedule import LoopOptions, resolve_schedule
from autophagy.core.varying import Varying, parse, schedule_of
from autophagy.running.config import pydantic_error

STEPS = [{"from": 1, "value": 500}, {"from": 6, "to": 8, "value": 0}, {"from": 9, "value": 7}]


def test_steps_hold_from_their_start_to_the_next():
    v = parse(STEPS, NonNegativeInt)
    assert v.values(10) == [500] * 5 + [0] * 3 + [7] * 2
    assert v.raw() == STEPS and parse(v.raw(), NonNegativeInt) == v  # canonical form round trip
    assert schedule_of(json.loads(json.dumps(v.raw()))) == v


def test_ramp_is_linear_between_knots_constant_outside_and_rounds_sizes():
    v = parse({"ramp": [[2, 0.0], [6, 1.0], [8, 0.5]]}, NonNegativeFloat)
    assert v.values(10) == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.5, 0.5])
    sizes = parse({"ramp": [[1, 0], [5, 10]]}, NonNegativeInt, integer=True)
    assert sizes.values(6) == [0, 3, 5, 8, 10, 10]  # 2.5 -> 3, 7.5 -> 8: half up
    assert all(isinstance(x, int) for x in sizes.values(6))


def test_every_k_generations():
    v = parse({"every": 3, "value": 300, "otherwise": 0}, NonNegativeInt)
    assert v.values(7) == [0, 0, 300, 0, 0, 300, 0]


def test_a_constant_stays_a_constant():
    assert parse(5, NonNegativeInt) == 5 and not isinstance(parse(5, NonNegativeInt), Varying)


@pytest.mark.parametrize(
    ("loop", "field", "words"),
    [
        (
            {"n_synthetic": [{"from": 1, "value": 5}, {"from": 6, "value": -1}]},
            "loop.n_synthetic[1].value",
            "greater than or equal to 0",
        ),
        (
            {"n_synthetic": [{"from": 1, "value": 5}, {"from": 6, "value": 1}, {"from": 3, "value": 1}]},
            "loop.n_synthetic[2].from",
            "not after",
        ),
        (
            {"n_synthetic": [{"from": 1, "to": 6, "value": 5}, {"from": 5, "value": 1}]},
            "loop.n_synthetic[1].from",
            "overlaps",
        ),
        (
            {"n_synthetic": [{"from": 1, "to": 3, "value": 5}, {"from": 6, "value": 1}]},
            "loop.n_synthetic[0].to",
            "4..5",
        ),
        ({"n_synthetic": [{"from": 2, "value": 5}]}, "loop.n_synthetic[0].from", "generation 1"),
        ({"n_synthetic": [{"from": 1, "value": 5, "at": 2}]}, "loop.n_synthetic[0].at", "unknown key"),
        ({"n_synthetic": [{"from": 0, "value": 5}]}, "loop.n_synthetic[0].from", ">= 1"),
        ({"n_synthetic": [{"from": 1, "value": True}]}, "loop.n_synthetic[0].value", "integer"),
        ({"n_synthetic": []}, "loop.n_synthetic", "empty"),
        ({"sampling_bias": {"ramp": [[3, 1.0], [3, 0.5]]}}, "loop.sampling_bias.ramp[1][0]", "not after"),
        (
            {"sampling_bias": {"ramp": [[1, -0.5]]}},
            "loop.sampling_bias.ramp[0][1]",
            "greater than or equal to 0",
        ),
        (
            {
                "family": "real_fraction",
                "n_synthetic": None,
                "real_fraction": [{"from": 1, "value": 1.5}],
                "total_size": 10,
            },
            "loop.real_fraction[0].value",
            "less than or equal to 1",
        ),
        ({"retention": {"ramp": [[1, 1]]}}, "loop.retention.ramp", "only numbers"),
        ({"retention": [{"from": 1, "value": "some"}]}, "loop.retention[0].value", "'all' or 'linear'"),
        ({"n_synthetic": {"every": 2, "value": 5}}, "loop.n_synthetic.otherwise", "required"),
        ({"n_synthetic": {"value": 5}}, "loop.n_synthetic", "ramp"),
    ],
)
def test_invalid_schedules_name_the_entry(loop, field, words):
    table = {"family": "fully_synthetic", "n_ini": 10, "n_synthetic": 10, **loop}
    with pytest.raises(ValidationError) as info:
        LoopOptions.model_validate({k: v for k, v in table.items() if v is not None})
    error = pydantic_error(info.value, "loop")
    assert error.field == field and words in error.message, str(error)


def test_a_last_step_ending_early_is_named_when_the_generations_are_known():
    o = LoopOptions.model_validate(
        {"family": "fully_synthetic", "n_ini": 10, "n_synthetic": [{"from": 1, "to": 4, "value": 10}]}
    )
    resolve_schedule(o, 4)
    with pytest.raises(Exception, match=r"loop.n_synthetic\[0\].to: leaves generations 5..9"):
        resolve_schedule(o, 9)


def test_a_schedule_resolves_per_generation_and_pools_each_generations_sizes():
    o = LoopOptions.model_validate(
        {
            "family": "accumulate",
            "n_ini": 10,
            "n_synthetic": [{"from": 1, "value": 4}, {"from": 4, "value": 0}],
        }
    )
    s = resolve_schedule(o, 6)
    assert s.values("synthetic") == (4, 4, 4, 0, 0, 0) and s.at(5).synthetic == 0
    # the pool at t holds every earlier generation's synthetic batch (t >= 2): 4 + 4 from t = 2, 3
    assert [s.pool_size(t) for t in range(2, 7)] == [0, 4, 8, 8, 8]
    assert [s.training_size(t) for t in range(1, 7)] == [10, 14, 18, 18, 18, 18]


def test_constant_steps_resolve_to_the_constant_schedule():
    plain = {"family": "fresh_data", "n_ini": 10, "n_real": 5, "n_synthetic": 10, "sampling_bias": 0.5}
    steps = {
        **plain,
        "n_real": [{"from": 1, "value": 5}, {"from": 3, "value": 5}],
        "sampling_bias": {"ramp": [[1, 0.5]]},
    }
    assert resolve_schedule(LoopOptions.model_validate(steps), 5) == resolve_schedule(
        LoopOptions.model_validate(plain)
    )
