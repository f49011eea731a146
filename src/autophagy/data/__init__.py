"""Real-data sources. ``DATA`` maps a config's ``data.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.data.files import FileData, FileDataOptions, read_array
from autophagy.data.gaussian import GaussianData, GaussianDataOptions
from autophagy.data.idx import read_idx, read_npz, write_idx
from autophagy.data.images import (
    DigitsOptions,
    ImageData,
    MnistOptions,
    load_digits_data,
    load_mnist_data,
    split_rows,
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
    "digits": Plugin(
        DigitsOptions,
        load_digits_data,
        "scikit-learn's bundled 8x8 digits (1,797); rows = 64 pixels in [0, 1] + class label",
    ),
    "mnist": Plugin(
        MnistOptions,
        load_mnist_data,
        "MNIST-format local IDX or NPZ files; rows = H*W pixels in [0, 1] + class label",
    ),
}

__all__ = [
    "DATA",
    "FileData",
    "GaussianData",
    "ImageData",
    "read_array",
    "read_idx",
    "read_npz",
    "split_rows",
    "write_idx",
]
