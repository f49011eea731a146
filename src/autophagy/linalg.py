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
