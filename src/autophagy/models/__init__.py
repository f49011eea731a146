"""Model families. ``MODELS`` maps a config's ``model.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.registry import Options, Plugin


class GaussianModelOptions(Options):
    """The Gaussian family has no hyper-parameters."""


MODELS: dict[str, Plugin] = {
    "gaussian": Plugin(
        GaussianModelOptions,
        lambda options: GaussianModel(),
        "full-covariance Gaussian, unbiased mean/covariance (paper eq. 1); lambda scales Sigma",
        has_moments=True,
    ),
}

__all__ = ["MODELS", "FittedGaussian", "GaussianModel"]
