"""Discrete models: biased sampling, the categorical loop identity (spec T5), the memoriser."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config

from autophagy.core.errors import ConfigError
from autophagy.data import ZipfData, zipf_probabilities
from autophagy.loop.engine import run_block
from autophagy.metrics import test_error as memoriser_error
from autophagy.models import MemorizerModel
from autophagy.models.discrete import biased_choice, biased_weights
from autophagy.running.config import resolve

Z = 4.5  # two-sided normal quantile: a false alarm per check has probability below 1e-5


def discrete_experiment(data: dict, model: dict, metrics: list[str], **loop):
    raw = base_config(**loop)
    raw.update(data=data, model=model, metrics={"names": metrics, "n_eval": 10})
    return raw


def collect(raw: dict, replicates: int) -> dict[str, np.ndarray]:
    exp = resolve(raw)[0]
    rows = [metrics for _, metrics in run_block(exp, range(replicates))]
    return {name: np.stack([m[name] for m in rows], axis=1) for name in rows[0]}


def test_biased_choice_draws_the_tempered_and_cut_distribution():
    weights = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
    n = 40_000
    draws = biased_choice(weights, np.random.default_rng(0).random(n), 0.5, top_k=3)
    expected = np.array([0.0, 0.16, 0.0, 0.09, 0.0225])  # w^(1/0.5) on the 3 largest
    expected /= expected.sum()
    freq = np.bincount(draws, minlength=5) / n
    # binomial standard error of each frequency
    assert np.all(np.abs(freq - expected) <= Z * np.sqrt(expected * (1 - expected) / n) + 1e-12)


def test_top_p_keeps_the_smallest_prefix_reaching_the_mass_and_zero_temperature_the_mode():
    order, probs = biased_weights(np.array([0.2, 0.5, 0.3]), 1.0, top_p=0.7)
    np.testing.assert_array_equal(order, [1, 2, 0])
    np.testing.assert_allclose(probs, [0.625, 0.375, 0.0])
    assert set(biased_choice(np.array([0.2, 0.5, 0.3]), np.linspace(0, 0.999, 50), 0.0)) == {1}


def test_categorical_replace_loop_gini_simpson_identity():
    """E[1 - sum p_t^2] = (1 - 1/n)^t (1 - sum p0^2) at every generation (spec T5)."""
    probs, n, reps, gens = np.array([0.4, 0.3, 0.15, 0.1, 0.05]), 10, 1000, 8
    raw = discrete_experiment(
        {"kind": "categorical", "probs": probs.tolist()},
        {"kind": "categorical"},
        ["gini_simpson", "surviving"],
        n_ini=n,
        n_synthetic=n,
        sampling_bias=1.0,
    )
    raw["generations"] = gens
    values = collect(raw, reps)
    gini = values["gini_simpson"]
    expected = (1 - 1 / n) ** np.arange(1, gens + 1) * (1 - (probs**2).sum())
    se = gini.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(gini.mean(axis=0) - expected) <= Z * se)
    # an outcome lost from the fully synthetic loop never returns
    assert np.all(np.diff(values["surviving"], axis=1) <= 0)
    assert values["surviving"][:, -1].mean() < values["surviving"][:, 0].mean()


def test_lower_temperature_kills_outcomes_faster():
    def final_surviving(bias: float) -> np.ndarray:
        raw = discrete_experiment(
            {"kind": "categorical", "n_categories": 30, "exponent": 1.0},
            {"kind": "categorical"},
            ["surviving"],
            n_ini=50,
            n_synthetic=50,
            sampling_bias=bias,
        )
        return collect(raw, 200)["surviving"][:, -1]

    hot, cold = final_surviving(1.0), final_surviving(0.6)
    se = np.sqrt(hot.var(ddof=1) / hot.size + cold.var(ddof=1) / cold.size)
    assert hot.mean() - cold.mean() > Z * se


def _zipf(beta: float, n_items: int, noise: float = 0.0, n_answers: int = 3) -> ZipfData:
    answers = np.random.default_rng(5).integers(n_answers, size=n_items)
    return ZipfData(zipf_probabilities(beta, n_items), answers, n_answers, noise)


def test_memoriser_clean_error_matches_its_expectation():
    """E[error] = sum_i p_i (1 - p_i)^T for fixed answers and T clean samples."""
    data, T, reps = _zipf(1.5, 2000), 300, 400
    model = MemorizerModel().for_data(data)
    rngs = [np.random.default_rng([7, r]) for r in range(reps)]
    fitted = model.fit(np.stack([data.draw(T, rng=g) for g in rngs]), rng=rngs)
    errors = memoriser_error(fitted, data)
    expected = (data.probabilities * (1 - data.probabilities) ** T).sum()
    assert abs(errors.mean() - expected) <= Z * errors.std(ddof=1) / np.sqrt(reps)
    # replaying its memory never invents an answer
    replay = fitted.sample(500, rng=rngs, sampling_bias=1.0).astype(int)
    np.testing.assert_array_equal(replay[..., 1], data.answers[replay[..., 0]])


def test_memoriser_with_probabilistic_answers_reaches_the_bayes_error():
    """With every item seen often, the majority answer is the true one: error = eps (1 - 1/m)."""
    data = _zipf(1.5, 20, noise=0.3, n_answers=3)
    rngs = [np.random.default_rng([8, r]) for r in range(3)]
    fitted = MemorizerModel().for_data(data).fit(np.stack([data.draw(50_000, rng=g) for g in rngs]), rng=rngs)
    np.testing.assert_allclose(memoriser_error(fitted, data), 0.3 * (1 - 1 / 3), rtol=1e-12)


def test_discrete_configs_are_checked_before_running():
    raw = base_config()
    raw["metrics"] = {"names": ["test_error"], "n_eval": 10}
    with pytest.raises(ConfigError, match=r"metrics.names: test_error needs model.kind in memorizer"):
        resolve(raw)
    raw = discrete_experiment(
        {"kind": "categorical", "n_categories": 5}, {"kind": "categorical", "n_categories": 3}, []
    )
    with pytest.raises(ConfigError, match="smaller than the data's 5"):
        resolve(raw)
    raw = discrete_experiment({"kind": "zipf", "beta": 0.9}, {"kind": "memorizer"}, [])
    with pytest.raises(ConfigError, match=r"data\.beta"):
        resolve(raw)


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


def test_temperature_above_one_raises_the_entropy_toward_uniform_on_the_support():
    """p^(1/T) renormalised: entropy strictly increases with T (non-uniform p) and stays below
    log(support); zero-probability outcomes never return."""
    weights = np.array([0.5, 0.25, 0.12, 0.08, 0.05, 0.0])
    temperatures = [0.5, 1.0, 1.5, 2.0, 5.0, 10.0]
    entropies = [_entropy(biased_weights(weights, t)[1]) for t in temperatures]
    assert np.all(np.diff(entropies) > 0)
    assert entropies[-1] < np.log(5) and entropies[-1] > 0.98 * np.log(5)
    order, probs = biased_weights(weights, 10.0)
    assert probs[list(order).index(5)] == 0.0


def test_categorical_loop_at_temperature_two_draws_higher_entropy_samples():
    """End to end: a categorical run with sampling_bias = 2 is valid, and its synthetic samples'
    empirical entropy exceeds that of the same model sampled at T = 1 (paired, many samples)."""
    raw = discrete_experiment(
        {"kind": "categorical", "n_categories": 20, "exponent": 1.2},
        {"kind": "categorical"},
        ["gini_simpson"],
        n_ini=200,
        n_synthetic=200,
        sampling_bias=2.0,
    )
    exp = resolve(raw)[0]
    assert len(list(run_block(exp, range(2)))) == exp.generations
    model = exp.model.fit(exp.data.draw(2000, rng=np.random.default_rng(0))[None], rng=[])
    n = 50_000
    hot = model.sample(n, rng=[np.random.default_rng(1)], sampling_bias=2.0)[0, :, 0].astype(int)
    plain = model.sample(n, rng=[np.random.default_rng(1)], sampling_bias=1.0)[0, :, 0].astype(int)
    h_hot = _entropy(np.bincount(hot, minlength=20) / n)
    h_plain = _entropy(np.bincount(plain, minlength=20) / n)
    _, p_hot = biased_weights(model.counts[0], 2.0)
    _, p_plain = biased_weights(model.counts[0], 1.0)
    assert _entropy(p_hot) > _entropy(p_plain)
    # a plug-in entropy's error is O(K / n) bias + O(1 / sqrt(n)) noise: far below the gap here
    assert h_hot - h_plain > 0.5 * (_entropy(p_hot) - _entropy(p_plain)) > 0.05


@pytest.mark.parametrize(
    ("model", "bias", "message"),
    [
        ({"kind": "categorical"}, 10.5, "must be at most 10 for categorical"),
        ({"kind": "gaussian"}, 1.5, "must be at most 1 for gaussian"),
    ],
)
def test_sampling_bias_above_the_models_maximum_is_refused(model, bias, message):
    data = (
        {"kind": "categorical", "n_categories": 5} if model["kind"] == "categorical" else {"kind": "gaussian"}
    )
    raw = discrete_experiment(data, model, ["surviving"], sampling_bias=bias)
    if model["kind"] == "gaussian":
        raw["data"]["dim"] = 2
        raw["metrics"] = {"names": ["trace_cov"], "n_eval": 10}
    with pytest.raises(ConfigError) as err:
        resolve(raw)
    assert err.value.field == "loop.sampling_bias" and message in str(err.value)


def test_a_plugin_declares_its_maximum_bias(monkeypatch):
    """max_bias on the registry entry, checked where the model is known (config.resolve)."""
    from autophagy.core.registry import register_model
    from autophagy.models import MODELS

    with pytest.raises(ValueError, match="max_bias"):
        register_model("too_cold", options=MODELS["gaussian"].options, build=lambda o: None, max_bias=0.5)
    monkeypatch.setitem(MODELS, "gaussian", MODELS["gaussian"])  # restored after the test
    register_model(
        "gaussian",
        options=MODELS["gaussian"].options,
        build=MODELS["gaussian"].build,
        has_moments=True,
        max_bias=3.0,
        replace=True,
    )
    raw = discrete_experiment(
        {"kind": "gaussian", "dim": 2}, {"kind": "gaussian"}, ["trace_cov"], sampling_bias=2.5
    )
    assert resolve(raw)[0].schedule.sampling_bias == 2.5
