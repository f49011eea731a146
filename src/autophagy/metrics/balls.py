"""k-nearest-neighbour balls from float32 distance tiles, exact near every boundary.

The k-th neighbour radius of every row, and which rows of one set lie in which balls of the
other, come from float32 tiles (``autophagy.metrics.tiles``): memory O(tile^2 + tile d + n)
beyond the caller's rows. A radius is first known as an interval [lo, hi] from the estimates;
its exact float64 value is computed only when some comparison falls inside that interval, and
a pair's exact distance only when its estimate cannot decide the comparison. Every decision
therefore equals the one taken on exact float64 distances. A row whose k-th neighbour is
crowded by near-ties in float32 (e.g. far clusters, whose norms centring cannot shrink) is
redone with float64 tiles, then exactly.

Exact duplicates are ordinary neighbours at distance 0 (a row's self is excluded by index); a
row with k or more exact copies has radius 0 without any tile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from autophagy.metrics.tiles import (
    Points,
    as_column,
    block64,
    duplicate_counts,
    estimate64,
    exact_pairs,
    hits,
    slack,
)

Boundary = Literal["open", "closed"]
_CROWDED = 64  # candidates per row beyond 4 k that send the row to a finer precision
_SUB_TILE = 512  # rows of the sub-tiles covering a diagonal tile (only its upper half is needed)


def _kth_per_row(rows: np.ndarray, values: np.ndarray, kth: np.ndarray, n_rows: int) -> np.ndarray:
    """``kth[r]``-th smallest (1-based) of ``values`` over entries of each row ``r``; inf if too few."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values)] = np.arange(len(values))
    order = np.argsort(rows * len(values) + rank)  # by row, then by value: one integer sort
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    out = np.full(n_rows, np.inf)
    ok = (counts >= kth) & (kth >= 1)
    out[ok] = values[order[starts[ok] + kth[ok] - 1]]
    return out


@dataclass
class Radii:
    """Squared k-th neighbour radii ``(n,)``: each within ``[lo, hi]``, exact values on demand.

    ``value`` holds the exact radii known so far (NaN elsewhere); ``resolve(rows)`` computes
    those of distinct rows.
    """

    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    resolve: Callable[[np.ndarray], np.ndarray]

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """Exact squared radii of ``rows`` (repeats allowed), computing the unknown ones once."""
        todo = np.unique(rows[np.isnan(self.value[rows])])
        if len(todo):
            self.value[todo] = self.resolve(todo)
        return self.value[rows]


