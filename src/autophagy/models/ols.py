"""Ordinary least squares (optionally ridge) as a generative model of labels (spec G8).

Fit: w = argmin |X w - y|^2 + alpha |w|^2 on every training row (x, y); with alpha = 0 and
X^T X singular (at most d distinct rows, e.g. T <= d) the minimum-norm least-squares solution
X^+ y. Sampling draws the replicate's fixed design (from the data source
the settings are bound to) and labels it y = x . w + sqrt(lambda) sigma noise: lambda scales
the label noise variance, as it scales Sigma for the Gaussian (0 = noiseless predictions).

Closed forms (Gerstgrasser et al. 2024; design rows N(0, I), T > d + 1, alpha = 0), for the
test error |w_n - w*|^2 = E_x[(x . (w_n - w*))^2] of generation n:

    replace (fully_synthetic):  sigma^2 d n / (T - d - 1)
    accumulate:                 sigma^2 d / (T - d - 1) sum_(i <= n) 1 / i^2   (< pi^2 / 6 x generation 1)

For T <= d + 1 (minimum-norm solutions) or ridge alpha > 0 these closed forms do not hold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from autophagy.core.rng import Rngs
from autophagy.data.regression import LinearRegressionData


def closed_form_errors(samples: int, dim: int, noise: float, generations: int) -> dict[str, np.ndarray]:
    """Expected test error ``(generations,)`` of ``replace`` and ``accumulate`` (T > d + 1, no ridge)."""
    if samples <= dim + 1:
        raise ValueError(f"the closed forms need samples > dim + 1 = {dim + 1}")
    n = np.arange(1, generations + 1)
    first = noise**2 * dim / (samples - dim - 1)
    return {"replace": first * n, "accumulate": first * np.cumsum(1.0 / n**2)}


def least_squares(x: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Weights ``(R, d)`` of ``x`` ``(R, n, d)`` on ``y`` ``(R, n)``: ridge solution, or for
    ``ridge`` = 0 the minimum-norm least-squares one (equal to OLS when X has full column rank)."""
    gram = np.einsum("rni,rnj->rij", x, x)
    rhs = np.einsum("rni,rn->ri", x, y)
    d = x.shape[2]
    if ridge > 0:
        return np.linalg.solve(gram + ridge * np.eye(d), rhs[..., None])[..., 0]
    if x.shape[1] > d:
        try:
            return np.linalg.solve(gram, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            pass
    return np.einsum("rij,rj->ri", np.linalg.pinv(gram, hermitian=True), rhs)  # X^+ y = (X^T X)^+ X^T y


@dataclass(frozen=True)
class FittedOLS:
    """Fitted weights ``(R, d)`` and the source whose designs it labels."""

    weights: np.ndarray
    source: LinearRegressionData
    noise: float

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` rows ``(R, n, d + 1)`` at each replicate's design, labels x . w + sqrt(lambda) sigma eps."""
        if len(rng) != len(self.weights):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.weights)}")
        scale = np.sqrt(sampling_bias) * self.noise
        rows = [self.source.labelled(w, n, g, scale) for w, g in zip(self.weights, rng, strict=True)]
        return np.stack(rows).reshape(len(self.weights), n, self.source.dim)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}


@dataclass(frozen=True)
class OLSModel:
    """Settings: ``ridge`` alpha >= 0 and the label ``noise`` of synthetic labels (default: the
    data's sigma), bound to a ``linear_regression`` source by :meth:`for_data`."""

    ridge: float = 0.0
    noise: float | None = None
    source: LinearRegressionData | None = None
    min_samples: int = 1

    def check_data(self, data: object) -> None:
        if not isinstance(data, LinearRegressionData):
            raise ValueError("ols needs data.kind = 'linear_regression' (rows of a fixed design and a label)")

    def for_data(self, data: object) -> OLSModel:
        """These settings bound to the regression source (its designs, and sigma by default)."""
        self.check_data(data)
        noise = self.noise if self.noise is not None else data.noise
        return dataclasses.replace(self, source=data, noise=noise)

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedOLS | None = None) -> FittedOLS:
        """Least squares of the last column on the others, ``data`` ``(R, n, d + 1)``."""
        if self.source is None:
            raise ValueError("bind the settings to a linear_regression source first (for_data)")
        if data.ndim != 3 or data.shape[2] != self.source.dim or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, {self.source.dim}), got {data.shape}")
        data = np.asarray(data, dtype=np.float64)
        return FittedOLS(least_squares(data[..., :-1], data[..., -1], self.ridge), self.source, self.noise)

    def load(self, state: dict[str, np.ndarray]) -> FittedOLS:
        return FittedOLS(np.asarray(state["weights"]), self.source, self.noise)
