"""Shared input handling for sample metrics: batching, shape and NaN checks, the sample cap.

Sample metrics take ``(n, d)`` arrays (one replicate, float results) or batched ``(R, n, d)``
arrays (``(R,)`` results). Every check raises ``ValueError`` with the offending shape or value.
"""

from __future__ import annotations

import numpy as np

_CHECK_ELEMENTS = 1 << 20  # entries per chunk when scanning for NaN and inf


def as_float(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a floating array (float32 stays float32, anything else becomes float64), all finite."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    # scan in chunks of rows (views when contiguous): a chunk's sum is finite unless an entry is
    # NaN or inf, or the sum overflows, and only then is it checked entry by entry
    rows = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)
    step = max(1, _CHECK_ELEMENTS // max(1, rows.shape[1]))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        if not np.isfinite(chunk.sum()) and not np.isfinite(chunk).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    return x


def batched(x: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """``x`` ``(n, d)`` or ``(R, n, d)`` as ``(R, n, d)``, and whether it was a single ``(n, d)`` set."""
    x = as_float(x, name) if np.size(x) else np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3) or min(x.shape) == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) or (R, n, d) array, got shape {x.shape}")
    return (x[None], True) if x.ndim == 2 else (x, False)


def paired(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``real`` and ``synthetic`` as ``(R, n, d)`` and ``(R, m, d)`` with matching ``R`` and ``d``."""
    real3, single = batched(real, "real")
    synthetic3, single_s = batched(synthetic, "synthetic")
    if single != single_s or real3.shape[::2] != synthetic3.shape[::2]:
        raise ValueError(
            "real and synthetic must be (n, d) / (R, n, d) alike, got "
            f"{np.shape(real)} and {np.shape(synthetic)}"
        )
    return real3, synthetic3, single


def cap_samples(
    x: np.ndarray, max_samples: int | None, rng: np.random.Generator | None, name: str
) -> np.ndarray:
    """At most ``max_samples`` rows of ``x`` ``(R, n, d)``: a uniform subset without replacement.

    The same row indices, drawn from ``rng``, are used for every replicate. ``max_samples``
    of ``None`` or ``>= n`` returns ``x`` unchanged and draws nothing.
    """
    if max_samples is None:
        return x
    if isinstance(max_samples, bool) or not isinstance(max_samples, int | np.integer) or max_samples < 1:
        raise ValueError(f"max_samples must be a positive integer or None, got {max_samples!r}")
    n = x.shape[-2]
    if max_samples >= n:
        return x
    if rng is None:
        raise ValueError(f"subsampling {name} from {n} to {max_samples} rows needs rng")
    return x[..., np.sort(rng.choice(n, size=int(max_samples), replace=False)), :]


def check_k(k: int, *sizes: int) -> None:
    """Raise unless ``1 <= k <= n - 1`` for every set size ``n`` (a k-th neighbour other than itself)."""
    n = min(sizes)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < n:
        raise ValueError(f"k must be in [1, n - 1] = [1, {n - 1}] for sets of {n} samples, got {k!r}")


def finish(values: dict[str, np.ndarray], single: bool) -> dict:
    """Floats for a single replicate, ``(R,)`` arrays otherwise."""
    return {key: float(v[0]) for key, v in values.items()} if single else values
