"""Exact sufficient-statistic simulator of Gaussian loops.

The Gaussian fit (unbiased, paper eq. 1, or maximum likelihood) sees its training set only through the count,
mean and scatter matrix of each group of i.i.d. samples, so those can be drawn directly:
for c samples of N(mu, C) with C = L L^T, the mean is N(mu, C / c) and, independently, the
scatter is L W L^T with W ~ Wishart_d(I, c - 1), drawn by the Bartlett decomposition
(or as Z^T Z with Z of shape (c - 1, d) in the singular case c - 1 < d). Groups pool
exactly: the pooled scatter is the sum of the within-group scatters plus the
between-group term sum_g c_g (m_g - m)(m_g - m)^T. Cost per group is O(d^3), not O(c d^2).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from autophagy.core.linalg import psd_sqrt
from autophagy.core.rng import Rngs
from autophagy.core.simulators import RngsFor, register_simulator
from autophagy.data.gaussian import GaussianData
from autophagy.models.gaussian import FittedGaussian, GaussianModel


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per replicate: ``count`` ``(R,)``, ``mean`` ``(R, d)``,
    ``scatter`` ``(R, d, d)`` (sum of outer products of deviations from the mean)."""

    count: np.ndarray
    mean: np.ndarray
    scatter: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"count": self.count, "mean": self.mean, "scatter": self.scatter}


def pool(parts: Sequence[GroupStats]) -> GroupStats:
    """Exact statistics of the union of groups (replicate-wise). Groups empty in every
    replicate add exact zeros, so they are left out (same values, less work)."""
    parts = [p for p in parts if p.count.any()] or list(parts[:1])
    if len(parts) == 1:
        return parts[0]
    counts = np.stack([p.count for p in parts], axis=1)  # (R, P)
    means = np.stack([p.mean for p in parts], axis=1)  # (R, P, d)
    count = counts.sum(axis=1)
    mean = np.einsum("rp,rpd->rd", counts, means) / np.maximum(count, 1)[:, None]
    dev = means - mean[:, None, :]
    between = np.swapaxes(dev * counts[:, :, None], 1, 2) @ dev  # sum_g c_g dev_g dev_g^T
    return GroupStats(count, mean, sum(p.scatter for p in parts) + between)


