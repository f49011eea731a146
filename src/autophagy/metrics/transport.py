"""Wasserstein-2 distance between sample sets, with POT (Flamary et al., ``pip install pot``).

W2(P, Q) = (min over couplings pi of E_pi |x - y|^2)^(1/2) between the empirical measures of
``real`` and ``synthetic`` (uniform weights; sizes may differ). Up to ``EXACT_LIMIT`` samples
per set the optimal coupling is solved exactly (network simplex, ``ot.emd2``); above it the
*sliced* W2 is returned instead: the root mean over ``projections`` random unit directions of
the squared 1-D W2 of the projections (``ot.sliced_wasserstein_distance``; equal to W2 in one
dimension and below it otherwise). Lower is better: 0 for identical sets. Between two finite
samples of the same distribution W2 is positive and shrinks as n grows (about n^(-1/d) in d >
2 dimensions), so compare runs at equal ``n_eval``. The closed form between Gaussians, or
between the moment-matched Gaussians of two fits, is :func:`autophagy.metrics.gaussian.wasserstein2_gaussian`.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from autophagy.metrics.inputs import cap_samples, finish, paired

EXACT_LIMIT = 2000  # samples per set up to which W2 is exact (emd2 costs O(n^3), memory O(n^2))
PROJECTIONS = 200  # random directions of the sliced W2 above EXACT_LIMIT


def _ot():
    # POT probes every array backend on import (torch, jax, ...): skip those not already loaded
    for module, key in (("torch", "PYTORCH"), ("jax", "JAX"), ("cupy", "CUPY"), ("tensorflow", "TENSORFLOW")):
        if module not in sys.modules:
            os.environ.setdefault(f"POT_BACKEND_DISABLE_{key}", "1")
    try:
        import ot
    except ImportError as exc:  # POT is a core dependency; say how to get it if it is missing
        raise ValueError(f"sample-based wasserstein2 needs POT (pip install pot): {exc}") from None
    return ot


def wasserstein2_samples(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    exact_limit: int = EXACT_LIMIT,
    projections: int = PROJECTIONS,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray | float:
    """W2 (not squared) between ``real`` ``(R, n, d)`` and ``synthetic`` ``(R, m, d)`` per replicate
    (or two ``(n, d)`` sets, a float): exact up to ``exact_limit`` samples per set, sliced above."""
    ot = _ot()
    x, y, single = paired(real, synthetic)
    x = cap_samples(x, max_samples, rng, "real").astype(np.float64, copy=False)
    y = cap_samples(y, max_samples, rng, "synthetic").astype(np.float64, copy=False)
    out = np.empty(len(x))
    for r in range(len(x)):
        if max(x.shape[1], y.shape[1]) <= exact_limit:
            a = np.full(x.shape[1], 1.0 / x.shape[1])
            b = np.full(y.shape[1], 1.0 / y.shape[1])
            cost = ot.dist(x[r], y[r], metric="sqeuclidean")
            out[r] = np.sqrt(max(float(ot.emd2(a, b, cost, numItermax=10_000_000)), 0.0))
        else:
            seed = int(rng.integers(2**31)) if rng is not None else r
            out[r] = float(
                ot.sliced_wasserstein_distance(x[r], y[r], n_projections=projections, p=2, seed=seed)
            )
    return finish({"w2": out}, single)["w2"]
