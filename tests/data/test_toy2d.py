"""2-D toy sources: exact moments against large samples, the Rosenbrock conditional, option checks."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from autophagy.data import DATA, MixtureData, RosenbrockData
from autophagy.metrics import mode_stats

KINDS = ["mode_grid", "ring", "rosenbrock", "two_moons", "two_moons_iid"]


def _source(kind: str, **options):
    entry = DATA[kind]
    return entry.build(entry.options(**options))


@pytest.mark.parametrize("kind", KINDS)
def test_moments_are_exact(kind):
    source = _source(kind)
    n = 200_000
    x = source.draw(n, rng=np.random.default_rng(0))
    assert x.shape == (n, 2) and source.dim == 2
    mean, cov = source.moments()
    # sample mean ~ N(mean, cov / n); sample covariance entry (i, j) has standard error
    # sd(x_i x_j) / sqrt(n), estimated from the sample; 5 standard errors each
    assert np.all(np.abs(x.mean(axis=0) - mean) < 5 * np.sqrt(np.diag(cov) / n))
    centred = x - mean
    products = centred[:, :, None] * centred[:, None, :]
    se = products.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(products.mean(axis=0) - cov) < 5 * se + 1e-12)


def test_rosenbrock_conditional_is_exact():
    """x2 - x1^2 ~ N(0, 1/2) independent of x1, since p ~ exp(-x1^2/2 - (x2 - x1^2)^2)."""
    x = RosenbrockData().draw(100_000, rng=np.random.default_rng(1))
    residual = x[:, 1] - x[:, 0] ** 2
    n = len(x)
    assert abs(residual.mean()) < 5 * np.sqrt(0.5 / n)
    assert abs(residual.var() - 0.5) < 5 * 0.5 * np.sqrt(2 / n)  # var of a sample variance: 2 s^4 / n
    assert abs(np.corrcoef(residual, np.abs(x[:, 0]))[0, 1]) < 5 / np.sqrt(n)


def test_mode_grid_layout_and_mode_quality():
    grid = _source("mode_grid")
    assert isinstance(grid, MixtureData) and grid.modes.shape == (25, 2)
    assert set(np.round(grid.modes[:, 0], 12)) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    n = 20_000
    stats = mode_stats(grid.draw(n, rng=np.random.default_rng(2)), grid.modes, grid.mode_std)
    p = 1.0 - np.exp(-4.5)  # share of an isotropic 2-D Gaussian within 3 std
    assert stats["modes_covered"] == 25 and abs(stats["high_quality"] - p) < 4 * np.sqrt(p * (1 - p) / n)
    ring = _source("ring", count=6, radius=3.0)
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 3.0)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("mode_grid", {"std": -0.1}),
        ("mode_grid", {"side": 0}),
        ("ring", {"radius": 0}),
        ("two_moons", {"noise": -1}),
    ],
)
def test_bad_options_are_rejected(kind, options):
    with pytest.raises(ValidationError):
        DATA[kind].options(**options)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 101])
def test_noise_free_two_moons_is_make_moons_point_set(n):
    """Same angle grid and exact halves as scikit-learn: identical point sets up to order."""
    datasets = pytest.importorskip("sklearn.datasets")
    ours = _source("two_moons", noise=0.0).draw(n, rng=np.random.default_rng(n))
    theirs, labels = datasets.make_moons(n, noise=0.0, random_state=0)
    assert np.array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    assert (labels == 0).sum() == n // 2  # make_moons' upper (outer) moon holds n // 2 points


def _set_statistics(sets: np.ndarray) -> np.ndarray:
    """Per set ``(R, n, 2)``: mean x, mean y, var x, var y, cov xy -> ``(R, 5)``."""
    centred = sets - sets.mean(axis=1, keepdims=True)
    products = np.einsum("rni,rnj->rij", centred, centred) / (sets.shape[1] - 1)
    return np.column_stack([sets.mean(axis=1), products[:, 0, 0], products[:, 1, 1], products[:, 0, 1]])


def _matches_make_moons(kind: str, n: int = 51, reps: int = 400, noise: float = 0.2) -> bool:
    """Welch t-test (means) and Brown-Forsythe test (spreads) of 5 set statistics against
    make_moons' at the same n and noise, Holm-corrected over the 10 checks at 1 %."""
    datasets = pytest.importorskip("sklearn.datasets")
    source = _source(kind, noise=noise)
    rng = np.random.default_rng(7)
    ours = _set_statistics(np.stack([source.draw(n, rng=rng) for _ in range(reps)]))
    theirs = _set_statistics(
        np.stack([datasets.make_moons(n, noise=noise, random_state=s)[0] for s in range(reps)])
    )
    p = [stats.ttest_ind(ours[:, j], theirs[:, j], equal_var=False).pvalue for j in range(5)]
    p += [stats.levene(ours[:, j], theirs[:, j], center="median").pvalue for j in range(5)]
    return min(p) > 0.01 / len(p)  # Holm rejects nothing iff its first step (the smallest p) passes


def test_noisy_two_moons_statistics_match_make_moons():
    assert _matches_make_moons("two_moons")


def test_iid_two_moons_does_not_match_make_moons():
    """Negative control: random angles and moons spread the set statistics more than the grid."""
    assert not _matches_make_moons("two_moons_iid")
