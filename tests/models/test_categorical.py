"""Discrete models: biased sampling, the categorical loop identity (spec T5), the memoriser."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config

from autophagy.config import resolve
from autophagy.data import ZipfData, zipf_probabilities
from autophagy.engine import run_block
from autophagy.errors import ConfigError
from autophagy.metrics import test_error as memoriser_error
from autophagy.models import MemorizerModel
from autophagy.models.discrete import biased_choice, biased_weights

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
