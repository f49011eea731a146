"""Gaussian kernel density estimate, batched over replicates.

The fitted density is the average of N(x_i, diag(h^2)) over the training points x_i, with one
bandwidth h_j per dimension: a rule of thumb scales each dimension's standard deviation
(Scott: n^(-1/(d+4)); Silverman: (n (d + 2) / 4)^(-1/(d+4)), as scipy's ``gaussian_kde``), or
a fixed float in data units. Sampling picks a training point uniformly and adds kernel noise,
so a sample's variance per dimension is the training set's (over n) plus h_j^2.

Sampling bias lambda scales the bandwidth by sqrt(lambda) (spec §2): lambda = 0 resamples the
training points themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from autophagy.core.rng import Rngs


@dataclass(frozen=True)
class FittedKDE:
    """Training points ``points`` ``(R, n, d)`` and bandwidths ``bandwidth`` ``(R, d)``."""

    points: np.ndarray
    bandwidth: np.ndarray

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate ``(R, n, d)``: a uniform training point plus N(0, lambda diag(h^2))."""
        r, size, d = self.points.shape
        if len(rng) != r:
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {r}")
        pick = np.empty((r, n), dtype=np.int64)
        z = np.empty((r, n, d))
        for i, g in enumerate(rng):  # the point first, then the kernel noise, from rng[i]
            pick[i] = g.integers(size, size=n)
            z[i] = g.standard_normal((n, d))
        centres = np.take_along_axis(self.points, pick[..., None], axis=1)
        return centres + np.sqrt(sampling_bias) * self.bandwidth[:, None, :] * z

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(R, d)`` of the points; their covariance over n ``(R, d, d)`` plus diag(h^2)."""
        mean = self.points.mean(axis=1)
        centred = self.points - mean[:, None, :]
        cov = np.swapaxes(centred, 1, 2) @ centred / self.points.shape[1]
        return mean, cov + self.bandwidth[:, :, None] ** 2 * np.eye(self.points.shape[2])

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The KDE as a mixture: weights 1/n ``(R, n)``, the points, diag(h^2) ``(R, n, d, d)``."""
        r, n, d = self.points.shape
        covs = np.broadcast_to((self.bandwidth[:, :, None] ** 2 * np.eye(d))[:, None], (r, n, d, d))
        return np.full((r, n), 1.0 / n), self.points, covs

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(R, m)`` of ``x`` ``(R, m, d)``: log (1/n) sum_i N(x; x_i, diag(h^2)),
        one replicate at a time (memory O(m n d))."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3 or x.shape[0] != self.points.shape[0]:
            raise ValueError(f"x must have shape ({self.points.shape[0]}, m, d), got {x.shape}")
        n, d = self.points.shape[1:]
        out = np.empty(x.shape[:2])
        for r in range(len(x)):
            h = self.bandwidth[r]
            z2 = (((x[r][:, None, :] - self.points[r][None]) / h) ** 2).sum(-1)  # (m, n)
            const = np.log(h).sum() + 0.5 * d * np.log(2 * np.pi) + np.log(n)
            out[r] = logsumexp(-0.5 * z2, axis=1) - const
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"points": self.points, "bandwidth": self.bandwidth}


@dataclass(frozen=True)
class KernelDensityModel:
    """Settings of the KDE family: ``bandwidth`` is "scott", "silverman" or a float (data units).

    Fitting stores the training set, so fine-tuning (``init``) has nothing to start from and is
    ignored.
    """

    bandwidth: str | float = "scott"
    min_samples: int = 2

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedKDE | None = None) -> FittedKDE:
        """Keep ``data`` ``(R, n, d)`` and choose each replicate's bandwidths ``(R, d)``."""
        x = np.array(data, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d), got {x.shape}")
        _, n, d = x.shape
        if isinstance(self.bandwidth, str):
            factor = {
                "scott": n ** (-1.0 / (d + 4)),
                "silverman": (n * (d + 2) / 4.0) ** (-1.0 / (d + 4)),
            }[self.bandwidth]
            h = factor * x.std(axis=1, ddof=1)
        else:
            h = np.full((len(x), d), float(self.bandwidth))
        return FittedKDE(x, h)

    def load(self, state: dict[str, np.ndarray]) -> FittedKDE:
        return FittedKDE(np.asarray(state["points"]), np.asarray(state["bandwidth"]))
