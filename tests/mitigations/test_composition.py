"""Every mitigation composes with every loop family, and stays batch invariant."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import RecordingModel, base_config

from autophagy.core.schedule import LOOPS
from autophagy.loop.engine import run_block
from autophagy.running.config import resolve

FAMILIES = {
    "fully_synthetic": {},
    "synthetic_augmentation": {},
    "fresh_data": {"n_real": 10},
    "accumulate": {"n_real": 5},
    "accumulate_subsample": {},
    "synthetic_pool": {},
    "real_fraction": {"n_ini": None, "n_synthetic": None, "real_fraction": 0.5, "total_size": 20},
}
MITIGATIONS = {
    "curate": {"curate": {"keep_fraction": 0.5}},
    "correct_ot": {"correct": {"gamma": 0.5}},
    "correct_nearest": {"correct": {"gamma": 0.5, "method": "nearest_real"}},
    "correct_centroid": {"correct": {"gamma": 0.5, "method": "centroid", "clusters": 4}},
    "filter": {"filter": {"target_share": 0.5, "detector": "quadratic", "n_holdout": 40}},
    "all": {
        "curate": {"keep_fraction": 0.5, "score": "nearest_real"},
        "correct": {"gamma": 0.5},
        "filter": {"target_share": 0.5, "detector": "knn", "n_holdout": 40, "k": 5},
    },
}


def test_every_family_is_covered():
    assert set(FAMILIES) == set(LOOPS)


def _run(family, mitigation, replicates=range(2)):
    raw = base_config(family=family, **FAMILIES[family])
    raw["generations"] = 3
    raw["model"] = {"kind": "gaussian", "simulator": "samples"}
    if mitigation is not None:
        mitigation = dict(mitigation)
        if "filter" in mitigation and family == "fully_synthetic":  # no real data to share with
            mitigation["filter"] = {**mitigation["filter"], "target_share": 1.0}
        raw["mitigation"] = mitigation
    spy = RecordingModel()
    exp = dataclasses.replace(resolve(raw)[0], model=spy)
    metrics = [m for _, m in run_block(exp, replicates)]
    return [data.shape[1] for data, _ in spy.fits], metrics


@pytest.mark.parametrize("name", list(MITIGATIONS))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_mitigation_composes_with_family(family, name):
    plain_sizes, _ = _run(family, None)
    sizes, metrics = _run(family, MITIGATIONS[name])
    if "filter" in MITIGATIONS[name]:
        assert all(2 <= s <= p for s, p in zip(sizes, plain_sizes, strict=True))
        accuracy = np.stack([m["detector_accuracy"] for m in metrics[1:]])
        assert np.all((accuracy >= 0.0) & (accuracy <= 1.0))
    else:
        assert sizes == plain_sizes  # curation and correction keep the synthetic count as configured
    assert all(np.all(np.isfinite(v)) for m in metrics for v in m.values())


def test_mitigated_replicates_do_not_depend_on_their_block():
    whole = _run("accumulate", MITIGATIONS["all"], range(4))[1]
    for block in (range(0, 1), range(1, 4)):
        part = _run("accumulate", MITIGATIONS["all"], block)[1]
        for t, metrics in enumerate(part):
            for name, values in metrics.items():
                np.testing.assert_allclose(values, whole[t][name][block.start : block.stop], rtol=1e-10)


def test_mitigations_do_not_import_the_engine():
    """One engine, no circle: no mitigation module imports the engine (even for typing), and
    their context is a small record, not the Experiment."""
    import ast
    from pathlib import Path

    import autophagy.mitigations as mitigations

    for path in Path(mitigations.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            engine = "autophagy.loop.engine"
            assert not any(n == engine or n.startswith(engine + ".") for n in names), path
    fields = {f.name for f in dataclasses.fields(mitigations.MitigationContext)}
    assert "exp" not in fields and {"seed", "schedule", "data", "model"} <= fields
