"""Filtering: a real-versus-synthetic detector and a cap on the synthetic share of training sets.

Detectors are trained per replicate on held-out real and synthetic samples (labels 0 / 1) and
return P(synthetic) for new samples. Logistic regression is fitted by L-BFGS on standardised
(linear or quadratic) features with a small L2 penalty; quadratic features make it the right
family for telling two Gaussians apart (their log-likelihood ratio is quadratic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree
from scipy.special import expit, log_expit

from autophagy.core.schedule import DataSchedule


def features(x: np.ndarray, quadratic: bool) -> np.ndarray:
    """``x`` ``(n, d)`` and, if ``quadratic``, its products x_i x_j (i <= j): ``(n, d + d(d+1)/2)``."""
    if not quadratic:
        return x
    i, j = np.triu_indices(x.shape[1])
    return np.concatenate([x, x[:, i] * x[:, j]], axis=1)


@dataclass(frozen=True)
class LogisticDetector:
    """P(synthetic | x) = sigmoid(w . standardised phi(x) + b)."""

    weights: np.ndarray
    bias: float
    centre: np.ndarray
    scale: np.ndarray
    quadratic: bool

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, quadratic: bool, penalty: float) -> LogisticDetector:
        phi = features(x, quadratic)
        centre, scale = phi.mean(axis=0), phi.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        z = (phi - centre) / scale
        sign = 2.0 * y - 1.0

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            margin = sign * (z @ theta[:-1] + theta[-1])
            value = -log_expit(margin).mean() + 0.5 * penalty * theta[:-1] @ theta[:-1]
            g = -sign * expit(-margin) / len(margin)
            return value, np.append(z.T @ g + penalty * theta[:-1], g.sum())

        theta = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B").x
        return cls(theta[:-1], float(theta[-1]), centre, scale, quadratic)

    def prob_synthetic(self, x: np.ndarray) -> np.ndarray:
        z = (features(x, self.quadratic) - self.centre) / self.scale
        return expit(z @ self.weights + self.bias)


@dataclass(frozen=True)
class KnnDetector:
    """P(synthetic | x) = share of synthetic samples among the ``k`` nearest training samples."""

    tree: cKDTree
    labels: np.ndarray
    k: int

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, k: int) -> KnnDetector:
        return cls(cKDTree(x), np.asarray(y, dtype=np.float64), min(k, len(y)))

    def prob_synthetic(self, x: np.ndarray) -> np.ndarray:
        _, index = self.tree.query(x, k=self.k)
        return self.labels[np.reshape(index, (len(x), self.k))].mean(axis=1)


def kept_synthetic(schedule: DataSchedule, share: float, generations: int) -> list[int]:
    """New synthetic samples kept at generations 2..``generations`` so that synthetic rows (new
    plus pooled) are at most ``share`` of each training set: pooled + kept <= share / (1 - share) * real."""
    s, kept = schedule, []
    for t in range(2, generations + 1):
        earlier = sum(s.value("fresh_real", u) for u in range(2, t))  # a schedule's sizes may vary
        s = schedule.at(t)
        real = s.fixed_real + s.keep_real * earlier + s.fresh_real
        pooled = s.keep_synthetic * sum(kept)
        if share >= 1.0:
            allowed = s.synthetic
        else:
            allowed = int(np.floor(share / (1.0 - share) * real + 1e-9)) - pooled
        kept.append(min(s.synthetic, max(0, allowed)))
    return kept
