"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel.

k(x, y) = (x.y / d + 1)^3. For sets X (m rows) and Y (n rows) the unbiased estimate is

    MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
            - 2 sum_{i, j} k(x_i, y_j) / (m n),

averaged over random subsets when ``subset_size`` is given. Between zero-mean Gaussians with
covariances S1 and S2 its expectation is 3 |S1 - S2|_F^2 / d^2. Lower is better; it can be
slightly negative (unbiased).
"""

from __future__ import annotations

import numpy as np

from autophagy.metrics.inputs import cap_samples, finish, paired

_BLOCK_ELEMENTS = 1 << 22  # kernel entries per block


def _kernel_sum(a: np.ndarray, b: np.ndarray, same: bool) -> float:
    """Sum of k(a_i, b_j) over pairs of rows of ``a`` ``(m, d)`` and ``b`` ``(n, d)``, i != j if ``same``."""
    d = a.shape[1]
    step = max(1, _BLOCK_ELEMENTS // max(1, len(b)))
    total = 0.0
    for start in range(0, len(a), step):
        block = a[start : start + step] @ b.T
        block /= d
        block += 1.0
        total += float(np.sum(block**3))
    if same:
        total -= float(np.sum((np.einsum("ij,ij->i", a, a) / d + 1.0) ** 3))
    return total


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic kernel between rows of ``x`` ``(m, d)`` and ``y`` ``(n, d)``."""
    m, n = len(x), len(y)
    return (
        _kernel_sum(x, x, True) / (m * (m - 1))
        + _kernel_sum(y, y, True) / (n * (n - 1))
        - 2.0 * _kernel_sum(x, y, False) / (m * n)
    )


def kid(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    subsets: int = 100,
    subset_size: int | None = None,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> float | np.ndarray:
    """KID of ``real`` ``(n, d)`` and ``synthetic`` ``(m, d)`` (float), or batched ``(R, ., d)`` (``(R,)``).

    ``subset_size=None`` uses the whole sets once (no randomness). Otherwise the mean over
    ``subsets`` draws of ``subset_size`` rows per set without replacement, from ``rng``.
    ``max_samples`` caps each set first (drawn from ``rng``).
    """
    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    n, m = real.shape[1], synthetic.shape[1]
    if min(n, m) < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {n} and {m}")
    if subset_size is not None:
        if not 2 <= subset_size <= min(n, m):
            raise ValueError(f"subset_size must be in [2, {min(n, m)}] or None, got {subset_size}")
        if subsets < 1:
            raise ValueError(f"subsets must be positive, got {subsets}")
        if rng is None:
            raise ValueError("KID on random subsets needs rng")
    values = np.empty(len(real))
    for r, (x, y) in enumerate(zip(real, synthetic, strict=True)):
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
        if subset_size is None:
            values[r] = mmd2_unbiased(x, y)
            continue
        draws = []
        for _ in range(subsets):
            pick_x = rng.choice(n, subset_size, replace=False)
            pick_y = rng.choice(m, subset_size, replace=False)
            draws.append(mmd2_unbiased(x[pick_x], y[pick_y]))
        values[r] = np.mean(draws)
    return finish({"kid": values}, single)["kid"]
