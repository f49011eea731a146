"""Squared-distance tiles in float32 with a rigorous error bound, and exact float64 distances.

A tile of squared distances between rows a and b is one float32 matrix product of augmented
rows, [-2 a, |a|^2, 1].[b, 1, |b|^2] = |a|^2 + |b|^2 - 2 a.b, where a and b are the caller's
rows minus a centre, rounded to float32 one tile at a time (no copy of a whole set is kept).
Each estimate lies within ``slack * (|a|^2 + |b|^2)`` of the exact float64 squared distance
sum((x - y)^2) that ``exact_pairs`` computes, so any comparison outside that band is decided
by the estimate and only the few inside need the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

_PAIR_ELEMENTS = 1 << 18  # float64 entries per batch of exact pair differences (2 MiB)


@dataclass(frozen=True)
class Points:
    """Rows ready for distance tiles.

    raw: ``(n, d)`` the caller's rows (float32 or float64); exact distances use their float64 values.
    centre: ``(d,)`` float64 point subtracted before the float32 cast (centring keeps |a|^2 small).
    norms: ``(n,)`` squared norms of the centred float32 rows, filled on first use (NaN before).
    columns: ``(n, d + 2)`` every row's column operand, kept when the set is read many times
    (``None``: operands are made from ``raw`` tile by tile).
    """

    raw: np.ndarray
    centre: np.ndarray
    norms: np.ndarray
    columns: np.ndarray | None = None

    def operand(self, rows: slice, side: Literal["row", "col"]) -> tuple[np.ndarray, np.ndarray]:
        """Float32 operand ``(b, d + 2)`` of a tile product, and the rows' squared norms ``(b,)``.

        Row operands are [-2 a, |a|^2, 1], column operands [a, 1, |a|^2], a = fl32(rows - centre):
        the same values every time they are made.
        """
        if self.columns is not None:
            col = self.columns[rows]
            return (col, self.norms[rows]) if side == "col" else (as_row(col), self.norms[rows])
        raw = self.raw[rows]
        b, d = raw.shape
        out = np.empty((b, d + 2), dtype=np.float32)
        body = out[:, :d]
        np.subtract(raw, self.centre, out=body, casting="same_kind")  # in float64, then cast
        norms = self.norms[rows]  # a view, filled in place on first use
        if np.isnan(norms).any():
            norms[:] = np.einsum("ij,ij->i", body, body, dtype=np.float64).astype(np.float32)
        if side == "row":
            body *= -2.0  # exact
        out[:, d], out[:, d + 1] = (norms, 1.0) if side == "row" else (1.0, norms)
        return out, norms


def prepare(raw: np.ndarray, centre: np.ndarray, *, keep: bool = False, tile: int = 2048) -> Points:
    """``raw`` ``(n, d)`` to be centred at ``centre`` ``(d,)``.

    With ``keep`` every column operand is made once, ``tile`` rows at a time, and kept
    (``n (d + 2)`` float32: one more copy of the set, in half the bytes of float64); otherwise
    nothing is copied and operands are made per tile.
    """
    points = Points(raw, np.asarray(centre, dtype=np.float64), np.full(len(raw), np.nan))
    if not keep:
        return points
    columns = np.empty((len(raw), raw.shape[1] + 2), dtype=np.float32)
    for start in range(0, len(raw), tile):
        columns[start : start + tile] = points.operand(slice(start, start + tile), "col")[0]
    return Points(points.raw, points.centre, points.norms, columns)


def as_column(row_operand: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """The column operand [a, 1, |a|^2] from a row operand [-2 a, |a|^2, 1] (halving is exact)."""
    out = np.empty_like(row_operand)
    np.multiply(row_operand[:, :-2], -0.5, out=out[:, :-2])
    out[:, -2], out[:, -1] = 1.0, norms
    return out


def as_row(column_operand: np.ndarray) -> np.ndarray:
    """The row operand [-2 a, |a|^2, 1] from a column operand [a, 1, |a|^2] (doubling is exact)."""
    out = np.empty_like(column_operand)
    np.multiply(column_operand[:, :-2], -2.0, out=out[:, :-2])
    out[:, -2], out[:, -1] = column_operand[:, -1], 1.0
    return out


def slack(d: int, dtype: type = np.float32) -> float:
    """Error bound, per unit of |a|^2 + |b|^2, of a squared-distance estimate made in ``dtype``.

    With a, b the centred rows rounded to precision u, the augmented product of length d + 2 errs
    by at most gamma_{d+2} = (d + 2) u / (1 - (d + 2) u) times the sum of its terms' magnitudes,
    itself at most 2 (|a|^2 + |b|^2) (Higham, Accuracy and Stability of Numerical Algorithms,
    eq. 3.5); the rounded norms add u and the rounding of the rows 4 u; the float64 reference
    sum((x - y)^2) errs by at most 2 (d + 2) u_64. Total (2 d + 9) u + 2 (d + 2) u_64, taken here
    with a 25 % margin on the first term. It also covers the plain float64 formula of ``estimate64``.
    """
    u, u64 = float(np.finfo(dtype).eps) / 2, float(np.finfo(np.float64).eps) / 2
    return 1.25 * (2 * d + 9) * u / (1 - (d + 2) * u) + 2 * (d + 2) * u64


def block64(x: Points, rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
    """Centred float64 rows ``(b, d)`` and their squared norms ``(b,)``."""
    a = np.asarray(x.raw[rows], dtype=np.float64) - x.centre
    return a, np.einsum("ij,ij->i", a, a)


def estimate64(a: np.ndarray, na: np.ndarray, b: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """Squared distances ``(p, q)`` between float64 rows ``a`` ``(p, d)`` and ``b`` ``(q, d)``."""
    e = a @ b.T
    e *= -2.0
    e += na[:, None]
    e += nb[None, :]
    return e


def hits(e: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) positions of ``e`` ``(b, w)`` at or under ``thresholds`` (``(b, 1)`` or ``(1, w)``).

    Thresholds are rounded to ``e``'s dtype, which can only add positions, never lose one.
    """
    found = np.flatnonzero(e <= thresholds.astype(e.dtype))
    return np.divmod(found, e.shape[1])


