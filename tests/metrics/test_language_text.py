"""The n-gram helpers behind the language metrics, against hand counts."""

from __future__ import annotations

import numpy as np

from autophagy.metrics.text import distinct_n, ngram_novelty, ngrams, rare_type_share

P = -1


def test_pads_are_not_tokens_and_ngrams_stay_in_their_sequence():
    tokens = np.array([[1, 2, 1, 2, P], [3, P, P, P, P]])
    assert ngrams(tokens, 2, pad=P).tolist() == [[1, 2], [2, 1], [1, 2]]
    assert distinct_n(tokens, 2, pad=P) == 2 / 3
    assert distinct_n(tokens, 1, pad=P) == 3 / 5
    assert np.isnan(distinct_n(np.array([[P, P]]), 2, pad=P))
    np.testing.assert_equal(distinct_n(tokens[:, :4], 2), 4 / 6)  # without pad every entry counts


def test_novelty_counts_ngrams_absent_from_the_reference():
    reference = np.array([[1, 2, 3, 4, P]])
    generated = np.array([[1, 2, 3, P], [2, 3, 4, 5]])  # 3-grams: 123 (known), 234 (known), 345 (new)
    assert ngram_novelty(generated, reference, 3, pad=P) == 1 / 3
    assert ngram_novelty(reference, reference, 3, pad=P) == 0.0
    assert ngram_novelty(np.array([[7, 8, 9]]), reference, 3, pad=P) == 1.0


def test_rare_type_share_uses_the_real_tail():
    real = np.array([[0] * 90 + [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]])  # head: type 0 holds 90 %
    assert rare_type_share(np.array([[0, 1, 2, P]]), real, pad=P) == 2 / 9
    assert rare_type_share(np.array([[0, 0]]), real) == 0.0
    assert rare_type_share(real, real) == 1.0
