"""Full-covariance Gaussian model, batched over replicates (paper §3.1).

Fit: the sample mean and the covariance scatter / (n - 1) (``estimator = "unbiased"``, paper
eq. 1) or scatter / n (``"mle"``, maximum likelihood, as Shumailov et al., Schaeffer et al. and
Gillman et al. fit), where scatter = sum_i (x_i - mean)(x_i - mean)^T. Sampling bias lambda
draws from N(mu, lambda * Sigma), so lambda = 0 returns the mean only.

Closed forms of the fully synthetic loop (n samples a generation from the previous fit, lambda
= 1): E[Sigma_{s+t} | Sigma_s] = c^t Sigma_s with c = 1 for the unbiased estimator and c =
(n - 1) / n for the MLE, so the expected trace of the fit t refits later is ((n - 1) / n)^t
times the current one (lambda c per refit with a sampling bias).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from autophagy.core.linalg import psd_sqrt
from autophagy.core.rng import Rngs, stacked_normal


@dataclass(frozen=True)
class FittedGaussian:
    """N(mean, cov) per replicate: ``mean`` ``(R, d)``, ``cov`` ``(R, d, d)``."""

    mean: np.ndarray
    cov: np.ndarray
    is_gaussian: ClassVar[bool] = True  # see core.protocols.ExactGaussian: metrics use closed forms

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean, self.cov

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One-component mixtures: weights ``(R, 1)``, means ``(R, 1, d)``, covs ``(R, 1, d, d)``."""
        return np.ones((len(self.mean), 1)), self.mean[:, None], self.cov[:, None]

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate from N(mean, lambda * cov), shape ``(R, n, d)``."""
        if len(rng) != self.mean.shape[0]:
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {self.mean.shape[0]}")
        z = stacked_normal(rng, (n, self.mean.shape[1]))
        return self.mean[:, None, :] + np.sqrt(sampling_bias) * (z @ self.root)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density of ``x`` ``(R, n, d)`` under N(mean, cov), shape ``(R, n)``.

        A singular covariance gives the density on its support (pseudo-inverse and
        pseudo-determinant), so samples of a collapsed model still rank by distance to the mean.
        """
        w, v = np.linalg.eigh(self.cov)
        positive = w > 1e-12 * np.maximum(w.max(axis=-1, keepdims=True), 1e-300)
        inv_w = np.where(positive, 1.0 / np.where(positive, w, 1.0), 0.0)
        z = (np.asarray(x, dtype=np.float64) - self.mean[:, None, :]) @ v  # (R, n, d) eigen-coordinates
        mahalanobis = np.einsum("rnd,rd->rn", z**2, inv_w)
        log_det = np.where(positive, np.log(np.where(positive, w, 1.0)), 0.0).sum(axis=-1)
        rank = positive.sum(axis=-1)
        return -0.5 * (mahalanobis + (log_det + rank * np.log(2 * np.pi))[:, None])

    @functools.cached_property
    def root(self) -> np.ndarray:
        """Symmetric square root of ``cov``, computed once per fitted model (eigh is O(R d^3))."""
        return psd_sqrt(self.cov)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "cov": self.cov}


@dataclass(frozen=True)
class GaussianModel:
    """Settings of the Gaussian family: the covariance ``estimator``, "unbiased" (scatter /
    (n - 1), paper eq. 1) or "mle" (scatter / n).

    Fitting is closed-form, so fine-tuning (``init``) has nothing to start from and is
    ignored: a fine-tuned Gaussian equals a retrained one.
    """

    estimator: Literal["unbiased", "mle"] = "unbiased"
    min_samples: int = 2
    device: str = "auto"  # where the exact simulator's torch backend computes (model.backend = "torch")

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedGaussian | None = None) -> FittedGaussian:
        """Sample mean and covariance (by ``estimator``) of ``data`` ``(R, n, d)``."""
        if data.ndim != 3 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 2, d), got {data.shape}")
        data = np.asarray(data, dtype=np.float64)
        mean = data.mean(axis=1)
        centred = data - mean[:, None, :]
        count = np.full(len(data), data.shape[1])
        return self.from_statistics(count, mean, np.swapaxes(centred, 1, 2) @ centred)

    def from_statistics(self, count: np.ndarray, mean: np.ndarray, scatter: np.ndarray) -> FittedGaussian:
        """The fit from sufficient statistics, the one home of the estimator: ``count`` ``(R,)``,
        ``mean`` ``(R, d)``, ``scatter`` ``(R, d, d)`` = sum of outer products of deviations;
        covariance = scatter / (count - 1) (unbiased) or scatter / count (mle)."""
        divisor = np.asarray(count, dtype=np.float64) - (self.estimator == "unbiased")
        return FittedGaussian(mean, scatter / divisor[:, None, None])

    def load(self, state: dict[str, np.ndarray]) -> FittedGaussian:
        return FittedGaussian(np.asarray(state["mean"]), np.asarray(state["cov"]))