def exact_pairs(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Exact float64 squared distances ``(p,)`` between rows ``x[i]`` and ``y[j]``, in bounded batches."""
    out = np.empty(len(i))
    step = max(1, _PAIR_ELEMENTS // max(1, x.shape[1]))
    for start in range(0, len(i), step):
        diff = np.asarray(x[i[start : start + step]], dtype=np.float64) - y[j[start : start + step]]
        out[start : start + step] = np.einsum("ij,ij->i", diff, diff)
    return out


def duplicate_counts(raw: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Number of other rows exactly equal to each row of ``raw`` ``(n, d)``, as ``(n,)`` integers.

    Rows are grouped by a random projection, then checked for equality with their group's first
    row (a collision falls back to ``np.unique``). Equal rows whose projections differ in the last
    bit would only be missed, never miscounted: the count is a lower bound, exact in practice.
    """
    n, d = raw.shape
    weights = np.random.default_rng(0x5EED).standard_normal(d)
    keys = np.empty(n)
    for start in range(0, n, chunk):
        keys[start : start + chunk] = np.asarray(raw[start : start + chunk], dtype=np.float64) @ weights
    order = np.argsort(keys, kind="stable")
    first = np.r_[True, keys[order][1:] != keys[order][:-1]]
    group = np.cumsum(first) - 1
    size = np.bincount(group)[group]
    leader = order[np.flatnonzero(first)][group]
    shared = np.flatnonzero(size > 1)
    step = max(1, _PAIR_ELEMENTS // max(1, d))
    for start in range(0, len(shared), step):
        part = shared[start : start + step]
        if not np.array_equal(raw[order[part]], raw[leader[part]]):
            _, inverse, counts = np.unique(raw, axis=0, return_inverse=True, return_counts=True)
            return counts[inverse.ravel()] - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = size - 1
    return out
