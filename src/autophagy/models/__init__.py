"""Model families. ``MODELS`` maps a config's ``model.kind`` to its plug-in entry.

Every built-in family is registered here, with the public :func:`register_model` that plug-ins
use, together with its contract case (the small options and data on which
:func:`autophagy.testing.check_model` exercises it). The implementation modules register nothing.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from autophagy.core.contract import ModelCase, off_mode, within_class_spread
from autophagy.core.device import Device
from autophagy.core.registry import MAX_TEMPERATURE, MODELS, Options, register_model
from autophagy.core.simulators import register_simulator
from autophagy.core.varying import scheduled
from autophagy.data import DATA, CategoricalData, ZipfData, zipf_probabilities
from autophagy.data.documents import DocumentsData, encode_texts, split_utf8, stdlib_docstrings
from autophagy.models import gaussian_exact  # noqa: F401  (registers the "exact" simulator)
from autophagy.models.categorical import CategoricalModel, MemorizerModel
from autophagy.models.ddpm import DDPM, DDPMOptions
from autophagy.models.flow import FittedFlow, FlowModel
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.models.hf import HFCausalLMOptions
from autophagy.models.hf import build as build_hf
from autophagy.models.kde import FittedKDE, KernelDensityModel
from autophagy.models.mixture import FittedMixture, GaussianMixtureModel
from autophagy.models.ngram import NgramModel
from autophagy.models.ols import FittedOLS, OLSModel
from autophagy.models.vae import VAE, VAEOptions
from autophagy.models.wgan import WGANGP, WGANOptions


class GaussianModelOptions(Options):
    """``estimator``: the covariance fit, "unbiased" (scatter / (n - 1), paper eq. 1) or "mle"
    (scatter / n, maximum likelihood, the peers' convention). ``simulator``: "auto" uses the
    exact sufficient-statistic path whenever it applies (Gaussian real data, closed-form metrics
    only, no subsampling), "exact" requires it, "samples" forces the sample-based reference path.
    ``backend``: where the exact path computes, "numpy" (default) or "torch" (float64, every
    replicate of a block in one batch, on ``device``: "auto", "cpu" or "cuda"; needs the torch
    extra; same distribution, not the same draws)."""

    estimator: Literal["unbiased", "mle"] = "unbiased"
    simulator: Literal["auto", "exact", "samples"] = "auto"
    backend: Literal["numpy", "torch"] = "numpy"
    device: Device = "auto"


class TailCutOptions(Options):
    """Tail cutting applied to every synthetic draw: keep the ``top_k`` most probable outcomes
    and/or the smallest set holding ``top_p`` of the mass (the sampling bias lambda is the
    temperature, tail narrowing)."""

    top_k: PositiveInt | None = None
    top_p: float | None = Field(None, gt=0.0, le=1.0)


class CategoricalModelOptions(TailCutOptions):
    """``n_categories``: K; by default taken from the data source."""

    n_categories: PositiveInt | None = None


class MemorizerModelOptions(TailCutOptions):
    """``n_items``, ``n_answers``: table sizes; by default taken from the (zipf) data source."""

    n_items: PositiveInt | None = None
    n_answers: PositiveInt | None = None


class NgramModelOptions(TailCutOptions):
    """``order`` n (1 = unigram), add-``smoothing`` alpha, ``vocab_size`` (default: the data's)."""

    order: int = Field(2, ge=1, le=6)
    smoothing: float = Field(0.1, gt=0.0)
    vocab_size: PositiveInt | None = None


class TransformerModelOptions(TailCutOptions):
    """A tiny causal transformer (needs the torch extra): ``width``, ``heads``, ``layers``,
    Adam ``steps`` on batches of ``batch_size`` at ``lr``; ``vocab_size`` defaults to the data's;
    ``device`` as every torch model (:mod:`autophagy.core.device`)."""

    width: PositiveInt = 32
    heads: PositiveInt = 2
    layers: PositiveInt = 1
    steps: PositiveInt = 150
    batch_size: PositiveInt = 32
    lr: float = Field(3e-3, gt=0.0)
    vocab_size: PositiveInt | None = None
    device: Device = "auto"


def _transformer(o: TransformerModelOptions):
    try:
        from autophagy.models.transformer import TransformerModel
    except ImportError as exc:
        raise ValueError(
            f"the transformer model needs PyTorch (pip install 'autophagy[torch]'): {exc}"
        ) from None
    return TransformerModel(
        o.width,
        o.heads,
        o.layers,
        o.steps,
        o.batch_size,
        o.lr,
        o.vocab_size,
        o.top_k,
        o.top_p,
        device=o.device,
    )


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


class OLSOptions(Options):
    """``ridge`` alpha >= 0 (0 = ordinary least squares, minimum-norm when X^T X is singular),
    a constant or a schedule over generations (steps, a ramp or a period: adaptive
    regularisation; see :mod:`autophagy.core.varying`); ``noise``: sigma of synthetic labels
    (default: the data's)."""

    ridge: scheduled(NonNegativeFloat) = 0.0
    noise: PositiveFloat | None = None


class KernelDensityOptions(Options):
    """``bandwidth``: "scott" or "silverman" (rule-of-thumb factor times each dimension's standard
    deviation) or a positive float, the same in every dimension (data units)."""

    bandwidth: Literal["scott", "silverman"] | PositiveFloat = "scott"


class FlowOptions(Options):
    """Paper B.4 defaults: ``layers`` affine couplings (each after an ActNorm), MLP width
    ``hidden``, ``epochs`` of Adam (``learning_rate``) on minibatches of ``batch_size``;
    ``device`` as every torch model (:mod:`autophagy.core.device`)."""

    layers: PositiveInt = 8
    hidden: PositiveInt = 64
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 256
    learning_rate: PositiveFloat = 1e-3
    device: Device = "auto"


# -- the data of the contract cases ------------------------------------------------------------


def _text_source() -> Any:
    """Sentences of the bundled toy grammar, vocabulary 8, length 6."""
    return DATA["text_grammar"].build(DATA["text_grammar"].options(vocab_size=8, length=6))


def _categorical_source() -> Any:
    return CategoricalData(zipf_probabilities(1.1, 12))


def _zipf_source() -> Any:
    return ZipfData(zipf_probabilities(1.5, 40), np.arange(40) % 3, 3, answer_noise=0.3)


def _regression_source() -> Any:
    return DATA["linear_regression"].build(DATA["linear_regression"].options(samples=20, dim=3))


def _documents_source() -> Any:
    """Short documents (48-byte pieces of five standard-library modules' docstrings) as UTF-8
    byte rows, the last 8 held out."""
    docs = stdlib_docstrings(("json", "textwrap", "heapq", "copy", "shlex"))
    rows = encode_texts([p.decode() for d in docs for p in split_utf8(d.encode(), 48)], 48)
    return DocumentsData(rows[:-8], rows[-8:])


def _image_rows(replicates: int = 3, n: int = 60) -> np.ndarray:
    """4 x 4 images of three classes (a bright row per class plus noise), label last: ``(R, n, 17)``."""
    rng = np.random.default_rng(99)
    labels = rng.integers(0, 3, size=(replicates, n))
    pattern = np.zeros((3, 4, 4))
    pattern[[0, 1, 2], [0, 1, 2]] = 1.0
    noise = rng.normal(scale=0.1, size=(replicates, n, 16))
    pixels = np.clip(pattern[labels].reshape(replicates, n, 16) + noise, 0, 1)
    return np.concatenate([pixels, labels[..., None]], axis=-1).astype(np.float64)


_TINY_TORCH = {"device": "cpu", "batch_size": 16, "width": 16}


def _exact_torch(data: Any, model: GaussianModel) -> Any:
    """The exact simulator on PyTorch (``model.backend = "torch"``), imported only when chosen."""
    from autophagy.models.gaussian_exact_torch import TorchExactGaussianSimulator

    return TorchExactGaussianSimulator(data, model)


register_simulator("exact_torch", _exact_torch)

# -- the registrations -------------------------------------------------------------------------

register_model(
    "gaussian",
    options=GaussianModelOptions,
    build=lambda options: GaussianModel(options.estimator, device=options.device),
    summary="full-covariance Gaussian, unbiased (eq. 1) or mle covariance (estimator); lambda scales Sigma",
    has_moments=True,
    has_log_prob=True,
    contract=ModelCase(),
)
register_model(
    "categorical",
    options=CategoricalModelOptions,
    build=lambda o: CategoricalModel(o.n_categories, o.top_k, o.top_p),
    default_metrics=("gini_simpson", "surviving", "true_tv"),
    summary="unigram: empirical category frequencies; lambda is the temperature, top_k/top_p cut the tail",
    max_bias=MAX_TEMPERATURE,
    contract=ModelCase(source=_categorical_source, spread=off_mode),
)
register_model(
    "memorizer",
    options=MemorizerModelOptions,
    build=lambda o: MemorizerModel(o.n_items, o.n_answers, o.top_k, o.top_p),
    default_metrics=("gini_simpson", "surviving", "true_tv", "test_error"),
    summary="Hutter memoriser of (item, answer) pairs; replays its memory at temperature lambda, top_k cut",
    contract=ModelCase(source=_zipf_source, spread=off_mode),
)
register_model(
    "ngram",
    options=NgramModelOptions,
    build=lambda o: NgramModel(o.order, o.smoothing, o.vocab_size, o.top_k, o.top_p),
    default_metrics=("cross_entropy", "cross_entropy_true", "distinct_2", "type_token_ratio"),
    summary="n-gram language model, add-alpha smoothing; lambda is the temperature, top_k/top_p cut the tail",
    max_bias=MAX_TEMPERATURE,
    contract=ModelCase(source=_text_source, spread=off_mode),
)
register_model(
    "transformer",
    options=TransformerModelOptions,
    build=_transformer,
    default_metrics=("cross_entropy", "distinct_2", "type_token_ratio"),
    summary="tiny causal transformer LM (torch extra); lambda is the temperature, top_k/top_p cut the tail",
    max_bias=MAX_TEMPERATURE,
    contract=ModelCase({"steps": 30}, source=_text_source, spread=off_mode, torch=True),
)
register_model(
    "gmm",
    options=MixtureOptions,
    build=lambda options: GaussianMixtureModel(**options.model_dump()),
    summary="Gaussian mixture by batched EM (paper B.2); lambda scales every component's covariance",
    has_moments=True,
    has_log_prob=True,
    contract=ModelCase(),
)
register_model(
    "kde",
    options=KernelDensityOptions,
    build=lambda options: KernelDensityModel(options.bandwidth),
    summary="Gaussian kernel density estimate; lambda scales the bandwidth by sqrt(lambda)",
    has_moments=True,
    has_log_prob=True,
    contract=ModelCase(),
)
register_model(
    "flow",
    options=FlowOptions,
    build=lambda options: FlowModel(**options.model_dump()),
    summary="normalizing flow, affine couplings (RealNVP/Glow, PyTorch); latent from N(0, lambda I)",
    has_log_prob=True,
    contract=ModelCase({"layers": 4, "hidden": 32, "epochs": 10}, torch=True),
)
register_model(
    "ols",
    options=OLSOptions,
    build=lambda o: OLSModel(o.ridge, o.noise),
    default_metrics=("test_error",),
    summary="least squares (ridge) on a fixed design; samples relabel the design, lambda scales the noise",
    # lambda scales the label noise: with common normals the spread need not be monotone
    contract=ModelCase(source=_regression_source, monotone=False),
)
register_model(
    "ddpm",
    options=DDPMOptions,
    build=DDPM,
    summary="conditional DDPM on image rows (PyTorch); lambda = 1/(1+w), w the classifier-free guidance",
    zero_bias=False,
    contract=ModelCase(
        {**_TINY_TORCH, "steps": 6, "train_steps": 8, "depth": 1},
        data=_image_rows,
        spread=within_class_spread,
        monotone=False,
        torch=True,
    ),
)
register_model(
    "wgan_gp",
    options=WGANOptions,
    build=WGANGP,
    summary="class-conditional WGAN-GP on image rows (PyTorch); lambda scales the latent toward its mean",
    contract=ModelCase(
        {**_TINY_TORCH, "latent_dim": 4, "train_steps": 4, "critic_steps": 2},
        data=_image_rows,
        spread=within_class_spread,
        monotone=False,
        torch=True,
    ),
)
register_model(
    "vae",
    options=VAEOptions,
    build=lambda options: VAE(options),
    summary="variational autoencoder (PyTorch), class-conditional on labelled images; z ~ N(0, lambda I)",
    contract=ModelCase({"device": "cpu", "epochs": 20, "hidden": 32, "batch_size": 32}, torch=True),
)
register_model(
    "hf_causal_lm",
    options=HFCausalLMOptions,
    build=build_hf,
    default_metrics=("perplexity", "generated_distinct_2", "length_mean"),
    summary="Hugging Face causal LM (hf extra): a local save_pretrained folder or a small model from "
    "scratch; lambda scales the temperature (0 = greedy/beam)",
    max_bias=MAX_TEMPERATURE,
    contract=ModelCase(  # needs the hf extra (transformers)
        {
            "architecture": "gpt2",
            "layers": 1,
            "width": 16,
            "heads": 2,
            "context": 32,
            "seq_length": 32,
            "vocab_size": 300,
            "steps": 30,
            "lr": 1e-2,
            "max_new_tokens": 3,
            "generate_batch_size": 400,
            "device": "cpu",
        },
        source=_documents_source,
        spread=off_mode,
        monotone=False,  # torch's multinomial sampling: no common random numbers across lambdas
        torch=True,
    ),
)

__all__ = [
    "DDPM",
    "MODELS",
    "WGANGP",
    "CategoricalModel",
    "FittedFlow",
    "FittedGaussian",
    "FittedKDE",
    "FittedMixture",
    "FittedOLS",
    "FlowModel",
    "GaussianMixtureModel",
    "GaussianModel",
    "KernelDensityModel",
    "MemorizerModel",
    "NgramModel",
    "OLSModel",
]
