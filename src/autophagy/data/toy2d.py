"""Two-dimensional toy distributions of the mode-collapse literature, with exact samplers.

- ``mode_grid``: a ``side`` x ``side`` grid of isotropic Gaussians (the 25-mode grid of Che et
  al. 2020 used by the paper's appendix B.2: spacing 2, std 0.05);
- ``ring``: ``count`` isotropic Gaussians evenly spaced on a circle (Metz et al. 2017);
- ``rosenbrock``: p(x1, x2) ~ exp(-x1^2 / 2 - (x2 - x1^2)^2) (Pagani et al. 2022, paper B.4),
  sampled exactly as x1 ~ N(0, 1), x2 | x1 ~ N(x1^2, 1/2);
- ``two_moons``: two interleaved half circles plus isotropic Gaussian noise, drawn exactly as
  scikit-learn's ``make_moons`` (an evenly spaced angle grid, n // 2 points on the upper moon
  and n - n // 2 on the lower one, rows shuffled, then the noise); ``two_moons_iid`` is the
  i.i.d. variant (uniform angle and moon per sample).

Every source returns its exact mean and covariance from :meth:`moments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from autophagy.core.linalg import mixture_log_prob
from autophagy.core.registry import Options
from autophagy.metrics.modes import grid_modes


class ModeGridOptions(Options):
    """``side`` x ``side`` modes ``spacing`` apart, centred on the origin, each N(mode, std^2 I)."""

    side: PositiveInt = 5
    spacing: PositiveFloat = 2.0
    std: PositiveFloat = 0.05


class RingOptions(Options):
    """``count`` modes on a circle of ``radius`` around the origin, each N(mode, std^2 I)."""

    count: PositiveInt = 8
    radius: PositiveFloat = 2.0
    std: PositiveFloat = 0.02


class RosenbrockOptions(Options):
    """The 2-D Rosenbrock density of the paper's appendix B.4 (no settings)."""


class TwoMoonsOptions(Options):
    """Two half circles of radius 1 (scikit-learn's ``make_moons`` layout) plus N(0, noise^2 I);
    ``noise`` is make_moons' standard deviation (data units)."""

    noise: float = Field(0.1, ge=0.0)


@dataclass(frozen=True)
class MixtureData:
    """Equal-weight mixture of N(mode_k, std^2 I): ``modes`` ``(K, d)``; fresh draws.

    ``modes`` and ``mode_std`` are what the mode metrics (``modes_covered``, ...) compare with.
    """

    modes: np.ndarray
    mode_std: float
    capacity: int | None = None

    @property
    def dim(self) -> int:
        return self.modes.shape[1]

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples ``(n, d)``: a uniform mode each, plus isotropic noise."""
        index = rng.integers(len(self.modes), size=n)
        return self.modes[index] + self.mode_std * rng.standard_normal((n, self.dim))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean of the modes; covariance of the modes (over K, not K - 1) plus std^2 I."""
        mean = self.modes.mean(axis=0)
        centred = self.modes - mean
        return mean, centred.T @ centred / len(self.modes) + self.mode_std**2 * np.eye(self.dim)

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The density as a Gaussian mixture: equal weights ``(K,)``, ``modes`` and std^2 I ``(K, d, d)``."""
        k = len(self.modes)
        return (
            np.full(k, 1.0 / k),
            self.modes,
            np.broadcast_to(self.mode_std**2 * np.eye(self.dim), (k,) + (self.dim,) * 2),
        )

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(n,)`` of points ``x`` ``(n, d)``."""
        return mixture_log_prob(x, *self.mixture())

    @classmethod
    def grid(cls, options: ModeGridOptions) -> MixtureData:
        return cls(grid_modes(options.side, options.spacing), options.std)

    @classmethod
    def ring(cls, options: RingOptions) -> MixtureData:
        angle = 2.0 * np.pi * np.arange(options.count) / options.count
        return cls(options.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1), options.std)


