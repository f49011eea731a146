"""Metrics of a fitted discrete model against the known true distribution (``needs="model"``).

Each is called as ``fn(model, data, *, rng) -> (R,)``: ``model`` exposes its fitted
probabilities ``(R, K)`` (categorical, memoriser) and ``data`` its true ``probabilities``
``(K,)``; nothing is sampled, so these are exact for the fitted model.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.protocols import HasProbabilities
from autophagy.core.rng import Rngs
from autophagy.metrics.discrete import total_variation


def _fitted(model: object) -> np.ndarray:
    if not isinstance(model, HasProbabilities):
        raise ValueError(f"{type(model).__name__} has no fitted probabilities (use a discrete model)")
    return np.asarray(model.probabilities(), dtype=np.float64)


def _truth(data: object, size: int) -> np.ndarray:
    truth = getattr(data, "probabilities", None)
    if truth is None or np.size(truth) != size:
        raise ValueError(f"data source {type(data).__name__} has no true probabilities over {size} outcomes")
    return np.asarray(truth, dtype=np.float64)


def gini_simpson(model: object, data: object = None, *, rng: Rngs | None = None) -> np.ndarray:
    """1 - sum_k p_k^2 of the fitted distribution (probability two draws differ), ``(R,)``.

    In the categorical replace loop with n samples per generation its expectation at
    generation t is (1 - 1/n)^t (1 - sum_k p0_k^2) (spec T5).
    """
    p = _fitted(model)
    return 1.0 - (p**2).sum(axis=1)


def entropy(model: object, data: object = None, *, rng: Rngs | None = None) -> np.ndarray:
    """Shannon entropy H(p) = -sum_k p_k log p_k of the fitted distribution in nats, ``(R,)``
    (0 log 0 = 0): 0 when one outcome is left, log K when all K are equally likely. Heat Death
    (Marchi et al.) predicts it goes to 0 below temperature 1 and to its maximum above."""
    p = _fitted(model)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=1)


def surviving(model: object, data: object = None, *, rng: Rngs | None = None) -> np.ndarray:
    """Number of outcomes the fitted model can still produce (positive probability), ``(R,)``."""
    return (_fitted(model) > 0).sum(axis=1).astype(np.float64)


def true_tv(model: object, data: object, *, rng: Rngs | None = None) -> np.ndarray:
    """Total variation between the fitted distribution and the true one, ``(R,)``."""
    p = _fitted(model)
    return np.asarray(total_variation(p, _truth(data, p.shape[1])), dtype=np.float64).reshape(len(p))


def test_error(model: object, data: object, *, rng: Rngs | None = None) -> np.ndarray:
    """Exact test error of the fitted model against the truth, ``(R,)``; lower is better.

    - memoriser on ``zipf`` data: P(answer != true answer) for (item, answer) ~ truth,
      sum_i p(i) (1 - P(answer_hat_i | i)); an item never seen counts as an error. With fixed
      answers and clean training data of size T its expectation scales as T^-(1 - 1/beta)
      (Tale of Tails, spec T1).
    - ``ols`` on ``linear_regression`` data: the excess squared prediction error
      E_x[(x . (w - w*))^2] = |w - w*|^2 for x ~ N(0, I) (spec G8; the irreducible label noise
      sigma^2 is left out, as Gerstgrasser et al. do).
    """
    weights, truth = getattr(model, "weights", None), getattr(data, "weights", None)
    if weights is not None and truth is not None:
        return ((np.asarray(weights, dtype=np.float64) - truth) ** 2).sum(axis=1)
    predictions = getattr(model, "predictions", None)
    answer_probabilities = getattr(data, "answer_probabilities", None)
    if predictions is None or answer_probabilities is None:
        raise ValueError("test_error needs a memorizer model on zipf data or ols on linear_regression data")
    guesses = predictions()
    table = answer_probabilities()
    p = _truth(data, guesses.shape[1])
    correct = np.where(
        guesses >= 0, np.take_along_axis(table[None], np.maximum(guesses, 0)[..., None], 2)[..., 0], 0
    )
    return 1.0 - (correct * p).sum(axis=1)


test_error.__test__ = False  # a metric, not a pytest test
