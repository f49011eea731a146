"""Mode statistics for samples of a mixture whose modes are known (e.g. a 2-D grid of Gaussians).

Each sample is assigned to its nearest mode. It is *high quality* when within ``n_std``
standard deviations (Euclidean distance <= n_std * std) of that mode; a mode is *covered* when it
receives at least ``min_count`` high-quality samples (the 2-D grid protocol of the GAN
mode-collapse literature, 3 standard deviations). For an isotropic 2-D Gaussian mode, the share
within 3 std is 1 - exp(-4.5) ~ 0.989.
"""

from __future__ import annotations

import numpy as np

from autophagy.metrics.inputs import as_float, batched, cap_samples, finish

_BLOCK_ELEMENTS = 1 << 20


def grid_modes(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """Centres ``(side^2, 2)`` of a ``side`` x ``side`` grid with ``spacing``, centred on the origin."""
    if side < 1 or spacing <= 0:
        raise ValueError(f"need side >= 1 and spacing > 0, got {side} and {spacing}")
    axis = (np.arange(side) - (side - 1) / 2) * spacing
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


def _nearest(x: np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index ``(n,)`` of each row's nearest mode and the squared distance ``(n,)`` to it."""
    step = max(1, _BLOCK_ELEMENTS // (modes.size or 1))
    index, dist2 = np.empty(len(x), dtype=np.int64), np.empty(len(x))
    for start in range(0, len(x), step):
        d2 = np.sum((x[start : start + step, None, :] - modes[None]) ** 2, axis=-1)
        index[start : start + step] = np.argmin(d2, axis=1)
        dist2[start : start + step] = np.take_along_axis(d2, index[start : start + step, None], 1)[:, 0]
    return index, dist2


def mode_stats(
    samples: np.ndarray,
    modes: np.ndarray,
    std: float,
    *,
    n_std: float = 3.0,
    min_count: int = 1,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict:
    """Modes covered, high-quality share and mean per-mode variance of ``samples`` around ``modes``.

    ``samples`` ``(n, d)`` give floats, batched ``(R, n, d)`` give ``(R,)`` arrays; ``modes``
    ``(K, d)``; ``std`` each mode's standard deviation. Keys: ``modes_covered`` (count of
    covered modes, higher is better), ``high_quality`` (share of high-quality samples, higher is
    better), ``mode_variance`` (mean over modes with >= 2 high-quality samples of the per-coordinate
    unbiased variance of those samples, compare with std^2; NaN when no mode qualifies; for
    isotropic 2-D modes the 3-std truncation gives (1 - 5.5 exp(-4.5)) / (1 - exp(-4.5)) std^2).
    """
    x, single = batched(samples, "samples")
    modes = as_float(modes, "modes")
    if modes.ndim != 2 or modes.shape[1] != x.shape[-1] or len(modes) == 0:
        raise ValueError(f"modes must be (K, {x.shape[-1]}), got shape {modes.shape}")
    if not std > 0 or not n_std > 0 or min_count < 1:
        raise ValueError(f"need std > 0, n_std > 0, min_count >= 1, got {std}, {n_std}, {min_count}")
    x = cap_samples(x, max_samples, rng, "samples").astype(np.float64, copy=False)
    k = len(modes)
    covered, quality, variance = (np.empty(len(x)) for _ in range(3))
    for r, xr in enumerate(x):
        index, dist2 = _nearest(xr, modes)
        good = dist2 <= (n_std * std) ** 2
        counts = np.bincount(index[good], minlength=k)
        covered[r] = np.sum(counts >= min_count)
        quality[r] = good.mean()
        sums = np.zeros((k, x.shape[-1]))
        np.add.at(sums, index[good], xr[good])
        means = sums / np.maximum(counts, 1)[:, None]
        squares = np.zeros(k)
        np.add.at(squares, index[good], np.sum((xr[good] - means[index[good]]) ** 2, axis=1))
        ok = counts >= 2
        per_mode = squares[ok] / ((counts[ok] - 1) * x.shape[-1])
        variance[r] = per_mode.mean() if ok.any() else np.nan
    return finish({"modes_covered": covered, "high_quality": quality, "mode_variance": variance}, single)


def known_mode_stats(real: np.ndarray, synthetic: np.ndarray, *, data: object, k: int | None = None) -> dict:
    """:func:`mode_stats` of ``synthetic`` around the modes of a mixture data source (``data.modes``,
    ``data.mode_std``), 3 std and one sample per mode; ``real`` and ``k`` are unused (registry call)."""
    return mode_stats(synthetic, data.modes, data.mode_std)
