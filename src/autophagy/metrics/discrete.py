"""Distances between discrete distributions over K categories: total variation and KL divergence.

Inputs are nonnegative weights ``(..., K)`` (probabilities or counts), normalised along the last
axis; leading axes broadcast, so ``(R, K)`` against ``(K,)`` gives ``(R,)``.
"""

from __future__ import annotations

import numpy as np

from autophagy.metrics.inputs import as_float


def _distributions(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, q = as_float(p, "p"), as_float(q, "q")
    if p.ndim == 0 or q.ndim == 0 or p.shape[-1] != q.shape[-1] or p.shape[-1] == 0:
        raise ValueError(f"p and q must be (..., K) over the same K categories, got {p.shape} and {q.shape}")
    for name, w in (("p", p), ("q", q)):
        if np.any(w < 0) or np.any(w.sum(axis=-1) <= 0):
            raise ValueError(f"{name} must be nonnegative with a positive total")
    return p / p.sum(axis=-1, keepdims=True), q / q.sum(axis=-1, keepdims=True)


def histogram(labels: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts ``(..., K)`` of integer ``labels`` ``(..., n)`` in ``[0, K)``."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer) or labels.size == 0:
        raise ValueError(f"labels must be a non-empty integer array, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= n_categories:
        raise ValueError(f"labels must lie in [0, {n_categories}), got [{labels.min()}, {labels.max()}]")
    flat = labels.reshape(-1, labels.shape[-1])
    counts = np.stack([np.bincount(row, minlength=n_categories) for row in flat])
    return counts.reshape(*labels.shape[:-1], n_categories)


def total_variation(p: np.ndarray, q: np.ndarray) -> float | np.ndarray:
    """TV(p, q) = 1/2 sum_k |p_k - q_k|, in [0, 1]; lower is better."""
    p, q = _distributions(p, q)
    out = 0.5 * np.abs(p - q).sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float | np.ndarray:
    """KL(p || q) = sum_k p_k log(p_k / q_k) in nats; 0 log 0 = 0, inf if q_k = 0 < p_k; lower better."""
    p, q = _distributions(p, q)
    with np.errstate(divide="ignore", invalid="ignore"):  # the p = 0 terms are replaced by 0
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    out = terms.sum(axis=-1)
    return float(out) if out.ndim == 0 else out
