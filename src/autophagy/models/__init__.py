"""Model families. ``MODELS`` maps a config's ``model.kind`` to its plug-in entry."""

from __future__ import annotations

from typing import Literal

from autophagy.models.ddpm import DDPM, DDPMOptions
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.models.wgan import WGANGP, WGANOptions
from autophagy.registry import Options, Plugin


class GaussianModelOptions(Options):
    """``simulator``: "auto" uses the exact sufficient-statistic path whenever it applies
    (Gaussian real data, closed-form metrics only, no subsampling), "exact" requires it,
    "samples" forces the sample-based reference path."""

    simulator: Literal["auto", "exact", "samples"] = "auto"


MODELS: dict[str, Plugin] = {
    "gaussian": Plugin(
        GaussianModelOptions,
        lambda options: GaussianModel(),
        "full-covariance Gaussian, unbiased mean/covariance (paper eq. 1); lambda scales Sigma",
        has_moments=True,
    ),
    "ddpm": Plugin(
        DDPMOptions,
        DDPM,
        "class-conditional DDPM on image rows (PyTorch); lambda = 1/(1+w), w the classifier-free guidance",
        zero_bias=False,
    ),
    "wgan_gp": Plugin(
        WGANOptions,
        WGANGP,
        "class-conditional WGAN-GP on image rows (PyTorch); lambda scales the latent toward its mean",
    ),
}

__all__ = ["DDPM", "MODELS", "WGANGP", "FittedGaussian", "GaussianModel"]
