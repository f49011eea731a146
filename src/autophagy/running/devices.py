"""Which devices a run asks for, and whether the executor can give them.

A config asks for a GPU where any of its tables sets ``device = "cuda"`` (``model.device``,
``data.classifier.device``, ...). Then the Ray executor requests one GPU per task, and an
executor on this machine (``local``, ``inline``) checks before anything is written that
PyTorch sees one: a run that cannot get its GPU stops at once with exit status 3 (the
machine, not the input), rather than after its folder is made. ``device = "auto"`` never
asks: it takes the GPU where the task runs has one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autophagy.core.device import resolve_device
from autophagy.core.errors import ConfigError


def cuda_fields(configs: Iterable[dict[str, Any]]) -> list[str]:
    """Dotted keys (``model.device``) set to ``"cuda"`` in resolved configs, sorted, once each."""
    found: set[str] = set()

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif key == "device" and value == "cuda":
                found.add(f"{prefix}{key}")

    for config in configs:
        walk(config, "")
    return sorted(found)


def gpus_per_task(configs: Iterable[dict[str, Any]]) -> int:
    """GPUs a task of these configs asks its executor for: 1 if any table says ``"cuda"``, else 0."""
    return 1 if cuda_fields(configs) else 0


def check_devices(configs: Iterable[dict[str, Any]], executor: Any) -> None:
    """Refuse (``EnvironmentFault``, exit 3) a run that asks for CUDA on an executor of this
    machine when PyTorch sees no GPU here. Executors that place tasks elsewhere (Ray, or any
    executor with a ``gpus`` attribute) check their own resources when they start."""
    fields = cuda_fields(configs)
    if fields and not hasattr(executor, "gpus"):
        resolve_device("cuda", fields[0])
    elif fields and hasattr(executor, "options") and not executor.gpus:  # SLURM: jobs get none
        raise ConfigError("--gpus-per-task", f"{fields[0]} asks for cuda; give its SLURM jobs a GPU")
