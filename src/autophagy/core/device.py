"""Where PyTorch computes: the one rule behind every ``device`` option.

Every torch model, metric and simulator takes ``device = "auto" | "cpu" | "cuda"`` and resolves
it here, when it first needs a device (a fit, a load, a feature pass), never at import: ``auto``
is ``cuda`` when PyTorch sees a CUDA device and ``cpu`` otherwise; ``cpu`` is always the CPU;
``cuda`` is the GPU and, on a machine without one, an
:class:`~autophagy.core.errors.EnvironmentFault` (the machine, not the input: exit status 3,
and the same command resumes on a machine that has one). PyTorch is an optional extra, so it
is imported inside :func:`resolve_device` only.

A resolved device keeps numbers repeatable on that device: every torch draw comes from a
``torch.Generator`` on it, seeded from the replicate's numpy stream (:func:`torch_generator`).
CPU and GPU kernels round differently, so the same seed gives close but not identical numbers
on the two devices.
"""

from __future__ import annotations

from typing import Any, Literal

from autophagy.core.errors import ConfigError, EnvironmentFault

Device = Literal["auto", "cpu", "cuda"]
"""The ``device`` option of every torch model, metric and simulator."""

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    """Whether PyTorch is installed and sees at least one CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(requested: str, where: str = "device") -> str:
    """``"cpu"`` or ``"cuda"`` for a ``device`` option (see the module docstring).

    ``where`` names the option in errors (``model.device``). An unknown value is a
    :class:`ConfigError` (exit 2); ``"cuda"`` without a CUDA device (or without PyTorch) is an
    :class:`EnvironmentFault` (exit 3).
    """
    if requested not in DEVICES:
        raise ConfigError(where, f"must be one of {', '.join(DEVICES)}, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    available = cuda_available()
    if requested == "cuda" and not available:
        raise EnvironmentFault(
            where,
            "'cuda' was asked for but PyTorch sees no CUDA device on this machine; "
            "use device = 'auto' (GPU when present, else CPU) or 'cpu', or run where a GPU is",
        )
    return "cuda" if available else "cpu"


def torch_generator(seed: int, device: str) -> Any:
    """A ``torch.Generator`` on ``device`` (a resolved one) seeded by ``seed``."""
    import torch

    return torch.Generator(device=device).manual_seed(int(seed))
