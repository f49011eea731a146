"""Density metrics of a fitted model against real data or the true density (``needs="model"``).

- :func:`heldout_nll`: mean negative log-likelihood of held-out real samples under the fit.
- :func:`density_l2`: the L2 distance ||f - p||_2 = (integral (f - p)^2 dx)^(1/2) between the
  fitted density f and the true density p (Collapse-or-Thrive's KDE/mixture metric). Exact
  when both are Gaussian mixtures (``mixture()``: Gaussian, GMM and KDE fits; the ``gaussian``,
  ``mode_grid`` and ``ring`` sources), through the Gaussian product integral
  integral N(x; a, A) N(x; b, B) dx = N(a; b, A + B); otherwise (a flow, or the Rosenbrock
  source) by integrating both ``log_prob`` on a grid, in at most two dimensions.
- :func:`density_tv`: the total variation distance TV(f, p) = (1/2) integral |f - p| dx in
  [0, 1] (the distance Fu et al. bound for self-consuming loops), by the same grid integration
  of both ``log_prob`` (d <= 2; no closed form exists even between Gaussian mixtures).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from autophagy.core.protocols import HasLogProb, HasMixture, HeldOutReference, KnownDensity
from autophagy.core.rng import Rngs

HELDOUT = 1000  # held-out real samples per replicate for heldout_nll
GRID = 256  # grid points per axis for density_l2 by integration
GRID_STDS = 8.0  # the grid spans the true mean +- this many standard deviations per axis


def heldout_nll(model: object, data: object, *, rng: Rngs, n: int = HELDOUT) -> np.ndarray:
    """-(1/n) sum_i log f(x_i) over ``n`` fresh real samples x_i per replicate, ``(R,)`` in nats
    per sample; lower is better. Its expectation is the cross-entropy H(P_r, f) = H(P_r) +
    KL(P_r || f), so it exceeds the entropy of P_r by the KL divergence of the fit. Sources that
    keep rows out of training (``file`` with ``held_out``) give up to ``n`` of those rows instead
    of fresh draws (``draw_reference``)."""
    if not isinstance(model, HasLogProb):
        raise ValueError(f"{type(model).__name__} has no log_prob")
    draw = data.draw_reference if isinstance(data, HeldOutReference) else data.draw
    x = np.stack([draw(n, rng=g) for g in rng])
    return -np.asarray(model.log_prob(x), dtype=np.float64).mean(axis=1)


def _gaussian_overlap(w1, m1, c1, w2, m2, c2) -> float:
    """sum_ij w1_i w2_j N(m1_i; m2_j, c1_i + c2_j) for one pair of mixtures ``(K, d)`` / ``(K, d, d)``."""
    d = m1.shape[1]
    diff = m1[:, None, :] - m2[None, :, :]  # (K1, K2, d)
    if np.allclose(c1, c1[:1]) and np.allclose(c2, c2[:1]):  # shared covariances (KDE, mode sources)
        chol = np.linalg.cholesky(c1[0] + c2[0])
        z = np.linalg.solve(chol, diff.reshape(-1, d).T).T.reshape(diff.shape)
        half_logdet = np.log(np.diag(chol)).sum()
        log_n = -0.5 * (z**2).sum(-1) - half_logdet - 0.5 * d * np.log(2 * np.pi)
    else:
        total = c1[:, None] + c2[None, :]  # (K1, K2, d, d)
        _, logdet = np.linalg.slogdet(total)
        z = np.linalg.solve(total, diff[..., None])[..., 0]
        log_n = -0.5 * ((diff * z).sum(-1) + logdet + d * np.log(2 * np.pi))
    with np.errstate(divide="ignore"):
        log_w = np.log(w1)[:, None] + np.log(w2)[None, :]
    return float(np.exp(logsumexp(log_w + log_n)))


def mixture_l2(first: tuple, second: tuple) -> float:
    """||f - g||_2 between two Gaussian mixtures given as (weights (K,), means (K, d), covs (K, d, d))."""
    ff = _gaussian_overlap(*first, *first)
    gg = _gaussian_overlap(*second, *second)
    fg = _gaussian_overlap(*first, *second)
    return float(np.sqrt(max(ff + gg - 2 * fg, 0.0)))


def _grid(data: object) -> tuple[np.ndarray, float]:
    mean, cov = data.moments()
    std = np.sqrt(np.diag(cov))
    axes = [np.linspace(m - GRID_STDS * s, m + GRID_STDS * s, GRID) for m, s in zip(mean, std, strict=True)]
    cell = float(np.prod([a[1] - a[0] for a in axes]))
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
    return points, cell


def density_l2(model: object, data: object, *, rng: Rngs | None = None) -> np.ndarray:
    """||f_t - p||_2 per replicate, ``(R,)``; lower is better (0 = the true density). Exact for
    Gaussian mixtures on both sides, else a Riemann sum on a ``GRID`` x ``GRID`` grid spanning
    the true mean +- ``GRID_STDS`` standard deviations (d <= 2)."""
    if isinstance(model, HasMixture) and isinstance(data, HasMixture):
        w, m, c = model.mixture()
        true = data.mixture()
        return np.array([mixture_l2((w[r], m[r], c[r]), true) for r in range(len(w))])
    if not isinstance(model, HasLogProb) or not isinstance(data, KnownDensity) or data.dim > 2:
        raise ValueError("density_l2 needs Gaussian mixtures on both sides, or log_prob on both in d <= 2")
    f, p, cell = _densities_on_grid(model, data, rng)
    return np.sqrt(((f - p) ** 2).sum(axis=1) * cell)


def _densities_on_grid(model: HasLogProb, data: KnownDensity, rng: Rngs | None) -> tuple:
    """The fitted densities ``(R, G)`` and the true one ``(G,)`` at the points of :func:`_grid`,
    with the volume of one grid cell."""
    points, cell = _grid(data)
    p = np.exp(data.log_prob(points))
    replicates = len(rng) if rng is not None else 1
    f = np.exp(model.log_prob(np.broadcast_to(points, (replicates, *points.shape))))
    return f, p, cell


def _check_density_l2(model_kind: str, data: object) -> None:
    """Config-time check: the true density must be known and, without mixtures, d <= 2."""
    if not isinstance(data, KnownDensity):
        raise ValueError("needs data whose density is known (gaussian, mode_grid, ring, rosenbrock)")
    if not isinstance(data, HasMixture) or model_kind not in ("gaussian", "gmm", "kde"):
        if data.dim > 2:
            raise ValueError("is integrated on a grid here, which needs data.dim <= 2")


density_l2.check_config = _check_density_l2


def density_tv(model: object, data: object, *, rng: Rngs | None = None) -> np.ndarray:
    """TV(f_t, p) = (1/2) integral |f_t(x) - p(x)| dx per replicate, ``(R,)`` in [0, 1]; lower is
    better (0 = the true density, 1 = disjoint supports). A Riemann sum of both ``log_prob`` on
    a ``GRID`` x ``GRID`` grid (``GRID`` points in 1-D) spanning the true mean +- ``GRID_STDS``
    standard deviations, so d <= 2; mass of f outside the grid is missed, which biases the sum
    down by at most half of it (a loop whose model spreads far beyond 8 true standard
    deviations reads about 0.5 + half the mass inside the grid, never above 1)."""
    if not isinstance(model, HasLogProb) or not isinstance(data, KnownDensity) or data.dim > 2:
        raise ValueError("density_tv needs log_prob on both sides in d <= 2")
    f, p, cell = _densities_on_grid(model, data, rng)
    return np.clip(0.5 * np.abs(f - p).sum(axis=1) * cell, 0.0, 1.0)


def _check_density_tv(model_kind: str, data: object) -> None:
    """Config-time check: the true density must be known and d <= 2 (grid integration)."""
    if not isinstance(data, KnownDensity):
        raise ValueError("needs data whose density is known (gaussian, mode_grid, ring, rosenbrock)")
    if data.dim > 2:
        raise ValueError("is integrated on a grid here, which needs data.dim <= 2")


density_tv.check_config = _check_density_tv
