"""Sampling from discrete distributions with tail narrowing (temperature) and tail cutting (top-k/p).

Every discrete model in the package samples through :func:`biased_choice`: the weights of a
row are ranked once (most probable first, ties kept in index order), the ranked weights are
tempered (``w ** (1 / temperature)``) and cut (top-k, top-p), and one uniform per draw is
mapped through the ranked CDF. Lowering the temperature or k moves every draw, uniform for
uniform, to a rank no larger than before, so with common random numbers a lower bias never
adds rarer outcomes; temperature 0 returns the most probable outcome only.
"""

from __future__ import annotations

import numpy as np


def biased_weights(
    weights: np.ndarray, temperature: float, top_k: int | None = None, top_p: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rank order ``(..., K)`` of ``weights`` and the biased probabilities in that order.

    ``weights`` ``(..., K)`` are nonnegative with a positive sum per row; ``temperature`` below
    1 narrows the tail (0 keeps the top outcome), above 1 widens it toward uniform over the
    outcomes of positive weight (zero weights stay zero), ``top_k`` keeps the k most probable,
    ``top_p`` the smallest ranked prefix holding at least that probability mass.
    """
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(-weights, axis=-1, kind="stable")
    ranked = np.take_along_axis(weights, order, axis=-1)
    ranked = ranked / ranked.sum(axis=-1, keepdims=True)
    if temperature <= 0:
        probs = np.zeros_like(ranked)
        probs[..., 0] = 1.0
    else:
        with np.errstate(divide="ignore"):
            logs = np.log(ranked) / temperature
        probs = np.exp(logs - logs[..., :1])  # the top weight is the largest, so no overflow
    if top_k is not None:
        probs[..., top_k:] = 0.0
    probs = probs / probs.sum(axis=-1, keepdims=True)
    if top_p is not None:
        before = np.cumsum(probs, axis=-1) - probs  # mass of the more probable outcomes
        probs = np.where(before < top_p, probs, 0.0)
        probs = probs / probs.sum(axis=-1, keepdims=True)
    return order, probs


def biased_choice(
    weights: np.ndarray,
    uniforms: np.ndarray,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
    rows_of: np.ndarray | None = None,
) -> np.ndarray:
    """Outcomes ``(m,)`` for ``uniforms`` ``(m,)`` in [0, 1) from ``weights`` ``(K,)`` or ``(u, K)``.

    One row shared by every draw, or a row per draw: row ``rows_of[j]`` for draw ``j`` (e.g.
    the next-token distribution of each draw's context), or row ``j`` when ``rows_of`` is None.
    """
    order, probs = biased_weights(weights, temperature, top_k, top_p)
    cdf = np.cumsum(probs, axis=-1)
    if cdf.ndim == 1:
        ranks = np.searchsorted(cdf, uniforms * cdf[-1], side="right")
        return order[np.minimum(ranks, probs.shape[-1] - 1)]
    if rows_of is not None:
        cdf, order = cdf[rows_of], order[rows_of]
    ranks = np.minimum((cdf <= (uniforms * cdf[:, -1])[:, None]).sum(axis=-1), probs.shape[-1] - 1)
    return np.take_along_axis(order, ranks[:, None], axis=-1)[:, 0]


def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats of ``probs`` ``(..., K)`` (rows need not be normalised)."""
    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, -probs * np.log(np.where(probs > 0, probs, 1.0)), 0.0)
    return terms.sum(axis=-1)


def integer_tokens(data: np.ndarray, size: int | None, name: str) -> np.ndarray:
    """``data`` as int64 after checking every entry is an integer in ``[0, size)``."""
    data = np.asarray(data)
    if data.size and not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite values")
    tokens = np.rint(data).astype(np.int64)
    if data.size and not np.array_equal(tokens, data):
        raise ValueError(f"{name} must hold integer ids (items, categories or tokens)")
    if data.size and (tokens.min() < 0 or (size is not None and tokens.max() >= size)):
        upper = "" if size is None else f", {size}"
        raise ValueError(f"{name} ids must lie in [0{upper}), got [{tokens.min()}, {tokens.max()}]")
    return tokens
