"""n-gram language model: counts, exact cross-entropy, and sampling bias on text (spec T6)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from conftest import base_config

from autophagy.data import DATA
from autophagy.loop.engine import run_block
from autophagy.metrics import cross_entropy_true, distinct_n, lexical
from autophagy.models import NgramModel
from autophagy.running.config import resolve

Z = 4.5  # normal quantile: a false alarm below 1e-5 per check


def language(**options):
    return DATA["text_grammar"].build(DATA["text_grammar"].options(**options))


def rngs(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def fit(lang, n: int, replicates: int, seed: int = 0, **settings):
    data = np.stack([lang.draw(n, rng=g) for g in rngs(seed, replicates)])
    return NgramModel(**settings).for_data(lang).fit(data, rng=rngs(seed + 1, replicates))


def test_add_alpha_conditionals_by_hand():
    model = NgramModel(order=2, smoothing=0.5, vocab_size=3).fit(np.array([[[0, 1, 0, 1]]]), rng=rngs(0, 1))
    rows = model.conditionals(0, np.array([0, 1, 2, 3]))  # contexts: after 0, 1, 2, and BOS (= 3)
    np.testing.assert_allclose(rows[0], np.array([0.5, 2.5, 0.5]) / 3.5)  # 0 -> 1 twice
    np.testing.assert_allclose(rows[1], np.array([1.5, 0.5, 0.5]) / 2.5)  # 1 -> 0 once
    np.testing.assert_allclose(rows[2], np.full(3, 1 / 3))  # never seen: uniform
    np.testing.assert_allclose(rows[3], np.array([1.5, 0.5, 0.5]) / 2.5)  # starts with 0
    logp = model.log_likelihood(np.array([[[0, 1, 0, 1]]]))
    assert logp[0, 0] == pytest.approx(np.log(1.5 / 2.5 * (2.5 / 3.5) ** 2 * 1.5 / 2.5))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_exact_cross_entropy_matches_monte_carlo_and_bounds_the_entropy_rate(order):
    lang = language(vocab_size=12, length=8)
    model = fit(lang, 200, 2, order=order, smoothing=0.2)
    exact = cross_entropy_true(model, lang)
    assert np.all(exact > lang.entropy_rate())
    text = np.stack([lang.draw(20_000, rng=g) for g in rngs(5, 2)])
    per_sequence = -model.log_likelihood(text) / 8
    se = per_sequence.std(axis=1, ddof=1) / np.sqrt(per_sequence.shape[1])
    assert np.all(np.abs(per_sequence.mean(axis=1) - exact) <= Z * se)


def test_bigram_on_plenty_of_text_approaches_the_entropy_rate():
    """The bigram family holds the Markov truth: the gap is KL ~ (V^2 parameters) / (2 N tokens)."""
    lang = language(vocab_size=12, length=8)
    gap = cross_entropy_true(fit(lang, 20_000, 1, order=2, smoothing=0.01), lang)[0] - lang.entropy_rate()
    assert 0 < gap < 12 * 13 / (20_000 * 8)  # twice the asymptotic KL per token, a generous bound


def diversity(model, bias: float) -> dict[str, np.ndarray]:
    text = model.sample(600, rng=rngs(9, model.replicates), sampling_bias=bias)
    return lexical(text, text)


@pytest.mark.parametrize("knob", ["temperature", "top_k"])
def test_lower_temperature_or_smaller_top_k_lowers_entropy_and_distinct_n(knob):
    lang = language(vocab_size=40, length=12)
    model = fit(lang, 400, 4, order=2, smoothing=0.05)
    if knob == "temperature":
        settings = [diversity(model, t) for t in (1.0, 0.7, 0.4)]
    else:
        settings = [diversity(dataclasses.replace(model, top_k=k), 1.0) for k in (None, 10, 3)]
    for name in ("unigram_entropy", "distinct_2", "distinct_3"):
        for hot, cold in itertools.pairwise(settings):
            drop = hot[name] - cold[name]  # paired by replicate: the same model and uniforms
            assert drop.mean() > Z * drop.std(ddof=1) / np.sqrt(drop.size)


def test_greedy_decoding_is_one_sequence_and_distinct_n_by_hand():
    model = fit(language(vocab_size=10, length=6), 100, 1, order=2)
    greedy = model.sample(20, rng=rngs(3, 1), sampling_bias=0.0)[0]
    assert len(np.unique(greedy, axis=0)) == 1
    tokens = np.array([[1, 2, 1, 2], [1, 2, 3, 3]])
    assert distinct_n(tokens, 1) == 3 / 8
    assert distinct_n(tokens, 2) == 4 / 6  # (1,2) (2,1) (2,3) (3,3)


def test_recursive_text_loses_diversity_faster_at_lower_temperature():
    """T6 through the engine: fully synthetic n-gram loop on the built-in language."""

    def run(bias: float) -> dict[str, np.ndarray]:
        raw = base_config(n_ini=200, n_synthetic=200, sampling_bias=bias)
        raw.update(
            generations=6,
            data={"kind": "text_grammar", "vocab_size": 40, "length": 12},
            model={"kind": "ngram", "order": 2, "smoothing": 0.01},
            metrics={"names": ["distinct_2", "unigram_entropy", "cross_entropy_true"], "n_eval": 200},
        )
        rows = [m for _, m in run_block(resolve(raw)[0], range(6))]
        return {k: np.stack([m[k] for m in rows], axis=1) for k in rows[0]}

    hot, cold = run(1.0), run(0.7)
    for values in (hot, cold):
        drop = values["distinct_2"][:, 0] - values["distinct_2"][:, -1]
        assert drop.mean() > Z * drop.std(ddof=1) / np.sqrt(drop.size)
    for name in ("distinct_2", "unigram_entropy"):
        gap = hot[name][:, -1] - cold[name][:, -1]
        assert gap.mean() > Z * gap.std(ddof=1) / np.sqrt(gap.size)
    assert np.all(cold["cross_entropy_true"][:, -1] > hot["cross_entropy_true"][:, -1])
