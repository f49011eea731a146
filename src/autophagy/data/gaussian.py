"""Real data from a known multivariate normal P_r = N(mu0, Sigma0), drawn afresh each time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import field_validator, model_validator

from autophagy.core.linalg import mixture_log_prob, psd_sqrt
from autophagy.core.registry import Options


class GaussianDataOptions(Options):
    """``mean``: scalar or length-``dim`` list; ``covariance``: scalar variance, diagonal list
    or full ``dim x dim`` matrix (symmetric positive semi-definite)."""

    dim: int = 2
    mean: float | list[float] = 0.0
    covariance: float | list[float] | list[list[float]] = 1.0

    @field_validator("dim")
    @classmethod
    def _positive_dim(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be at least 1")
        return v

    @model_validator(mode="after")
    def _shapes(self) -> GaussianDataOptions:
        mean, cov = self.mean_vector(), self.covariance_matrix()
        if mean.shape != (self.dim,):
            raise ValueError(f"mean has {mean.size} entries, dim is {self.dim}")
        if cov.shape != (self.dim, self.dim):
            raise ValueError(f"covariance has shape {cov.shape}, dim is {self.dim}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
            raise ValueError("mean and covariance must be finite")
        if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-10 * max(
            1.0, np.abs(cov).max()
        ):
            raise ValueError("covariance must be symmetric positive semi-definite")
        return self

    def mean_vector(self) -> np.ndarray:
        m = np.asarray(self.mean, dtype=np.float64)
        return np.full(self.dim, float(m)) if m.ndim == 0 else m

    def covariance_matrix(self) -> np.ndarray:
        c = np.asarray(self.covariance, dtype=np.float64)
        if c.ndim == 0:
            return float(c) * np.eye(self.dim)
        return np.diag(c) if c.ndim == 1 else c


@dataclass(frozen=True)
class GaussianData:
    """N(mean, cov) in ``d`` dimensions; every draw is fresh."""

    mean: np.ndarray
    cov: np.ndarray
    capacity: int | None = None

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` fresh samples, shape ``(n, d)``."""
        return self.mean + rng.standard_normal((n, self.dim)) @ psd_sqrt(self.cov)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean, self.cov

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The density as a one-component mixture: weights ``(1,)``, means ``(1, d)``, covs ``(1, d, d)``."""
        return np.ones(1), self.mean[None], self.cov[None]

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(n,)`` of points ``x`` ``(n, d)`` (covariance positive definite)."""
        return mixture_log_prob(x, *self.mixture())

    @classmethod
    def from_options(cls, options: GaussianDataOptions) -> GaussianData:
        return cls(options.mean_vector(), options.covariance_matrix())
