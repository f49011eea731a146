"""Real-data sources. ``DATA`` maps a config's ``data.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.data.discrete import (
    CategoricalData,
    CategoricalDataOptions,
    ZipfData,
    ZipfDataOptions,
    zipf_probabilities,
)
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
from autophagy.data.text import (
    MarkovLanguage,
    MarkovLanguageOptions,
    TextFileData,
    TextFileOptions,
    read_text,
    tokenize,
)
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
    "categorical": Plugin(
        CategoricalDataOptions,
        CategoricalData.from_options,
        "category ids (n, 1) from given probs or a Zipf law over n_categories",
    ),
    "zipf": Plugin(
        ZipfDataOptions,
        ZipfData.from_options,
        "(item, answer) pairs (n, 2): items ~ i^-beta, fixed answers, optional answer noise",
    ),
    "text_grammar": Plugin(
        MarkovLanguageOptions,
        MarkovLanguage.from_options,
        "built-in language (Zipfian Markov source) of length-L sequences with exact probabilities",
    ),
    "text_file": Plugin(
        TextFileOptions,
        TextFileData.from_options,
        "length-L char or word windows of a UTF-8 text file; its end is held out for evaluation",
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
    "CategoricalData",
    "FileData",
    "GaussianData",
    "ImageData",
    "MarkovLanguage",
    "MixtureData",
    "RosenbrockData",
    "TextFileData",
    "TwoMoonsData",
    "ZipfData",
    "read_array",
    "read_idx",
    "read_npz",
    "read_text",
    "split_rows",
    "tokenize",
    "write_idx",
    "zipf_probabilities",
]
