"""The one device rule (``autophagy.core.device``): auto, cpu, cuda, and the error of each."""

from __future__ import annotations

import pytest

from autophagy.core import device as device_module
from autophagy.core.device import resolve_device
from autophagy.core.errors import ConfigError, EnvironmentFault


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)


@pytest.fixture
def gpu(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: True)


def test_auto_is_the_cpu_without_a_gpu_and_the_gpu_with_one(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(device_module, "cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda"


def test_cpu_is_the_cpu_even_with_a_gpu(gpu):
    assert resolve_device("cpu") == "cpu"


def test_cuda_with_a_gpu_is_the_gpu(gpu):
    assert resolve_device("cuda") == "cuda"


def test_cuda_without_a_gpu_is_an_environment_fault_naming_the_field(no_gpu):
    with pytest.raises(EnvironmentFault) as info:
        resolve_device("cuda", "model.device")
    assert info.value.where == "model.device"
    assert "no CUDA device" in info.value.message


@pytest.mark.parametrize("value", ["gpu", "CUDA", "", "cuda:0"])
def test_an_unknown_value_is_a_config_error(value):
    with pytest.raises(ConfigError) as info:
        resolve_device(value, "data.classifier.device")
    assert info.value.field == "data.classifier.device"


def test_this_machine_without_a_gpu_resolves_auto_to_the_cpu():
    if device_module.cuda_available():
        pytest.skip("a CUDA device is present")
    assert resolve_device("auto") == "cpu"
