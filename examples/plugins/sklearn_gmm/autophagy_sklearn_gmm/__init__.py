"""scikit-learn's ``GaussianMixture`` as an autophagy model family, ``model.kind = "sklearn_gmm"``.

A worked plug-in: options (a pydantic :class:`autophagy.Options`), settings with ``fit`` and
``load``, a fitted model with ``sample``, ``state_dict``, ``moments`` and ``log_prob``, and
:func:`register`, which the package's entry point calls (importing the module calls it too, so
``plugins = ["autophagy_sklearn_gmm"]`` works without installing).

Fitting: one ``GaussianMixture`` per replicate, trained on that replicate's rows ``(n, d)``
with ``random_state`` drawn from the replicate's own generator, so a replicate never depends
on the batch. Whatever ``covariance_type``, the fitted model keeps full covariance matrices
(arrays only: weights ``(R, K)``, means ``(R, K, d)``, covariances ``(R, K, d, d)``), which
are the whole checkpoint (no pickle). ``init`` (fine-tuning) starts EM from the earlier
model's weights and means.

Sampling bias lambda is a temperature on the mixture: component weights tempered to
``w_k^(1/lambda) / sum_j w_j^(1/lambda)`` and every covariance scaled by lambda, so lambda = 1
samples the fitted mixture, smaller lambda favours the heavier components and tightens each,
and lambda = 0 returns the mean of the heaviest component (the first of equal ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy import Options, register_model

__all__ = ["FittedSklearnGMM", "SklearnGMM", "SklearnGMMOptions", "register", "tempered_weights"]


class SklearnGMMOptions(Options):
    """``GaussianMixture`` arguments: ``components`` (n_components), ``covariance_type``,
    ``max_iter``, ``tol``, ``reg_covar`` (added to every variance) and ``n_init`` restarts."""

    components: PositiveInt = 3
    covariance_type: Literal["full", "diag", "spherical", "tied"] = "full"
    max_iter: PositiveInt = 100
    tol: float = Field(1e-3, gt=0.0)
    reg_covar: float = Field(1e-6, ge=0.0)
    n_init: PositiveInt = 1


def tempered_weights(weights: np.ndarray, sampling_bias: float) -> np.ndarray:
    """``w^(1/lambda)`` normalised over the last axis; lambda = 0 puts all mass on the argmax."""
    weights = np.asarray(weights, dtype=np.float64)
    if sampling_bias == 0:
        return np.eye(weights.shape[-1])[np.argmax(weights, axis=-1)]
    logits = np.log(np.maximum(weights, 1e-300)) / sampling_bias
    logits -= logits.max(axis=-1, keepdims=True)
    tempered = np.exp(logits)
    return tempered / tempered.sum(axis=-1, keepdims=True)


def _full_covariances(gmm, d: int) -> np.ndarray:
    """``(K, d, d)`` covariance matrices from a fitted ``GaussianMixture`` of any type."""
    cov, k = gmm.covariances_, gmm.n_components
    if gmm.covariance_type == "full":
        return np.array(cov, dtype=np.float64)
    if gmm.covariance_type == "tied":
        return np.broadcast_to(cov, (k, d, d)).copy()
    if gmm.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([c * np.eye(d) for c in cov])  # spherical


@dataclass(frozen=True, eq=False)
class FittedSklearnGMM:
    """Mixtures for ``R`` replicates: ``weights`` ``(R, K)``, ``means`` ``(R, K, d)``,
    ``covariances`` ``(R, K, d, d)``."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    chol: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chol", np.linalg.cholesky(self.covariances))

    def sample(self, n: int, *, rng, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate ``(R, n, d)`` from the tempered mixture (see the module doc)."""
        if len(rng) != len(self.weights):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.weights)}")
        if not 0.0 <= sampling_bias <= 1.0:
            raise ValueError(f"sampling_bias must be in [0, 1], got {sampling_bias}")
        probs = tempered_weights(self.weights, sampling_bias)
        d = self.means.shape[2]
        out = np.empty((len(rng), n, d))
        for r, g in enumerate(rng):
            component = g.choice(len(probs[r]), size=n, p=probs[r])
            z = g.standard_normal((n, d))
            noise = np.einsum("nij,nj->ni", self.chol[r, component], z)
            out[r] = self.means[r, component] + np.sqrt(sampling_bias) * noise
        return out

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(R, d)`` and covariance ``(R, d, d)`` of the fitted mixture (lambda = 1)."""
        w = self.weights[:, :, None]
        mean = (w * self.means).sum(axis=1)
        second = np.einsum(
            "rk,rkij->rij",
            self.weights,
            self.covariances + np.einsum("rki,rkj->rkij", self.means, self.means),
        )
        return mean, second - np.einsum("ri,rj->rij", mean, mean)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(R, n)`` of ``x`` ``(R, n, d)`` under each replicate's mixture (lambda = 1)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3 or len(x) != len(self.weights):
            raise ValueError(f"x must have shape ({len(self.weights)}, n, d), got {x.shape}")
        d = x.shape[2]
        diff = x[:, None, :, :] - self.means[:, :, None, :]  # (R, K, n, d)
        solved = np.linalg.solve(self.chol[:, :, None], diff[..., None])[..., 0]  # L^-1 (x - mu)
        log_det = 2 * np.log(np.diagonal(self.chol, axis1=2, axis2=3)).sum(axis=2)  # (R, K)
        log_comp = -0.5 * ((solved**2).sum(axis=3) + (log_det + d * np.log(2 * np.pi))[:, :, None])
        joint = log_comp + np.log(np.maximum(self.weights, 1e-300))[:, :, None]
        top = joint.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(joint - top).sum(axis=1, keepdims=True)))[:, 0]

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "covariances": self.covariances}


