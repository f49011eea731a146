"""Syntactic and semantic text diversity: exact minima on identical texts, hand-computed values on
constructed sets, invariances (word choice does not change the shape; scale does not change the cosine)."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics.text_diversity import (
    class_ngrams,
    mean_cosine_distance,
    syntactic_diversity,
    token_classes,
)
from autophagy.metrics.vendi import vendi_score


def test_token_classes_abstract_the_words():
    assert token_classes("Return the JSON of x_1 in 42 ms.") == ["C", "w", "U", "w", "i", "w", "9", "w", "."]
    # the shape does not depend on which words fill it
    shape = {("C", "w", "w"), ("w", "w", ".")}
    assert class_ngrams("Open the file.") == class_ngrams("Close a socket.") == shape


def test_identical_texts_have_zero_syntactic_diversity():
    assert syntactic_diversity(["Return the value (x)."] * 5) == 0.0
    # same shapes with other words: still 0
    assert syntactic_diversity(["Open the file.", "Close a socket.", "Read my data."]) == 0.0


def test_syntactic_diversity_by_hand():
    a = "Open the file."  # {Cww, ww.}
    b = "Open the file now."  # {Cww, www, ww.}
    c = "1 2 3"  # {999}
    # pairs: (a, b) 1 - 2/3, (a, c) 1, (b, c) 1 -> mean (1/3 + 1 + 1) / 3 = 7/9
    assert syntactic_diversity([a, b, c]) == pytest.approx(7 / 9, abs=1e-15)
    # texts shorter than n have no 3-grams: two of them count as identical, one against a text as disjoint
    assert syntactic_diversity(["ok", "no"]) == 0.0
    assert syntactic_diversity(["ok", a]) == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        syntactic_diversity([a])


def test_identical_embeddings_have_zero_semantic_diversity_and_vendi_one():
    e = np.tile(np.array([[0.3, -1.2, 2.0]]), (6, 1))
    assert mean_cosine_distance(e) == pytest.approx(0.0, abs=1e-12)
    assert vendi_score(e) == pytest.approx(1.0, abs=1e-9)


def test_semantic_diversity_by_hand_and_scale_invariance():
    # e1 = (1, 0), e2 = (0, 1), e3 = (-1, 0): distances 1, 2, 1 -> mean 4/3
    e = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    assert mean_cosine_distance(e) == pytest.approx(4 / 3, abs=1e-12)
    assert mean_cosine_distance(e * np.array([[2.0], [0.5], [7.0]])) == pytest.approx(4 / 3, abs=1e-12)
    # against the O(m^2) definition on random vectors
    x = np.random.default_rng(0).normal(size=(20, 5))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [1 - u[i] @ u[j] for i in range(20) for j in range(i + 1, 20)]
    assert mean_cosine_distance(x) == pytest.approx(np.mean(pairs), abs=1e-12)
    with pytest.raises(ValueError, match="nonzero"):
        mean_cosine_distance(np.array([[1.0, 0.0], [0.0, 0.0]]))
