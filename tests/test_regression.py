"""The linear-regression loop (spec G8) through the engine, against Gerstgrasser et al.'s closed forms."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from conftest import kill_after
from scipy.stats import t as student_t

from autophagy.api import load_config
from autophagy.core.errors import ConfigError
from autophagy.core.rng import stream, streams
from autophagy.data import DATA
from autophagy.models.ols import OLSModel, closed_form_errors, least_squares
from autophagy.reproduce import RECIPES
from autophagy.reproduce.recipe import config_path
from autophagy.running.config import resolve

LEVEL = 1e-3  # family-wise false-alarm rate of each closed-form test (Bonferroni over its points)


def covers(samples: np.ndarray, expected: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Per point: does the Student-t interval of the mean of ``samples`` ``(R, K)`` cover ``expected``?"""
    r, k = samples.shape
    half = student_t.isf(level / (2 * k), r - 1) * samples.std(axis=0, ddof=1) / np.sqrt(r)
    return np.abs(samples.mean(axis=0) - expected) <= half


SMALL = {"data.samples": 20, "data.dim": 4, "loop.n_ini": 20, "loop.n_synthetic": 20}


@pytest.fixture(scope="module")
def g8():
    """G8's package config at T = 20, d = 4, sigma = 0.7, 12 generations, 1500 replicates."""
    profile = {**SMALL, "data.noise": 0.7, "generations": 12, "replicates": 1500}
    return dataclasses.replace(RECIPES["G8"], profiles={"small": profile}).measure("small")


@pytest.mark.parametrize("mode", ["replace", "accumulate"])
def test_autophagy_run_matches_the_closed_form_at_every_generation(g8, mode):
    assert covers(g8.errors[mode], g8.expected[mode]).all()


def test_closed_form_check_fails_for_the_other_mode(g8):
    """Negative control: replace's errors are far from accumulate's closed form from generation 2."""
    assert not covers(g8.errors["replace"], g8.expected["accumulate"])[1:].any()


def test_accumulate_stays_bounded_and_ends_below_replace(g8):
    first = g8.expected["replace"][0]
    assert np.all(g8.expected["accumulate"] < np.pi**2 / 6 * first)
    gap = g8.errors["replace"][:, -1] - g8.errors["accumulate"][:, -1]
    assert gap.mean() > student_t.isf(LEVEL, gap.size - 1) * gap.std(ddof=1) / np.sqrt(gap.size)


def test_closed_forms():
    forms = closed_form_errors(samples=11, dim=4, noise=2.0, generations=3)
    np.testing.assert_allclose(forms["replace"], 4 * 4 / 6 * np.array([1, 2, 3]))
    np.testing.assert_allclose(forms["accumulate"], 4 * 4 / 6 * np.array([1, 1.25, 1.25 + 1 / 9]))
    with pytest.raises(ValueError, match="dim \\+ 1"):
        closed_form_errors(samples=5, dim=4, noise=1.0, generations=2)


def test_design_is_fixed_per_replicate_and_only_labels_change():
    data = DATA["linear_regression"].build(DATA["linear_regression"].options(samples=6, dim=3))
    a, b = data.draw(6, rng=stream(0, 2, 1, "initial")), data.draw(6, rng=stream(0, 2, 7, "fresh"))
    np.testing.assert_array_equal(a[:, :3], b[:, :3])
    assert not np.allclose(a[:, 3], b[:, 3])
    other = data.draw(6, rng=stream(0, 3, 1, "initial"))
    assert not np.allclose(a[:, :3], other[:, :3])
    model = OLSModel().for_data(data).fit(a[None], rng=streams(0, [2], 1, "fit"))
    synthetic = model.sample(8, rng=streams(0, [2], 2, "synthetic"), sampling_bias=1.0)[0]
    np.testing.assert_array_equal(synthetic[:, :3], a[np.arange(8) % 6, :3])  # cycles past T
    noiseless = model.sample(6, rng=streams(0, [2], 2, "synthetic"), sampling_bias=0.0)[0]
    np.testing.assert_allclose(noiseless[:, 3], a[:, :3] @ model.weights[0])


