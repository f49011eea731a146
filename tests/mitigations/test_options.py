"""The [mitigation] table: field-named errors before any work, and the simulator choice."""

from __future__ import annotations

import pytest
from conftest import base_config

from autophagy.core.errors import ConfigError
from autophagy.core.registry import Plugin
from autophagy.core.schedule import DataSchedule
from autophagy.mitigations import build_mitigation
from autophagy.mitigations.options import MitigationOptions
from autophagy.running.config import resolve


def _resolve(mitigation, model=None, **loop):
    raw = base_config(**loop)
    raw["mitigation"] = mitigation
    raw["metrics"] = {"names": ["wasserstein2", "trace_cov"]}
    if model is not None:
        raw["model"] = model
    return resolve(raw)


@pytest.mark.parametrize(
    ("mitigation", "field"),
    [
        ({"correct": {"gamma": 1.5}}, "mitigation.correct.gamma"),
        ({"correct": {"gamma": -0.1}}, "mitigation.correct.gamma"),
        ({"correct": {}}, "mitigation.correct.gamma"),
        ({"correct": {"gamma": 0.5, "method": "snap"}}, "mitigation.correct.method"),
        ({"correct": {"gamma": 0.5, "method": "no_such_module_xyz:fn"}}, "mitigation.correct.method"),
        ({"correct": {"gamma": 0.5, "method": "numpy:no_such_function"}}, "mitigation.correct.method"),
        ({"correct": {"gamma": 0.5, "method": "centroid", "clusters": 21}}, "mitigation.correct.clusters"),
        ({"curate": {"keep_fraction": 0.0}}, "mitigation.curate.keep_fraction"),
        ({"curate": {"keep_fraction": 1.2}}, "mitigation.curate.keep_fraction"),
        ({"curate": {"keep_fraction": 0.5, "score": "beauty"}}, "mitigation.curate.score"),
        ({"filter": {"target_share": 1.5}}, "mitigation.filter.target_share"),
        ({"filter": {"target_share": 0.5, "detector": "oracle"}}, "mitigation.filter.detector"),
        ({"filter": {"target_share": 0.5, "detector": "knn", "k": 150}}, "mitigation.filter.k"),
        ({"filter": {"target_share": 0.5}}, "mitigation.filter.target_share"),  # fully synthetic: no real
        ({"correct": {"gamma": 0.5, "strength": 1}}, "mitigation.correct.strength"),
        ({"dedupe": {}}, "mitigation.dedupe"),
    ],
)
def test_bad_tables_name_the_field(mitigation, field):
    with pytest.raises(ConfigError) as err:
        _resolve(mitigation)
    assert err.value.field == field


def test_likelihood_curation_needs_a_scoring_model():
    schedule = DataSchedule(n_ini=10, fixed_real=0, fresh_real=0, synthetic=10, sampling_bias=1.0)
    options = MitigationOptions.model_validate({"curate": {"keep_fraction": 0.5}})
    no_scores = Plugin(MitigationOptions, lambda o: None, "a model without log_prob")
    with pytest.raises(ConfigError) as err:
        build_mitigation(options, schedule, no_scores, 2, 5)
    assert err.value.field == "mitigation.curate.score"


def test_auto_simulator_falls_back_to_samples_and_exact_is_refused():
    correct = {"correct": {"gamma": 0.5}}
    assert resolve({**base_config(), "metrics": {"names": ["wasserstein2"]}})[0].simulator == "exact"
    assert _resolve(correct)[0].simulator == "samples"
    with pytest.raises(ConfigError) as err:
        _resolve(correct, model={"kind": "gaussian", "simulator": "exact"})
    assert err.value.field == "model.simulator" and "mitigation" in str(err.value)


def test_resolved_config_records_the_mitigation_only_when_set():
    assert "mitigation" not in resolve(base_config())[2]
    resolved = _resolve({"correct": {"gamma": 0.5}})[2]
    assert resolved["mitigation"]["correct"] == {
        "gamma": 0.5,
        "method": "gaussian_ot",
        "target": "reference",
        "clusters": 25,
    }
