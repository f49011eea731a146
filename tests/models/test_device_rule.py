"""Every torch model and metric honours the one device rule (``autophagy.core.device``).

The list below is the registry's torch families plus the torch metrics and the exact
simulator's torch backend; a new torch family fails the first test until it is listed here
(and so checked). Each takes ``device = "auto" | "cpu" | "cuda"`` with default ``"auto"``,
resolves it through :func:`~autophagy.core.device.resolve_device` (spied on: the only caller
of ``cuda_available``), records the resolved device on what it fits (``.device``), keeps it
through a checkpoint round trip, and turns ``"cuda"`` without a GPU into an
:class:`~autophagy.core.errors.EnvironmentFault` naming the field. That the numbers repeat on
one device (generators seeded on it) is the contract's ``determinism`` item, which every
family passes in ``test_contract.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from autophagy.core import device as device_module
from autophagy.core.errors import EnvironmentFault
from autophagy.core.registry import MODELS
from autophagy.core.rng import streams
from autophagy.testing import _Checker, case_of

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TORCH_MODELS = ["ddpm", "flow", "hf_causal_lm", "transformer", "vae", "wgan_gp"]
SHORTER = {  # on top of each family's contract case: the least training that still runs every path
    "ddpm": {"train_steps": 2, "steps": 3},
    "flow": {"epochs": 1},
    "hf_causal_lm": {"steps": 2, "max_new_tokens": 2},
    "transformer": {"steps": 3},
    "vae": {"epochs": 1},
    "wgan_gp": {"train_steps": 1},
}


@pytest.fixture
def spy(monkeypatch):
    """Records every device resolution; this machine's GPU is hidden (``auto`` -> ``cpu``)."""
    calls: list[int] = []
    monkeypatch.setattr(device_module, "cuda_available", lambda: calls.append(1) or False)
    return calls


def _checker(name: str, device: str) -> _Checker:
    if name == "hf_causal_lm":
        pytest.importorskip("transformers")
    case = case_of(name)
    checker = _Checker(
        name, MODELS[name], dataclasses.replace(case, options={**case.options, "device": device})
    )
    checker.build()
    return checker


def test_the_torch_models_are_listed_here():
    assert sorted(n for n in MODELS if case_of(n).torch) == TORCH_MODELS


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_device_is_an_option_with_the_three_values_and_auto_by_default(name):
    options = MODELS[name].options
    assert options.model_fields["device"].default == "auto"
    for value in ("auto", "cpu", "cuda"):
        assert options(device=value).device == value
    with pytest.raises(ValidationError):
        options(device="gpu")


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_auto_resolves_by_the_shared_rule_and_is_recorded(name, spy):
    checker = _checker(name, "auto")
    checker.fit()
    assert spy, "the model did not resolve its device through core.device"
    assert checker.model.device == "cpu"
    loaded = checker.settings.load(checker.model.state_dict())
    assert loaded.device == "cpu"
    assert checker.model.sample(3, rng=checker.rngs(7), sampling_bias=1.0).shape[1] == 3


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_cuda_without_a_gpu_is_an_environment_fault(name, spy):
    checker = _checker(name, "cuda")
    with pytest.raises(EnvironmentFault) as info:
        checker.fit()
    assert info.value.where == "model.device"


# -- metrics -------------------------------------------------------------------------------------


def _tiny_images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=60)
    pixels = np.clip(rng.normal(0.2, 0.1, size=(60, 64)), 0, 1)
    pixels[np.arange(60), labels * 9] = 1.0
    return pixels, labels


def test_lenet_trains_and_extracts_on_the_resolved_device(spy, tmp_path):
    from autophagy.metrics.lenet import LeNetOptions, trained_lenet

    pixels, labels = _tiny_images()
    options = LeNetOptions(epochs=1, cache_dir=tmp_path)
    assert options.device == "auto"
    lenet = trained_lenet(pixels, labels, (8, 8), 3, options)
    assert spy and lenet.device == "cpu"
    assert lenet.features(pixels[:5]).shape == (5, 84)
    with pytest.raises(EnvironmentFault) as info:
        trained_lenet(pixels, labels, (8, 8), 3, options.model_copy(update={"device": "cuda"}))
    assert info.value.where == "data.classifier.device"


def test_lenet_cache_key_on_the_cpu_is_the_key_it_always_had():
    """A reference implementation of the key before ``device`` existed: CPU caches stay valid."""
    import hashlib
    import json

    from autophagy.metrics.lenet import _FORMAT, LeNetOptions, cache_key

    pixels, labels = _tiny_images()
    options = LeNetOptions(epochs=1)
    digest = hashlib.sha256(_FORMAT.encode())
    digest.update(np.ascontiguousarray(pixels, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    settings = options.model_dump(mode="json", exclude={"cache_dir", "device"})
    digest.update(json.dumps({"shape": [8, 8], "classes": 3, **settings}, sort_keys=True).encode())
    assert cache_key(pixels, labels, (8, 8), 3, options) == digest.hexdigest()
    assert (
        cache_key(pixels, labels, (8, 8), 3, options.model_copy(update={"device": "cpu"}))
        == digest.hexdigest()
    )
    assert cache_key(pixels, labels, (8, 8), 3, options, "cuda") != digest.hexdigest()


def test_torch_features_follow_the_rule(spy):
    from autophagy.metrics.features import TorchFeatures

    extractor = TorchFeatures(torch.nn.Linear(3, 2))
    assert extractor.device == "auto" and extractor.resolved_device == "cpu" and spy
    assert extractor(np.ones((4, 3))).shape == (4, 2)
    with pytest.raises(EnvironmentFault):
        TorchFeatures(torch.nn.Linear(3, 2), device="cuda")(np.ones((4, 3)))


# -- the exact simulator's torch backend ---------------------------------------------------------


def _exact_torch(device: str):
    from autophagy.running.config import resolve

    raw = {
        "replicates": 4,
        "generations": 2,
        "data": {"kind": "gaussian", "dim": 3},
        "model": {"kind": "gaussian", "simulator": "exact", "backend": "torch", "device": device},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
        "metrics": {"names": ["trace_cov"]},
    }
    return resolve(raw)[0]


def test_the_exact_torch_simulator_follows_the_rule(spy):
    exp = _exact_torch("auto")
    sim = exp.batches()
    model = sim.fit(sim.real(20, streams(0, range(4), 1, "initial")), streams(0, range(4), 1, "fit"), None)
    assert spy and sim.device == "cpu" and model.device == "cpu"
    sim = _exact_torch("cuda").batches()
    with pytest.raises(EnvironmentFault) as info:
        sim.real(20, streams(0, range(4), 1, "initial"))
    assert info.value.where == "model.device"
