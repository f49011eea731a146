"""Linear-regression data with a fixed design (spec G8, Gerstgrasser et al. 2024).

Each replicate has its own design X (``samples`` T rows x ``dim`` d, rows N(0, I)), drawn
once from a stream keyed by the run seed and the replicate only
(:func:`autophagy.core.rng.replicate_stream`), so every generation of a replicate sees the same X
and only the labels are redrawn: y = X w* + noise, noise N(0, sigma^2). The true weight w*
(``(d,)``, N(0, I)) is fixed by ``weights_seed``, like the Zipf answer table. A row is
(x_1 .. x_d, y), so the source's row width is d + 1. A draw of n rows takes design rows
0, 1, ..., n - 1, cycling when n > T (a repeated row gets a fresh label).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.core.registry import Options
from autophagy.core.rng import replicate_seed


class LinearRegressionOptions(Options):
    """Design size ``samples`` T x ``dim`` d, label noise ``noise`` sigma, ``weights_seed`` for w*."""

    samples: PositiveInt = 64
    dim: PositiveInt = 8
    noise: float = Field(1.0, gt=0.0)
    weights_seed: int = Field(0, ge=0)


@functools.lru_cache(maxsize=8192)
def _design(entropy: int | tuple, spawn_key: tuple, samples: int, features: int) -> np.ndarray:
    """One replicate's design ``(T, d)``, drawn once per process (read-only)."""
    seq = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    x = np.random.Generator(np.random.PCG64(seq)).standard_normal((samples, features))
    x.setflags(write=False)
    return x


@dataclass(frozen=True)
class LinearRegressionData:
    """Rows (x, y) with x from the replicate's fixed design and y = x . w + noise."""

    samples: int  # T, design rows per replicate
    features: int  # d
    noise: float  # sigma
    weights: np.ndarray  # w*, (d,)
    capacity: int | None = None

    @property
    def dim(self) -> int:
        """Row width: d features and the label."""
        return self.features + 1

    def design(self, rng: np.random.Generator) -> np.ndarray:
        """The design ``(T, d)`` of the replicate ``rng`` belongs to (same for every generation)."""
        seq = replicate_seed(rng, "design")
        entropy = seq.entropy if isinstance(seq.entropy, int) else tuple(seq.entropy)
        return _design(entropy, tuple(seq.spawn_key), self.samples, self.features)

    def labelled(self, weights: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
        """``n`` rows ``(n, d + 1)``: design rows 0..n-1 (cycling), labels x . weights + N(0, noise^2)."""
        x = self.design(rng)[np.arange(n) % self.samples]
        y = x @ weights + noise * rng.standard_normal(n)
        return np.concatenate([x, y[:, None]], axis=1)

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` real rows: the fixed design with fresh labels from the true weights."""
        return self.labelled(self.weights, n, rng, self.noise)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of a row (x, y) over random designs:
        0 and [[I, w*], [w*^T, |w*|^2 + sigma^2]]."""
        d, w = self.features, self.weights
        cov = np.eye(d + 1)
        cov[:d, d] = cov[d, :d] = w
        cov[d, d] = w @ w + self.noise**2
        return np.zeros(d + 1), cov

    @classmethod
    def from_options(cls, options: LinearRegressionOptions) -> LinearRegressionData:
        weights = np.random.default_rng(options.weights_seed).standard_normal(options.dim)
        return cls(options.samples, options.dim, options.noise, weights)
