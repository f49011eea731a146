"""A LeNet-style CNN trained locally on the real images, cached on disk, for image metrics.

The paper computed FID, precision and recall on features of a LeNet trained on MNIST; with
no weights to download, :func:`trained_lenet` trains one on the real images of the data
source, once: the weights are saved under a key hashing the pixels, labels, image shape and
every training option (seed included), and any later run or generation with the same
inputs loads them instead of training. The cache folder is ``LeNetOptions.cache_dir``, else
the ``AUTOPHAGY_CACHE`` environment variable, else ``~/.cache/autophagy``. PyTorch is
imported only when a network is built.

Images have any channel count: ``shape`` is ``(H, W)`` for grey images (the network and the
cache key are those of the grey-only version) or ``(C, H, W)``; pixel rows are flattened
channel-first. Features of this network are comparable only between runs with the same real
set and options, never with Inception-based FID values.
Device (``device``, :mod:`autophagy.core.device`): the network trains and extracts features on
the resolved device; a network trained on a GPU is cached under its own key (its weights
round differently), one trained on the CPU under the key it always had.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from autophagy.core.device import Device, resolve_device, torch_generator
from autophagy.core.protocols import image_dims
from autophagy.core.registry import Options

CACHE_ENV = "AUTOPHAGY_CACHE"
_FORMAT = "lenet-v1"  # bump when the architecture or training changes, so old caches are ignored
_LOADED: dict[str, LeNet] = {}  # in-process memo: one load per key and process


class LeNetOptions(Options):
    """Training of the feature network: Adam, cross-entropy, a held-out share for its accuracy."""

    epochs: PositiveInt = 30
    batch_size: PositiveInt = 64
    learning_rate: PositiveFloat = 2e-3
    holdout: float = Field(0.1, ge=0.0, lt=1.0)
    seed: NonNegativeInt = 0
    cache_dir: Path | None = None
    device: Device = "auto"


def cache_dir(options: LeNetOptions) -> Path:
    """Where trained networks are kept: the option, else ``$AUTOPHAGY_CACHE``, else ``~/.cache``."""
    if options.cache_dir is not None:
        return Path(options.cache_dir).expanduser()
    return Path(os.environ.get(CACHE_ENV) or "~/.cache/autophagy").expanduser()


def cache_key(
    pixels: np.ndarray,
    labels: np.ndarray,
    shape: tuple[int, ...],
    classes: int,
    options,
    device: str = "cpu",
) -> str:
    """SHA-256 of the training data and every option that changes the trained weights, and of
    the resolved ``device`` when it is not the CPU."""
    digest = hashlib.sha256(_FORMAT.encode())
    digest.update(np.ascontiguousarray(pixels, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    settings = options.model_dump(mode="json", exclude={"cache_dir", "device"})
    if device != "cpu":
        settings["device"] = device
    digest.update(json.dumps({"shape": list(shape), "classes": classes, **settings}, sort_keys=True).encode())
    return digest.hexdigest()


def build_lenet(shape: tuple[int, ...], classes: int) -> Any:
    """LeNet-5 layout, padded for small images: two conv + max-pool stages, then 120-84-classes.

    Its first stage, ``net[0]``, maps images ``(n, C, H, W)`` to the 84-d penultimate layer.
    """
    from torch import nn

    channels, h, w = image_dims(shape)
    features = nn.Sequential(
        nn.Conv2d(channels, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (h // 4) * (w // 4), 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
    )
    return nn.Sequential(features, nn.Linear(84, classes))


@dataclass(frozen=True, eq=False)
class LeNet:
    """A trained classifier for ``shape`` images with pixels in [0, 1], rows ``(n, C * H * W)``."""

    net: Any
    shape: tuple[int, ...]
    accuracy: float  # on the held-out share of the real images (NaN without one)
    path: Path
    from_cache: bool
    device: str = "cpu"  # where the network sits and computes (resolved)

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """Penultimate-layer features ``(n, 84)`` float64 of pixel rows ``(n, C * H * W)``."""
        return self.extractor()(pixels)

    def extractor(self) -> LeNetFeatures:
        """This network's features as a :class:`~autophagy.metrics.features.FeatureExtractor`."""
        return LeNetFeatures(self)

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """Predicted classes ``(n,)`` of pixel rows ``(n, C * H * W)``."""
        from autophagy.metrics.features import TorchFeatures

        return TorchFeatures(self.net, image_dims(self.shape), 1024, self.device)(pixels).argmax(axis=1)


