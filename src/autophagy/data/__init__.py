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
from autophagy.data.text import (
    MarkovLanguage,
    MarkovLanguageOptions,
    TextFileData,
    TextFileOptions,
    read_text,
    tokenize,
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
}

__all__ = [
    "DATA",
    "CategoricalData",
    "FileData",
    "GaussianData",
    "MarkovLanguage",
    "TextFileData",
    "ZipfData",
    "read_array",
    "read_text",
    "tokenize",
    "zipf_probabilities",
]
