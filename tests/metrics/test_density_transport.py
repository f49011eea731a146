"""Sample W2 (POT), logdet_ratio, heldout_nll, density_l2 and generations_to_collapse against
reference values: SciPy's assignment and linear programs, closed forms, numerical integrals."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats
from scipy.special import digamma, logsumexp
from scipy.stats import t as student_t

from autophagy.api import run
from autophagy.core.errors import ConfigError
from autophagy.core.rng import streams
from autophagy.data import DATA, GaussianData
from autophagy.loop.engine import evaluate
from autophagy.metrics import (
    METRICS,
    density_l2,
    generations_to_collapse,
    heldout_nll,
    logdet_ratio,
    mixture_l2,
    wasserstein2_samples,
)
from autophagy.models import MODELS, FittedGaussian, FittedKDE, FittedMixture
from autophagy.running.config import resolve
from tests.conftest import base_config


def t_half(x: np.ndarray, level: float = 1e-3) -> float:
    return student_t.isf(level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)


# --- wasserstein2 on samples ---------------------------------------------------------------


def test_exact_w2_equals_the_optimal_assignment():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 40, 3)), rng.normal(size=(3, 40, 3)) + 0.4
    got = wasserstein2_samples(x, y)
    for r in range(3):
        cost = ((x[r][:, None] - y[r][None]) ** 2).sum(-1)
        rows, cols = optimize.linear_sum_assignment(cost)
        assert got[r] == pytest.approx(math.sqrt(cost[rows, cols].mean()), rel=1e-9)


def test_exact_w2_with_unequal_sizes_equals_the_transport_linear_program():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(5, 2))
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    n, m = cost.shape
    rows = np.kron(np.eye(n), np.ones(m))  # sum_j pi_ij = 1/n
    cols = np.kron(np.ones(n), np.eye(m))  # sum_i pi_ij = 1/m
    lp = optimize.linprog(
        cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.r_[np.full(n, 1 / n), np.full(m, 1 / m)]
    )
    assert wasserstein2_samples(x, y) == pytest.approx(math.sqrt(lp.fun), rel=1e-7)


def test_sliced_w2_above_the_limit_is_exact_in_one_dimension():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(60, 1)), 2.0 * rng.normal(size=(60, 1))
    sorted_w2 = math.sqrt(np.mean((np.sort(x[:, 0]) - np.sort(y[:, 0])) ** 2))
    assert wasserstein2_samples(x, y, exact_limit=10) == pytest.approx(sorted_w2, rel=1e-9)
    assert wasserstein2_samples(x, y) == pytest.approx(sorted_w2, rel=1e-9)


def _fitted_experiment(model: str, names: list[str], data: dict | None = None, replicates: int = 3):
    raw = base_config()
    raw["replicates"] = replicates
    raw["data"] = data or {"kind": "gaussian", "dim": 2}
    raw["model"] = {"kind": model, **({"components": 2} if model == "gmm" else {})}
    raw["metrics"] = {"names": names, "n_eval": 200}
    exp, _, _ = resolve(raw)
    train = np.stack([exp.data.draw(200, rng=g) for g in streams(0, range(replicates), 1, "initial")])
    return exp, exp.model.fit(train, rng=streams(0, range(replicates), 1, "fit"))


def test_wasserstein2_is_closed_form_for_gaussian_fits_and_on_samples_otherwise():
    exp, model = _fitted_experiment("gaussian", ["wasserstein2", "moment_w2"])
    assert exp.simulator == "exact"  # still every metric in closed form
    values = evaluate(exp, range(3), 1, model)
    np.testing.assert_array_equal(values["wasserstein2"], values["moment_w2"])
    exp, model = _fitted_experiment("gmm", ["wasserstein2", "moment_w2"])
    values = evaluate(exp, range(3), 1, model)  # W2 between 200 real and 200 synthetic samples
    assert np.all(values["wasserstein2"] > values["moment_w2"])  # finite-sample W2 is biased up


# --- logdet_ratio ----------------------------------------------------------------------------


def test_logdet_ratio_equals_slogdet_and_the_wishart_expectation_in_the_loop(tmp_path):
    a = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert logdet_ratio(a, np.eye(2)) == pytest.approx(math.log(2.0 - 0.09), rel=1e-12)
    assert logdet_ratio(np.zeros((2, 2)), np.eye(2)) == -np.inf
    d, n, generations = 3, 20, 5
    raw = base_config(n_ini=n, n_synthetic=n, sampling_bias=1.0)
    raw.update(replicates=2000, generations=generations, block_size=2000)
    raw["data"] = {"kind": "gaussian", "dim": d, "covariance": [1.0, 2.0, 0.5]}
    raw["metrics"] = {"names": ["logdet_ratio"]}
    done = run(raw, tmp_path / "run", executor="inline", progress=False, plots=False)
    per_generation = sum(digamma((n - i) / 2) for i in range(1, d + 1)) + d * math.log(2 / (n - 1))
    values = done.arrays()["logdet_ratio"]
    for t in range(generations):
        assert abs(values[:, t].mean() - (t + 1) * per_generation) <= t_half(values[:, t], 1e-3 / generations)


# --- heldout_nll --------------------------------------------------------------------------


def test_heldout_nll_of_a_gaussian_fit_is_the_closed_form_cross_entropy():
    """E[-log q(X)], X ~ N(m, S): (tr(Q^-1 S) + (m - mu)^T Q^-1 (m - mu) + log det(2 pi Q)) / 2."""
    source = GaussianData(np.array([0.5, -1.0]), np.array([[1.0, 0.4], [0.4, 2.0]]))
    rng = np.random.default_rng(3)
    mean, cov = (
        rng.normal(size=(400, 2)) * 0.3,
        np.stack([np.diag(rng.uniform(0.5, 3, 2)) for _ in range(400)]),
    )
    model = FittedGaussian(mean, cov)
    got = heldout_nll(model, source, rng=streams(0, range(400), 1, "metric:heldout_nll"), n=200)
    inv = np.linalg.inv(cov)
    diff = source.mean - mean
    want = 0.5 * (
        np.einsum("rij,ji->r", inv, source.cov)
        + np.einsum("ri,rij,rj->r", diff, inv, diff)
        + np.linalg.slogdet(2 * np.pi * cov)[1]
    )
    gap = got - want
    assert abs(gap.mean()) <= t_half(gap)


def test_kde_and_mixture_log_prob_match_scipy():
    rng = np.random.default_rng(4)
    points, h = rng.normal(size=(2, 30, 2)), rng.uniform(0.2, 0.6, size=(2, 2))
    x = rng.normal(size=(2, 9, 2))
    got = FittedKDE(points, h).log_prob(x)
    for r in range(2):
        dens = stats.multivariate_normal(mean=[0, 0], cov=np.diag(h[r] ** 2))
        want = logsumexp(np.stack([dens.logpdf(x[r] - p) for p in points[r]]), axis=0) - math.log(30)
        np.testing.assert_allclose(got[r], want, rtol=1e-10)


def test_every_model_flagged_has_log_prob_and_the_flag_gates_heldout_nll():
    flagged = {k for k, p in MODELS.items() if p.has_log_prob}
    assert {"gaussian", "gmm", "kde", "flow"} <= flagged
    assert hasattr(FittedKDE, "log_prob") and hasattr(FittedMixture, "log_prob")
    raw = base_config()
    raw["data"] = {"kind": "categorical"}
    raw["model"] = {"kind": "categorical"}
    raw["metrics"] = {"names": ["heldout_nll"]}
    with pytest.raises(ConfigError, match="log-density"):
        resolve(raw)
    exp, model = _fitted_experiment("kde", ["heldout_nll"])
    assert np.all(np.isfinite(evaluate(exp, range(3), 1, model)["heldout_nll"]))


# --- density_l2 ---------------------------------------------------------------------------


def _mixture_pdf(w, m, c):
    parts = [(wk, stats.multivariate_normal(mk, ck)) for wk, mk, ck in zip(w, m, c, strict=True)]
    return lambda *x: sum(wk * dist.pdf(np.array(x)) for wk, dist in parts)


def test_mixture_l2_matches_numerical_integration():
    f = (np.array([0.3, 0.7]), np.array([[-1.0], [0.5]]), np.array([[[0.4]], [[1.2]]]))
    g = (np.array([1.0]), np.array([[0.2]]), np.array([[[1.0]]]))
    pf, pg = _mixture_pdf(*f), _mixture_pdf(*g)
    want = math.sqrt(integrate.quad(lambda x: (pf(x) - pg(x)) ** 2, -15, 15, epsabs=1e-13)[0])
    assert mixture_l2(f, g) == pytest.approx(want, rel=1e-7)
    f2 = (
        np.array([0.5, 0.5]),
        np.array([[0.0, 0.0], [1.0, -1.0]]),
        np.array([np.eye(2) * 0.3, [[1.0, 0.5], [0.5, 1.0]]]),
    )
    g2 = (np.array([1.0]), np.array([[0.3, -0.2]]), np.array([np.eye(2)]))
    pf, pg = _mixture_pdf(*f2), _mixture_pdf(*g2)
    square = integrate.dblquad(lambda y, x: (pf(x, y) - pg(x, y)) ** 2, -7, 7, -7, 7, epsabs=1e-9)[0]
    assert mixture_l2(f2, g2) == pytest.approx(math.sqrt(square), rel=1e-5)
    assert mixture_l2(f2, f2) == pytest.approx(0.0, abs=1e-7)


def test_density_l2_exact_for_kde_on_the_ring_and_grid_integration_agrees():
    ring = DATA["ring"].build(DATA["ring"].options(count=4, std=0.3))
    rng = np.random.default_rng(5)
    kde = FittedKDE(np.stack([ring.draw(50, rng=rng) for _ in range(2)]), np.full((2, 2), 0.25))
    exact = density_l2(kde, ring, rng=streams(0, range(2), 1, "x"))
    only_log_prob = SimpleNamespace(log_prob=kde.log_prob)  # no mixture(): integrate on the grid
    source = SimpleNamespace(log_prob=ring.log_prob, moments=ring.moments, dim=2)
    grid = density_l2(only_log_prob, source, rng=streams(0, range(2), 1, "x"))
    np.testing.assert_allclose(grid, exact, rtol=1e-4)
    assert np.all(exact > 0)


def test_density_l2_config_needs_a_known_density():
    raw = base_config()
    raw["data"] = {"kind": "two_moons"}
    raw["model"] = {"kind": "kde"}
    raw["metrics"] = {"names": ["density_l2"]}
    with pytest.raises(ConfigError, match="density_l2"):
        resolve(raw)
    raw["data"] = {"kind": "mode_grid", "side": 2}
    assert resolve(raw)[0].metrics == ("density_l2",)


# --- generations_to_collapse ----------------------------------------------------------------


def test_generations_to_collapse_on_rows_and_dataframes():
    rows = [(0, g, "recall", v) for g, v in enumerate([0.9, 0.7, 0.45, 0.5, 0.2], start=1)]
    rows += [(1, g, "recall", 0.9) for g in range(1, 6)]
    rows += [(0, g, "wasserstein2", 0.1 * g) for g in range(1, 6)]
    got = {r["replicate"]: r["generations_to_collapse"] for r in generations_to_collapse(rows, "recall", 0.5)}
    assert got[0] == 3 and math.isnan(got[1])
    relative = generations_to_collapse(rows, "recall", 0.5, relative=True)  # <= 0.45
    assert relative[0]["generations_to_collapse"] == 3
    (rising,) = generations_to_collapse(rows, "wasserstein2", 0.35)  # lower is better: first >= 0.35
    assert rising["generations_to_collapse"] == 4
    frame = pd.DataFrame(rows, columns=["replicate", "generation", "metric", "value"])
    frame["loop.family"] = "fully_synthetic"
    out = generations_to_collapse(frame, "recall", 0.5, by=["loop.family"])
    assert list(out.columns) == ["loop.family", "replicate", "generations_to_collapse"]
    assert out["generations_to_collapse"].iloc[0] == 3
    with pytest.raises(ValueError, match="falling"):
        generations_to_collapse(rows, "my_metric", 0.5)


# --- density_tv -------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 2])
def test_density_tv_equals_the_closed_form_of_two_shifted_gaussians(dim):
    """TV(N(0, I), N(mu, I)) = 2 Phi(|mu| / 2) - 1 in any dimension; 0 for the truth itself."""
    truth = GaussianData(np.zeros(dim), np.eye(dim))
    shifts = np.array([0.0, 0.5, 2.0])
    mean = np.zeros((3, dim))
    mean[:, 0] = shifts
    fitted = FittedGaussian(mean, np.broadcast_to(np.eye(dim), (3, dim, dim)).copy())
    tv = METRICS["density_tv"].fn(fitted, truth, rng=streams(0, range(3), 1, "x"))
    np.testing.assert_allclose(tv, 2 * stats.norm.cdf(shifts / 2) - 1, atol=2e-4)


def test_density_tv_of_a_kde_matches_quadrature_and_needs_a_known_density():
    truth = GaussianData(np.zeros(1), np.eye(1))
    rng = np.random.default_rng(3)
    kde = FittedKDE(rng.normal(0.3, 1.4, (2, 40, 1)), np.full((2, 1), 0.3))
    tv = METRICS["density_tv"].fn(kde, truth, rng=streams(0, range(2), 1, "x"))
    for r in range(2):

        def gap(x, r=r):
            f = np.exp(kde.log_prob(np.full((2, 1, 1), x)))[r, 0]
            return abs(f - stats.norm.pdf(x))

        exact = 0.5 * integrate.quad(gap, -12, 12, limit=400, epsabs=1e-10)[0]
        assert tv[r] == pytest.approx(exact, abs=2e-3)  # grid to +-8 std: tails beyond are tiny here
    raw = base_config()
    raw["data"] = {"kind": "two_moons"}
    raw["model"] = {"kind": "kde"}
    raw["metrics"] = {"names": ["density_tv"]}
    with pytest.raises(ConfigError, match="density_tv"):
        resolve(raw)
