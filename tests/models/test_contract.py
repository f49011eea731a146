"""The contract every registered model passes (scikit-learn's check_estimator, for our protocol).

Models are fitted on Gaussian data ``(3, 60, 3)`` unless ``SOURCES`` gives their kind its own
data source (discrete models: ids of categories, items or tokens); settings with a
``for_data`` method are bound to that source first, as ``config.resolve`` does.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from autophagy.data import DATA, CategoricalData, GaussianData, ZipfData, zipf_probabilities
from autophagy.models import MODELS
from autophagy.protocols import FittedModel

R, N = 3, 60

SOURCES = {
    "categorical": lambda: CategoricalData(zipf_probabilities(1.1, 12)),
    "memorizer": lambda: ZipfData(zipf_probabilities(1.5, 40), np.arange(40) % 3, 3, answer_noise=0.3),
    "ngram": lambda: DATA["text_grammar"].build(DATA["text_grammar"].options(vocab_size=8, length=6)),
    "transformer": lambda: DATA["text_grammar"].build(DATA["text_grammar"].options(vocab_size=8, length=6)),
}
NEEDS_TORCH = {"transformer"}
OPTIONS = {"transformer": {"steps": 30}}  # a short training run: the contract is about the interface


def _source(kind: str):
    return SOURCES.get(kind, lambda: GaussianData(np.array([0.0, 1.0, -1.0]), np.diag([1.0, 2.0, 0.5])))()


def _settings(kind: str):
    if kind in NEEDS_TORCH:
        pytest.importorskip("torch")
    entry = MODELS[kind]
    settings = entry.build(entry.options(**OPTIONS.get(kind, {})))
    return settings.for_data(_source(kind)) if hasattr(settings, "for_data") else settings


def _rngs(seed: int, count: int = R) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def _data(kind: str) -> np.ndarray:
    source = _source(kind)
    return np.stack([source.draw(N, rng=g) for g in _rngs(99)])


def _spread(kind: str, x: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Per replicate: squared deviations about the sample mean, or for discrete data the number of
    draws that differ from the lambda = 0 draw (the mode), which a lower temperature never raises."""
    if kind in SOURCES:
        return np.any(x != mode, axis=2).sum(axis=1).astype(float)
    return ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))


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
    for kind in sorted(MODELS):
        if kind in NEEDS_TORCH and importlib.util.find_spec("torch") is None:
            continue
        data = _data(kind)
        before = data.copy()
        _settings(kind).fit(data, rng=_rngs(1))
        np.testing.assert_array_equal(data, before)


def test_smaller_lambda_never_widens_spread(fitted):
    kind, _, model = fitted
    spreads = []
    mode = model.sample(400, rng=_rngs(4), sampling_bias=0.0)
    for bias in (0.0, 0.1, 0.4, 0.7, 1.0):
        x = model.sample(400, rng=_rngs(4), sampling_bias=bias)  # common random numbers
        spreads.append(_spread(kind, x, mode))
    assert np.all(np.diff(np.stack(spreads), axis=0) >= -1e-12)
    assert np.all(spreads[1] < spreads[-1])  # and lowering lambda from 1 to 0.1 strictly narrows it


def test_zero_lambda_samples_the_modes_only(fitted):
    """lambda = 0 (spec §2) leaves a finite set of atoms, at most one per training sample: one
    point for a Gaussian or a flow, the K means of a mixture, the training points of a KDE."""
    _, _, model = fitted
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
