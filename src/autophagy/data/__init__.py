"""Real-data sources. ``DATA`` maps a config's ``data.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.data.files import FileData, FileDataOptions, read_array
from autophagy.data.gaussian import GaussianData, GaussianDataOptions
from autophagy.data.toy2d import (
    MixtureData,
    ModeGridOptions,
    RingOptions,
    RosenbrockData,
    RosenbrockOptions,
    TwoMoonsData,
    TwoMoonsOptions,
)
from autophagy.registry import Plugin

DATA: dict[str, Plugin] = {
    "gaussian": Plugin(
        GaussianDataOptions,
        GaussianData.from_options,
        "multivariate normal N(mean, covariance) in `dim` dimensions, fresh draws",
    ),
    "file": Plugin(
        FileDataOptions,
        FileData.from_options,
        "fixed real set from a local .npy or .csv file (rows are samples)",
    ),
    "mode_grid": Plugin(
        ModeGridOptions,
        MixtureData.grid,
        "2-D grid of side x side Gaussians (default 5 x 5, spacing 2, std 0.05; paper B.2)",
    ),
    "ring": Plugin(RingOptions, MixtureData.ring, "2-D ring of `count` Gaussians (default 8, radius 2)"),
    "rosenbrock": Plugin(
        RosenbrockOptions,
        RosenbrockData.from_options,
        "2-D Rosenbrock density exp(-x1^2/2 - (x2 - x1^2)^2), exact sampler (paper B.4)",
    ),
    "two_moons": Plugin(TwoMoonsOptions, TwoMoonsData.from_options, "2-D two moons plus Gaussian noise"),
}

__all__ = ["DATA", "FileData", "GaussianData", "MixtureData", "RosenbrockData", "TwoMoonsData", "read_array"]
