"""Time-varying schedules end to end: poison then heal runs, equals its constant halves exactly,
resumes after SIGKILL with identical rows, sweeps over two schedules, draws its change marks,
and invalid schedules are exit-2 errors naming the field with nothing written."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import kill_after
from typer.testing import CliRunner

from autophagy import api
from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.results.marks import schedule_marks
from autophagy.running.config import load_config, resolve
from autophagy.running.sweep import plan_cells

HEAL = 5  # first generation trained on real data only
POISON = [{"from": 1, "value": 40}, {"from": HEAL, "value": 0}]
HEALED = [{"from": 1, "value": 0}, {"from": HEAL, "value": 40}]


def _config(**loop) -> dict:
    return {
        "name": "heal",
        "seed": 3,
        "replicates": 8,
        "generations": 8,
        "block_size": 4,
        "data": {"kind": "gaussian", "dim": 3},
        "model": {"kind": "gaussian"},
        "loop": {"family": "fresh_data", "n_ini": 40, "n_real": HEALED, "n_synthetic": POISON, **loop},
        "metrics": {"names": ["wasserstein2", "precision"], "n_eval": 60},
    }


def _rows(run, generations=None) -> dict:
    table = run.table()
    if generations is not None:
        table = table[table["generation"].isin(generations)]
    return {(r.replicate, r.generation, r.metric): r.value for r in table.itertuples()}


def test_poison_then_heal_equals_its_constant_halves(tmp_path):
    """Before HEAL the loop is fully synthetic, from HEAL on it is the real-only baseline: every
    row equals the constant run's (random draws are keyed by generation and role)."""
    healed = api.run(_config(), tmp_path / "heal", executor="inline", progress=False, plots=False)
    poisoned = _config(family="fully_synthetic", n_synthetic=40)
    poisoned["loop"].pop("n_real")
    synthetic = api.run(poisoned, tmp_path / "syn", executor="inline", progress=False, plots=False)
    real = api.run(
        _config(n_real=40, n_synthetic=0), tmp_path / "real", executor="inline", progress=False, plots=False
    )
    before, after = range(1, HEAL), range(HEAL, 9)
    assert _rows(healed, before) == _rows(synthetic, before)
    assert _rows(healed, after) == _rows(real, after)
    w2 = healed.table().query("metric == 'wasserstein2'").groupby("generation")["value"].mean()
    assert w2[HEAL - 1] > 1.5 * w2[HEAL]  # the collapse is undone at once


EXAMPLE = Path(__file__).parents[2] / "examples" / "schedules" / "poison_then_heal.toml"
SMALLER = ["--set", "replicates=8", "--set", "metrics.n_eval=200"]


def test_the_example_sweeps_two_schedules_resumes_after_sigkill_identically_and_marks_the_change(tmp_path):
    """The example's sweep (healed at 7, never healed), killed with SIGKILL mid-run and resumed,
    ends with exactly the rows of an uninterrupted run."""
    raw = load_config(EXAMPLE, SMALLER[1::2])
    clean = api.run(raw, tmp_path / "clean", executor="inline", progress=False, plots=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "autophagy", "run", str(EXAMPLE), "--out", str(out), "--quiet"]
    cmd += ["--executor", "inline", "--task-seconds", "0", *SMALLER]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_after(proc, out / "results.sqlite", 6)
    assert len(api.open_run(out).table()) < len(clean.table())
    resumed = api.run(
        load_config(EXAMPLE, SMALLER[1::2]), out, executor="inline", progress=False, plots=False
    )
    assert resumed.table().equals(clean.table())
    table = clean.table()
    assert table["loop.n_real"].map(str).nunique() == 2  # two schedules swept
    w2 = clean.summary().query("metric == 'wasserstein2'")
    by_cell = {str(k): g.set_index("generation")["mean"] for k, g in w2.groupby(w2["loop.n_real"].map(str))}
    healed, never = (by_cell[k] for k in sorted(by_cell, key=lambda k: "99" in k))
    assert np.array_equal(healed[:6], never[:6])  # identical until the heal
    assert healed[12] < 0.5 * never[12]
    (mark,) = schedule_marks(clean.cells)
    assert mark.start == 6.5 and mark.end is None
    assert mark.text.splitlines() == ["n_real: 0 -> 100", "n_synthetic: 100 -> 0"]


PLAIN = """\
name = "plain"
generations = 10
[data]
kind = "gaussian"
dim = 2
[loop]
family = "fresh_data"
n_ini = 50
n_real = 50
"""


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("loop.n_synthetic=[{from = 1, value = 100}, {from = 7, value = -5}]", "loop.n_synthetic[1].value"),
        ("loop.n_real=[{from = 1, to = 7, value = 0}, {from = 7, value = 100}]", "loop.n_real[1].from"),
        ("loop.n_real=[{from = 1, to = 7, value = 50}]", "loop.n_real[0].to"),
        ("loop.sampling_bias={ramp = [[1, 0.8], [5, 1.5]]}", "loop.sampling_bias"),
    ],
)
def test_invalid_schedules_exit_2_naming_the_field_and_write_nothing(tmp_path, setting, field):
    config, out = tmp_path / "plain.toml", tmp_path / "run"
    config.write_text(PLAIN)
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out), "--set", setting])
    assert result.exit_code == 2, result.output
    assert f"error: {field}" in result.output and not out.exists()


