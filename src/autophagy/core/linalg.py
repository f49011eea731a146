"""Small batched linear-algebra helpers shared by models and metrics (float64)."""

from __future__ import annotations

import numpy as np


def psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of PSD matrices ``(..., d, d)`` via eigh; singular ones allowed."""
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def unbiased_moments(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean ``(..., d)`` and unbiased covariance ``(..., d, d)`` of ``data`` ``(..., n, d)``."""
    n = data.shape[-2]
    mean = data.mean(axis=-2)
    centred = data - mean[..., None, :]
    cov = np.swapaxes(centred, -1, -2) @ centred / (n - 1)
    return mean, cov


def mixture_log_prob(x: np.ndarray, weights: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """Log-density ``(n,)`` of points ``x`` ``(n, d)`` under sum_k w_k N(means_k, covs_k)
    (``weights`` ``(K,)``, ``means`` ``(K, d)``, ``covs`` ``(K, d, d)`` positive definite)."""
    from scipy.special import logsumexp

    x = np.asarray(x, dtype=np.float64)
    chol = np.linalg.cholesky(covs)  # (K, d, d)
    diff = x[None, :, :] - means[:, None, :]  # (K, n, d)
    z = np.linalg.solve(chol[:, None], diff[..., None])[..., 0]
    half_logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)  # (K,)
    d = x.shape[-1]
    log_n = -0.5 * (z**2).sum(-1) - half_logdet[:, None] - 0.5 * d * np.log(2 * np.pi)
    with np.errstate(divide="ignore"):
        return logsumexp(np.log(weights)[:, None] + log_n, axis=0)
