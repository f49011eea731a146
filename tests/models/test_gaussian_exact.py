"""Exact sufficient-statistic path: equal in distribution to the sample path, every loop."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config
from scipy.stats import ks_2samp

from autophagy.core.errors import ConfigError
from autophagy.loop.engine import run_block
from autophagy.models.gaussian_exact import GroupStats, covariance_root, pool, wishart_factor
from autophagy.running.config import resolve

REPS = 1200
P_MIN = 1e-3  # per two-sample test; with ~30 tests the family-wise false alarm stays below 5 %


def final_metrics(simulator: str, loop: dict, dim: int = 3, generations: int = 5) -> dict[str, np.ndarray]:
    raw = base_config(**loop)
    raw.update(
        replicates=REPS,
        generations=generations,
        block_size=REPS,
        seed=11 if simulator == "exact" else 12,
        data={"kind": "gaussian", "dim": dim, "covariance": list(np.linspace(0.5, 2.0, dim))},
        model={"kind": "gaussian", "simulator": simulator},
        metrics={"names": ["wasserstein2", "trace_cov"], "n_eval": 10},
    )
    exp = resolve(raw)[0]
    assert exp.simulator == simulator
    *_, (_, metrics) = run_block(exp, range(REPS))
    return metrics


LOOPS = {
    "fully_synthetic": {"family": "fully_synthetic", "n_ini": 12, "n_synthetic": 10},
    "synthetic_augmentation": {"family": "synthetic_augmentation", "n_ini": 12, "n_synthetic": 10},
    "fresh_data": {"family": "fresh_data", "n_ini": 12, "n_real": 6, "n_synthetic": 10},
    "accumulate": {"family": "accumulate", "n_ini": 12, "n_real": 3, "n_synthetic": 10},
    "synthetic_pool": {"family": "synthetic_pool", "n_ini": 12, "n_synthetic": 10},
    "k_latest": {"family": "fresh_data", "n_ini": 12, "n_real": 6, "n_synthetic": 10, "from_latest": 3},
    "real_fraction": {
        "family": "real_fraction",
        "n_ini": None,
        "n_synthetic": None,
        "real_fraction": 0.3,
        "total_size": 20,
    },
    "fixed_fresh_synthetic": {
        "family": "fresh_data",
        "n_ini": 12,
        "n_real": 4,
        "fixed_real": 5,
        "n_synthetic": 8,
    },
    "singular_groups": {"family": "fresh_data", "n_ini": 4, "n_real": 2, "n_synthetic": 3},
}


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_exact_equals_samples_in_distribution(name):
    loop = {**LOOPS[name], "sampling_bias": 0.8}
    dim = 6 if name == "singular_groups" else 3  # groups of 2-4 samples in 6-d: singular Wishart
    exact, samples = final_metrics("exact", loop, dim), final_metrics("samples", loop, dim)
    for metric in ("wasserstein2", "trace_cov"):
        assert ks_2samp(exact[metric], samples[metric]).pvalue > P_MIN, metric


@pytest.mark.parametrize(("dof", "dim"), [(2, 5), (5, 5), (30, 4)])
def test_standard_wishart_moments(dof, dim):
    """E[W] = dof I; Var(W_ii) = 2 dof, Var(W_ij) = dof for Wishart(I, dof)."""
    rng = np.random.default_rng(dof)
    factors = np.stack([wishart_factor(dof, dim, rng) for _ in range(4000)])
    draws = factors @ np.swapaxes(factors, 1, 2)
    se = np.sqrt(np.where(np.eye(dim, dtype=bool), 2 * dof, dof) / len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - dof * np.eye(dim)) <= 4.5 * se)
    if dof < dim:
        assert np.all(np.linalg.matrix_rank(draws[:10]) == dof)


def test_pooling_is_exact():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 7, 3)), rng.normal(size=(2, 4, 3))

    def stats(x):
        m = x.mean(axis=1)
        c = x - m[:, None]
        return GroupStats(np.full(2, x.shape[1]), m, np.swapaxes(c, 1, 2) @ c)

    pooled, direct = pool([stats(a), stats(b)]), stats(np.concatenate([a, b], axis=1))
    np.testing.assert_allclose(pooled.mean, direct.mean)
    np.testing.assert_allclose(pooled.scatter, direct.scatter)


def test_auto_picks_exact_only_when_it_applies(tmp_path):
    closed = {"names": ["wasserstein2", "trace_cov"], "n_eval": 10}
    assert resolve({**base_config(), "metrics": closed})[0].simulator == "exact"
    assert resolve(base_config())[0].simulator == "samples"  # precision/recall need samples
    subsample = base_config(family="accumulate_subsample")
    assert resolve({**subsample, "metrics": closed})[0].simulator == "samples"
    with pytest.raises(ConfigError, match=r"model.simulator.*precision"):
        resolve({**base_config(), "model": {"kind": "gaussian", "simulator": "exact"}})
    path = tmp_path / "real.npy"
    np.save(path, np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(ConfigError, match="known Gaussian"):
        resolve(
            {
                **base_config(),
                "data": {"kind": "file", "path": str(path)},
                "metrics": closed,
                "model": {"kind": "gaussian", "simulator": "exact"},
            }
        )


def test_covariance_root_is_chosen_per_replicate():
    """A singular covariance in the batch must not change the other replicates' factors."""
    full = np.array([[2.0, 0.5], [0.5, 1.0]])
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    batch = covariance_root(np.stack([full, singular]))
    np.testing.assert_array_equal(batch[0], covariance_root(full))
    np.testing.assert_allclose(batch[1] @ batch[1].T, singular, atol=1e-12)


def _reference_factor(dof: int, dim: int, g: np.random.Generator) -> np.ndarray:
    """The one-replicate Bartlett draw as first written (the numbers the batched one must keep)."""
    factor = np.zeros((dim, dim))
    if dof >= dim:
        factor[np.diag_indices(dim)] = np.sqrt(g.chisquare(dof - np.arange(dim)))
        factor[np.tril_indices(dim, -1)] = g.standard_normal(dim * (dim - 1) // 2)
    elif dof > 0:
        factor[:, :dof] = g.standard_normal((dof, dim)).T
    return factor


@pytest.mark.parametrize("dofs", [[9, 9, 9], [2, 30, 0, 5, 5], [4, 4]])
def test_batched_bartlett_draws_equal_the_one_replicate_reference(dofs):
    from autophagy.models.gaussian_exact import wishart_factors

    dim = 5
    seeds = range(len(dofs))
    normals = np.empty((len(dofs), dim))
    got = wishart_factors(np.array(dofs), dim, [np.random.default_rng(s) for s in seeds], normals)
    for s, dof in zip(seeds, dofs, strict=True):
        g = np.random.default_rng(s)
        np.testing.assert_array_equal(normals[s], g.standard_normal(dim))  # the mean's draws first
        np.testing.assert_array_equal(got[s], _reference_factor(dof, dim, g))


def test_the_exact_simulator_is_registered_with_the_models():
    """A fresh interpreter that imports only the models (as a recipe building an Experiment by
    hand does) finds the exact simulator: it registers with its model family, not on first use."""
    import subprocess
    import sys

    code = "import autophagy.models; from autophagy.core.simulators import SIMULATORS as S; print(sorted(S))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['exact', 'exact_torch', 'samples']"  # exact_torch imports torch on first use