@functools.cache
def _lower(dim: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tril_indices(dim, -1)


@functools.cache
def _bartlett_slots(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions in a ``dim x dim`` matrix of its diagonal and of its strict lower triangle
    (row-major, the order :func:`wishart_factor` fills them in)."""
    return np.arange(dim) * (dim + 1), np.ravel_multi_index(_lower(dim), (dim, dim))


def wishart_factor(dof: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """F ``(dim, dim)`` with F F^T ~ Wishart_dim(I, dof): the Bartlett factor if dof >= dim,
    else Z^T (zero-padded) for Z of shape (dof, dim), the singular case."""
    return wishart_factors(np.array([dof]), dim, [rng])[0]


def wishart_factors(dof: np.ndarray, dim: int, rng: Rngs, normals: np.ndarray | None = None) -> np.ndarray:
    """:func:`wishart_factor` for each replicate, ``(R, dim, dim)``, with ``dof`` ``(R,)``.

    Each replicate draws from its own generator, optionally first ``dim`` standard normals
    into ``normals[r]`` (the group mean's), then the factor's: for the Bartlett factor the
    chi-square diagonal and the strict lower triangle, placed for all replicates at once
    (the draws are those of the one-replicate function, so the numbers do not change).
    """
    reps = len(rng)
    factor = np.zeros((reps, dim, dim))
    full = np.flatnonzero(np.asarray(dof) >= dim)
    diagonal, lower = np.empty((len(full), dim)), np.empty((len(full), dim * (dim - 1) // 2))
    j, chi_dof = 0, dim - np.arange(dim)
    for r, g in enumerate(rng):
        if normals is not None:
            g.standard_normal(out=normals[r])
        k = int(dof[r])
        if k >= dim:
            diagonal[j] = g.chisquare(k - dim + chi_dof)
            g.standard_normal(out=lower[j])
            j += 1
        elif k > 0:
            factor[r, :, :k] = g.standard_normal((k, dim)).T
    if len(full):
        diag_at, lower_at = _bartlett_slots(dim)
        flat = factor.reshape(reps, dim * dim)  # a view: the slots are written in place
        rows = slice(None) if len(full) == reps else full[:, None]
        flat[rows, lower_at] = lower
        flat[rows, diag_at] = np.sqrt(diagonal)
    return factor


def gaussian_group(mean: np.ndarray, root: np.ndarray, counts: np.ndarray, rng: Rngs) -> GroupStats:
    """Statistics of ``counts[r]`` i.i.d. draws of N(mean[r], root[r] root[r]^T) per replicate.

    ``mean`` ``(R, d)`` or ``(d,)``; ``root`` ``(R, d, d)`` or ``(d, d)``; ``counts`` ``(R,)``.
    """
    reps, dim = len(rng), root.shape[-1]
    z = np.empty((reps, dim))
    factor = wishart_factors(np.asarray(counts, dtype=np.int64) - 1, dim, rng, normals=z)
    scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)[:, None]
    group_mean = np.broadcast_to(mean, (reps, dim)) + scale * (root @ z[:, :, None])[..., 0]
    identity = root.ndim == 2 and np.array_equal(root, np.eye(dim))
    spread = factor if identity else root @ factor  # scatter = root W root^T with W = F F^T
    return GroupStats(np.asarray(counts, dtype=np.int64), group_mean, spread @ np.swapaxes(spread, 1, 2))


def covariance_root(cov: np.ndarray) -> np.ndarray:
    """A factor L with L L^T = cov per matrix ``(..., d, d)``: Cholesky where it exists, else the
    PSD root. Decided matrix by matrix, so a replicate's factor never depends on its batch."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        if cov.ndim == 2:
            return psd_sqrt(cov)
        return np.stack([covariance_root(c) for c in cov])


@dataclass(frozen=True)
class ExactGaussianSimulator:
    """Batches are :class:`GroupStats`; real data must be a known Gaussian P_r. ``model`` holds
    the covariance estimator the fit applies to the pooled statistics."""

    data: GaussianData
    model: GaussianModel = field(default_factory=GaussianModel)

    def empty(self, replicates: int) -> GroupStats:
        d = self.data.dim
        return GroupStats(
            np.zeros(replicates, np.int64), np.zeros((replicates, d)), np.zeros((replicates, d, d))
        )

    def real(self, n: int, rng: Rngs) -> GroupStats:
        if n == 0:
            return self.empty(len(rng))
        root = covariance_root(self.data.cov)
        return gaussian_group(self.data.mean, root, np.full(len(rng), n), rng)

    def synthetic(
        self, models: Sequence[FittedGaussian], n: int, bias: float, rngs_for: RngsFor
    ) -> GroupStats:
        """Multinomial counts over the K models (one stream), then one exact group per model."""
        if len(models) == 1:
            counts = np.full((1, len(rngs_for("synthetic"))), n)  # lazy streams: only the length
        else:
            k = len(models)
            counts = np.stack([g.multinomial(n, np.full(k, 1.0 / k)) for g in rngs_for("mixture")]).T
        groups = []
        for j, (model, c) in enumerate(zip(models, counts, strict=False)):
            rng = rngs_for("synthetic" if j == 0 else f"synthetic:{j}")
            groups.append(gaussian_group(model.mean, np.sqrt(bias) * covariance_root(model.cov), c, rng))
        return pool(groups)

    def concat(self, parts: Sequence[GroupStats]) -> GroupStats:
        return pool(parts)

    def subsample(self, batch: GroupStats, size: int, rng: Rngs) -> GroupStats:
        raise NotImplementedError("the exact simulator cannot subsample a pool; use simulator = 'samples'")

    def take(self, batch: GroupStats, rows: np.ndarray) -> GroupStats:
        raise NotImplementedError("the exact simulator cannot take rows of a pool; use simulator = 'samples'")

    def size(self, batch: GroupStats) -> int:
        return int(batch.count[0]) if batch.count.size else 0

    def fit(self, batch: GroupStats, rng: Rngs, init: FittedGaussian | None) -> FittedGaussian:
        """The model's estimator from the statistics: mean, scatter / (n - 1) or scatter / n."""
        return self.model.from_statistics(batch.count, batch.mean, batch.scatter)


register_simulator("exact", ExactGaussianSimulator)
