"""Precision and recall of Kynkaanniemi et al. (2019) from k-nearest-neighbour balls.

precision = share of synthetic samples inside at least one real k-NN ball;
recall    = share of real samples inside at least one synthetic k-NN ball.
A ball's radius is the distance from a sample to its k-th nearest neighbour in its own
set, excluding itself. Points on a ball's boundary count as inside (``<=``, as in the
original code). Distances are computed in blocks so memory stays O(R x block x n).
"""

from __future__ import annotations

import numpy as np

_BLOCK_ELEMENTS = 1 << 22  # float64 entries per distance block (32 MiB)


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(R, m, n)`` between ``a`` ``(R, m, d)`` and ``b`` ``(R, n, d)``."""
    d2 = a @ np.ascontiguousarray(np.swapaxes(b, -1, -2))  # contiguous operands keep BLAS
    d2 *= -2.0
    d2 += np.einsum("...i,...i->...", a, a)[..., :, None]
    d2 += np.einsum("...i,...i->...", b, b)[..., None, :]
    return np.maximum(d2, 0.0, out=d2)


def _block_rows(r: int, n: int) -> int:
    """Rows per block so that an ``(r, rows, n)`` float64 block stays near 32 MiB."""
    return max(1, _BLOCK_ELEMENTS // max(1, r * n))


def knn_radii_squared(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each point of ``x`` ``(R, n, d)`` to its k-th nearest other point."""
    r, n, _ = x.shape
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, n - 1] = [1, {n - 1}], got {k}")
    out = np.empty((r, n))
    step = _block_rows(r, n)
    for start in range(0, n, step):
        d2 = _squared_distances(x[:, start : start + step], x)
        # position 0 of the partition is the point itself (distance 0), so index k skips it
        out[:, start : start + d2.shape[1]] = np.partition(d2, k, axis=-1)[..., k]
    return out


def _share_inside(points: np.ndarray, centres: np.ndarray, radii2: np.ndarray) -> np.ndarray:
    """Share ``(R,)`` of ``points`` inside at least one ball (``centres``, squared ``radii2``)."""
    r, m, _ = points.shape
    inside = np.zeros((r, m), dtype=bool)
    step = _block_rows(r, centres.shape[1])
    for start in range(0, m, step):
        d2 = _squared_distances(points[:, start : start + step], centres)
        inside[:, start : start + step] = np.any(d2 <= radii2[:, None, :], axis=-1)
    return inside.mean(axis=-1)


def precision_recall(real: np.ndarray, synthetic: np.ndarray, *, k: int = 5) -> dict[str, np.ndarray]:
    """Precision and recall of ``synthetic`` against ``real``.

    Shapes ``(n, d)`` and ``(m, d)`` give floats; batched ``(R, n, d)`` and ``(R, m, d)``
    give arrays ``(R,)``. ``k`` is the neighbour defining each ball (paper: k = 5).
    """
    real = np.asarray(real, dtype=np.float64)
    synthetic = np.asarray(synthetic, dtype=np.float64)
    single = real.ndim == 2
    if single:
        real, synthetic = real[None], synthetic[None]
    if real.ndim != 3 or synthetic.ndim != 3 or real.shape[::2] != synthetic.shape[::2]:
        raise ValueError(
            f"real and synthetic must be (n, d) / (R, n, d) alike, got {real.shape} and {synthetic.shape}"
        )
    precision = _share_inside(synthetic, real, knn_radii_squared(real, k))
    recall = _share_inside(real, synthetic, knn_radii_squared(synthetic, k))
    if single:
        return {"precision": float(precision[0]), "recall": float(recall[0])}
    return {"precision": precision, "recall": recall}