@dataclass(frozen=True)
class SklearnGMM:
    """Settings: one ``GaussianMixture`` per replicate with these options."""

    options: SklearnGMMOptions = field(default_factory=SklearnGMMOptions)

    @property
    def min_samples(self) -> int:
        return max(2, self.options.components)

    def fit(self, data: np.ndarray, *, rng, init: FittedSklearnGMM | None = None) -> FittedSklearnGMM:
        """Fit ``data`` ``(R, n, d)``, one mixture per replicate; ``init`` warm-starts EM."""
        from sklearn.mixture import GaussianMixture

        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d), got {x.shape}")
        if len(rng) != len(x):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(x)}")
        o = self.options
        weights, means, covariances = [], [], []
        for r, (rows, g) in enumerate(zip(x, rng, strict=True)):
            warm = {}
            if init is not None:
                warm = {"weights_init": init.weights[r], "means_init": init.means[r]}
            gmm = GaussianMixture(
                n_components=o.components,
                covariance_type=o.covariance_type,
                max_iter=o.max_iter,
                tol=o.tol,
                reg_covar=o.reg_covar,
                n_init=o.n_init,
                random_state=int(g.integers(2**31 - 1)),
                **warm,
            ).fit(rows)
            weights.append(gmm.weights_)
            means.append(gmm.means_)
            covariances.append(_full_covariances(gmm, x.shape[2]))
        return FittedSklearnGMM(np.stack(weights), np.stack(means), np.stack(covariances))

    def load(self, state: dict[str, np.ndarray]) -> FittedSklearnGMM:
        return FittedSklearnGMM(
            np.asarray(state["weights"], dtype=np.float64),
            np.asarray(state["means"], dtype=np.float64),
            np.asarray(state["covariances"], dtype=np.float64),
        )


def register() -> None:
    """Register ``sklearn_gmm`` (idempotent: the entry point and a plain import may both call it)."""
    register_model(
        "sklearn_gmm",
        options=SklearnGMMOptions,
        build=lambda options: SklearnGMM(options),
        summary="scikit-learn GaussianMixture (plug-in example); lambda tempers weights, scales covariances",
        has_moments=True,
        has_log_prob=True,
        replace=True,
    )


register()