def test_least_squares_matches_numpy_lstsq_and_the_ridge_normal_equations():
    rng = np.random.default_rng(0)
    for n, d in ((30, 4), (4, 6), (7, 7)):  # full rank, T < d (minimum norm), T = d
        x, y = rng.standard_normal((2, n, d)), rng.standard_normal((2, n))
        want = np.stack([np.linalg.lstsq(x[r], y[r], rcond=None)[0] for r in range(2)])
        np.testing.assert_allclose(least_squares(x, y), want, rtol=1e-8, atol=1e-10)
        ridge = np.stack([np.linalg.solve(x[r].T @ x[r] + 0.5 * np.eye(d), x[r].T @ y[r]) for r in range(2)])
        np.testing.assert_allclose(least_squares(x, y, ridge=0.5), ridge, rtol=1e-10)


def _raw(family: str = "fully_synthetic", samples: int = 20, dim: int = 4, **model) -> dict:
    sizes = {"data.samples": samples, "data.dim": dim, "loop.n_ini": samples, "loop.n_synthetic": samples}
    raw = load_config(config_path("G8"), {**sizes, "generations": 3, "replicates": 4, "block_size": 4})
    raw.pop("sweep")
    raw["loop"]["family"] = family
    raw["model"].update(model)
    return raw


def test_every_loop_family_and_underdetermined_designs_run(tmp_path):
    from autophagy.api import run

    def errors(raw: dict, name: str) -> np.ndarray:
        done = run(raw, tmp_path / name, executor="inline", progress=False, plots=False)
        return done.arrays()["test_error"]

    for family in ("fully_synthetic", "accumulate", "accumulate_subsample"):
        values = errors(_raw(family), family)
        assert np.isfinite(values).all() and values.shape == (4, 3)
    assert np.isfinite(errors(_raw(samples=3, dim=6), "min-norm")).all()  # T <= d + 1: minimum-norm
    assert np.isfinite(errors(_raw(ridge=2.0), "ridge")).all()


def test_config_errors_name_the_field():
    raw = _raw()
    raw["data"] = {"kind": "gaussian", "dim": 3}
    with pytest.raises(ConfigError) as err:
        resolve(raw)
    assert err.value.field == "model"
    with pytest.raises(ConfigError) as err:
        resolve(_raw(ridge=-1.0))
    assert err.value.field == "model.ridge"


REGRESSION_TOML = """\
name = "g8-kill"
replicates = 8
generations = 60
block_size = 4
[data]
kind = "linear_regression"
samples = 12
dim = 3
[model]
kind = "ols"
[loop]
family = "accumulate"
n_ini = 12
n_synthetic = 12
[metrics]
names = ["test_error"]
n_eval = 2
k = 1
"""


def _export(folder, path) -> list[str]:
    cmd = [sys.executable, "-m", "autophagy", "export", str(folder), "--format", "csv", "--output", str(path)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return path.read_text().splitlines()


@pytest.mark.slow  # the invariant's default tests: test_executors' and test_cli's SIGKILL tests
def test_sigkill_mid_run_then_resume_gives_identical_rows(tmp_path):
    config = tmp_path / "g8.toml"
    config.write_text(REGRESSION_TOML)
    base = [sys.executable, "-m", "autophagy", "run", str(config), "--quiet", "--executor", "inline"]
    subprocess.run([*base, "--out", str(tmp_path / "clean")], check=True, stdout=subprocess.DEVNULL)
    expected = _export(tmp_path / "clean", tmp_path / "clean.csv")
    out = tmp_path / "killed"
    proc = subprocess.Popen([*base, "--out", str(out), "--task-seconds", "0"], stdout=subprocess.DEVNULL)
    kill_after(proc, out / "results.sqlite", 10)
    with sqlite3.connect(out / "results.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] < 8 * 60
    subprocess.run([*base, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    assert _export(out, tmp_path / "resumed.csv") == expected