def test_an_invalid_schedule_as_a_sweep_value_names_the_sweep_axis(tmp_path):
    raw = load_config(EXAMPLE)
    raw["sweep"]["zip"]["loop.n_real"][1] = [{"from": 3, "value": 0}]
    with pytest.raises(
        ConfigError, match=r'sweep.zip\["loop.n_real"\]: value .*loop.n_real\[0\].from: the first step'
    ):
        plan_cells(raw)


def test_a_ridge_schedule_fits_each_generation_with_its_own_ridge(tmp_path):
    raw = {
        "name": "ridge",
        "replicates": 4,
        "generations": 5,
        "data": {"kind": "linear_regression", "samples": 20, "dim": 4},
        "model": {"kind": "ols", "ridge": {"ramp": [[2, 0.0], [4, 1e6]]}},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
        "metrics": {"names": ["test_error"], "n_eval": 2, "k": 1},
    }
    bad = copy.deepcopy(raw)
    bad["model"]["ridge"] = [{"from": 1, "value": 0.0}, {"from": 3, "value": -1.0}]
    with pytest.raises(
        ConfigError, match=r"^model.ridge\[1\].value: Input should be greater than or equal to 0"
    ):
        resolve(bad)
    exp = resolve(copy.deepcopy(raw))[0]
    assert [exp.settings_at(t).ridge for t in range(1, 6)] == [0.0, 0.0, 5e5, 1e6, 1e6]
    ramp = api.run(raw, tmp_path / "ramp", executor="inline", progress=False, plots=False).table()
    flat = api.run(
        {**raw, "model": {"kind": "ols"}}, tmp_path / "flat", executor="inline", progress=False, plots=False
    )
    flat = flat.table()
    early = ramp["generation"] <= 2
    assert ramp[early].equals(flat[flat["generation"] <= 2])
    # a huge ridge shrinks the weights to ~0: the test error is then |w*|^2
    truth = float(np.sum(exp.data.weights**2))
    late = ramp[ramp["generation"] >= 4]["value"].to_numpy()
    assert late == pytest.approx(truth, rel=1e-3)


def test_a_ddpm_train_steps_schedule_trains_each_generation_for_its_own_steps(tmp_path, one_torch_thread):
    """A long first fit, then short fine-tunes: the training curve has 10 steps at generation 1
    and 4 after; generation 1 equals a constant 10-step run's, generation 2 does not."""
    pytest.importorskip("torch")
    raw = {
        "name": "steps",
        "replicates": 1,
        "generations": 3,
        "data": {"kind": "digits"},
        "model": {
            "kind": "ddpm",
            "steps": 5,
            "train_steps": [{"from": 1, "value": 10}, {"from": 2, "value": 4}],
            "width": 16,
            "depth": 1,
            "device": "cpu",
        },
        "loop": {"family": "fresh_data", "finetune": True, "n_ini": 40, "n_real": 40, "n_synthetic": 0},
        "metrics": {"names": ["wasserstein2"], "n_eval": 10},
    }
    bad = copy.deepcopy(raw)
    bad["model"]["train_steps"] = [{"from": 1, "value": 10}, {"from": 2, "value": 0}]
    with pytest.raises(ConfigError, match=r"^model.train_steps\[1\].value: Input should be greater than 0"):
        resolve(bad)
    exp = resolve(copy.deepcopy(raw))[0]
    assert [exp.settings_at(t).options.train_steps for t in (1, 2, 3)] == [10, 4, 4]
    from autophagy.models.ddpm import DDPM, DDPMOptions

    unresolved = DDPM(DDPMOptions(train_steps=raw["model"]["train_steps"]))
    with pytest.raises(ValueError, match="train_steps is a schedule"):
        unresolved.fit(np.zeros((1, 4, 65)), rng=[np.random.default_rng(0)])
    run = api.run(raw, tmp_path / "scheduled", executor="inline", progress=False, plots=False)
    steps = run.training().groupby("generation")["step"].max().to_dict()
    assert steps == {1: 10, 2: 4, 3: 4}
    constant = {**raw, "model": {**raw["model"], "train_steps": 10}}
    flat = api.run(constant, tmp_path / "flat", executor="inline", progress=False, plots=False).table()
    table = run.table()
    first = table["generation"] == 1
    assert table[first].equals(flat[flat["generation"] == 1])
    assert not np.array_equal(
        table[~first]["value"].to_numpy(), flat[flat["generation"] > 1]["value"].to_numpy()
    )
