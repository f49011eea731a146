"""The contract every registered model passes (scikit-learn's check_estimator, for our protocol).

Each model family runs on data it can read, at a tiny size (``CASES``; Gaussian rows
``(3, 60, 3)`` by default): a data source for discrete models (ids of categories, items or
tokens; settings with a ``for_data`` method are bound to it first, as ``config.resolve``
does), 4 x 4 labelled image rows (pixels, then the class) for the image models.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autophagy.data import DATA, CategoricalData, GaussianData, ZipfData, zipf_probabilities
from autophagy.models import MODELS
from autophagy.protocols import FittedModel

R, N = 3, 60


def _rngs(seed: int, count: int = R) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def _gaussian() -> GaussianData:
    return GaussianData(np.array([0.0, 1.0, -1.0]), np.diag([1.0, 2.0, 0.5]))


def _text() -> Any:
    return DATA["text_grammar"].build(DATA["text_grammar"].options(vocab_size=8, length=6))


def _image_data() -> np.ndarray:
    """4 x 4 images of three classes (a bright row per class plus noise), label last."""
    rng = np.random.default_rng(99)
    labels = rng.integers(0, 3, size=(R, N))
    pattern = np.zeros((3, 4, 4))
    pattern[[0, 1, 2], [0, 1, 2]] = 1.0
    pixels = np.clip(pattern[labels].reshape(R, N, 16) + rng.normal(scale=0.1, size=(R, N, 16)), 0, 1)
    return np.concatenate([pixels, labels[..., None]], axis=-1).astype(np.float64)


def _total_spread(x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Squared deviations about each replicate's sample mean."""
    return ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))


