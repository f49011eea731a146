"""Training telemetry through a run: the callback reaches fit, its rows land in the store with
the task (global replicate indices), in Run.training(), the export and the report; a malformed
call is the model's PluginError; the step-level progress line; numbers never change."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pytest

import autophagy as ap
from autophagy.core.errors import PluginError
from autophagy.core.registry import Options, register_model
from autophagy.models import GaussianModel
from autophagy.running.telemetry import status_sink

STEPS = 4


@dataclass(frozen=True)
class ReportingGaussian:
    """The Gaussian fit, reporting a made-up loss 1 / step per replicate (STEPS reports)."""

    min_samples: int = 2
    bad: str = ""

    def fit(self, data, *, rng, init=None, telemetry=None):
        if telemetry is not None:
            for r in range(len(data)):
                for step in range(1, STEPS + 1):
                    replicate = r + 100 if self.bad == "replicate" else r
                    loss = "high" if self.bad == "loss" else 1.0 / step + r
                    telemetry(replicate, step, loss, total=STEPS)
        return GaussianModel().fit(data, rng=rng, init=init)

    def load(self, state):
        return GaussianModel().load(state)


class ReportingOptions(Options):
    bad: str = ""


register_model(
    "reporting_gaussian",
    options=ReportingOptions,
    build=lambda o: ReportingGaussian(bad=o.bad),
    summary="test: a Gaussian that reports a loss curve",
    replace=True,
)


def config(**model) -> dict:
    return {
        "name": "telemetry",
        "seed": 2,
        "replicates": 3,
        "generations": 2,
        "block_size": 2,
        "data": {"kind": "gaussian", "dim": 2},
        "model": {"kind": "reporting_gaussian", **model},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
        "metrics": {"names": ["wasserstein2"], "n_eval": 30},
    }


def test_training_rows_reach_the_store_the_table_the_export_and_the_report(tmp_path):
    run = ap.run(config(), tmp_path / "run", executor="inline", progress=False, plots=False)
    frame = run.training()
    assert list(frame.columns) == ["replicate", "generation", "step", "loss", "seconds"]
    assert len(frame) == 3 * 2 * STEPS
    for (replicate, _), group in frame.groupby(["replicate", "generation"]):
        block_index = replicate % 2  # replicate 2 is index 0 of the second block
        assert group["step"].tolist() == list(range(1, STEPS + 1))
        np.testing.assert_allclose(group["loss"], [1 / s + block_index for s in range(1, STEPS + 1)])
        assert (group["seconds"] >= 0).all()
    path, count = run.export_training(tmp_path / "training.csv")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert count == len(frame) and [float(r["loss"]) for r in rows] == frame["loss"].tolist()
    html = run.report().read_text()
    assert "<h2>Training</h2>" in html and 'alt="training loss"' in html


def test_sweep_training_has_the_swept_columns(tmp_path):
    raw = {**config(), "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.5]}}}
    run = ap.run(raw, tmp_path / "sweep", executor="inline", progress=False, plots=False)
    frame = run.training()
    assert frame.columns[0] == "loop.sampling_bias"
    assert sorted(frame["loop.sampling_bias"].unique()) == [0.5, 1.0]
    assert len(frame) == 2 * 3 * 2 * STEPS


@pytest.mark.parametrize("bad", ["replicate", "loss"])
def test_a_malformed_telemetry_call_is_the_models_plugin_error(tmp_path, bad):
    with pytest.raises(PluginError, match=f"model reporting_gaussian.*telemetry: {bad}"):
        ap.run(config(bad=bad), tmp_path / "run", executor="inline", progress=False, plots=False)


def test_telemetry_changes_no_number(tmp_path, monkeypatch):
    """Rows with the callback equal rows of the same run whose fit is never given one."""
    with_telemetry = ap.run(config(), tmp_path / "a", executor="inline", progress=False, plots=False)
    import autophagy.loop.engine as engine

    monkeypatch.setattr(engine, "accepts_telemetry", lambda fit: False)
    without = ap.run(config(), tmp_path / "b", executor="inline", progress=False, plots=False)
    assert with_telemetry.rows() == without.rows()
    assert without.training().empty


def test_step_level_progress_lines_with_an_eta(tmp_path):
    """Inline tasks send 'generation g/G, block b/B, replicate r/R, step s/S, loss ...' lines;
    without a bar they go to the status sink with the overall ETA."""
    lines: list[str] = []
    with status_sink(lines.append):
        ap.run(config(), tmp_path / "run", executor="inline", progress=False, plots=False)
    steps = [line for line in lines if "step" in line]
    assert steps, lines
    assert any("generation 2/2, block 2/2, step 3/4, loss" in line and "ETA" in line for line in steps), (
        steps[-5:]
    )
    assert any("generation 1/2, block 1/2, replicate 2/2, step 1/4" in line for line in steps)
    assert all(line.startswith("telemetry: ") and "replicate-generations, ETA" in line for line in lines)
