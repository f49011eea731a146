"""Real-data sources. ``DATA`` maps a config's ``data.kind`` to its plug-in entry."""

from __future__ import annotations

from autophagy.core.protocols import split_rows
from autophagy.core.registry import DATA, register_data
from autophagy.data.discrete import (
    CategoricalData,
    CategoricalDataOptions,
    ZipfData,
    ZipfDataOptions,
    zipf_probabilities,
)
from autophagy.data.documents import DocumentsData, DocumentsOptions
from autophagy.data.files import FileData, FileDataOptions, read_array
from autophagy.data.gaussian import GaussianData, GaussianDataOptions
from autophagy.data.idx import read_idx, read_npz, write_idx
from autophagy.data.image_files import ImagesOptions, load_images_data
from autophagy.data.images import (
    DigitsOptions,
    ImageData,
    MnistOptions,
    load_digits_data,
    load_mnist_data,
)
from autophagy.data.regression import LinearRegressionData, LinearRegressionOptions
from autophagy.data.shapes import ShapesOptions, load_shapes_data, make_shapes, write_image_folder
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

register_data(
    "gaussian",
    options=GaussianDataOptions,
    build=GaussianData.from_options,
    summary="multivariate normal N(mean, covariance) in `dim` dimensions, fresh draws",
)
register_data(
    "file",
    options=FileDataOptions,
    build=FileData.from_options,
    summary="fixed real set from a local .npy or .csv file (rows are samples)",
)
register_data(
    "categorical",
    options=CategoricalDataOptions,
    build=CategoricalData.from_options,
    summary="category ids (n, 1) from given probs or a Zipf law over n_categories",
)
register_data(
    "zipf",
    options=ZipfDataOptions,
    build=ZipfData.from_options,
    summary="(item, answer) pairs (n, 2): items ~ i^-beta, fixed answers, optional answer noise",
)
register_data(
    "text_grammar",
    options=MarkovLanguageOptions,
    build=MarkovLanguage.from_options,
    summary="built-in language (Zipfian Markov source) of length-L sequences with exact probabilities",
)
register_data(
    "text_file",
    options=TextFileOptions,
    build=TextFileData.from_options,
    summary="length-L char or word windows of a UTF-8 text file; its end is held out for evaluation",
)
register_data(
    "documents",
    options=DocumentsOptions,
    build=DocumentsData.from_options,
    summary="variable-length documents as UTF-8 byte rows (pad -1): stdlib docstrings, text, JSONL, datasets",
)
register_data(
    "mode_grid",
    options=ModeGridOptions,
    build=MixtureData.grid,
    summary="2-D grid of side x side Gaussians (default 5 x 5, spacing 2, std 0.05; paper B.2)",
)
register_data(
    "ring",
    options=RingOptions,
    build=MixtureData.ring,
    summary="2-D ring of `count` Gaussians (default 8, radius 2)",
)
register_data(
    "rosenbrock",
    options=RosenbrockOptions,
    build=RosenbrockData.from_options,
    summary="2-D Rosenbrock density exp(-x1^2/2 - (x2 - x1^2)^2), exact sampler (paper B.4)",
)
register_data(
    "two_moons",
    options=TwoMoonsOptions,
    build=TwoMoonsData.from_options,
    summary="2-D two moons plus Gaussian noise, drawn as sklearn's make_moons (angle grid, exact halves)",
)
register_data(
    "two_moons_iid",
    options=TwoMoonsOptions,
    build=TwoMoonsData.iid,
    summary="2-D two moons plus Gaussian noise, i.i.d. samples (uniform angle, moon chosen at random)",
)
register_data(
    "linear_regression",
    options=LinearRegressionOptions,
    build=LinearRegressionData.from_options,
    summary="rows (x, y): a fixed per-replicate design T x d (samples, dim), y = x . w* + N(0, noise^2)",
)
register_data(
    "digits",
    options=DigitsOptions,
    build=load_digits_data,
    summary="scikit-learn's bundled 8x8 digits (1,797); rows = 64 pixels in [0, 1] + class label",
)
register_data(
    "mnist",
    options=MnistOptions,
    build=load_mnist_data,
    summary="MNIST-format local IDX or NPZ files; rows = H*W pixels in [0, 1] + class label",
)
register_data(
    "images",
    options=ImagesOptions,
    build=load_images_data,
    summary=(
        "local images of any channel count: a folder of PNG/JPEG (sub-folders = classes) or an "
        ".npz/.npy array; rows = C*H*W pixels in [0, 1] + class label, 20 % held out"
    ),
)
register_data(
    "shapes",
    options=ShapesOptions,
    build=load_shapes_data,
    summary="generated 32x32 RGB coloured shapes (4 classes) from a seed; rows as images, 20 % held out",
)

__all__ = [
    "DATA",
    "CategoricalData",
    "DocumentsData",
    "FileData",
    "GaussianData",
    "ImageData",
    "LinearRegressionData",
    "MarkovLanguage",
    "MixtureData",
    "RosenbrockData",
    "TextFileData",
    "TwoMoonsData",
    "ZipfData",
    "make_shapes",
    "read_array",
    "read_idx",
    "read_npz",
    "read_text",
    "split_rows",
    "tokenize",
    "write_idx",
    "write_image_folder",
    "zipf_probabilities",
]
