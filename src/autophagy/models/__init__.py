"""Model families. ``MODELS`` maps a config's ``model.kind`` to its plug-in entry."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt

from autophagy.models.flow import FittedFlow, FlowModel
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.models.kde import FittedKDE, KernelDensityModel
from autophagy.models.mixture import FittedMixture, GaussianMixtureModel
from autophagy.registry import Options, Plugin


class GaussianModelOptions(Options):
    """``simulator``: "auto" uses the exact sufficient-statistic path whenever it applies
    (Gaussian real data, closed-form metrics only, no subsampling), "exact" requires it,
    "samples" forces the sample-based reference path."""

    simulator: Literal["auto", "exact", "samples"] = "auto"


class MixtureOptions(Options):
    """EM settings: ``components`` K, ``covariance`` type (as scikit-learn's), stopping rule
    (mean log-likelihood gain below ``tol`` or ``max_iter`` steps), ``reg_covar`` added to every
    variance, ``kmeans_steps`` Lloyd steps after k-means++ seeding, best of ``restarts`` inits."""

    components: PositiveInt = 3
    covariance: Literal["full", "diag", "spherical", "tied"] = "full"
    max_iter: PositiveInt = 100
    tol: float = Field(1e-3, gt=0.0)
    reg_covar: float = Field(1e-6, ge=0.0)
    kmeans_steps: int = Field(10, ge=0)
    restarts: PositiveInt = 1


class KernelDensityOptions(Options):
    """``bandwidth``: "scott" or "silverman" (rule-of-thumb factor times each dimension's standard
    deviation) or a positive float, the same in every dimension (data units)."""

    bandwidth: Literal["scott", "silverman"] | PositiveFloat = "scott"


class FlowOptions(Options):
    """Paper B.4 defaults: ``layers`` affine couplings (each after an ActNorm), MLP width
    ``hidden``, ``epochs`` of Adam (``learning_rate``) on minibatches of ``batch_size``."""

    layers: PositiveInt = 8
    hidden: PositiveInt = 64
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 256
    learning_rate: PositiveFloat = 1e-3


MODELS: dict[str, Plugin] = {
    "gaussian": Plugin(
        GaussianModelOptions,
        lambda options: GaussianModel(),
        "full-covariance Gaussian, unbiased mean/covariance (paper eq. 1); lambda scales Sigma",
        has_moments=True,
    ),
    "gmm": Plugin(
        MixtureOptions,
        lambda options: GaussianMixtureModel(**options.model_dump()),
        "Gaussian mixture by batched EM (paper B.2); lambda scales every component's covariance",
        has_moments=True,
    ),
    "kde": Plugin(
        KernelDensityOptions,
        lambda options: KernelDensityModel(options.bandwidth),
        "Gaussian kernel density estimate; lambda scales the bandwidth by sqrt(lambda)",
        has_moments=True,
    ),
    "flow": Plugin(
        FlowOptions,
        lambda options: FlowModel(**options.model_dump()),
        "normalizing flow, affine couplings (RealNVP/Glow, PyTorch); latent from N(0, lambda I)",
    ),
}

__all__ = [
    "MODELS",
    "FittedFlow",
    "FittedGaussian",
    "FittedKDE",
    "FittedMixture",
    "FlowModel",
    "GaussianMixtureModel",
    "GaussianModel",
    "KernelDensityModel",
]
