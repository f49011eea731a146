"""Every registered built-in metric passes the metric contract (:func:`autophagy.testing.check_metric`),
and the check fails metrics that break it (negative controls)."""

from __future__ import annotations

import numpy as np
import pytest

import autophagy.models  # noqa: F401  (registers every built-in: models, data, metrics)
from autophagy.core.errors import ConfigError
from autophagy.core.protocols import ChecksConfig
from autophagy.core.registry import METRICS, MODELS, register_metric
from autophagy.data import GaussianData
from autophagy.testing import METRIC_ITEMS, check_metric, gaussian_source

NEEDS = ("samples", "moments", "model", "modes", "images")
BUILT_IN = sorted(name for name, metric in METRICS.items() if metric.provider == "autophagy")


def _param(name: str):
    """hf_causal_lm metrics fit a transformers model (several seconds): marked slow."""
    if METRICS[name].models == ("hf_causal_lm",):
        return pytest.param(name, marks=pytest.mark.slow)
    return name


def _accepted_source(metric):
    """None (the contract's default data), or the first Gaussian whose config check the metric
    accepts: 10-d for the coordinate metrics ``mean_offset_j``, ``variance_j`` (j >= 3), 2-d for
    the grid-integrated ``density_tv`` (d <= 2)."""
    if not isinstance(metric.fn, ChecksConfig):
        return None
    for source in (
        gaussian_source(),
        GaussianData(np.zeros(10), np.eye(10)),
        GaussianData(np.zeros(2), np.eye(2)),
    ):
        try:
            metric.fn.check_config("gaussian", source)
        except ValueError:
            continue
        return None if source.dim == gaussian_source().dim else source
    raise AssertionError(f"{metric} accepts none of the contract's data sources")


def test_every_needs_kind_is_covered():
    assert {METRICS[name].needs for name in BUILT_IN} == set(NEEDS)


@pytest.mark.parametrize("name", [_param(name) for name in BUILT_IN])
def test_every_built_in_metric_passes_the_contract(name):
    metric = METRICS[name]
    if metric.needs == "model":
        kind = next(k for k in metric.models or ("gaussian",) if k in MODELS)
        if MODELS[kind].contract is not None and MODELS[kind].contract.torch:
            pytest.importorskip("torch")
        if kind == "hf_causal_lm":
            pytest.importorskip("transformers")
    report = check_metric(name, data=_accepted_source(metric))
    assert [item.name for item in report.failures()] == [], str(report)
    assert [item.name for item in report.items] == [item for item, _ in METRIC_ITEMS]
    assert report.passed


# -- negative controls: deliberately broken metrics -------------------------------------------


@pytest.fixture
def broken():
    """Register a broken sample metric for one test, then remove it."""
    names = []

    def make(name, fn, **kwargs):
        register_metric(name, fn, higher_is_better=False, replace=True, **kwargs)
        names.append(name)
        return name

    yield make
    for name in names:
        METRICS.pop(name, None)


def _mean_gap(real, synthetic):
    return np.abs(real.mean(axis=(1, 2)) - synthetic.mean(axis=(1, 2)))


def test_a_sound_metric_passes(broken):
    assert check_metric(broken("sound", lambda real, synthetic, k=None: _mean_gap(real, synthetic))).passed


def test_wrong_shape_fails(broken):
    report = check_metric(broken("flat", lambda real, synthetic, k=None: _mean_gap(real, synthetic)[:, None]))
    assert not report.passed
    assert "expected (3,)" in report["shape"].detail


def test_nan_fails_finite(broken):
    def nan_last(real, synthetic, k=None):
        value = _mean_gap(real, synthetic)
        value[-1] = np.nan
        return value

    report = check_metric(broken("nan", nan_last))
    assert [i.name for i in report.failures()] == ["finite", "batch_independence"], str(report)
    assert "1 non-finite" in report["finite"].detail


def test_integer_values_fail_shape(broken):
    report = check_metric(broken("ints", lambda real, synthetic, k=None: np.ones(len(real), dtype=int)))
    assert "not a float array" in report["shape"].detail


def test_hidden_randomness_fails_determinism(broken):
    report = check_metric(
        broken("noisy", lambda real, synthetic, k=None: np.random.default_rng().random(len(real)))
    )
    assert [i.name for i in report.failures()] == ["determinism", "batch_independence"], str(report)


def test_mixing_replicates_fails_batch_independence(broken):
    def pooled(real, synthetic, k=None):
        return np.full(len(real), _mean_gap(real, synthetic).mean())

    report = check_metric(broken("pooled", pooled))
    assert [i.name for i in report.failures()] == ["batch_independence"], str(report)


def test_a_raising_metric_fails_without_crashing(broken):
    def explodes(real, synthetic, k=None):
        raise RuntimeError("boom")

    report = check_metric(broken("explodes", explodes))
    assert not report.passed and report["shape"].detail == "raised RuntimeError: boom"


def test_broken_model_metric_fails(broken):
    report = check_metric(
        broken("nan_model", lambda model, data, *, rng: np.full(len(rng), np.nan), needs="model")
    )
    assert report["inputs"].passed and not report["finite"].passed


def test_unknown_metric_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown metric 'nope'"):
        check_metric("nope")
