"""Real labelled images: scikit-learn's bundled 8 x 8 digits, or MNIST from local files.

Row layout (shared with the image models and metrics): each sample is one row of
``C * H * W + 1`` values, the image's pixels in [0, 1] flattened channel-first and row-major
(``(C, H, W)`` order; grey images have C = 1, so ``H * W + 1``), then its class label as a
float (0.0, 1.0, ...). Conditional models read the label from the last column and write the
class they generated there; image metrics strip it. An image shape is written ``(H, W)`` for
one channel and ``(C, H, W)`` for more (:func:`compact_shape`). Folders of PNG/JPEG files and
``.npz``/``.npy`` arrays of any channel count are read by :mod:`autophagy.data.image_files`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.core.protocols import image_dims
from autophagy.core.registry import Options
from autophagy.data.idx import read_idx, read_npz
from autophagy.metrics.lenet import LeNet, LeNetOptions, trained_lenet


def compact_shape(channels: int, height: int, width: int) -> tuple[int, ...]:
    """``(H, W)`` for one channel (the digits' shape), else ``(C, H, W)``."""
    return (height, width) if channels == 1 else (channels, height, width)


def image_shape(dim: int, shape: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Image shape of rows with ``dim`` = pixels + 1 columns: ``shape`` (``(H, W)`` or ``(C, H, W)``)
    if given, else a square grey image. The result is compact (:func:`compact_shape`)."""
    pixels = dim - 1
    if shape is not None:
        c, h, w = image_dims(shape)
        if c * h * w != pixels:
            raise ValueError(f"image_shape {tuple(shape)} has {c * h * w} pixels, rows have {pixels}")
        return compact_shape(c, h, w)
    side = math.isqrt(max(pixels, 0))
    if side < 2 or side * side != pixels:
        raise ValueError(f"rows of {dim} columns are not square images plus a label column; set image_shape")
    return (side, side)


@dataclass(frozen=True, eq=False)
class ImageData:
    """A fixed set of labelled images: ``pixels`` ``(N, C * H * W)`` in [0, 1], ``labels`` ``(N,)``,
    ``shape`` ``(H, W)`` or ``(C, H, W)``. ``extractor``: the feature extractor the ``image_*``
    metrics use, pixel rows ``(n, C * H * W)`` to ``(n, f)`` (None: the classifier trained on these
    images)."""

    pixels: np.ndarray
    labels: np.ndarray
    shape: tuple[int, ...]
    classes: int
    classifier_options: LeNetOptions = field(default_factory=LeNetOptions)
    extractor: Any = None

    def __post_init__(self) -> None:
        rows = np.empty((len(self.pixels), self.pixels.shape[1] + 1))
        rows[:, :-1], rows[:, -1] = self.pixels, self.labels
        object.__setattr__(self, "rows", rows)  # (N, H * W + 1): what draws return
        object.__setattr__(self, "pixels", rows[:, :-1])  # a view: one copy of the images

    @property
    def dim(self) -> int:
        return self.pixels.shape[1] + 1

    @property
    def capacity(self) -> int:
        return self.pixels.shape[0]

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct random images as rows ``(n, C * H * W + 1)`` (pixels, then label)."""
        if n > self.capacity:
            raise ValueError(f"asked for {n} real images but the set has {self.capacity}")
        return self.rows[rng.choice(self.capacity, size=n, replace=False)]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Plug-in mean ``(d,)`` and covariance ``(d, d)`` of the rows (label column included)."""
        return self.rows.mean(axis=0), np.cov(self.rows, rowvar=False)

    def classifier(self) -> LeNet:
        """The LeNet trained on these images (trained once, then loaded from the disk cache)."""
        return trained_lenet(self.pixels, self.labels, self.shape, self.classes, self.classifier_options)

    def feature_extractor(self) -> Any:
        """The extractor of the ``image_*`` metrics: pixel rows ``(n, C * H * W)`` to ``(n, f)``."""
        return self.classifier().extractor() if self.extractor is None else self.extractor


@dataclass(frozen=True, eq=False)
class HeldOutImages(ImageData):
    """Labelled images with held-out rows ``reference`` ``(M, C * H * W + 1)``: the loop trains on
    the others (``draw``), the sample metrics compare against these (``draw_reference``)."""

    reference: np.ndarray | None = None

    def draw_reference(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``min(n, M)`` distinct held-out rows ``(., C * H * W + 1)``."""
        rows = self.rows if self.reference is None else self.reference
        return rows[rng.choice(len(rows), size=min(n, len(rows)), replace=False)]


def _checked(pixels: np.ndarray, labels: np.ndarray, source: str, scale: float) -> tuple:
    """Pixels ``(N, H, W)`` scaled to [0, 1] and labels ``(N,)``, checked against each other."""
    if pixels.ndim != 3:
        raise ValueError(f"{source}: images must have shape (N, H, W), got {pixels.shape}")
    if labels.ndim != 1 or len(labels) != len(pixels):
        raise ValueError(f"{source}: labels must have shape ({len(pixels)},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise ValueError(f"{source}: labels must be non-negative integers, got dtype {labels.dtype}")
    values = pixels.astype(np.float64) / scale
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{source}: pixel values must lie in [0, {scale:g}]")
    return values, labels.astype(np.int64)


class DigitsOptions(Options):
    """scikit-learn's bundled 8 x 8 digits (1,797 images, 10 classes, pixels 0..16 scaled to [0, 1])."""

    classes: list[int] | None = Field(None, description="keep only these digits (labels unchanged)")
    classifier: LeNetOptions = LeNetOptions()


def load_digits_data(options: DigitsOptions) -> ImageData:
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

    digits = load_digits()
    pixels, labels = _checked(digits.images, digits.target, "digits", 16.0)
    if options.classes is not None:
        keep = np.isin(labels, options.classes)
        pixels, labels = pixels[keep], labels[keep]
    return ImageData(pixels.reshape(len(pixels), -1), labels, (8, 8), 10, options.classifier)


class MnistOptions(Options):
    """MNIST-format images from local files: an IDX images file with ``labels`` (an IDX labels
    file), or one ``.npz`` holding ``images_key`` and ``labels_key`` (Keras' ``mnist.npz``
    layout by default). ``limit`` keeps the first images only; pixels 0..``max_value`` -> [0, 1]."""

    path: Path
    labels: Path | None = None
    images_key: str = "x_train"
    labels_key: str = "y_train"
    limit: PositiveInt | None = None
    max_value: float = Field(255.0, gt=0)
    classes: PositiveInt = 10
    classifier: LeNetOptions = LeNetOptions()
    format: Literal["auto", "idx", "npz"] = "auto"

    def file_format(self) -> str:
        if self.format != "auto":
            return self.format
        return "npz" if Path(self.path).suffix.lower() == ".npz" else "idx"


def load_mnist_data(options: MnistOptions) -> ImageData:
    """Read and check the files; ``ValueError`` names the file and what is wrong with it."""
    if options.file_format() == "npz":
        pixels, labels = read_npz(options.path, options.images_key, options.labels_key)
        source = str(options.path)
    else:
        if options.labels is None:
            raise ValueError("labels: an IDX images file needs its IDX labels file")
        pixels, labels = read_idx(options.path), read_idx(options.labels)
        source = f"{options.path} / {options.labels}"
    if options.limit is not None:
        pixels, labels = pixels[: options.limit], labels[: options.limit]
    pixels, labels = _checked(pixels, labels, source, options.max_value)
    if labels.size and labels.max() >= options.classes:
        raise ValueError(f"{source}: label {labels.max()} is not below classes = {options.classes}")
    if min(pixels.shape[1:]) < 4:
        raise ValueError(f"{source}: images must be at least 4 x 4, got {pixels.shape[1:]}")
    shape = (pixels.shape[1], pixels.shape[2])
    return ImageData(pixels.reshape(len(pixels), -1), labels, shape, options.classes, options.classifier)
