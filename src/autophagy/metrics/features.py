"""Feature extractors for feature-space metrics (FID, and k-NN metrics on features), and FID.

An extractor is any callable mapping samples ``(n, d)`` to features ``(n, f)`` (the
``FeatureExtractor`` protocol); nothing is downloaded. Built in: ``Identity``, a fixed seeded
``RandomProjection``, ``TorchFeatures``, which wraps any user-supplied ``torch.nn.Module``,
``lenet``: the LeNet-style CNN trained locally on an image data source and cached on disk
(:mod:`autophagy.metrics.lenet`), as the paper did for MNIST, and ``torchscript`` /
``huggingface``: a local TorchScript file or Hugging Face vision folder
(:mod:`autophagy.metrics.extractors`). PyTorch is imported only when a torch extractor is
called. ``EXTRACTORS`` maps names to factories, so configs can name an extractor and its options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from autophagy.core.device import resolve_device
from autophagy.metrics.extractors import HuggingFaceFeatures, TorchScriptFeatures
from autophagy.metrics.gaussian import frechet_distance
from autophagy.metrics.inputs import cap_samples, finish, paired


@runtime_checkable
class FeatureExtractor(Protocol):
    """Maps samples ``(n, d)`` to float64 features ``(n, f)``, deterministically."""

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Identity:
    """The samples themselves as features: ``(n, d) -> (n, d)`` float64."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class RandomProjection:
    """A fixed Gaussian projection ``(n, d) -> (n, out_dim)``, entries N(0, 1/out_dim).

    The matrix depends only on ``(seed, d)``, so the same extractor gives the same features
    in every run; distances are preserved in expectation (Johnson-Lindenstrauss).
    """

    out_dim: int = 64
    seed: int = 0

    def matrix(self, d: int) -> np.ndarray:
        """The ``(d, out_dim)`` projection used for inputs of dimension ``d``."""
        rng = np.random.default_rng([self.seed, d])
        return rng.normal(scale=1.0 / np.sqrt(self.out_dim), size=(d, self.out_dim))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return x @ self.matrix(x.shape[-1])


@dataclass(frozen=True)
class TorchFeatures:
    """Features from a ``torch.nn.Module`` in eval mode, without gradients, in batches.

    Rows ``(n, d)`` are reshaped to ``(n, *input_shape)`` when ``input_shape`` is given (e.g.
    ``(1, 28, 28)`` for images), fed as float32 on ``device`` (``"auto"``, ``"cpu"`` or
    ``"cuda"``, resolved by :func:`autophagy.core.device.resolve_device` at each call; the module
    is moved there), and the outputs flattened to ``(n, f)`` float64.
    """

    module: Any
    input_shape: tuple[int, ...] | None = None
    batch_size: int = 512
    device: str = "auto"

    @property
    def resolved_device(self) -> str:
        """``"cpu"`` or ``"cuda"``: where the features are computed."""
        return resolve_device(self.device, "extractor.device")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch  # optional dependency, imported on use

        device = self.resolved_device
        x = np.asarray(x, dtype=np.float32)
        shape = (len(x), *self.input_shape) if self.input_shape is not None else x.shape
        x = x.reshape(shape)
        module = self.module.to(device).eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                batch = torch.from_numpy(x[start : start + self.batch_size]).to(device)
                outputs.append(module(batch).reshape(len(batch), -1).double().cpu().numpy())
        return np.concatenate(outputs) if outputs else np.empty((0, 0))


def lenet_features(data: Any) -> FeatureExtractor:
    """The cached LeNet of an image data source (``digits``, ``mnist``) as an extractor."""
    return data.classifier().extractor()


EXTRACTORS: dict[str, Callable[..., FeatureExtractor]] = {
    "identity": Identity,
    "random_projection": RandomProjection,
    "torch": TorchFeatures,
    "lenet": lenet_features,
    "torchscript": TorchScriptFeatures,
    "huggingface": HuggingFaceFeatures,
}


def extract(x: np.ndarray, extractor: FeatureExtractor) -> np.ndarray:
    """Features ``(R, n, f)`` of batched samples ``(R, n, d)``, one call over all R x n rows."""
    r, n = x.shape[:2]
    out = np.asarray(extractor(x.reshape(r * n, -1)), dtype=np.float64)
    if out.ndim != 2 or len(out) != r * n:
        raise ValueError(f"extractor must map (n, d) to (n, f), got {out.shape} for {r * n} rows")
    if not np.isfinite(out).all():
        raise ValueError("extractor returned NaN or infinite features")
    return out.reshape(r, n, -1)


def fid(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    extractor: FeatureExtractor | None = None,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> float | np.ndarray:
    """Frechet distance (squared, as FID) between Gaussian fits of the two sets' features.

    ``real`` ``(n, d)``, ``synthetic`` ``(m, d)`` give a float; batched ``(R, ., d)`` give
    ``(R,)``. ``extractor`` defaults to ``Identity()`` (then this is the plain Frechet distance
    of the samples). Lower is better; a set against itself gives ~0.
    """
    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    if min(real.shape[1], synthetic.shape[1]) < 2:
        raise ValueError(f"FID needs 2 or more samples per set, got {real.shape[1]} and {synthetic.shape[1]}")
    extractor = extractor or Identity()
    values = frechet_distance(extract(real, extractor), extract(synthetic, extractor))
    return finish({"fid": np.asarray(values, dtype=np.float64)}, single)["fid"]
