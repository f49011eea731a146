"""The contract every registered model passes (scikit-learn's check_estimator, for our protocol).

Each model family runs on data it can read, at a tiny size (``CASES``): Gaussian rows for the
Gaussian, 4 x 4 labelled image rows (pixels, then the class) for the image models.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from autophagy.data import GaussianData
from autophagy.models import MODELS
from autophagy.protocols import FittedModel

R, N = 3, 60


def _rngs(seed: int, count: int = R) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, i]) for i in range(count)]


def _gaussian_data() -> np.ndarray:
    source = GaussianData(np.array([0.0, 1.0, -1.0]), np.diag([1.0, 2.0, 0.5]))
    return np.stack([source.draw(N, rng=g) for g in _rngs(99)])


def _image_data() -> np.ndarray:
    """4 x 4 images of three classes (a bright row per class plus noise), label last."""
    rng = np.random.default_rng(99)
    labels = rng.integers(0, 3, size=(R, N))
    pattern = np.zeros((3, 4, 4))
    pattern[[0, 1, 2], [0, 1, 2]] = 1.0
    pixels = np.clip(pattern[labels].reshape(R, N, 16) + rng.normal(scale=0.1, size=(R, N, 16)), 0, 1)
    return np.concatenate([pixels, labels[..., None]], axis=-1).astype(np.float64)


def _total_spread(x: np.ndarray) -> np.ndarray:
    return ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=(1, 2))


def _within_class_spread(x: np.ndarray) -> np.ndarray:
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
    data: Callable[[], np.ndarray] = _gaussian_data
    spread: Callable[[np.ndarray], np.ndarray] = _total_spread
    monotone: bool = True  # spread never widens as lambda falls (exact for the Gaussian family)
    torch: bool = False


TINY_TORCH = {"device": "cpu", "batch_size": 16, "width": 16}
CASES: dict[str, Case] = {
    "gaussian": Case(),
    "ddpm": Case(
        {**TINY_TORCH, "steps": 6, "train_steps": 8, "depth": 1},
        _image_data,
        _within_class_spread,
        False,
        True,
    ),
    "wgan_gp": Case(
        {**TINY_TORCH, "latent_dim": 4, "train_steps": 4, "critic_steps": 2},
        _image_data,
        _within_class_spread,
        False,
        True,
    ),
}


def _case(kind: str) -> Case:
    return CASES.get(kind, Case())


def _settings(kind: str):
    if _case(kind).torch:
        pytest.importorskip("torch")
    entry = MODELS[kind]
    return entry.build(entry.options(**_case(kind).options))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=sorted(MODELS))
def fitted(request) -> tuple:
    settings = _settings(request.param)
    return request.param, settings, settings.fit(_case(request.param).data(), rng=_rngs(1))


def test_fit_returns_fitted_model_and_samples_have_shape(fitted):
    kind, _, model = fitted
    d = _case(kind).data().shape[-1]
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
        data = _case(kind).data()
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
    biases = (0.0, 0.1, 0.4, 0.7, 1.0) if case.monotone else (0.0, 0.05, 1.0)
    spreads = np.stack([case.spread(model.sample(400, rng=_rngs(4), sampling_bias=b)) for b in biases])
    assert np.allclose(spreads[0], 0.0)  # lambda = 0 samples the mode (of each class) only
    if case.monotone:  # common random numbers: exact monotonicity
        assert np.all(np.diff(spreads, axis=0) >= -1e-12)
    else:  # a smooth map of a latent shrunk 20-fold varies far less than of the full latent
        assert np.all(spreads[1] < spreads[2])


def test_replicates_are_independent_of_batch(fitted):
    kind, settings, model = fitted
    data = _case(kind).data()
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
