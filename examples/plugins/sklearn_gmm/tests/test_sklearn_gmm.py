"""The sklearn_gmm plug-in: autophagy's model contract, agreement with scikit-learn, the
tempering it documents, and a small loop through the ``autophagy`` command line."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from autophagy_sklearn_gmm import SklearnGMM, SklearnGMMOptions, register, tempered_weights

import autophagy as ap
from autophagy.testing import check_model

ROOT = Path(__file__).resolve().parents[1]


def rngs(seed, count):
    return [np.random.default_rng([seed, i]) for i in range(count)]


def test_passes_the_autophagy_contract():
    report = check_model("sklearn_gmm", plugins=["autophagy_sklearn_gmm"])
    assert report.passed, str(report)


def test_declared_entry_point_loads_and_registers_idempotently():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    value = declared["autophagy.models"]["sklearn_gmm"]
    target = importlib.metadata.EntryPoint("sklearn_gmm", value, "autophagy.models").load()
    assert target is register
    target()
    target()  # a second call (entry point after an import) replaces, never raises


def test_log_prob_and_fit_equal_scikit_learn():
    """Reference values: the same GaussianMixture fitted with the seed the plug-in draws."""
    from sklearn.mixture import GaussianMixture

    x = np.random.default_rng(0).normal(size=(1, 150, 2)) + np.repeat([[0, 0], [4, 0], [0, 4]], 50, axis=0)
    fitted = SklearnGMM(SklearnGMMOptions(components=3)).fit(x, rng=rngs(1, 1))
    seed = int(rngs(1, 1)[0].integers(2**31 - 1))
    reference = GaussianMixture(3, random_state=seed).fit(x[0])
    np.testing.assert_allclose(fitted.means[0], reference.means_, rtol=1e-12)
    np.testing.assert_allclose(fitted.log_prob(x)[0], reference.score_samples(x[0]), rtol=1e-10)


def test_tempered_weights_formula():
    w = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(tempered_weights(w, 0.5), w**2 / (w**2).sum())
    np.testing.assert_allclose(tempered_weights(w, 1.0), w)
    np.testing.assert_array_equal(tempered_weights(w, 0.0), [1.0, 0.0, 0.0])


def test_lambda_tempers_weights_and_scales_covariances():
    """Three far-apart components (each draw's component is its nearest mean): at lambda = 0.5
    the component shares are w^2 / sum w^2 within 4.5 binomial sigmas, and each component's
    sample covariance trace is lambda tr(Sigma_k) within 4.5 standard errors."""
    from autophagy_sklearn_gmm import FittedSklearnGMM

    weights = np.array([[0.6, 0.3, 0.1]])
    means = np.array([[[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]]])
    covs = np.array([[[[1.0, 0.3], [0.3, 2.0]], np.eye(2) * 0.5, np.eye(2) * 3.0]])
    model = FittedSklearnGMM(weights, means, covs)
    lam, n = 0.5, 20_000
    x = model.sample(n, rng=rngs(3, 1), sampling_bias=lam)[0]
    component = np.argmin(((x[:, None, :] - means[0][None]) ** 2).sum(axis=2), axis=1)
    expected = weights[0] ** 2 / (weights[0] ** 2).sum()
    shares = np.bincount(component, minlength=3) / n
    assert np.all(np.abs(shares - expected) <= 4.5 * np.sqrt(expected * (1 - expected) / n))
    for k in range(3):
        rows = x[component == k]
        q = ((rows - means[0, k]) ** 2).sum(axis=1)
        se = q.std(ddof=1) / np.sqrt(len(q))
        assert abs(q.mean() - lam * np.trace(covs[0, k])) <= 4.5 * se


def test_state_dict_is_arrays_only():
    model = SklearnGMM(SklearnGMMOptions(components=2, covariance_type="diag")).fit(
        np.random.default_rng(0).normal(size=(2, 40, 3)), rng=rngs(1, 2)
    )
    state = model.state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        "weights": (2, 2),
        "means": (2, 2, 3),
        "covariances": (2, 2, 3, 3),
    }
    assert all(v.dtype == np.float64 for v in state.values())


CONFIG = """\
name = "gmm-loop"
seed = 0
replicates = 3
generations = 3
plugins = ["autophagy_sklearn_gmm"]
[data]
kind = "gaussian"
dim = 2
[model]
kind = "sklearn_gmm"
components = 2
[loop]
family = "fully_synthetic"
n_ini = 50
n_synthetic = 50
sampling_bias = 0.8
[metrics]
names = ["wasserstein2", "trace_cov"]
n_eval = 100
"""


def test_a_small_loop_through_the_command_line(tmp_path):
    (tmp_path / "loop.toml").write_text(CONFIG)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "autophagy", "run", str(tmp_path / "loop.toml"), "--out", str(out)]
    done = subprocess.run([*command, "--executor", "inline", "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    table = ap.open_run(out).table()
    assert len(table) == 3 * 3 * 2 and np.isfinite(table["value"]).all()
    assert ap.open_run(out).config["model"]["kind"] == "sklearn_gmm"
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "autophagy",
            "check-model",
            "sklearn_gmm",
            "--plugin",
            "autophagy_sklearn_gmm",
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines()[-1] == "13 passed, 0 failed"


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_every_covariance_type_passes_the_contract(kind):
    assert check_model("sklearn_gmm", options={"covariance_type": kind, "components": 2}).passed


def test_the_one_line_adapter_passes_the_contract_too():
    """``adapter.py``: the same estimator through ``ap.from_sklearn``."""
    report = check_model(
        "sklearn_gmm_adapted", options={"n_components": 2}, plugins=["autophagy_sklearn_gmm.adapter"]
    )
    assert report.passed, str(report)