def _off_mode(x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Discrete draws that differ from the lambda = 0 draw (the mode): a lower temperature never
    raises their number under common random numbers."""
    return np.any(x != mode, axis=2).sum(axis=1).astype(float)


def _within_class_spread(x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Squared deviations of the pixels from their class mean, summed per replicate."""
    out = np.zeros(len(x))
    for r, rows in enumerate(x):
        for label in np.unique(rows[:, -1]):
            group = rows[rows[:, -1] == label, :-1]
            out[r] += ((group - group.mean(axis=0)) ** 2).sum()
    return out


@dataclass(frozen=True)
class Case:
    """How one model family is exercised: options, data, and what its sampling bias promises."""

    options: dict = field(default_factory=dict)
    source: Callable[[], Any] | None = _gaussian  # real-data source, or None for ``data``
    data: Callable[[], np.ndarray] | None = None
    spread: Callable[[np.ndarray, np.ndarray], np.ndarray] = _total_spread
    monotone: bool = True  # spread never widens as lambda falls (common random numbers)
    torch: bool = False


TINY_TORCH = {"device": "cpu", "batch_size": 16, "width": 16}
CASES: dict[str, Case] = {
    "categorical": Case(source=lambda: CategoricalData(zipf_probabilities(1.1, 12)), spread=_off_mode),
    "memorizer": Case(
        source=lambda: ZipfData(zipf_probabilities(1.5, 40), np.arange(40) % 3, 3, answer_noise=0.3),
        spread=_off_mode,
    ),
    "ngram": Case(source=_text, spread=_off_mode),
    "ols": Case(  # lambda scales the label noise; with common normals the spread need not be monotone
        source=lambda: DATA["linear_regression"].build(DATA["linear_regression"].options(samples=20, dim=3)),
        monotone=False,
    ),
    "transformer": Case({"steps": 30}, source=_text, spread=_off_mode, torch=True),
    "flow": Case(torch=True),
    "ddpm": Case(
        {**TINY_TORCH, "steps": 6, "train_steps": 8, "depth": 1},
        None,
        _image_data,
        _within_class_spread,
        monotone=False,
        torch=True,
    ),
    "wgan_gp": Case(
        {**TINY_TORCH, "latent_dim": 4, "train_steps": 4, "critic_steps": 2},
        None,
        _image_data,
        _within_class_spread,
        monotone=False,
        torch=True,
    ),
}


def _case(kind: str) -> Case:
    return CASES.get(kind, Case())


def _settings(kind: str):
    case = _case(kind)
    if case.torch:
        pytest.importorskip("torch")
    entry = MODELS[kind]
    settings = entry.build(entry.options(**case.options))
    if case.source is not None and hasattr(settings, "for_data"):
        settings = settings.for_data(case.source())
    return settings


def _data(kind: str) -> np.ndarray:
    case = _case(kind)
    if case.data is not None:
        return case.data()
    source = case.source()
    return np.stack([source.draw(N, rng=g) for g in _rngs(99)])


@pytest.fixture(params=sorted(MODELS), scope="module")
def fitted(request) -> tuple:
    settings = _settings(request.param)
    return request.param, settings, settings.fit(_data(request.param), rng=_rngs(1))


def test_fit_returns_fitted_model_and_samples_have_shape(fitted):
    kind, _, model = fitted
    d = _data(kind).shape[2]
    assert isinstance(model, FittedModel)
    assert model.sample(7, rng=_rngs(2), sampling_bias=1.0).shape == (R, 7, d)
    assert model.sample(0, rng=_rngs(2), sampling_bias=1.0).shape == (R, 0, d)


def test_same_seed_same_samples_and_successive_calls_differ(fitted):
    _, _, model = fitted
    a = model.sample(50, rng=_rngs(3), sampling_bias=0.7)
    b = model.sample(50, rng=_rngs(3), sampling_bias=0.7)
    np.testing.assert_array_equal(a, b)
    rngs = _rngs(3)
    first, second = (
        model.sample(50, rng=rngs, sampling_bias=0.7),
        model.sample(50, rng=rngs, sampling_bias=0.7),
    )
    assert not np.allclose(first, second)


def test_fit_does_not_mutate_input():
    for kind in [k for k in MODELS if not _case(k).torch or importlib.util.find_spec("torch")]:
        data = _data(kind)
        before = data.copy()
        _settings(kind).fit(data, rng=_rngs(1))
        np.testing.assert_array_equal(data, before)


def test_smaller_lambda_concentrates_samples(fitted):
    kind, _, model = fitted
    case = _case(kind)
    if not MODELS[kind].zero_bias:  # e.g. guidance w = 1/lambda - 1 is infinite at lambda = 0
        with pytest.raises(ValueError, match="sampling_bias"):
            model.sample(5, rng=_rngs(4), sampling_bias=0.0)
        return
    mode = model.sample(400, rng=_rngs(4), sampling_bias=0.0)
    biases = (0.0, 0.1, 0.4, 0.7, 1.0) if case.monotone else (0.0, 0.05, 1.0)
    spreads = np.stack([case.spread(model.sample(400, rng=_rngs(4), sampling_bias=b), mode) for b in biases])
    if case.monotone:  # common random numbers: exact monotonicity
        assert np.all(np.diff(spreads, axis=0) >= -1e-12)
    assert np.all(spreads[1] < spreads[-1])  # lowering lambda from 1 strictly narrows the samples


def test_zero_lambda_samples_the_modes_only(fitted):
    """lambda = 0 (spec §2) leaves a finite set of atoms, at most one per training sample: one
    point for a Gaussian or a flow, the K means of a mixture, the training points of a KDE,
    one image per class for a GAN."""
    kind, _, model = fitted
    if not MODELS[kind].zero_bias:
        pytest.skip(f"lambda = 0 is undefined for {kind}")
    atoms = model.sample(4 * N, rng=_rngs(4), sampling_bias=0.0)
    for replicate in atoms:  # rounded to 1e-9 so that rounding noise does not split an atom
        assert len(np.unique(np.round(replicate, 9), axis=0)) <= N
    spread = np.var(model.sample(4 * N, rng=_rngs(4), sampling_bias=1.0), axis=1).sum(axis=1)
    assert np.all(spread > 0)


def test_replicates_are_independent_of_batch(fitted):
    kind, settings, model = fitted
    data = _data(kind)
    alone = settings.fit(data[1:2], rng=_rngs(1)[1:2]).sample(20, rng=_rngs(5)[1:2], sampling_bias=0.8)
    batched = model.sample(20, rng=_rngs(5), sampling_bias=0.8)
    np.testing.assert_allclose(alone[0], batched[1], rtol=1e-12, atol=1e-12)


def test_state_dict_round_trip(fitted):
    _, settings, model = fitted
    restored = settings.load(model.state_dict())
    np.testing.assert_array_equal(
        restored.sample(10, rng=_rngs(6), sampling_bias=0.5),
        model.sample(10, rng=_rngs(6), sampling_bias=0.5),
    )
