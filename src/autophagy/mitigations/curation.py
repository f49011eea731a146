"""Curation (cherry-picking): keep the best-scoring synthetic samples, a form of sampling bias.

Scores are higher-is-better arrays ``(R, N)`` for synthetic samples ``(R, N, d)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import logsumexp

from autophagy.core.protocols import FittedModel, HasLogProb


def likelihood(synthetic: np.ndarray, models: Sequence[FittedModel]) -> np.ndarray:
    """Log-density under the uniform mixture of the generating models (one model: its own)."""
    if not all(isinstance(m, HasLogProb) for m in models):
        raise TypeError("likelihood curation needs fitted models with log_prob(x)")
    logs = np.stack([m.log_prob(synthetic) for m in models])  # (K, R, N)
    return logsumexp(logs, axis=0) - np.log(len(models))


def nearest_real(synthetic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Minus the Euclidean distance to the nearest reference (real) sample."""
    return -np.stack([cKDTree(ref).query(x)[0] for x, ref in zip(synthetic, reference, strict=True)])


def real_mean(synthetic: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Minus the Euclidean distance to the reference (real) mean."""
    return -np.linalg.norm(synthetic - reference.mean(axis=1, keepdims=True), axis=-1)


def keep_best(synthetic: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` best-scoring samples per replicate ``(R, n, d)``, in their original order
    (ties keep the earlier sample), so keeping everything returns ``synthetic`` unchanged."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != synthetic.shape[:2] or not np.all(np.isfinite(scores)):
        raise ValueError(f"curation scores must be finite, shape {synthetic.shape[:2]}; got {scores.shape}")
    best = np.sort(np.argsort(-scores, axis=1, kind="stable")[:, :n], axis=1)
    return np.take_along_axis(synthetic, best[:, :, None], axis=1)
