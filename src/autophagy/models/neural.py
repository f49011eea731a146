"""Shared plumbing of the PyTorch image models: devices, seeding, labelled rows, checkpoints.

Batch invariance: replicate ``i`` gets its own network, initialised and trained with a torch
generator seeded by an integer drawn from ``rng[i]``, so its numbers never depend on the
other replicates of the batch. PyTorch is imported inside the functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from autophagy.core.device import resolve_device, torch_generator
from autophagy.core.protocols import LabelledImages, split_rows
from autophagy.data.images import image_shape

SEED_BOUND = 2**62


def torch_device(choice: str) -> str:
    """The model's ``device`` option, resolved by :func:`autophagy.core.device.resolve_device`."""
    return resolve_device(choice, "model.device")


def seeded(seed: int, build: Callable[[], Any]) -> Any:
    """``build()`` with the global torch generator seeded by ``seed`` and then restored."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def generator(seed: int, device: str) -> Any:
    """A torch generator on ``device`` seeded by ``seed``."""
    return torch_generator(seed, device)


def training_images(
    data: np.ndarray, classes: int, shape: tuple[int, ...] | None
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Pixels ``(R, n, C * H * W)``, labels ``(R, n)`` and the image shape (``(H, W)`` or
    ``(C, H, W)``; square grey when ``shape`` is None) of image rows ``(R, n, P + 1)``."""
    data = np.asarray(data)
    if data.ndim != 3:
        raise ValueError(f"data must have shape (R, n, pixels + 1), got {data.shape}")
    size = image_shape(data.shape[-1], shape)
    pixels, labels = split_rows(data, classes)
    if not np.isfinite(pixels).all():
        raise ValueError("image pixels contain NaN or infinite values")
    return pixels, labels, size


def class_frequencies(labels: np.ndarray, classes: int) -> np.ndarray:
    """Share of each class per replicate ``(R, classes)``: samples are generated in these shares."""
    counts = np.stack([np.bincount(row, minlength=classes) for row in labels]).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def rows(pixels: Any, labels: np.ndarray) -> np.ndarray:
    """Image rows ``(n, P + 1)`` float64 from pixels in [0, 1] (a tensor) and labels ``(n,)``."""
    return np.column_stack([pixels.detach().double().cpu().numpy(), labels.astype(np.float64)])


def pack(modules: dict[str, list[Any]], arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A flat state dict: ``name/i/parameter`` for module ``i`` of each list, plus ``arrays``."""
    state = dict(arrays)
    for name, per_replicate in modules.items():
        for i, module in enumerate(per_replicate):
            for key, tensor in module.state_dict().items():
                state[f"{name}/{i}/{key}"] = tensor.detach().cpu().numpy()
    return state


def unpack(state: dict[str, np.ndarray], name: str, i: int, module: Any, device: str) -> Any:
    """Load module ``i`` of ``name`` from a :func:`pack` state into ``module`` on ``device``."""
    import torch

    prefix = f"{name}/{i}/"
    weights = {
        k[len(prefix) :]: torch.from_numpy(np.asarray(v)) for k, v in state.items() if k.startswith(prefix)
    }
    module.load_state_dict(weights)
    return module.to(device).eval()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageModel:
    """What the image models share (a dataclass with ``options.image_shape`` and
    ``options.classes``): ``shape`` (C, H, W), bound from labelled image data by :meth:`for_data`,
    fits from at least ``min_samples`` rows, and the check that the data are image rows the
    model can read."""

    min_samples: int = 2
    shape: tuple[int, ...] | None = None

    def for_data(self, data: object) -> Any:
        """This model with the image shape (channels included) taken from labelled image data."""
        return dataclasses.replace(self, shape=bound_shape(data, self.options.image_shape))

    def check_data(self, data: object) -> None:
        """Raise ``ValueError`` unless the data are image rows this model can read."""
        check_image_data(data, self.options.image_shape or self.shape, self.options.classes)


def bound_shape(data: object, shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The image shape a model takes from its data: ``shape`` (the option) if set, else a
    labelled image source's own ``shape`` (RGB sources need it: their rows are not square)."""
    if shape is not None or not isinstance(data, LabelledImages):
        return shape
    return tuple(int(s) for s in data.shape)


def check_image_data(data: object, shape: tuple[int, ...] | None, classes: int) -> None:
    """``ValueError`` unless ``data`` has image rows of ``shape`` and at most ``classes`` classes."""
    image_shape(data.dim, shape)
    if isinstance(data, LabelledImages) and data.classes > classes:
        raise ValueError(f"the data have {data.classes} classes but model.classes = {classes}; raise it")