@dataclass(frozen=True)
class RosenbrockData:
    """p(x1, x2) ~ exp(-x1^2/2 - (x2 - x1^2)^2): x1 ~ N(0, 1), then x2 ~ N(x1^2, 1/2)."""

    dim: int = 2
    capacity: int | None = None

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` exact samples ``(n, 2)``."""
        x1 = rng.standard_normal(n)
        x2 = x1**2 + np.sqrt(0.5) * rng.standard_normal(n)
        return np.stack([x1, x2], axis=1)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """E = (0, E x1^2) = (0, 1); Var x2 = Var(x1^2) + 1/2 = 2.5; Cov(x1, x2) = E x1^3 = 0."""
        return np.array([0.0, 1.0]), np.diag([1.0, 2.5])

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(n,)``: log N(x1; 0, 1) + log N(x2; x1^2, 1/2), normaliser pi sqrt(2)."""
        x = np.asarray(x, dtype=np.float64)
        return -0.5 * x[:, 0] ** 2 - (x[:, 1] - x[:, 0] ** 2) ** 2 - np.log(np.pi * np.sqrt(2.0))

    @classmethod
    def from_options(cls, options: RosenbrockOptions) -> RosenbrockData:
        return cls()


@dataclass(frozen=True)
class TwoMoonsData:
    """Upper moon (cos t, sin t) and lower moon (1 - cos t, 1/2 - sin t), t in [0, pi], plus
    N(0, noise^2 I).

    ``grid`` (``two_moons``) draws as scikit-learn's ``make_moons(n, noise=noise)``: t on
    ``linspace(0, pi, m)`` with m = n // 2 upper and n - n // 2 lower points, rows shuffled,
    then the noise (noise-free, the same point set as make_moons). Otherwise (``two_moons_iid``)
    every sample takes t ~ U[0, pi] and a moon with probability 1/2 independently. Both have the
    same limit distribution, whose moments :meth:`moments` returns.
    """

    noise: float = 0.1
    grid: bool = True
    dim: int = 2
    capacity: int | None = None

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples ``(n, 2)``."""
        if self.grid:
            upper = np.linspace(0.0, np.pi, n // 2)
            lower = np.linspace(0.0, np.pi, n - n // 2)
            x = np.concatenate([np.cos(upper), 1.0 - np.cos(lower)])
            y = np.concatenate([np.sin(upper), 1.0 - np.sin(lower) - 0.5])  # make_moons, bit for bit
            points = np.stack([x, y], axis=1)[rng.permutation(n)]
        else:
            is_lower = rng.integers(2, size=n).astype(bool)
            t = rng.uniform(0.0, np.pi, size=n)
            x = np.where(is_lower, 1.0 - np.cos(t), np.cos(t))
            y = np.where(is_lower, 0.5 - np.sin(t), np.sin(t))
            points = np.stack([x, y], axis=1)
        return points + self.noise * rng.standard_normal((n, 2))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Limit moments (t uniform on [0, pi], equal halves) from E cos t = E sin t cos t = 0,
        E sin t = 2/pi, E cos^2 t = E sin^2 t = 1/2; a grid set of n points differs by O(1/n)."""
        s = 2.0 / np.pi  # E sin t
        upper_mean, lower_mean = np.array([0.0, s]), np.array([1.0, 0.5 - s])
        upper_m2 = np.diag([0.5, 0.5])
        lower_m2 = np.array([[1.5, 0.5 - s], [0.5 - s, 0.75 - s]])  # E[(1 - c)^2], E[(1 - c)(1/2 - s)], ...
        mean = (upper_mean + lower_mean) / 2
        cov = (upper_m2 + lower_m2) / 2 - np.outer(mean, mean) + self.noise**2 * np.eye(2)
        return mean, cov

    @classmethod
    def from_options(cls, options: TwoMoonsOptions) -> TwoMoonsData:
        return cls(options.noise)

    @classmethod
    def iid(cls, options: TwoMoonsOptions) -> TwoMoonsData:
        return cls(options.noise, grid=False)
