"""A tiny generated RGB image set: coloured shapes on textured backgrounds, from a seed.

:func:`make_shapes` draws ``n`` images ``(n, 3, size, size)`` in [0, 1] of four classes (0
disc, 1 square, 2 triangle, 3 cross), balanced; each has a random centre, scale, rotation and
bright colour, anti-aliased edges, over a dark two-colour gradient with a little pixel noise.
Everything is a function of ``seed`` (NumPy's PCG64), so the set is the same on every machine:
tests and examples use it instead of downloading CIFAR-10. :func:`write_image_folder` writes
any labelled images as PNG files in one sub-folder per class, the layout the ``images`` data
source reads; the ``shapes`` data source serves the set directly.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveInt

from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.data.files import held_out_count
from autophagy.data.images import HeldOutImages, compact_shape
from autophagy.metrics.lenet import LeNetOptions

CLASS_NAMES = ("0_disc", "1_square", "2_triangle", "3_cross")  # sorted order = label order


def _hsv(h: np.ndarray, s: float, v: np.ndarray) -> np.ndarray:
    """RGB ``(n, 3)`` of hues ``h`` ``(n,)``, one saturation, values ``v`` ``(n,)``."""
    return np.array([colorsys.hsv_to_rgb(hh, s, vv) for hh, vv in zip(h, v, strict=True)]).reshape(-1, 3)


def _signed_distance(kind: int, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """Signed distance (negative inside) of points ``(u, v)`` in the shape's own frame."""
    if kind == 0:  # disc
        return np.hypot(u, v) - r
    if kind == 1:  # square
        return np.maximum(np.abs(u), np.abs(v)) - 0.8 * r
    if kind == 2:  # equilateral triangle, centred on its centroid
        normals = [(0.0, -1.0), (np.sqrt(3) / 2, 0.5), (-np.sqrt(3) / 2, 0.5)]
        return np.max([nu * u + nv * v for nu, nv in normals], axis=0) - 0.5 * r
    arm = 0.3 * r  # cross: two bars
    bars = [np.maximum(np.abs(u) - r, np.abs(v) - arm), np.maximum(np.abs(u) - arm, np.abs(v) - r)]
    return np.min(bars, axis=0)


def make_shapes(
    n: int, *, size: int = 32, seed: int = 0, classes: int = 4, noise: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``(n, 3, size, size)`` float64 in [0, 1] and labels ``(n,)`` in [0, classes).

    Labels are balanced (``arange(n) % classes``, shuffled); ``classes`` <= 4 keeps the first
    shapes of :data:`CLASS_NAMES`. Deterministic in ``seed``.
    """
    if not 1 <= classes <= len(CLASS_NAMES):
        raise ValueError(f"classes must be in [1, {len(CLASS_NAMES)}], got {classes}")
    if size < 4 or n < 0:
        raise ValueError(f"need size >= 4 and n >= 0, got size = {size}, n = {n}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    centre = rng.uniform(0.35, 0.65, size=(n, 2))
    radius = rng.uniform(0.18, 0.3, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    foreground = _hsv(rng.uniform(0, 1, n), 0.85, rng.uniform(0.8, 1.0, n))
    top, bottom = (_hsv(rng.uniform(0, 1, n), 0.6, rng.uniform(0.1, 0.35, n)) for _ in range(2))
    grain = rng.normal(0, noise, size=(n, 3, size, size))
    axis = (np.arange(size) + 0.5) / size
    y, x = np.meshgrid(axis, axis, indexing="ij")  # (size, size), y down
    images = np.empty((n, 3, size, size))
    for i in range(n):
        dx, dy = x - centre[i, 0], y - centre[i, 1]
        c, s = np.cos(angle[i]), np.sin(angle[i])
        u, v = c * dx + s * dy, -s * dx + c * dy
        inside = np.clip(0.5 - _signed_distance(int(labels[i]), u, v, radius[i]) * size, 0, 1)
        background = top[i][:, None, None] * (1 - y) + bottom[i][:, None, None] * y
        images[i] = background * (1 - inside) + foreground[i][:, None, None] * inside
    return np.clip(images + grain, 0.0, 1.0), labels.astype(np.int64)


def write_image_folder(
    images: np.ndarray, labels: np.ndarray, folder: Path, names: tuple[str, ...] | None = None
) -> Path:
    """Write images ``(n, C, H, W)`` in [0, 1] (C = 1 or 3) as 8-bit PNGs ``folder/<class>/NNNNN.png``;
    class ``c``'s folder is ``names[c]`` (default ``CLASS_NAMES`` or ``class_NN``), so the ``images``
    source reads the same labels back. Returns ``folder``."""
    from PIL import Image

    images, labels, folder = np.asarray(images), np.asarray(labels), Path(folder)
    if images.ndim != 4 or images.shape[1] not in (1, 3) or len(labels) != len(images):
        raise ValueError(f"need images (n, 1 or 3, H, W) and n labels, got {images.shape}, {labels.shape}")
    top = int(labels.max()) + 1 if len(labels) else 0
    names = names or (CLASS_NAMES if top <= len(CLASS_NAMES) else tuple(f"class_{c:02d}" for c in range(top)))
    if sorted(names[:top]) != list(names[:top]):
        raise ValueError(f"class folder names must sort in label order, got {names[:top]}")
    eight_bit = np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for i, (image, label) in enumerate(zip(eight_bit, labels, strict=True)):
        target = folder / names[int(label)]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(target / f"{i:05d}.png")
    return folder


class ShapesOptions(Options):
    """The generated shapes set: ``n`` images of ``size`` x ``size`` RGB pixels, ``classes`` <= 4
    shapes, from ``seed``; ``held_out`` (fraction or count) kept out of training as the metrics'
    reference; ``classifier``: the feature network's training."""

    n: PositiveInt = 1000
    size: int = Field(32, ge=4, le=256)
    classes: int = Field(4, ge=1, le=len(CLASS_NAMES))
    seed: NonNegativeInt = 0
    held_out: float | int = Field(0.2, ge=0)
    classifier: LeNetOptions = LeNetOptions()


def load_shapes_data(options: ShapesOptions) -> HeldOutImages:
    """The shapes set as labelled image rows, the first ``held_out`` images held out."""
    if isinstance(options.held_out, float) and options.held_out >= 1:
        raise ConfigError("data.held_out", "a fraction must be below 1 (or give a whole number of images)")
    n_held = held_out_count(options.held_out, options.n)
    if options.n - n_held < 2 or 0 < n_held < 2:
        raise ConfigError("data.held_out", f"{n_held} of {options.n} images leaves fewer than 2 on a side")
    images, labels = make_shapes(options.n, size=options.size, seed=options.seed, classes=options.classes)
    rows = images.reshape(options.n, -1)
    reference = np.column_stack([rows[:n_held], labels[:n_held]]) if n_held else None
    shape = compact_shape(3, options.size, options.size)
    return HeldOutImages(
        rows[n_held:], labels[n_held:], shape, options.classes, options.classifier, reference=reference
    )
