"""A fixed real data set read from a local ``.npy`` or ``.csv`` file (rows = samples).

A fixed share of the rows (``held_out``, default 20 %, chosen by a seeded permutation) is
kept apart: the loop never trains on it, and the metrics use it as the real reference
(sample metrics compare against held-out rows, P_r's moments are the held-out rows' mean and
covariance). Training draws are random rows of the rest, without replacement within one
draw, so "fresh" real data from a file are fresh subsets of a finite set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator, model_validator

from autophagy.core.registry import Options

MAX_ABS = 1e150  # the largest magnitude a data value may have: squares and sums stay finite


def read_array(path: Path) -> np.ndarray:
    """Load a 2-D float64 array ``(N, d)`` from ``.npy`` or ``.csv``; clear ValueError otherwise.

    A CSV may start with one header row of column names; it is skipped.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO, a device (/dev/zero) or a folder: never read
        raise ValueError(f"{path} is not a regular file (a folder, FIFO or device); give a .npy or .csv file")
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise ValueError(f"unsupported file type {suffix!r} (use .npy or .csv): {path}")
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        else:  # utf-8-sig: a byte-order mark is not part of the first value
            with path.open(encoding="utf-8-sig") as fh:
                first = fh.readline()
            skip = 0 if _numeric(first) else 1
            data = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=skip, encoding="utf-8-sig")
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    data = np.asarray(data)
    if np.iscomplexobj(data):
        raise ValueError(f"{path} holds complex numbers; give real values (e.g. real and imaginary columns)")
    if data.ndim == 2 and data.shape[1] == 0:
        raise ValueError(f"{path} has rows but no columns (shape {data.shape})")
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError(f"{path} must hold a 2-D array with at least 2 rows, got shape {data.shape}")
    if not np.issubdtype(data.dtype, np.number):
        raise ValueError(f"{path} must hold numbers, got dtype {data.dtype}")
    data = data.astype(np.float64)
    if not np.all(np.isfinite(data)):
        bad = int(np.argwhere(~np.isfinite(data))[0, 0])
        raise ValueError(f"{path} contains NaN or infinite values (first in row {bad})")
    largest = float(np.abs(data).max()) if data.size else 0.0
    if largest > MAX_ABS:  # finite, but its squares (covariances, distances) overflow float64
        raise ValueError(
            f"{path} holds values up to {largest:.3g}; above {MAX_ABS:g} their squares overflow float64, "
            "so rescale the data"
        )
    return data


def _numeric(line: str) -> bool:
    """Whether a CSV line parses as numbers (a header row does not)."""
    try:
        [float(field) for field in line.split(",")]
    except ValueError:
        return False
    return True


class FileDataOptions(Options):
    """``path``: a ``.npy`` or ``.csv`` file of shape (N, d), one sample per row (relative
    paths are relative to the config file's folder). ``held_out``: rows kept for evaluation
    only, a fraction in [0, 1) or a count (0 = evaluate against the training rows, as
    folders written before this option did); ``split_seed`` seeds the permutation that
    picks them."""

    path: Path
    held_out: float | int = Field(0.2, ge=0)
    split_seed: int = Field(0, ge=0)

    @field_validator("path")
    @classmethod
    def _readable(cls, v: Path) -> Path:
        read_array(v)
        return v

    @model_validator(mode="after")
    def _split_leaves_rows(self) -> FileDataOptions:
        if isinstance(self.held_out, float) and self.held_out >= 1:
            raise ValueError("held_out: a fraction must be below 1 (or give a whole number of rows)")
        rows = read_array(self.path).shape[0]
        n_held = held_out_count(self.held_out, rows)
        if n_held and (n_held < 2 or rows - n_held < 2):
            raise ValueError(f"held_out: {n_held} of {rows} rows leaves fewer than 2 rows on a side")
        return self


def held_out_count(held_out: float | int, rows: int) -> int:
    """Rows kept out of training: ``round(held_out * rows)`` for a fraction, else the count."""
    return round(held_out * rows) if isinstance(held_out, float) else int(held_out)


class TrainRows:
    """A source whose training rows are ``self.train`` ``(N, d)``: ``dim`` is d and ``capacity``
    N (every draw is of distinct rows, :func:`distinct_rows`)."""

    train: np.ndarray

    @property
    def dim(self) -> int:
        return self.train.shape[1]

    @property
    def capacity(self) -> int:
        return self.train.shape[0]


@dataclass(frozen=True)
class FileData(TrainRows):
    """A fixed real set: training ``rows`` ``(N, d)`` (each draw a random subset of them) and the
    held-out ``reference`` ``(M, d)`` the metrics compare against (None: the training rows)."""

    rows: np.ndarray
    reference: np.ndarray | None = None

    @property
    def train(self) -> np.ndarray:
        """The training rows (what :class:`TrainRows` reads)."""
        return self.rows

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct random training rows, shape ``(n, d)``; ``n`` may not exceed them."""
        return distinct_rows(self.rows, n, rng, "training rows")

    def draw_reference(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``min(n, M)`` distinct held-out rows ``(., d)``: the real side of sample metrics."""
        rows = self.rows if self.reference is None else self.reference
        return distinct_rows(rows, min(n, rows.shape[0]), rng, "held-out rows")

    def held_out(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Every held-out row ``(M, d)`` (the training rows when nothing is held out)."""
        return self.rows if self.reference is None else self.reference

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """P_r's mean ``(d,)`` and covariance ``(d, d)``, from the held-out rows."""
        ref = self.held_out()
        return ref.mean(axis=0), np.cov(ref, rowvar=False, ddof=1).reshape(self.dim, self.dim)

    @classmethod
    def from_options(cls, options: FileDataOptions) -> FileData:
        data = read_array(options.path)
        n_held = held_out_count(options.held_out, data.shape[0])
        if n_held == 0:
            return cls(data)
        order = np.random.default_rng(options.split_seed).permutation(data.shape[0])
        return cls(data[order[n_held:]], data[order[:n_held]])


def distinct_rows(rows: np.ndarray, n: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """``n`` distinct random rows of a fixed set ``(N, ...)``; a clear error naming ``what`` when
    ``n > N``. The one draw of every fixed-set source (files, text windows, documents)."""
    if n > rows.shape[0]:
        raise ValueError(f"asked for {n} real samples but there are {rows.shape[0]} {what}")
    return rows[rng.choice(rows.shape[0], size=n, replace=False)]
