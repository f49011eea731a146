"""Gaussian mixture fitted by EM, batched over replicates on the leading axis (paper appendix B.2).

Every EM step runs for all replicates at once in numpy; a replicate stops when its mean
log-likelihood improves by less than ``tol`` and is left untouched afterwards, so its result
never depends on the other replicates in the batch. Initialisation (k-means++ seeding plus
a few Lloyd steps) draws only from that replicate's generator.

Sampling bias lambda scales every component's covariance (spec §2): lambda = 0 returns the
component means only, drawn with the mixture weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from autophagy.core.rng import Rngs

CovarianceType = Literal["full", "diag", "spherical", "tied"]
_EPS = 10 * np.finfo(np.float64).eps  # keeps empty components' weights positive (as scikit-learn)
_CHUNK_ELEMENTS = 1 << 17  # replicates are fitted in chunks whose (K, d, n) temporaries stay in cache


@dataclass(frozen=True)
class FittedMixture:
    """Mixtures per replicate: ``weights`` ``(R, K)``, ``means`` ``(R, K, d)``, ``covs`` ``(R, K, d, d)``."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @functools.cached_property
    def chol(self) -> np.ndarray:
        """Lower Cholesky factors of ``covs`` ``(R, K, d, d)``, computed once per fitted model."""
        return np.linalg.cholesky(self.covs)

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate ``(R, n, d)``: component k with probability w_k, then
        N(mu_k, lambda Sigma_k)."""
        r, k, d = self.means.shape
        if len(rng) != r:
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {r}")
        cumulative = np.cumsum(self.weights, axis=1)
        component = np.empty((r, n), dtype=np.int64)
        z = np.empty((r, n, d))
        for i, g in enumerate(rng):  # component choice first, then the normals, from rng[i]
            u = g.random(n) * cumulative[i, -1]
            component[i] = np.minimum(np.searchsorted(cumulative[i], u, side="right"), k - 1)
            z[i] = g.standard_normal((n, d))
        # x = mu_c + sqrt(lambda) L_c z, entry by entry: gathers of (R, n) instead of (R, n, d, d)
        x = np.empty((r, n, d))
        for a in range(d):
            noise = np.zeros((r, n))
            for b in range(a + 1):
                noise += np.take_along_axis(self.chol[:, :, a, b], component, axis=1) * z[..., b]
            x[..., a] = (
                np.take_along_axis(self.means[:, :, a], component, axis=1) + np.sqrt(sampling_bias) * noise
            )
        return x

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(R, n)`` of points ``x`` ``(R, n, d)`` under each replicate's mixture."""
        if x.ndim != 3 or x.shape[0] != self.means.shape[0]:
            raise ValueError(f"x must have shape ({self.means.shape[0]}, n, d), got {x.shape}")
        return _log_sum_exp(_weighted_log_density(_columns(x), self.weights, self.means, self.chol))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mixture mean ``(R, d)`` and covariance ``(R, d, d)``: sum_k w_k (S_k + mu_k mu_k^T) - mu mu^T."""
        w = self.weights[..., None]
        mean = np.sum(w * self.means, axis=1)
        second = np.sum(w[..., None] * (self.covs + self.means[..., :, None] * self.means[..., None, :]), 1)
        return mean, second - mean[:, :, None] * mean[:, None, :]

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``weights`` ``(R, K)``, ``means`` ``(R, K, d)``, ``covs`` ``(R, K, d, d)``."""
        return self.weights, self.means, self.covs

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "covs": self.covs}


def _log_sum_exp(a: np.ndarray) -> np.ndarray:
    """log sum_k exp(a_k) over axis 1 of ``a`` ``(R, K, n)``, shifted by the maximum for stability."""
    top = a.max(axis=1)
    return top + np.log(np.sum(np.exp(a - top[:, None]), axis=1))


def _columns(x: np.ndarray) -> np.ndarray:
    """``x`` ``(R, n, d)`` as contiguous ``(R, d, n)``: the long axis last keeps numpy's inner loops long."""
    return np.ascontiguousarray(np.swapaxes(x, 1, 2))


