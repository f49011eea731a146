"""A fixed real data set read from a local ``.npy`` or ``.csv`` file (rows = samples).

Draws are random rows without replacement within one draw, so "fresh" real data from a
file are fresh subsets of a finite set. The reference moments P_r are the plug-in mean
and covariance of the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import field_validator

from autophagy.registry import Options


def read_array(path: Path) -> np.ndarray:
    """Load a 2-D float64 array ``(N, d)`` from ``.npy`` or ``.csv``; clear ValueError otherwise.

    A CSV may start with one header row of column names; it is skipped.
    """
    path = Path(path)
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
    return data


def _numeric(line: str) -> bool:
    """Whether a CSV line parses as numbers (a header row does not)."""
    try:
        [float(field) for field in line.split(",")]
    except ValueError:
        return False
    return True


class FileDataOptions(Options):
    """``path``: a ``.npy`` or ``.csv`` file of shape (N, d), one sample per row."""

    path: Path

    @field_validator("path")
    @classmethod
    def _readable(cls, v: Path) -> Path:
        read_array(v)
        return v


@dataclass(frozen=True)
class FileData:
    """A fixed real set ``rows`` ``(N, d)``; each draw is a random subset of its rows."""

    rows: np.ndarray

    @property
    def dim(self) -> int:
        return self.rows.shape[1]

    @property
    def capacity(self) -> int:
        return self.rows.shape[0]

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct random rows, shape ``(n, d)``; ``n`` may not exceed the file's rows."""
        if n > self.rows.shape[0]:
            raise ValueError(f"asked for {n} real samples but the file has {self.rows.shape[0]} rows")
        return self.rows[rng.choice(self.rows.shape[0], size=n, replace=False)]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.rows.mean(axis=0), np.cov(self.rows, rowvar=False, ddof=1).reshape(self.dim, self.dim)

    @classmethod
    def from_options(cls, options: FileDataOptions) -> FileData:
        return cls(read_array(options.path))
