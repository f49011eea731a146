"""Real labelled images: scikit-learn's bundled 8 x 8 digits, or MNIST from local files.

Row layout (shared with the image models and metrics): each sample is one row of
``H * W + 1`` values, the image's pixels in [0, 1] flattened row-major, then its class
label as a float (0.0, 1.0, ...). Conditional models read the label from the last column
and write the class they generated there; image metrics strip it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.core.registry import Options
from autophagy.data.idx import read_idx, read_npz
from autophagy.metrics.lenet import LeNet, LeNetOptions, trained_lenet


def image_shape(dim: int, shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """Image shape of rows with ``dim`` = pixels + 1 columns: ``shape`` if given, else square."""
    pixels = dim - 1
    if shape is not None:
        if shape[0] * shape[1] != pixels:
            raise ValueError(
                f"image_shape {tuple(shape)} has {shape[0] * shape[1]} pixels, rows have {pixels}"
            )
        return (shape[0], shape[1])
    side = math.isqrt(max(pixels, 0))
    if side < 2 or side * side != pixels:
        raise ValueError(f"rows of {dim} columns are not square images plus a label column; set image_shape")
    return (side, side)


@dataclass(frozen=True, eq=False)
class ImageData:
    """A fixed set of labelled images: ``pixels`` ``(N, H * W)`` in [0, 1], ``labels`` ``(N,)``."""

    pixels: np.ndarray
    labels: np.ndarray
    shape: tuple[int, int]
    classes: int
    classifier_options: LeNetOptions = field(default_factory=LeNetOptions)

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
        """``n`` distinct random images as rows ``(n, H * W + 1)`` (pixels, then label)."""
        if n > self.capacity:
            raise ValueError(f"asked for {n} real images but the set has {self.capacity}")
        return self.rows[rng.choice(self.capacity, size=n, replace=False)]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Plug-in mean ``(d,)`` and covariance ``(d, d)`` of the rows (label column included)."""
        return self.rows.mean(axis=0), np.cov(self.rows, rowvar=False)

    def classifier(self) -> LeNet:
        """The LeNet trained on these images (trained once, then loaded from the disk cache)."""
        return trained_lenet(self.pixels, self.labels, self.shape, self.classes, self.classifier_options)


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
