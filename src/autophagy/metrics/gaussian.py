"""Closed-form metrics of Gaussians (paper §2.4): W2, Frechet distance, trace, mean drift.

All functions broadcast over leading batch axes: means ``(..., d)``, covariances ``(..., d, d)``.
"""

from __future__ import annotations

import numpy as np

from autophagy.linalg import psd_sqrt, unbiased_moments


def wasserstein2_squared(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray
) -> np.ndarray:
    """W2^2 between N(mean1, cov1) and N(mean2, cov2):
    |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), via symmetric eigendecompositions
    (singular covariances allowed)."""
    root1 = psd_sqrt(cov1)
    cross = root1 @ cov2 @ root1
    cross = 0.5 * (cross + np.swapaxes(cross, -1, -2))
    cross_trace = np.sqrt(np.clip(np.linalg.eigvalsh(cross), 0.0, None)).sum(axis=-1)
    mean_term = np.sum((np.asarray(mean1) - np.asarray(mean2)) ** 2, axis=-1)
    trace_term = np.trace(cov1, axis1=-2, axis2=-1) + np.trace(cov2, axis1=-2, axis2=-1)
    return np.clip(mean_term + trace_term - 2.0 * cross_trace, 0.0, None)


def wasserstein2_gaussian(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray
) -> np.ndarray:
    """Wasserstein-2 distance (not squared) between two Gaussians."""
    return np.sqrt(wasserstein2_squared(mean1, cov1, mean2, cov2))


def frechet_distance(real: np.ndarray, synthetic: np.ndarray) -> np.ndarray:
    """Frechet distance between Gaussian fits of two sample sets ``(..., n, d)``, ``(..., m, d)``.

    Squared, as FID reports it: W2^2 between N(mean, unbiased covariance) of each set.
    """
    m1, c1 = unbiased_moments(np.asarray(real, dtype=np.float64))
    m2, c2 = unbiased_moments(np.asarray(synthetic, dtype=np.float64))
    return wasserstein2_squared(m1, c1, m2, c2)


def trace_cov(cov: np.ndarray) -> np.ndarray:
    """Total variance tr(Sigma) of covariances ``(..., d, d)``.

    Higher is better up to P_r's tr(Sigma_r): collapse shrinks the fitted variance toward 0
    (E tr Sigma_t = lambda^(t-1) tr Sigma_1 in the fully synthetic loop), so a falling trace is
    the loss of diversity this metric exists to show."""
    return np.trace(cov, axis1=-2, axis2=-1)


def mean_drift(mean: np.ndarray, reference_mean: np.ndarray) -> np.ndarray:
    """Euclidean distance |mu_t - mu0| between fitted and real means; lower is better (0 = P_r's)."""
    return np.linalg.norm(np.asarray(mean) - np.asarray(reference_mean), axis=-1)
