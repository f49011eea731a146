"""The mitigation example configs (Gaussian and 25-mode mixture) validate and run end to end (shortened)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autophagy.results.run import open_run
from autophagy.running.config import load_config, resolve
from autophagy.running.runner import execute, plan_run

EXAMPLES = Path(__file__).parents[2] / "examples" / "mitigations"
GAUSSIAN = sorted(EXAMPLES.glob("gaussian_*.toml"))


def test_every_mitigation_has_a_gaussian_example():
    labels = {p.stem.removeprefix("gaussian_") for p in GAUSSIAN}
    assert {"none", "correct", "curate", "filter"} <= labels


@pytest.mark.parametrize("path", GAUSSIAN, ids=lambda p: p.stem)
def test_gaussian_example_runs(path, tmp_path):
    raw = load_config(path, ["replicates=2", "generations=3"])
    exp = resolve(raw)[0]
    assert exp.simulator == "samples"
    assert (exp.mitigation is None) == path.stem.endswith("_none")
    rows = open_run(execute(plan_run(raw, tmp_path / path.stem), progress=False, plots=False)).rows(0)
    metrics = {metric for _, _, metric, _ in rows}
    assert {"wasserstein2", "trace_cov", "mean_drift"} <= metrics
    assert ("detector_accuracy" in metrics) == path.stem.endswith("_filter")
    assert len(rows) == 2 * 3 * 3 + 2 * 2 * ("detector_accuracy" in metrics)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("mixture_*.toml")), ids=lambda p: p.stem)
def test_mixture_example_runs(path, tmp_path):
    raw = load_config(path, ["replicates=1", "generations=2", "metrics.n_eval=200"])
    rows = open_run(execute(plan_run(raw, tmp_path / path.stem), progress=False, plots=False)).rows(0)
    covered = [v for _, g, metric, v in rows if metric == "modes_covered"]
    assert len(covered) == 2 and all(1 <= v <= 25 for v in covered)
