"""Precision, recall (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020).

With B_i the ball around real sample i of radius its distance to its k-th nearest other real
sample, and S_j likewise around synthetic sample j:

- precision = share of synthetic samples inside at least one B_i (quality);
- recall    = share of real samples inside at least one S_j (diversity);
- density   = mean over synthetic samples of (number of B_i containing it) / k;
- coverage  = share of real samples whose B_i contains at least one synthetic sample.

Boundary convention (``boundary``): ``"open"`` counts a point on a ball's surface as outside
(``dist < radius``, as in the ``prdc`` package of Naeem et al.); ``"closed"`` counts it inside
(``dist <= radius``, as in Kynkaanniemi et al.'s original code). On continuous data the two
agree; they differ for exact duplicates. A sample's own copy counts as a neighbour at distance
0, so a real sample with k or more exact copies among the real set has radius 0: its ball is
empty when open and holds exactly its copies when closed. A memorised synthetic copy of a real
sample lies at distance 0 from it, hence inside its ball whenever that radius is positive (or
always, when closed): copying the real set gives precision = recall = coverage = 1.

Each set's radii come from one pass over its own float32 distance tiles, and all four values
from one pass over the real x synthetic tiles (``autophagy.metrics.balls``): memory beyond the
inputs is O(tile^2 + tile d + N), never O(N^2). Comparisons too close to call in float32 are
redone exactly in float64, so the values equal those from exact float64 distances (and so
``prdc.compute_prdc`` on continuous data).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from autophagy.metrics.balls import Boundary, Radii, ball_memberships, kth_radii
from autophagy.metrics.inputs import batched, cap_samples, check_k, finish, paired
from autophagy.metrics.tiles import Points, prepare

_BLOCK_ELEMENTS = 1024**2  # entries per float32 tile (4 MiB); 2048 a side held 60 MB more, no faster


def _tile(chunk_size: int | None) -> int:
    if chunk_size is None:
        return max(1, math.isqrt(_BLOCK_ELEMENTS))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    return int(chunk_size)


def _both_radii(real: Points, synthetic: Points, k: int, tile: int) -> tuple[Radii, Radii]:
    """Both sets' k-th neighbour radii; on several cores and sets of several tiles, the two
    passes run side by side with one BLAS thread each, which keeps both cores busy through
    the passes' single-threaded bookkeeping (thresholds, shortlists) as well as their products."""
    if (os.cpu_count() or 1) < 2 or min(len(real.raw), len(synthetic.raw)) < 2 * tile:
        return kth_radii(real, k, tile), kth_radii(synthetic, k, tile)
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=2) as pool:
        r2, s2 = pool.submit(kth_radii, real, k, tile), pool.submit(kth_radii, synthetic, k, tile)
        return r2.result(), s2.result()


def _spread2(x: np.ndarray, centre: np.ndarray, tile: int) -> float:
    """Mean squared distance of the rows of ``x`` ``(n, d)`` to ``centre``, ``tile`` rows at a time."""
    total = 0.0
    for start in range(0, len(x), tile):
        part = np.asarray(x[start : start + tile], dtype=np.float64) - centre
        total += float(np.einsum("ij,ij->", part, part))
    return total / len(x)


def _prdc_one(real: np.ndarray, synthetic: np.ndarray, k: int, boundary: Boundary, tile: int) -> tuple:
    """Precision, recall, density, coverage of one replicate ``(n, d)``, ``(m, d)``.

    Float32 operands are made per tile from the caller's rows (making one costs O(tile d) against
    the product's O(tile^2 d), and keeping them would hold one more copy of each set), both sets
    centred at the real mean; a synthetic set far from it (shift^2 above its own total variance,
    which would at least double its norms and so the float32 error band) gets its own centre
    for its own pass.
    """
    real_pts = prepare(real, real.mean(axis=0, dtype=np.float64))
    fake_pts = prepare(synthetic, real_pts.centre)  # one centre for the cross distances
    own_centre = synthetic.mean(axis=0, dtype=np.float64)
    shift2 = float(np.sum((own_centre - real_pts.centre) ** 2))
    own_pts = fake_pts if shift2 <= _spread2(synthetic, own_centre, tile) else prepare(synthetic, own_centre)
    r2, s2 = _both_radii(real_pts, own_pts, k, tile)
    counts, covered, recalled = ball_memberships(real_pts, fake_pts, r2, s2, boundary, tile)
    return (counts > 0).mean(), recalled.mean(), (1.0 / k) * counts.mean(), covered.mean()  # as prdc


def prdc(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    k: int = 5,
    boundary: Boundary = "open",
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int | None = None,
) -> dict:
    """Precision, recall, density and coverage of ``synthetic`` against ``real``.

    ``real`` ``(n, d)`` and ``synthetic`` ``(m, d)`` give a dict of floats; batched ``(R, n, d)``
    and ``(R, m, d)`` give a dict of ``(R,)`` arrays; keys ``precision``, ``recall``, ``density``,
    ``coverage``. ``k``: the neighbour setting each ball's radius (papers: 5). ``boundary``:
    ``"open"`` (``<``, the default, matches ``prdc.compute_prdc``) or ``"closed"`` (``<=``).
    ``max_samples``: cap on rows per set, a subset drawn from ``rng`` when a set is larger.
    ``chunk_size``: side of the distance tiles (default 1024); results do not depend on it.
    Precision and recall are higher-is-better; density is ~1 and coverage ~1 when the sets
    share a distribution (E[coverage] = 1 - prod_{i=1..k} (n - i) / (n + m - i)).
    """
    if boundary not in ("open", "closed"):
        raise ValueError(f"boundary must be 'open' or 'closed', got {boundary!r}")
    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    check_k(k, real.shape[1], synthetic.shape[1])
    tile = _tile(chunk_size)
    values = np.array([_prdc_one(r, s, k, boundary, tile) for r, s in zip(real, synthetic, strict=True)])
    keys = ("precision", "recall", "density", "coverage")
    return finish({key: values[:, i] for i, key in enumerate(keys)}, single)


def precision_recall(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    k: int = 5,
    boundary: Boundary = "closed",
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int | None = None,
) -> dict:
    """Precision and recall of ``synthetic`` against ``real`` (closed balls, as the original code).

    Shapes ``(n, d)`` and ``(m, d)`` give floats; batched ``(R, n, d)`` and ``(R, m, d)`` give
    arrays ``(R,)``. Other arguments as :func:`prdc`, which this delegates to.
    """
    values = prdc(
        real, synthetic, k=k, boundary=boundary, max_samples=max_samples, rng=rng, chunk_size=chunk_size
    )
    return {"precision": values["precision"], "recall": values["recall"]}


def knn_radii_squared(x: np.ndarray, k: int, *, chunk_size: int | None = None) -> np.ndarray:
    """Squared distance from each point of ``x`` ``(R, n, d)`` to its k-th nearest other point, ``(R, n)``."""
    x, _ = batched(x, "x")
    check_k(k, x.shape[1])
    tile = _tile(chunk_size)
    out = np.empty(x.shape[:2])
    for r, xr in enumerate(x):
        out[r] = kth_radii(prepare(xr, xr.mean(axis=0, dtype=np.float64)), k, tile).exact(np.arange(len(xr)))
    return out
