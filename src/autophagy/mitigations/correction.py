"""Self-correction (Gillman et al. 2024), toward the real data.

Point maps x -> (1 - gamma) x + gamma c(x), gamma in [0, 1] (0 leaves samples unchanged, 1
applies c fully), and :func:`mixture`, Gillman et al.'s resampling from 1/(1 + gamma) p_model +
gamma/(1 + gamma) p_target, gamma in [0, inf). Everything is batched over replicates: synthetic
``(R, n, d)``, reference real samples ``(R, m, d)``.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from autophagy.core.linalg import psd_sqrt
from autophagy.core.rng import Rngs


def toward(x: np.ndarray, target: np.ndarray, gamma: float) -> np.ndarray:
    """(1 - gamma) x + gamma target: exactly ``x`` at gamma = 0 and exactly ``target`` at 1."""
    return (1.0 - gamma) * x + gamma * target


def mixture_weight(gamma: float) -> float:
    """Gillman et al.'s convention: the target's share gamma / (1 + gamma) of the corrected mixture."""
    return gamma / (1.0 + gamma)


def mixture(synthetic: np.ndarray, target: np.ndarray, gamma: float, rng: Rngs) -> np.ndarray:
    """Draws of 1/(1 + gamma) p_model + gamma/(1 + gamma) p_target, ``(R, n, d)``.

    ``synthetic`` holds i.i.d. draws of p_model and ``target`` ``(R, n, d)`` i.i.d. draws of
    p_target (row i is used only if sample i is replaced); each sample is independently replaced
    with probability gamma / (1 + gamma), so the rows are i.i.d. draws of the mixture.
    """
    replace = np.stack([g.random(synthetic.shape[1]) for g in rng]) < mixture_weight(gamma)
    return np.where(replace[..., None], target, synthetic)


def _pinv_sqrt(cov: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of the symmetric root of PSD ``(..., d, d)`` (zero on the null space)."""
    w, v = np.linalg.eigh(cov)
    positive = w > 1e-12 * np.maximum(w.max(axis=-1, keepdims=True), 1e-300)
    inv_root = np.where(positive, 1.0 / np.sqrt(np.where(positive, w, 1.0)), 0.0)
    return (v * inv_root[..., None, :]) @ np.swapaxes(v, -1, -2)


def gaussian_ot_matrix(source_cov: np.ndarray, target_cov: np.ndarray) -> np.ndarray:
    """A with T(x) = m2 + A (x - m1) the optimal-transport map N(m1, S1) -> N(m2, S2):
    A = S1^-1/2 (S1^1/2 S2 S1^1/2)^1/2 S1^-1/2 (symmetric; pseudo-inverse if S1 is singular)."""
    root = psd_sqrt(source_cov)
    inv_root = _pinv_sqrt(source_cov)
    cross = root @ target_cov @ root
    return inv_root @ psd_sqrt(0.5 * (cross + np.swapaxes(cross, -1, -2))) @ inv_root


def gaussian_ot(
    synthetic: np.ndarray,
    source: tuple[np.ndarray, np.ndarray],
    target: tuple[np.ndarray, np.ndarray],
    gamma: float,
) -> np.ndarray:
    """Move samples along the Gaussian OT map from ``source`` to ``target`` (means ``(R, d)``,
    covariances ``(R, d, d)``, or unbatched): with gamma = 1, N(m1, S1) samples become N(m2, S2)."""
    (m1, s1), (m2, s2) = source, target
    reps, dim = synthetic.shape[0], synthetic.shape[2]
    m1, m2 = np.broadcast_to(m1, (reps, dim)), np.broadcast_to(m2, (reps, dim))
    a = np.broadcast_to(gaussian_ot_matrix(s1, s2), (reps, dim, dim))
    mapped = m2[:, None, :] + (synthetic - m1[:, None, :]) @ a  # A symmetric: rows times A^T = A
    return toward(synthetic, mapped, gamma)


def nearest_real(synthetic: np.ndarray, reference: np.ndarray, gamma: float) -> np.ndarray:
    """Snap each sample toward its nearest reference (real) sample."""
    nearest = np.stack([ref[cKDTree(ref).query(x)[1]] for x, ref in zip(synthetic, reference, strict=True)])
    return toward(synthetic, nearest, gamma)


def centroids(reference: np.ndarray, clusters: int, rng: Rngs) -> np.ndarray:
    """k-means (k-means++ start) centroids of each replicate's reference set, ``(R, clusters, d)``."""
    return np.stack(
        [kmeans2(ref, clusters, minit="++", seed=g)[0] for ref, g in zip(reference, rng, strict=True)]
    )


def centroid_snap(synthetic: np.ndarray, centres: np.ndarray, gamma: float) -> np.ndarray:
    """Snap each sample toward the nearest of its replicate's ``centres`` ``(R, k, d)``."""
    nearest = np.stack([c[cKDTree(c).query(x)[1]] for x, c in zip(synthetic, centres, strict=True)])
    return toward(synthetic, nearest, gamma)