def _matvec(matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``matrix`` ``(..., d, d)`` times ``columns`` ``(..., d, n)``; for small d one pass per entry
    (numpy's stacked matmul pays a call per tiny matrix)."""
    d = matrix.shape[-1]
    if d > 8:
        return matrix @ columns
    out = np.empty((*np.broadcast_shapes(matrix.shape[:-1], (*columns.shape[:-2], d)), columns.shape[-1]))
    for a in range(d):
        out[..., a, :] = matrix[..., a, 0, None] * columns[..., 0, :]
        for b in range(1, d):
            out[..., a, :] += matrix[..., a, b, None] * columns[..., b, :]
    return out


def _sum_of_squares(diff: np.ndarray) -> np.ndarray:
    """Sum of squares over axis -2 (the coordinates) of ``diff`` ``(..., d, n)``, one pass per coordinate
    (faster than a reduction over a short axis)."""
    total = diff[..., 0, :] ** 2
    for j in range(1, diff.shape[-2]):
        total += diff[..., j, :] ** 2
    return total


def _weighted_log_density(
    xt: np.ndarray, weights: np.ndarray, means: np.ndarray, chol: np.ndarray
) -> np.ndarray:
    """log w_k + log N(x_i | mu_k, L_k L_k^T), shape ``(R, K, n)``, for points ``xt`` ``(R, d, n)``."""
    d = xt.shape[1]
    diff = xt[:, None, :, :] - means[:, :, :, None]  # (R, K, d, n)
    y = _matvec(np.linalg.inv(chol), diff)  # whitened residuals L^-1 (x - mu)
    log_det = np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)  # (R, K)
    log_norm = -0.5 * d * np.log(2.0 * np.pi) - log_det + np.log(weights)
    return log_norm[..., None] - 0.5 * _sum_of_squares(y)


def _m_step(
    x: np.ndarray, xt: np.ndarray, resp: np.ndarray, covariance: CovarianceType, reg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights ``(R, K)``, means ``(R, K, d)``, covariances ``(R, K, d, d)`` from responsibilities
    ``resp`` ``(R, K, n)`` for points ``x`` ``(R, n, d)`` (``xt``: the same as ``(R, d, n)``);
    maximum likelihood with ``reg`` added to every variance."""
    n, d = x.shape[1:]
    counts = resp.sum(axis=2) + _EPS  # (R, K)
    means = resp @ x / counts[..., None]
    diff = xt[:, None, :, :] - means[:, :, :, None]  # (R, K, d, n)
    weighted = resp[:, :, None, :] * diff
    eye = np.eye(d)
    if covariance in ("full", "tied"):
        scatter = np.empty((*counts.shape, d, d))  # sum_i resp_ik (x_i - mu_k)(x_i - mu_k)^T
        for a in range(d):
            for b in range(a + 1):
                scatter[..., a, b] = scatter[..., b, a] = np.einsum(
                    "rkn,rkn->rk", weighted[:, :, a], diff[:, :, b]
                )
        if covariance == "full":
            covs = scatter / counts[..., None, None]
        else:
            covs = np.broadcast_to(scatter.sum(axis=1, keepdims=True) / n, scatter.shape)
    else:
        var = np.sum(weighted * diff, axis=3) / counts[..., None]  # (R, K, d)
        if covariance == "spherical":
            var = np.broadcast_to(var.mean(axis=-1, keepdims=True), var.shape)
        covs = var[..., None] * eye
    return counts / n, means, covs + reg * eye


def _argmin_over_components(score: np.ndarray) -> np.ndarray:
    """``argmin`` over axis 1 of ``score`` ``(R, K, n)`` (first minimum), one contiguous pass per k."""
    best, labels = score[:, 0].copy(), np.zeros(score.shape[::2], dtype=np.int64)
    for j in range(1, score.shape[1]):
        better = score[:, j] < best
        np.copyto(labels, j, where=better)
        np.minimum(best, score[:, j], out=best)
    return labels


def _kmeans_init(x: np.ndarray, xt: np.ndarray, k: int, steps: int, rng: Rngs) -> np.ndarray:
    """Hard assignments ``(R, K, n)`` (one-hot) from k-means++ seeding and ``steps`` Lloyd steps."""
    r, n, _ = x.shape
    rows = np.arange(r)
    centres = np.empty((r, k, x.shape[2]))
    centres[:, 0] = x[rows, [g.integers(n) for g in rng]]
    dist2 = _sum_of_squares(xt - centres[:, 0, :, None])  # (R, n) to the nearest centre so far
    trials = 2 + int(np.log(k))  # greedy k-means++ (as scikit-learn): best of a few candidates
    for j in range(1, k):  # candidates drawn with probability proportional to dist2
        cumulative = np.cumsum(dist2, axis=1)
        u = np.stack([g.random(trials) for g in rng]) * cumulative[:, -1:]  # (R, trials)
        picks = np.minimum(np.sum(cumulative[:, None, :] <= u[:, :, None], axis=2), n - 1)
        diff = xt[:, None, :, :] - x[rows[:, None], picks][:, :, :, None]  # (R, trials, d, n)
        candidate = np.minimum(dist2[:, None], _sum_of_squares(diff))
        best = np.argmin(candidate.sum(axis=2), axis=1)
        centres[:, j] = x[rows, picks[rows, best]]
        dist2 = candidate[rows, best]
    labels = None
    for step in range(steps + 1):
        # |c|^2 - 2 x.c orders the centres as |x - c|^2 does
        score = np.sum(centres**2, axis=2)[:, :, None] - 2.0 * (centres @ xt)
        previous, labels = labels, _argmin_over_components(score)  # (R, n)
        if step == steps or np.array_equal(labels, previous):  # unchanged labels: a fixed point
            break
        onehot = (labels[:, None, :] == np.arange(k)[None, :, None]).astype(np.float64)  # (R, K, n)
        counts = onehot.sum(axis=2)
        centres = np.where(counts[..., None] > 0, onehot @ x / np.maximum(counts, 1)[..., None], centres)
    return (labels[:, None, :] == np.arange(k)[None, :, None]).astype(np.float64)


def em(
    x: np.ndarray,
    params: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    covariance: CovarianceType,
    reg: float,
    tol: float,
    max_iter: int,
) -> tuple[FittedMixture, np.ndarray]:
    """EM from ``params`` (weights, means, covs) on ``x`` ``(R, n, d)``, all replicates at once.

    Returns the mixtures and each replicate's final mean log-likelihood ``(R,)``. A replicate
    whose mean log-likelihood rose by less than ``tol`` keeps the parameters that produced it.
    """
    weights, means, covs = (np.array(p, dtype=np.float64) for p in params)
    xt = _columns(x)
    score = np.full(len(x), -np.inf)
    active = np.arange(len(x))
    for iteration in range(max_iter + 1):
        log_p = _weighted_log_density(
            xt[active], weights[active], means[active], np.linalg.cholesky(covs[active])
        )
        log_norm = _log_sum_exp(log_p)  # (R', n)
        new_score = log_norm.mean(axis=1)
        done = np.abs(new_score - score[active]) < tol
        score[active] = new_score
        keep = ~done
        active, log_p, log_norm = active[keep], log_p[keep], log_norm[keep]
        if not len(active) or iteration == max_iter:
            break
        w, m, c = _m_step(x[active], xt[active], np.exp(log_p - log_norm[:, None, :]), covariance, reg)
        weights[active], means[active], covs[active] = w, m, c
    return FittedMixture(weights, means, covs), score


@dataclass(frozen=True)
class GaussianMixtureModel:
    """Settings of the mixture family: ``components`` K, ``covariance`` type, EM controls.

    ``restarts`` independent initialisations are run per replicate and the best kept.
    Fine-tuning (``init``) starts EM from the previous generation's mixture instead.
    """

    components: int = 3
    covariance: CovarianceType = "full"
    max_iter: int = 100
    tol: float = 1e-3
    reg_covar: float = 1e-6
    kmeans_steps: int = 10
    restarts: int = 1

    @property
    def min_samples(self) -> int:
        return self.components

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedMixture | None = None) -> FittedMixture:
        """EM on ``data`` ``(R, n, d)`` with one generator per replicate in ``rng``."""
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d), got {x.shape}")
        if len(rng) != len(x):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(x)}")
        step = max(1, _CHUNK_ELEMENTS // (self.components * x.shape[1] * x.shape[2]))
        parts = [
            self._fit_chunk(
                x[i : i + step], rng[i : i + step], None if init is None else _slice(init, slice(i, i + step))
            )
            for i in range(0, len(x), step)
        ]
        return FittedMixture(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("weights", "means", "covs"))
        )

    def _fit_chunk(self, x: np.ndarray, rng: Rngs, init: FittedMixture | None) -> FittedMixture:
        run = functools.partial(
            em, x, covariance=self.covariance, reg=self.reg_covar, tol=self.tol, max_iter=self.max_iter
        )
        if init is not None:
            return run((init.weights, init.means, init.covs))[0]
        best, best_score, xt = None, None, _columns(x)
        for _ in range(self.restarts):
            resp = _kmeans_init(x, xt, self.components, self.kmeans_steps, rng)
            mixture, score = run(_m_step(x, xt, resp, self.covariance, self.reg_covar))
            if best is None:
                best, best_score = mixture, score
                continue
            better = score > best_score
            best = FittedMixture(
                *(np.where(better.reshape(-1, *[1] * (a.ndim - 1)), a, b) for a, b in _pairs(mixture, best))
            )
            best_score = np.maximum(score, best_score)
        return best

    def load(self, state: dict[str, np.ndarray]) -> FittedMixture:
        return FittedMixture(*(np.asarray(state[key]) for key in ("weights", "means", "covs")))


def _pairs(a: FittedMixture, b: FittedMixture) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(a.weights, b.weights), (a.means, b.means), (a.covs, b.covs)]


def _slice(mixture: FittedMixture, rows: slice) -> FittedMixture:
    return FittedMixture(mixture.weights[rows], mixture.means[rows], mixture.covs[rows])