class _Shortlist:
    """Per-row candidates for a k-th smallest exact distance, from estimates ``e`` within ``t``.

    ``ub[r]`` bounds the k-th smallest exact value from above (the k-th smallest ``e + t`` seen);
    a pair with ``e - t > ub`` can never be it, so only the others are kept.
    """

    def __init__(self, n_rows: int, k: int, active: np.ndarray):
        self.n_rows, self.k = n_rows, k
        self.ub = np.where(active, np.inf, -np.inf)  # inactive rows collect nothing
        self.crowded = np.zeros(n_rows, dtype=bool)
        self._parts: list[tuple[np.ndarray, ...]] = []
        self._size = 0
        self._limit = 2 * n_rows * (k + 8) + (1 << 16)

    def seed(self, rows: np.ndarray | slice, e: np.ndarray, row_slack: np.ndarray) -> None:
        """Bound ``ub`` from a tile ``e`` ``(b, w)`` whose pair slacks are at most ``row_slack`` ``(b,)``."""
        if e.shape[1] >= self.k:
            kth = np.partition(e, self.k - 1, axis=1)[:, self.k - 1].astype(np.float64)
            self.ub[rows] = np.minimum(self.ub[rows], kth + row_slack)

    def add(self, rows: np.ndarray, cols: np.ndarray, e: np.ndarray, t: np.ndarray) -> None:
        """Offer pairs (row, col) with estimates ``e`` and slacks ``t``."""
        keep = e - t <= self.ub[rows]
        self._parts.append((rows[keep], cols[keep], e[keep], t[keep]))
        self._size += int(keep.sum())
        if self._size > self._limit:
            self.tighten()

    def tighten(self) -> tuple[np.ndarray, ...]:
        """Lower ``ub`` to the k-th smallest ``e + t`` kept, drop what it excludes, flag crowded rows."""
        if not self._parts:
            self._parts = [(np.empty(0, dtype=np.int64),) * 2 + (np.empty(0),) * 2]
        rows, cols, e, t = (np.concatenate(p) for p in zip(*self._parts, strict=True))
        self.ub = np.minimum(self.ub, _kth_per_row(rows, e + t, np.full(self.n_rows, self.k), self.n_rows))
        keep = e - t <= self.ub[rows]
        crowded = np.bincount(rows[keep], minlength=self.n_rows) > 4 * self.k + _CROWDED
        self.crowded |= crowded
        self.ub[crowded] = -np.inf
        keep &= ~crowded[rows]
        kept = (rows[keep], cols[keep], e[keep], t[keep])
        self._parts, self._size = [kept], len(kept[0])
        return kept

    def finish(
        self, exact: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Bounds ``lo <= r <= hi`` ``(n_rows,)`` of each row's k-th smallest exact value, and a
        function giving the exact values of distinct rows from ``exact(rows, cols)``.

        Pairs surely below the k-th (``e + t`` under the k-th smallest ``e - t``) are only
        counted; the others are recomputed exactly and ranked, for the rows asked for.
        """
        rows, cols, e, t = self.tighten()
        k = np.full(self.n_rows, self.k)
        lo, hi = _kth_per_row(rows, e - t, k, self.n_rows), self.ub.copy()
        below = e + t < lo[rows]
        need = self.k - np.bincount(rows[below], minlength=self.n_rows)
        order = np.argsort(rows[~below], kind="stable")
        rows, cols = rows[~below][order], cols[~below][order]
        counts = np.bincount(rows, minlength=self.n_rows)
        starts = np.cumsum(counts) - counts

        def resolve(which: np.ndarray) -> np.ndarray:
            n_pairs = counts[which]
            first = np.cumsum(n_pairs) - n_pairs
            picks = np.repeat(starts[which] - first, n_pairs) + np.arange(n_pairs.sum())
            owner = np.repeat(np.arange(len(which)), n_pairs)
            return _kth_per_row(owner, exact(rows[picks], cols[picks]), need[which], len(which))

        return lo, hi, resolve


def _add_both_ways(
    short: _Shortlist, e: np.ndarray, at: tuple[int, int], na: np.ndarray, nb: np.ndarray, unit: float
) -> None:
    """Offer the pairs of an off-diagonal tile ``e`` (rows ``at[0]:`` by ``at[1]:``) to both rows."""
    s, c = at
    rr, cc = hits(e, (short.ub[s : s + len(na)] + unit * (na + nb.max()))[:, None])
    short.add(rr + s, cc + c, e[rr, cc].astype(np.float64), unit * (na[rr] + nb[cc]))
    rr, cc = hits(e, (short.ub[c : c + len(nb)] + unit * (nb + na.max()))[None, :])
    short.add(cc + c, rr + s, e[rr, cc].astype(np.float64), unit * (na[rr] + nb[cc]))


def _diagonal_block(short: _Shortlist, a: np.ndarray, na: np.ndarray, s: int, unit: float) -> None:
    """Pairs within rows ``s : s + len(a)`` (row operands ``a``), by sub-tiles on and above the
    diagonal; the diagonal ones come first and seed every row's bound."""
    col = as_column(a, na)
    for i in range(0, len(a), _SUB_TILE):
        n_sub = na[i : i + _SUB_TILE]
        rows = slice(s + i, s + i + len(n_sub))
        e = a[i : i + _SUB_TILE] @ col[i : i + _SUB_TILE].T
        np.fill_diagonal(e, np.inf)  # a row is not its own neighbour
        short.seed(rows, e, unit * (n_sub + n_sub.max()))
        rr, cc = hits(e, (short.ub[rows] + unit * (n_sub + n_sub.max()))[:, None])
        short.add(rr + s + i, cc + s + i, e[rr, cc].astype(np.float64), unit * (n_sub[rr] + n_sub[cc]))
    for i in range(0, len(a), _SUB_TILE):
        for j in range(i + _SUB_TILE, len(a), _SUB_TILE):
            e = a[i : i + _SUB_TILE] @ col[j : j + _SUB_TILE].T
            _add_both_ways(short, e, (s + i, s + j), na[i : i + _SUB_TILE], na[j : j + _SUB_TILE], unit)


def _radii_float32(x: Points, k: int, tile: int, active: np.ndarray) -> tuple:
    """Bounds, resolver (as ``_Shortlist.finish``) and crowded rows of the ``active`` rows' radii.

    The distance matrix is symmetric: diagonal tiles go first (seeding every row's bound), then
    each off-diagonal tile is computed once and read along its rows and along its columns.
    """
    n, d = x.raw.shape
    unit = slack(d)
    short = _Shortlist(n, k, active)
    for s in range(0, n, tile):
        _diagonal_block(short, *x.operand(slice(s, s + tile), "row"), s, unit)
    short.tighten()
    for s in range(0, n - tile, tile):
        a, na = x.operand(slice(s, s + tile), "row")
        for c in range(s + tile, n, tile):
            b, nb = x.operand(slice(c, c + tile), "col")
            _add_both_ways(short, a @ b.T, (s, c), na, nb, unit)
    return *short.finish(lambda i, j: exact_pairs(x.raw, x.raw, i, j)), short.crowded


def _radii_float64(x: Points, rows: np.ndarray, k: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact squared radii ``(b,)`` of ``rows`` ``(b,)`` from float64 tiles, and which are still crowded."""
    n, d = x.raw.shape
    unit = slack(d, np.float64)
    short = _Shortlist(len(rows), k, np.ones(len(rows), dtype=bool))
    a, na = block64(x, rows)
    for c in range(0, n, tile):
        b, nb = block64(x, slice(c, c + tile))
        e = estimate64(a, na, b, nb)
        own = np.flatnonzero((rows >= c) & (rows < c + len(b)))
        e[own, rows[own] - c] = np.inf
        short.seed(slice(None), e, unit * (na + nb.max()))
        rr, cc = hits(e, (short.ub + unit * (na + nb.max()))[:, None])
        short.add(rr, cc + c, e[rr, cc], unit * (na[rr] + nb[cc]))
    resolve = short.finish(lambda i, j: exact_pairs(x.raw, x.raw, rows[i], j))[2]
    return resolve(np.arange(len(rows))), short.crowded


def _radius_exact(x: Points, row: int, k: int) -> float:
    """Squared k-th radius of one row from exact distances to every row."""
    n = len(x.raw)
    d2 = exact_pairs(x.raw, x.raw, np.full(n, row), np.arange(n))
    d2[row] = np.inf
    return float(np.partition(d2, k - 1)[k - 1])


def kth_radii(x: Points, k: int, tile: int) -> Radii:
    """Squared distance from each row of ``x`` to its k-th nearest other row, as ``Radii``."""
    done = duplicate_counts(x.raw) >= k  # k exact copies: the radius is 0
    lo, hi, resolve, crowded = _radii_float32(x, k, tile, ~done)
    value = np.where(done, 0.0, np.nan)
    todo = np.flatnonzero(crowded)
    for start in range(0, len(todo), tile):
        rows = todo[start : start + tile]
        value[rows], still = _radii_float64(x, rows, k, tile)
        for row in rows[still]:
            value[row] = _radius_exact(x, row, k)
    known = ~np.isnan(value)
    lo[known] = hi[known] = value[known]
    return Radii(lo, hi, value, resolve)


def _inside(
    real: Points,
    fake: Points,
    at: tuple[int, int],
    e: np.ndarray,
    radii: Radii,
    by_row: bool,
    boundary: Boundary,
) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) positions of tile ``e`` whose pair lies inside a ball.

    The tile starts at real row ``at[0]`` and synthetic row ``at[1]``; the balls are those of
    its rows (``by_row``, real ``radii``) or of its columns (synthetic ``radii``).
    """
    s, c = at
    na, nb = real.norms[s : s + e.shape[0]], fake.norms[c : c + e.shape[1]]
    unit = slack(real.raw.shape[1])
    if by_row:
        rr, cc = hits(e, (radii.hi[s : s + len(na)] + unit * (na + nb.max()))[:, None])
        ball = rr + s
    else:
        rr, cc = hits(e, (radii.hi[c : c + len(nb)] + unit * (nb + na.max()))[None, :])
        ball = cc + c
    est, t = e[rr, cc].astype(np.float64), unit * (na[rr] + nb[cc])
    inside = est + t < radii.lo[ball]  # surely inside under either boundary convention
    unsure = np.flatnonzero(~inside & (est - t <= radii.hi[ball]))
    if len(unsure):
        r, est, t = radii.exact(ball[unsure]), est[unsure], t[unsure]
        decided = est + t < r
        maybe = np.flatnonzero(~decided & (est - t <= r))
        exact = exact_pairs(real.raw, fake.raw, rr[unsure[maybe]] + s, cc[unsure[maybe]] + c)
        decided[maybe] = exact < r[maybe] if boundary == "open" else exact <= r[maybe]
        inside[unsure] = decided
    return rr[inside], cc[inside]


def ball_memberships(
    real: Points, fake: Points, r: Radii, s: Radii, boundary: Boundary, tile: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who lies in whose ball, between real rows (radii ``r``) and synthetic rows (radii ``s``).

    Both sets must be prepared around the same centre. Returns ``counts`` ``(m,)``: real balls
    containing each synthetic row; ``covered`` ``(n,)``: the real row's ball contains a synthetic
    row; ``recalled`` ``(n,)``: the real row lies in some synthetic ball.
    """
    n, m = len(real.raw), len(fake.raw)
    counts = np.zeros(m, dtype=np.int64)
    covered = np.zeros(n, dtype=bool)
    recalled = np.zeros(n, dtype=bool)
    for i in range(0, n, tile):
        a = real.operand(slice(i, i + tile), "row")[0]
        for j in range(0, m, tile):
            b = fake.operand(slice(j, j + tile), "col")[0]
            e = a @ b.T
            rr, cc = _inside(real, fake, (i, j), e, r, True, boundary)
            counts[j : j + len(b)] += np.bincount(cc, minlength=len(b))
            covered[rr + i] = True
            rr, _ = _inside(real, fake, (i, j), e, s, False, boundary)
            recalled[rr + i] = True
    return counts, covered, recalled