@dataclass(frozen=True)
class LeNetFeatures:
    """Feature extractor: pixel rows ``(n, C * H * W)``, or image rows ``(n, C * H * W + 1)`` whose
    label column is dropped, to the LeNet's 84-d features ``(n, 84)`` (for ``fid(..., extractor=)``)."""

    lenet: LeNet

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from autophagy.metrics.features import TorchFeatures

        dims = image_dims(self.lenet.shape)
        pixels = int(np.prod(dims))
        x = np.asarray(x)
        if x.shape[-1] not in (pixels, pixels + 1):
            raise ValueError(f"LeNet features need rows of {pixels} pixels (+ 1 label), got {x.shape[-1]}")
        extract = TorchFeatures(self.lenet.net[0], dims, 1024, self.lenet.device)
        return extract(x[:, :pixels]).reshape(len(x), -1)


def trained_lenet(
    pixels: np.ndarray, labels: np.ndarray, shape: tuple[int, ...], classes: int, options: LeNetOptions
) -> LeNet:
    """The LeNet for these images: from memory, else from the disk cache, else trained and saved."""
    device = resolve_device(options.device, "data.classifier.device")
    key = cache_key(pixels, labels, shape, classes, options, device)
    path = cache_dir(options) / f"lenet-{key[:24]}.npz"
    if key in _LOADED and _LOADED[key].path == path and path.is_file():
        return _LOADED[key]
    import torch

    with torch.random.fork_rng(devices=[]):  # building draws initial weights: keep global state
        torch.manual_seed(options.seed)
        net = build_lenet(shape, classes)
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            net.load_state_dict({name: torch.from_numpy(saved[name]) for name in net.state_dict()})
            accuracy = float(saved["__accuracy__"])
        model = LeNet(net.to(device).eval(), shape, accuracy, path, True, device)
    else:
        net = net.to(device)
        accuracy = _train(net, pixels, labels, shape, options, device)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # one per process: no shared half-file
        weights = {name: t.detach().cpu().numpy() for name, t in net.state_dict().items()}
        np.savez(tmp, __accuracy__=np.float64(accuracy), **weights)
        tmp.replace(path)  # atomic: concurrent runs never read a half-written file
        model = LeNet(net, shape, accuracy, path, False, device)
    _LOADED[key] = model
    return model


def _train(
    net: Any, pixels: np.ndarray, labels: np.ndarray, shape: tuple[int, ...], options, device: str = "cpu"
) -> float:
    """Train ``net`` (on ``device``) in place with cross-entropy; returns held-out accuracy (NaN
    without holdout). The images move to the device once; batches come from a generator there."""
    import torch

    generator = torch_generator(options.seed, device)
    x = torch.from_numpy(np.asarray(pixels, dtype=np.float32).reshape(-1, *image_dims(shape))).to(device)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    order = torch.randperm(len(x), generator=generator, device=device)
    n_test = round(options.holdout * len(x))
    test, train = order[:n_test], order[n_test:]
    optimiser = torch.optim.Adam(net.parameters(), lr=options.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    net.train()
    for _ in range(options.epochs):
        for batch in torch.randperm(len(train), generator=generator, device=device).split(options.batch_size):
            idx = train[batch]
            optimiser.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            optimiser.step()
    net.eval()
    if n_test == 0:
        return float("nan")
    with torch.no_grad():
        return float((net(x[test]).argmax(dim=1) == y[test]).double().mean())
