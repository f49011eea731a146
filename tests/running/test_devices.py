"""A run that asks for a GPU: found in the config, requested from Ray per task, refused with exit
status 3 (and nothing written) where there is none."""

from __future__ import annotations

import sys
import types

import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core import device as device_module
from autophagy.core.errors import EnvironmentFault
from autophagy.running.devices import cuda_fields, gpus_per_task
from autophagy.running.executors import make_executor

TINY_FLOW = """\
name = "flow-cuda"
replicates = 2
generations = 2
[data]
kind = "gaussian"
dim = 2
[model]
kind = "flow"
layers = 2
hidden = 8
epochs = 1
device = "{device}"
[loop]
family = "fully_synthetic"
n_ini = 20
n_synthetic = 20
[metrics]
names = ["wasserstein2"]
n_eval = 20
"""


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(device_module, "cuda_available", lambda: False)


def test_cuda_fields_are_found_at_any_depth():
    configs = [
        {"model": {"kind": "flow", "device": "cuda"}, "data": {"classifier": {"device": "auto"}}},
        {"model": {"device": "cpu"}, "data": {"classifier": {"device": "cuda"}}},
        {"model": {"kind": "gaussian"}},
    ]
    assert cuda_fields(configs) == ["data.classifier.device", "model.device"]
    assert gpus_per_task(configs) == 1
    assert gpus_per_task([{"model": {"device": "auto"}}]) == 0


@pytest.mark.parametrize(
    ("config", "extra"),
    [
        (TINY_FLOW.format(device="cuda"), []),
        (TINY_FLOW.replace('kind = "flow"', 'kind = "gaussian"'), ["--set", 'model.backend="torch"']),
    ],
    ids=["flow", "exact_torch"],
)
def test_cuda_without_a_gpu_is_exit_3_and_writes_nothing(config, extra, tmp_path, no_gpu):
    pytest.importorskip("torch")
    if "gaussian" in config:
        config = config.replace("layers = 2\nhidden = 8\nepochs = 1\n", "")
    path = tmp_path / "cuda.toml"
    path.write_text(config.replace("{device}", "cuda"))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet", *extra])
    assert result.exit_code == 3, result.output
    assert "model.device" in result.output and "no CUDA device" in result.output
    assert not out.exists()


class FakeRay(types.ModuleType):
    """Just enough of ``ray`` to see what the executor asks for."""

    def __init__(self, resources: dict) -> None:
        super().__init__("ray")
        self.resources, self.requests, self.stopped = resources, [], False

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs) -> None:
        pass

    def cluster_resources(self) -> dict:
        return dict(self.resources)

    def remote(self, **kwargs):
        self.requests.append(kwargs)
        return lambda fn: fn

    def shutdown(self) -> None:
        self.stopped = True


def test_ray_asks_for_a_gpu_per_task_when_a_config_says_cuda(monkeypatch):
    fake = FakeRay({"CPU": 8, "GPU": 2})
    monkeypatch.setitem(sys.modules, "ray", fake)
    pool = make_executor("ray", gpus=1)
    assert fake.requests == [{"num_cpus": 1, "num_gpus": 1}]
    assert pool.workers == 2  # two tasks in flight on two GPUs
    make_executor("ray")
    assert fake.requests[-1] == {"num_cpus": 1, "num_gpus": 0}


def test_ray_without_a_gpu_refuses_a_cuda_config(monkeypatch):
    fake = FakeRay({"CPU": 8})
    monkeypatch.setitem(sys.modules, "ray", fake)
    with pytest.raises(EnvironmentFault) as info:
        make_executor("ray", gpus=1)
    assert info.value.where == "--executor ray" and fake.stopped


def test_folders_written_before_device_options_resume_as_auto():
    """A manifest without the keys this work added reads as their defaults (LEGACY_DEFAULTS)."""
    from autophagy.running.runner import _fill_legacy

    old = {
        "model": {"kind": "gaussian", "estimator": "unbiased"},
        "data": {"kind": "digits", "classifier": {}},
    }
    _fill_legacy(old)
    assert old["model"]["backend"] == "numpy" and old["model"]["device"] == "auto"
    assert old["data"]["classifier"]["device"] == "auto"
    flow = {"model": {"kind": "flow"}, "data": {"kind": "gaussian"}}
    _fill_legacy(flow)
    assert flow["model"]["device"] == "auto" and "classifier" not in flow["data"]


def test_slurm_jobs_without_gpus_refuse_a_cuda_config():
    from types import SimpleNamespace

    from autophagy.core.errors import ConfigError
    from autophagy.running.devices import check_devices

    config = {"model": {"kind": "ddpm", "device": "cuda"}}
    with pytest.raises(ConfigError, match="--gpus-per-task"):
        check_devices([config], SimpleNamespace(options=object(), gpus=0))
    check_devices([config], SimpleNamespace(options=object(), gpus=1))  # the nodes have one each
