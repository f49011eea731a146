"""Closed-form metrics of Gaussians (paper §2.4): W2, Frechet distance, trace, mean drift.

All functions broadcast over leading batch axes: means ``(..., d)``, covariances ``(..., d, d)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autophagy.core.linalg import psd_sqrt, unbiased_moments


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


def logdet_ratio(cov: np.ndarray, reference_cov: np.ndarray) -> np.ndarray:
    """log det Sigma_t - log det Sigma_0 of covariances ``(..., d, d)`` against P_r's ``(d, d)``.

    Twice the change in Gaussian differential entropy (H = (d log(2 pi e) + log det Sigma) / 2);
    0 when the volume is kept, negative as the fit shrinks (collapse), -inf for a singular
    Sigma_t. Higher (toward 0 from below) is better in a collapsing loop. For the unbiased
    Gaussian fit to n samples of N(mu, Sigma), E[log det S] - log det Sigma =
    sum_(i=1..d) psi((n - i) / 2) + d log(2 / (n - 1)) (Wishart), so in the fully synthetic
    loop the expectation at generation t is t times that.
    """
    sign, logdet = np.linalg.slogdet(np.asarray(cov, dtype=np.float64))
    ref_sign, ref_logdet = np.linalg.slogdet(np.asarray(reference_cov, dtype=np.float64))
    if ref_sign <= 0:
        raise ValueError("the reference covariance must be positive definite for logdet_ratio")
    return np.where(sign > 0, logdet - ref_logdet, -np.inf)


def mean_offset(mean: np.ndarray, reference_mean: np.ndarray, j: int) -> np.ndarray:
    """Coordinate ``j`` of the fitted mean's offset from P_r's, mu_t,j - mu_r,j (data units).

    Signed, so lower in absolute value is better (0 = P_r's). One coordinate per metric: G1's
    standardised steps (mu_t,j - mu_(t-1),j) / sqrt(Sigma_(t-1),jj / n) need the coordinates
    of consecutive generations, which no single-generation summary keeps."""
    mean = np.asarray(mean)
    if not 0 <= j < mean.shape[-1]:
        raise ValueError(f"mean_offset_{j} needs data with at least {j + 1} dimensions, got {mean.shape[-1]}")
    return mean[..., j] - np.asarray(reference_mean)[j]


def variance_of(cov: np.ndarray, j: int) -> np.ndarray:
    """Diagonal entry Sigma_t,jj of the fitted covariance (data units squared).

    Higher is better up to P_r's Sigma_r,jj: collapse shrinks it toward 0 (E Sigma_t,jj =
    lambda^(t-1) E Sigma_1,jj in the fully synthetic loop); their sum is ``trace_cov``."""
    cov = np.asarray(cov)
    if not 0 <= j < cov.shape[-1]:
        raise ValueError(f"variance_{j} needs data with at least {j + 1} dimensions, got {cov.shape[-1]}")
    return cov[..., j, j]


@dataclass(frozen=True)
class Coordinate:
    """The moment metric of coordinate ``j``: ``mean_offset_j`` or ``variance_j`` (see
    :func:`mean_offset`, :func:`variance_of`); a config whose data has ``j`` or fewer
    dimensions is refused when it is validated, naming the metric."""

    kind: str  # "mean_offset" or "variance"
    j: int

    def __call__(self, mean, cov, reference_mean, reference_cov) -> np.ndarray:
        if self.kind == "mean_offset":
            return mean_offset(mean, reference_mean, self.j)
        return variance_of(cov, self.j)

    def check_config(self, model_kind: str, data: Any) -> None:
        if data.dim <= self.j:
            raise ValueError(f"{self.kind}_{self.j} needs data with at least {self.j + 1} dimensions")
