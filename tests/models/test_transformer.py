"""The tiny transformer language model (optional torch extra): a proper distribution that learns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autophagy.data import DATA
from autophagy.metrics import cross_entropy

pytest.importorskip("torch")
from autophagy.models.transformer import TransformerModel

Z = 4.5


def rngs(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


@pytest.fixture(scope="module")
def setup():
    lang = DATA["text_grammar"].build(DATA["text_grammar"].options(vocab_size=3, length=3, held_out_size=500))
    data = np.stack([lang.draw(300, rng=g) for g in rngs(0, 1)])
    model = TransformerModel(steps=200).for_data(lang).fit(data, rng=rngs(1, 1))
    return lang, model


def test_sequence_probabilities_sum_to_one_and_match_the_sampler(setup):
    _, model = setup
    every = np.array(list(itertools.product(range(3), repeat=3)))
    probs = np.exp(model.log_likelihood(every[None]))[0]
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    n = 4000
    draws = model.sample(n, rng=rngs(2, 1), sampling_bias=1.0)[0].astype(int)
    freq = np.bincount(draws @ np.array([9, 3, 1]), minlength=27) / n
    assert np.all(np.abs(freq - probs) <= Z * np.sqrt(probs * (1 - probs) / n) + 1e-12)


def test_training_brings_cross_entropy_near_the_entropy_rate(setup):
    lang, model = setup
    untrained = (
        TransformerModel(steps=1, lr=1e-9)
        .for_data(lang)
        .fit(np.stack([lang.draw(10, rng=np.random.default_rng(3))]), rng=rngs(1, 1))
    )
    ce, ce_untrained = (
        cross_entropy(model, lang, rng=rngs(4, 1)),
        cross_entropy(untrained, lang, rng=rngs(4, 1)),
    )
    assert ce[0] < ce_untrained[0] - 0.1
    # 300 training sequences: within 0.1 nats of the entropy rate (500 held-out sequences of 3
    # tokens leave a Monte-Carlo standard error of about 0.015 nats)
    assert ce[0] - lang.entropy_rate() < 0.1
