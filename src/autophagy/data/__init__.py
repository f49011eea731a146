"""Real-data sources. ``DATA`` maps a config's ``data.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.data.files import FileData, FileDataOptions, read_array
from autophagy.data.gaussian import GaussianData, GaussianDataOptions
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
}

__all__ = ["DATA", "FileData", "GaussianData", "read_array"]
