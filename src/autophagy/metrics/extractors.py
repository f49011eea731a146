"""Feature extractors loaded from local files the user names: a TorchScript file or a Hugging Face
vision model folder. Nothing is downloaded.

Both read pixel rows ``(n, C * H * W)`` in [0, 1] (or image rows with the label column last,
which is dropped), reshape them to ``(n, C, H, W)`` float32 and return float64 features
``(n, f)``:

- :class:`TorchScriptFeatures`: ``torch.jit.load(path)`` on the CPU (or ``torch.export.load``
  for a ``.pt2`` file from ``torch.export.save``, TorchScript's successor), called on the batch
  as is (the module does its own resizing and normalisation); its output is flattened per image.
- :class:`HuggingFaceFeatures`: ``AutoModel.from_pretrained(path, local_files_only=True)``
  (never ``trust_remote_code``), with the folder's image processor when it has one
  (``preprocessor_config.json``: resize and normalise, pixels passed as [0, 1]), else the
  pixels as they are; grey images are repeated to three channels when the model wants three.
  Features: ``get_image_features`` (CLIP-like models), else ``pooler_output``, else the mean of
  ``last_hidden_state`` over tokens (or over positions of a convolutional map).

Loading either runs code from the file: TorchScript is a program, and weights may be pickles.
Data sources load them only when the config says ``trust_features = true`` (see
:mod:`autophagy.data.image_files`). Features of such models are not Inception's: an FID on them
is comparable between runs that use the same file, never with published FID values. Loaded
modules are kept per process (one load per path, size and mtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autophagy.core.protocols import image_dims

_LOADED: dict[tuple, Any] = {}  # (kind, path, size, mtime) -> loaded module (and processor)


def _pixels(x: np.ndarray, dims: tuple[int, int, int]) -> np.ndarray:
    """Rows ``(n, P)`` or ``(n, P + 1)`` as float32 images ``(n, C, H, W)``."""
    pixels = int(np.prod(dims))
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[-1] not in (pixels, pixels + 1):
        raise ValueError(f"features need rows of {pixels} pixels (+ 1 label), got shape {x.shape}")
    return np.ascontiguousarray(x[:, :pixels], dtype=np.float32).reshape(len(x), *dims)


def _stamp(path: Path) -> tuple:
    """What identifies a file or folder's version cheaply: its size and newest mtime."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [f.stat() for f in files]
    return (str(path.resolve()), sum(s.st_size for s in stats), max((s.st_mtime for s in stats), default=0))


@dataclass(frozen=True)
class TorchScriptFeatures:
    """Features from a TorchScript module saved with ``torch.jit.save`` (or an exported program,
    ``.pt2``, saved with ``torch.export.save``): images ``(n, C, H, W)`` in [0, 1] to its outputs
    flattened to ``(n, f)``. ``shape`` is ``(H, W)`` or ``(C, H, W)``."""

    path: Path
    shape: tuple[int, ...]
    batch_size: int = 256

    def module(self) -> Any:
        """The loaded module, in eval mode on the CPU (loaded once per process and file version)."""
        import torch

        key = ("torchscript", *_stamp(Path(self.path)))
        if key not in _LOADED:
            if Path(self.path).suffix.lower() == ".pt2":
                _LOADED[key] = torch.export.load(str(self.path)).module()
            else:
                _LOADED[key] = torch.jit.load(str(self.path), map_location="cpu").eval()
        return _LOADED[key]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        images, module, out = _pixels(x, image_dims(self.shape)), self.module(), []
        with torch.no_grad():
            for start in range(0, len(images), self.batch_size):
                batch = torch.from_numpy(images[start : start + self.batch_size])
                result = module(batch)
                if not isinstance(result, torch.Tensor):
                    raise ValueError(f"{self.path}: the module must return one tensor, got {type(result)}")
                out.append(result.reshape(len(batch), -1).double().numpy())
        return np.concatenate(out) if out else np.empty((0, 0))


@dataclass(frozen=True)
class HuggingFaceFeatures:
    """Features from a local Hugging Face vision model folder (``save_pretrained``): images
    ``(n, C, H, W)`` in [0, 1] through its image processor (if any) to pooled features ``(n, f)``."""

    path: Path
    shape: tuple[int, ...]
    batch_size: int = 64

    def loaded(self) -> tuple[Any, Any]:
        """``(model, processor or None)``, loaded once per process and folder version."""
        import transformers
        from transformers import AutoImageProcessor, AutoModel

        key = ("huggingface", *_stamp(Path(self.path)))
        if key not in _LOADED:
            transformers.utils.logging.set_verbosity_error()  # as the hf model does: no bars, no notes
            transformers.utils.logging.disable_progress_bar()
            model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
            processor = None
            if (Path(self.path) / "preprocessor_config.json").is_file():
                processor = AutoImageProcessor.from_pretrained(str(self.path), local_files_only=True)
            _LOADED[key] = (model, processor)
        return _LOADED[key]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        model, processor = self.loaded()
        images = _pixels(x, image_dims(self.shape))
        wanted = getattr(getattr(model, "config", None), "num_channels", None)
        if wanted == 3 and images.shape[1] == 1:  # grey images into an RGB model
            images = np.repeat(images, 3, axis=1)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), self.batch_size):
                batch = images[start : start + self.batch_size]
                if processor is not None:
                    channels_last = list(batch.transpose(0, 2, 3, 1))
                    inputs = processor(images=channels_last, do_rescale=False, return_tensors="pt")
                    pixel_values = inputs["pixel_values"].float()
                else:
                    pixel_values = torch.from_numpy(batch)
                out.append(_pooled(model, pixel_values).reshape(len(batch), -1).double().numpy())
        return np.concatenate(out) if out else np.empty((0, 0))


def _pooled(model: Any, pixel_values: Any) -> Any:
    """One feature vector per image from a vision model's outputs (see the module docstring)."""
    if hasattr(model, "get_image_features"):
        features = model.get_image_features(pixel_values=pixel_values)
        return getattr(features, "pooler_output", features)
    outputs = model(pixel_values=pixel_values)
    pooled = getattr(outputs, "pooler_output", None)
    if pooled is not None:
        return pooled
    hidden = outputs.last_hidden_state
    return hidden.mean(dim=1) if hidden.ndim == 3 else hidden.flatten(2).mean(dim=2)
