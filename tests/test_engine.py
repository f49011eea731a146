"""Loop engine: closed-form expectations over many replicates, schedules as data, invariances."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from conftest import RecordingModel, base_config
from scipy.special import polygamma, psi

from autophagy.loop.engine import Experiment, run_block
from autophagy.running.config import resolve

Z = 4.5


def experiment(**overrides) -> Experiment:
    loop = overrides.pop("loop", {})
    raw = base_config(**loop)
    raw.update(overrides)
    return resolve(raw)[0]


def collect(exp: Experiment, replicates) -> dict[str, np.ndarray]:
    """Metric values as ``{name: (R, G)}``."""
    per_generation = [metrics for _, metrics in run_block(exp, replicates)]
    return {name: np.stack([m[name] for m in per_generation], axis=1) for name in per_generation[0]}


@pytest.mark.parametrize("simulator", ["exact", "samples"])
def test_expected_trace_contracts_by_lambda_each_generation(simulator):
    """Tower property of eq. 2: E[tr Sigma_t] = lambda^(t-1) tr Sigma_0 in the fully synthetic loop."""
    bias, reps, gens = 0.8, 3000, 6
    exp = experiment(
        generations=gens,
        model={"kind": "gaussian", "simulator": simulator},
        data={"kind": "gaussian", "dim": 2, "covariance": [[2.0, 0.3], [0.3, 1.0]]},
        loop={"n_ini": 10, "n_synthetic": 10, "sampling_bias": bias},
        metrics={"names": ["trace_cov", "mean_drift"], "n_eval": 10},
    )
    trace = collect(exp, range(reps))["trace_cov"]
    expected = 3.0 * bias ** np.arange(gens)
    se = trace.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(trace.mean(axis=0) - expected) <= Z * se)


@pytest.mark.parametrize("simulator", ["exact", pytest.param("samples", marks=pytest.mark.slow)])
@pytest.mark.parametrize("bias", [1.0, 0.8])
def test_variance_collapses_at_the_predicted_log_rate(bias, simulator):
    """d = 1: tr Sigma_t = s0^2 lambda^(t-1) prod_t chi2_nu / nu, so E[log] is exact (appendix A)."""
    reps, gens, n = 800, 60, 5
    nu = n - 1
    exp = experiment(
        generations=gens,
        model={"kind": "gaussian", "simulator": simulator},
        data={"kind": "gaussian", "dim": 1, "covariance": 2.0},
        loop={"n_ini": n, "n_synthetic": n, "sampling_bias": bias},
        metrics={"names": ["trace_cov"], "n_eval": 10},
    )
    log_ratio = np.log(collect(exp, range(reps))["trace_cov"][:, -1] / 2.0)
    step = psi(nu / 2) + np.log(2 / nu)  # E[log(chi2_nu / nu)]
    expected = gens * step + (gens - 1) * np.log(bias)
    se = np.sqrt(gens * polygamma(1, nu / 2) / reps)
    assert abs(log_ratio.mean() - expected) <= Z * se
    assert np.median(log_ratio) < np.log(1e-4)  # Sigma_t -> 0 for every lambda <= 1


def test_replicate_results_do_not_depend_on_block():
    exp = experiment(replicates=7)
    whole = collect(exp, range(7))
    for block in (range(0, 3), range(3, 7), range(5, 6)):
        part = collect(exp, block)
        for name, values in part.items():
            np.testing.assert_allclose(values, whole[name][block.start : block.stop], rtol=1e-12, atol=1e-13)


def _fits(family: str, **loop) -> list[tuple[np.ndarray, object]]:
    spy = RecordingModel()
    exp = dataclasses.replace(experiment(loop={"family": family, **loop}), model=spy)
    list(run_block(exp, range(2)))
    return spy.fits


def test_fully_synthetic_trains_on_fresh_synthetic_only():
    fits = _fits("fully_synthetic", n_ini=12, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 9, 9, 9]
    assert all(f[1] is None for f in fits)  # retrained from scratch by default


def test_synthetic_augmentation_reuses_the_fixed_real_set():
    fits = _fits("synthetic_augmentation", n_ini=12, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 21, 21, 21]
    for data, _ in fits[1:]:
        np.testing.assert_array_equal(data[:, :12], fits[0][0])


def test_fresh_data_draws_new_real_samples_every_generation():
    fits = _fits("fresh_data", n_ini=12, n_real=8, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 17, 17, 17]
    reals = [f[0][:, :8] for f in fits[1:]]
    assert not np.allclose(reals[0], reals[1]) and not np.allclose(reals[1], reals[2])


def test_accumulate_keeps_everything_so_far():
    fits = _fits("accumulate", n_ini=12, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 21, 30, 39]
    for before, after in itertools.pairwise(fits):
        np.testing.assert_array_equal(after[0][:, : before[0].shape[1]], before[0])


def test_accumulate_with_fresh_real_keeps_real_too():
    fits = _fits("accumulate", n_ini=12, n_real=5, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 26, 40, 54]


def test_accumulate_subsample_trains_on_a_fixed_size_subset_of_the_pool():
    fits = _fits("accumulate_subsample", n_ini=12, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 12, 12, 12]
    # the generation-2 union is the 12 real + 9 synthetic; a subsample must contain real rows
    union_real = fits[0][0][0]
    overlap = sum(any(np.array_equal(row, real) for real in union_real) for row in fits[1][0][0])
    assert 0 < overlap <= 12


def test_synthetic_pool_grows_by_n_synthetic():
    fits = _fits("synthetic_pool", n_ini=12, n_synthetic=9)
    assert [f[0].shape[1] for f in fits] == [12, 21, 30, 39]


def test_combination_fixed_plus_fresh_plus_synthetic():
    fits = _fits("fresh_data", n_ini=12, n_real=5, n_synthetic=9, fixed_real=6)
    assert [f[0].shape[1] for f in fits] == [12, 20, 20, 20]
    for data, _ in fits[1:]:
        np.testing.assert_array_equal(data[:, :6], fits[0][0][:, :6])


def test_real_fraction_splits_the_total():
    fits = _fits("real_fraction", n_ini=None, n_synthetic=None, real_fraction=0.25, total_size=40)
    assert [f[0].shape[1] for f in fits] == [40, 40, 40, 40]


def test_finetune_passes_the_previous_model():
    fits = _fits("fully_synthetic", finetune=True)
    assert fits[0][1] is None and all(f[1] is not None for f in fits[1:])


class LabelModel:
    """Test model whose generation-t fit samples the constant t: shows which model a sample came from."""

    min_samples = 1

    def __init__(self) -> None:
        self.count = 0

    def fit(self, data, *, rng, init=None):
        self.count += 1
        return Label(self.count, data.shape[0])

    def load(self, state):
        return Label(int(state["label"]), int(state["reps"]))


class Label:
    def __init__(self, label: int, reps: int) -> None:
        self.label, self.reps = label, reps

    def sample(self, n, *, rng, sampling_bias):
        return np.full((len(rng), n, 1), float(self.label))

    def state_dict(self):
        return {"label": np.asarray(self.label), "reps": np.asarray(self.reps)}


def test_k_latest_models_are_mixed_uniformly():
    reps, n_s, k = 50, 40, 3
    spy = []

    class Spy(LabelModel):
        def fit(self, data, *, rng, init=None):
            spy.append(data.copy())
            return super().fit(data, rng=rng, init=init)

    exp = experiment(
        generations=5,
        data={"kind": "gaussian", "dim": 1},
        loop={"n_ini": 5, "n_synthetic": n_s, "from_latest": k},
        metrics={"names": ["precision"], "n_eval": 10},
    )
    list(run_block(dataclasses.replace(exp, model=Spy()), range(reps)))
    assert set(np.unique(spy[1])) == {1.0}  # generation 2 has only G1
    final = spy[4]  # generation 5 draws from G4, G3, G2
    assert set(np.unique(final)) == {2.0, 3.0, 4.0}
    total = final.size
    for label in (2.0, 3.0, 4.0):
        share = np.mean(final == label)
        assert abs(share - 1 / k) <= Z * np.sqrt((1 / k) * (1 - 1 / k) / total)


def _final_w2(simulator: str, seed: int, reps: int = 1500, **loop) -> np.ndarray:
    exp = experiment(
        seed=seed,
        generations=4,
        model={"kind": "gaussian", "simulator": simulator},
        data={"kind": "gaussian", "dim": 3, "covariance": [2.0, 1.0, 0.5]},
        loop={"sampling_bias": 1.0, **loop},
        metrics={"names": ["wasserstein2"], "n_eval": 10},
    )
    return collect(exp, range(reps))["wasserstein2"][:, -1]


@pytest.mark.parametrize("simulator", ["exact", "samples"])
def test_fresh_data_without_synthetic_is_the_real_only_baseline(simulator):
    """n_synthetic = 0: every generation is a fresh fit on n real samples, so its W2 is distributed
    as a real-only fit at n (two-sample KS, independent seeds); not as one at 2n (negative control)."""
    from scipy.stats import ks_2samp

    baseline = _final_w2(simulator, 1, family="fresh_data", n_ini=40, n_real=40, n_synthetic=0)
    first = experiment(
        seed=3,
        generations=1,
        model={"kind": "gaussian", "simulator": simulator},
        data={"kind": "gaussian", "dim": 3, "covariance": [2.0, 1.0, 0.5]},
        loop={"family": "fresh_data", "n_ini": 40, "n_real": 40, "n_synthetic": 0},
        metrics={"names": ["wasserstein2"], "n_eval": 10},
    )
    at_n = collect(first, range(1500))["wasserstein2"][:, 0]  # a generation-1 fit: real only at n
    twice = collect(
        dataclasses.replace(first, schedule=dataclasses.replace(first.schedule, n_ini=80)), range(1500)
    )
    assert ks_2samp(baseline, at_n).pvalue > 1e-3
    assert ks_2samp(baseline, twice["wasserstein2"][:, 0]).pvalue < 1e-3


def test_metrics_at_chosen_generations_match_every_generation_run():
    """``metrics.generations`` computes the same values at the chosen generations as a run that
    evaluates every generation (evaluation draws use their own streams), and none elsewhere."""

    raw = base_config()
    every = [m for _, m in run_block(resolve(raw)[0], range(3))]
    chosen = {**raw, "metrics": {**raw.get("metrics", {}), "generations": [2, 4]}}
    some = [m for _, m in run_block(resolve(chosen)[0], range(3))]
    assert [bool(m) for m in some] == [False, True, False, True]
    for t in (2, 4):
        assert some[t - 1].keys() == every[t - 1].keys()
        for name in every[t - 1]:
            np.testing.assert_array_equal(some[t - 1][name], every[t - 1][name])
