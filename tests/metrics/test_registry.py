"""Every registered sample metric keeps the engine's calling convention and the sample-cap contract."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import METRICS

SAMPLE_METRICS = [name for name, metric in METRICS.items() if metric.needs == "samples"]


def _value(name, real, synthetic, **kwargs):
    metric = METRICS[name]
    out = metric.fn(real, synthetic, k=3, **kwargs)
    return np.asarray(out[metric.key] if metric.key else out, dtype=np.float64)


def test_registry_entries_are_complete():
    assert {"precision", "recall", "density", "coverage", "kid", "vendi", "frechet"} <= set(SAMPLE_METRICS)
    for metric in METRICS.values():
        assert isinstance(metric.higher_is_better, bool) and metric.summary


@pytest.mark.parametrize("name", SAMPLE_METRICS)
def test_engine_call_and_sample_cap(name):
    rng = np.random.default_rng(0)
    real, synthetic = rng.normal(size=(4, 40, 3)), rng.normal(loc=0.2, size=(4, 40, 3))
    values = _value(name, real, synthetic)
    assert values.shape == (4,) and np.all(np.isfinite(values))
    assert np.array_equal(_value(name, real, synthetic, max_samples=40, rng=rng), values)
    capped = _value(name, real, synthetic, max_samples=20, rng=np.random.default_rng(1))
    assert np.array_equal(capped, _value(name, real, synthetic, max_samples=20, rng=np.random.default_rng(1)))
    with pytest.raises(ValueError):
        _value(name, real, np.full_like(synthetic, np.nan))
    with pytest.raises(ValueError):
        _value(name, real, synthetic[..., :2])


def test_shared_computations_share_one_function():
    # the engine computes a function once per generation and picks entries by key
    assert METRICS["density"].fn is METRICS["coverage"].fn
    assert METRICS["precision"].fn is METRICS["recall"].fn


def test_every_builtin_summary_states_its_direction():
    """Each registered built-in says which way is better, matching ``higher_is_better``."""
    from autophagy.metrics import METRICS

    for name, metric in METRICS.items():
        if metric.provider != "autophagy":
            continue
        word = "higher" if metric.higher_is_better else "lower"
        assert metric.summary.startswith(f"{word} is better"), (name, metric.summary)


def test_trace_cov_is_higher_is_better_since_collapse_lowers_it():
    from autophagy.metrics import METRICS

    assert METRICS["trace_cov"].higher_is_better and "collapse shrinks" in METRICS["trace_cov"].summary
