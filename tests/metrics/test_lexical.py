"""Text diversity metrics against values computed by hand or from exact distributions."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import lexical, tail_mass, zipf_fit


def test_entropy_and_type_token_ratio_by_hand():
    text = np.array([[0, 0, 1, 1], [2, 2, 3, 3]])  # four types, two tokens each
    values = lexical(text, text)
    assert values["unigram_entropy"] == pytest.approx(np.log(4))
    assert values["type_token_ratio"] == pytest.approx(4 / 8)
    assert values["distinct_2"] == 1.0  # (0,0) (0,1) (1,1) (2,2) (2,3) (3,3)
    repeated = lexical(text, np.array([[0, 1, 0, 1], [0, 1, 0, 1]]))
    assert repeated["distinct_2"] == pytest.approx(2 / 6)  # (0,1) and (1,0) only
    assert repeated["distinct_3"] == pytest.approx(2 / 4)  # (0,1,0) and (1,0,1)
    assert repeated["unigram_entropy"] == pytest.approx(np.log(2))


def test_zipf_fit_recovers_an_exact_power_law():
    counts = np.floor(1e6 * np.arange(1, 200) ** -1.3)
    assert zipf_fit(counts) == pytest.approx(1.3, abs=0.01)
    assert zipf_fit(np.array([1, 1, 1])) == 0.0  # all hapaxes: flat
    assert np.isnan(zipf_fit(np.array([5])))


def test_tail_mass_counts_synthetic_tokens_outside_the_real_head():
    real = np.array([[0] * 6 + [1] * 3 + [2]])  # head at 0.9: types 0 and 1 hold 9 of 10 tokens
    assert tail_mass(real, real) == pytest.approx(0.1)
    assert tail_mass(real, np.array([[0, 1, 2, 7, 0, 1, 2, 7, 0, 1]])) == pytest.approx(0.4)
    assert tail_mass(real, np.array([[0, 0, 1, 1, 0, 0, 1, 1, 0, 0]])) == 0.0
    batched = tail_mass(np.stack([real, real]), np.stack([real, np.array([[0] * 10])]))
    np.testing.assert_allclose(batched, [0.1, 0.0])
