"""Vendi score (Friedman and Dieng 2023) with the cosine kernel: the effective number of distinct samples.

Rows are scaled to unit norm; with X ``(n, d)`` so scaled, the eigenvalues of K = X X^T / n (whose
nonzero ones are those of the d x d matrix X^T X / n) sum to 1, and

    VS = exp(-sum_i lambda_i log lambda_i).

It ranges from 1 (all samples parallel) to min(n, d) (n orthogonal samples give n). Higher means
more diverse. It reads one set only; the registry scores the synthetic samples.
"""

from __future__ import annotations

import numpy as np

from autophagy.metrics.inputs import batched, cap_samples, finish, paired


def vendi_score(
    samples: np.ndarray, *, max_samples: int | None = None, rng: np.random.Generator | None = None
) -> float | np.ndarray:
    """Vendi score of ``samples`` ``(n, d)`` (a float) or batched ``(R, n, d)`` (``(R,)``).

    Uses the smaller of the d x d and n x n Gram matrices (same nonzero eigenvalues). Zero rows
    have no direction and raise ``ValueError``. ``max_samples`` caps n (a subset from ``rng``).
    """
    x, single = batched(samples, "samples")
    x = cap_samples(x, max_samples, rng, "samples").astype(np.float64, copy=False)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("Vendi score needs nonzero rows (each is scaled to unit norm)")
    x = x / norms
    n, d = x.shape[-2:]
    xt = np.swapaxes(x, -1, -2)
    gram = (xt @ x if d <= n else x @ xt) / n
    w = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    p = w / w.sum(axis=-1, keepdims=True)
    entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    return finish({"vendi": np.exp(entropy)}, single)["vendi"]


def synthetic_vendi(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> float | np.ndarray:
    """The registry's form: Vendi score of ``synthetic``, once checked to pair with ``real``."""
    paired(real, synthetic)
    return vendi_score(synthetic, max_samples=max_samples, rng=rng)
