"""``loop.retention = "linear"``: Gillman et al.'s shrinking share of each pooled synthetic batch."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from conftest import RecordingModel, base_config

from autophagy.core.errors import ConfigError
from autophagy.loop.engine import run_block
from autophagy.running.config import resolve


def gillman_counts(n: int, step: int) -> list[int]:
    """Reference: at their step k (0-based; k + 1 batches made), batch i keeps int((i+1)/(k+1) n),
    computed exactly; their step k is our generation k + 2, their batch i our generation i + 2."""
    return [int(Fraction(i + 1, step + 1) * n) for i in range(step + 1)]


def spy_run(generations: int = 7, **loop):
    spy = RecordingModel()
    raw = base_config(**loop)
    raw["generations"] = generations
    exp = dataclasses.replace(resolve(raw)[0], model=spy, simulator="samples")
    list(run_block(exp, range(2)))
    return exp, spy


def test_linear_retention_keeps_gillmans_prefix_of_each_batch():
    n_ini, n = 12, 10
    exp, spy = spy_run(family="synthetic_pool", n_ini=n_ini, n_synthetic=n, retention="linear")
    batches = {}  # generation -> its new synthetic batch (the last n rows it trained on)
    for t, (data, _) in enumerate(spy.fits, start=1):
        if t == 1:
            fixed = data
            continue
        batches[t] = data[:, -n:]
        counts = gillman_counts(n, t - 2)  # batches made at generations 2..t
        expected = np.concatenate(
            [fixed] + [batches[s][:, :c] for s, c in zip(range(2, t + 1), counts, strict=True)], axis=1
        )
        np.testing.assert_array_equal(data, expected)
        assert data.shape[1] == exp.schedule.training_size(t)
        assert counts[-1] == n and counts[0] == n // (t - 1)


def test_retention_all_is_the_plain_pool():
    _, plain = spy_run(family="accumulate", n_real=3)
    _, explicit = spy_run(family="accumulate", n_real=3, retention="all")
    for (a, _), (b, _) in zip(plain.fits, explicit.fits, strict=True):
        np.testing.assert_array_equal(a, b)


def test_linear_retention_with_fresh_real_keeps_every_real_row():
    n = 8
    exp, spy = spy_run(family="accumulate", n_ini=10, n_real=3, n_synthetic=n, retention="linear")
    sizes = [d.shape[1] for d, _ in spy.fits]
    for t, size in enumerate(sizes, start=1):
        real = 10 + 3 * (t - 1)
        synthetic = 0 if t == 1 else sum(gillman_counts(n, t - 2))
        assert size == real + synthetic == exp.schedule.training_size(t)


@pytest.mark.parametrize(
    ("loop", "extra", "field"),
    [
        ({"family": "fully_synthetic", "retention": "linear"}, {}, "loop.retention"),
        ({"family": "synthetic_pool", "retention": "sometimes"}, {}, "loop.retention"),
        (
            {"family": "synthetic_pool", "retention": "linear"},
            {"mitigation": {"filter": {"target_share": 0.5}}},
            "loop.retention",
        ),
        (
            {"family": "synthetic_pool", "retention": "linear"},
            {"model": {"kind": "gaussian", "simulator": "exact"}, "metrics": {"names": ["trace_cov"]}},
            "model.simulator",
        ),
    ],
)
def test_bad_retention_names_the_field(loop, extra, field):
    raw = base_config(**loop)
    raw.update(extra)
    with pytest.raises(ConfigError) as err:
        resolve(raw)
    assert err.value.field == field
