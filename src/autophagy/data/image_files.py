"""Real images of any channel count and size from local files: the ``images`` data source.

``path`` is either

- a folder of PNG/JPEG files, one sub-folder per class (``cats/``, ``dogs/``: labels 0, 1, ...
  in sorted name order; a folder with images and no sub-folders is one class), decoded with
  Pillow to 8 bits per channel (``color``: ``auto`` = grey when every image is grey, else RGB;
  or ``rgb``, ``grey``, ``rgba``) and resized to ``size`` = (H, W) when given (bilinear; without
  it every image must have the same size); or
- an ``.npz`` (arrays ``images_key`` and ``labels_key``; ``labels_key = ""``: unlabelled) or
  ``.npy`` (images; ``labels`` names a ``.npy`` of labels, else unlabelled) holding
  ``(N, H, W)`` grey or ``(N, H, W, C)`` / ``(N, C, H, W)`` images (``layout``; ``auto`` reads
  the channel axis when only one of the two is 1, 3 or 4), pixel values in [0, ``max_value``]
  (default by dtype: 255 for uint8, 65535 for uint16, 1 for floats and booleans).

Rows are :mod:`autophagy.data.images` rows (channel-first pixels in [0, 1], then the label).
``limit`` keeps a seeded random subset; ``held_out`` (a fraction or a count, default 20 %)
keeps a seeded share out of training as the sample metrics' reference. Every problem is a
:class:`~autophagy.core.errors.ConfigError` naming the field (``data.path``, ``data.layout``,
...), so a bad input exits with status 2 before anything is written.

Features for ``image_*`` metrics (``features``): ``classifier`` (default: the LeNet-style CNN
trained on the training images, :mod:`autophagy.metrics.lenet`), or a user's model from
``features_path``: ``torchscript`` (a ``torch.jit.save`` file) or ``huggingface`` (a local
``save_pretrained`` vision folder). Loading those runs code from the file, so it happens only
with ``trust_features = true``; the extractor is loaded and tried on two images when the config
is checked. See :mod:`autophagy.metrics.extractors`.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveInt

from autophagy.core.errors import ConfigError
from autophagy.core.registry import Options
from autophagy.data.files import held_out_count
from autophagy.data.images import HeldOutImages, compact_shape
from autophagy.metrics.lenet import LeNetOptions

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
_MODES = {"rgb": "RGB", "grey": "L", "rgba": "RGBA"}


class ImagesOptions(Options):
    """A folder of PNG/JPEG files (sub-folders are classes) or an ``.npz``/``.npy`` image array;
    see :mod:`autophagy.data.image_files` for every key."""

    path: Path
    labels: Path | None = None
    images_key: str = "images"
    labels_key: str = "labels"
    layout: Literal["auto", "nhwc", "nchw"] = "auto"
    color: Literal["auto", "rgb", "grey", "rgba"] = "auto"
    size: tuple[PositiveInt, PositiveInt] | None = None
    max_value: float | None = Field(None, gt=0)
    classes: PositiveInt | None = None
    limit: PositiveInt | None = None
    held_out: float | int = Field(0.2, ge=0)
    split_seed: NonNegativeInt = 0
    classifier: LeNetOptions = LeNetOptions()
    features: Literal["classifier", "torchscript", "huggingface"] = "classifier"
    features_path: Path | None = None
    trust_features: bool = False


def load_images_data(options: ImagesOptions) -> HeldOutImages:
    """Read, check and split the images; a :class:`ConfigError` names the field at fault."""
    path = Path(options.path)
    if not path.exists():
        raise ConfigError("data.path", f"not found: {path}")
    if path.is_dir():
        images, labels, names = read_image_folder(path, options.color, options.size)
    elif path.suffix.lower() in (".npz", ".npy"):
        if options.size is not None:
            raise ConfigError("data.size", "resizes images of a folder only; arrays are used at their size")
        images, labels = read_image_array(options)
        names = None
    else:
        raise ConfigError("data.path", f"{path}: give a folder of PNG/JPEG files, an .npz or an .npy file")
    n, c, h, w = images.shape
    if n < 2:
        raise ConfigError("data.path", f"{path}: needs at least 2 images, got {n}")
    if min(h, w) < 4:
        raise ConfigError("data.path", f"{path}: images must be at least 4 x 4, got {h} x {w}")
    classes = options.classes or (len(names) if names else int(labels.max()) + 1)
    if labels.max() >= classes:
        raise ConfigError("data.classes", f"label {labels.max()} is not below classes = {classes}")
    order = np.random.default_rng(options.split_seed).permutation(n)[: options.limit]
    if isinstance(options.held_out, float) and options.held_out >= 1:
        raise ConfigError("data.held_out", "a fraction must be below 1 (or give a whole number of images)")
    n_held = held_out_count(options.held_out, len(order))
    if len(order) - n_held < 2 or 0 < n_held < 2:
        raise ConfigError("data.held_out", f"{n_held} of {len(order)} images leaves fewer than 2 on a side")
    pixels = images.reshape(n, c * h * w)
    train, held = order[n_held:], order[:n_held]
    reference = np.column_stack([pixels[held], labels[held]]).astype(np.float64) if n_held else None
    data = HeldOutImages(
        pixels[train],
        labels[train],
        compact_shape(c, h, w),
        classes,
        options.classifier,
        reference=reference,
    )
    if options.features == "classifier":
        if options.features_path is not None:
            raise ConfigError(
                "data.features_path", "is used only with features = 'torchscript' or 'huggingface'"
            )
        return data
    extractor = _extractor(options, data.shape)
    _try(extractor, data.rows[:2], options)
    return dataclasses.replace(data, extractor=extractor)


def read_image_folder(
    path: Path, color: str, size: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images ``(N, C, H, W)`` in [0, 1], labels ``(N,)`` and class names of a folder (see module)."""
    from PIL import Image

    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    folders = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if folders and loose:
        raise ConfigError("data.path", f"{path} holds both images and class sub-folders; keep one of the two")
    groups = [(p.name, _image_files(p)) for p in folders] if folders else [(path.name, loose)]
    empty = [name for name, files in groups if not files]
    if empty:
        raise ConfigError("data.path", f"{path / empty[0]} holds no .png, .jpg or .jpeg file")
    decoded, labels = [], []
    for label, (_, files) in enumerate(groups):
        for file in files:
            decoded.append(_open(file, Image))
            labels.append(label)
    mode = _MODES.get(color) or ("L" if all(im.mode in GREY_MODES for im in decoded) else "RGB")
    arrays = []
    for file, image in zip((f for _, files in groups for f in files), decoded, strict=True):
        image = image.convert(mode)
        if size is not None:
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        array = np.asarray(image, dtype=np.float64) / 255.0
        array = array if array.ndim == 3 else array[:, :, None]  # (H, W, C)
        if arrays and array.shape != arrays[0].shape:
            raise ConfigError(
                "data.size",
                f"{file} is {array.shape[1]} x {array.shape[0]} but the first image is "
                f"{arrays[0].shape[1]} x {arrays[0].shape[0]} (width x height); set size = [H, W] to resize",
            )
        arrays.append(array)
    images = np.stack(arrays).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(images), np.asarray(labels, dtype=np.int64), [name for name, _ in groups]


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _open(file: Path, image_module: Any) -> Any:
    """The decoded image (pixels loaded); a ``data.path`` error names a file Pillow cannot read."""
    try:
        image = image_module.open(file)
        image.load()
    except (OSError, ValueError, image_module.DecompressionBombError) as exc:
        raise ConfigError("data.path", f"{file} cannot be read as an image: {exc}") from None
    return image


def read_image_array(options: ImagesOptions) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, C, H, W)`` in [0, 1] and labels ``(N,)`` of an ``.npz`` or ``.npy`` file."""
    path = Path(options.path)
    if path.suffix.lower() == ".npz":
        if options.labels is not None:
            raise ConfigError("data.labels", "is for .npy images; an .npz names its labels with labels_key")
        arrays = _load(path, "data.path", keys=(options.images_key, options.labels_key))
        images, labels = arrays[options.images_key], arrays.get(options.labels_key)
    else:
        images = _load(path, "data.path")
        labels = None if options.labels is None else _load(Path(options.labels), "data.labels")
    if not np.issubdtype(images.dtype, np.number) and images.dtype != np.bool_:
        raise ConfigError("data.path", f"{path}: images must be numbers, got dtype {images.dtype}")
    if np.iscomplexobj(images):
        raise ConfigError("data.path", f"{path}: images hold complex numbers")
    images = _channels_first(images, options.layout, path)
    scale = options.max_value or _default_max(images.dtype)
    values = images.astype(np.float64) / scale
    if not np.isfinite(values).all() or (values.size and (values.min() < 0 or values.max() > 1)):
        raise ConfigError("data.max_value", f"{path}: pixel values must lie in [0, {scale:g}]")
    if labels is None:
        return values, np.zeros(len(values), dtype=np.int64)
    labels = np.asarray(labels)
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels  # Keras (N, 1)
    field = "data.labels" if path.suffix.lower() == ".npy" else "data.labels_key"
    if labels.shape != (len(values),):
        raise ConfigError(field, f"labels must have shape ({len(values)},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise ConfigError(field, f"labels must be non-negative integers, got dtype {labels.dtype}")
    return values, labels.astype(np.int64)


def _load(path: Path, field: str, keys: tuple[str, str] | None = None) -> Any:
    """An ``.npy`` array, or ``{key: array}`` of an ``.npz`` (the labels key may be absent only if "")."""
    if not path.is_file():
        raise ConfigError(field, f"not a readable file: {path}")
    try:
        if keys is None:
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as archive:
            images_key, labels_key = keys
            for key, name in ((images_key, "data.images_key"), (labels_key, "data.labels_key")):
                if key and key not in archive.files:
                    listed = ", ".join(archive.files) or "none"
                    hint = "; labels_key = '' reads no labels" if name == "data.labels_key" else ""
                    raise ConfigError(name, f"{path} has no array {key!r} (arrays: {listed}){hint}")
            return {k: archive[k] for k in keys if k}
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ConfigError(field, f"cannot read {path}: {exc}") from None


def _channels_first(images: np.ndarray, layout: str, path: Path) -> np.ndarray:
    """``(N, C, H, W)`` of ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)`` images."""
    if images.ndim == 3:
        return images[:, None]
    if images.ndim != 4:
        raise ConfigError("data.path", f"{path}: images must be (N, H, W) or 4-d, got shape {images.shape}")
    if layout == "auto":
        first, last = images.shape[1] in (1, 3, 4), images.shape[3] in (1, 3, 4)
        if first == last:
            raise ConfigError(
                "data.layout",
                f"{path}: cannot tell the channel axis of shape {images.shape}; "
                "set layout = 'nhwc' or 'nchw'",
            )
        layout = "nchw" if first else "nhwc"
    return images if layout == "nchw" else images.transpose(0, 3, 1, 2)


def _default_max(dtype: np.dtype) -> float:
    if np.issubdtype(dtype, np.unsignedinteger) and dtype.itemsize == 2:
        return 65535.0
    return 255.0 if np.issubdtype(dtype, np.integer) else 1.0


def _extractor(options: ImagesOptions, shape: tuple[int, ...]) -> Any:
    """The user-named extractor, after the checks that let it load (trust, path, packages)."""
    from autophagy.metrics.extractors import HuggingFaceFeatures, TorchScriptFeatures

    kind = options.features
    if options.features_path is None:
        raise ConfigError("data.features_path", f"features = {kind!r} needs the path of the model to load")
    where = Path(options.features_path)
    if not options.trust_features:
        raise ConfigError(
            "data.trust_features",
            f"features = {kind!r} loads {where}, which runs code from that file; "
            "set trust_features = true if you trust it",
        )
    if kind == "torchscript" and not where.is_file():
        raise ConfigError("data.features_path", f"{where} is not a file (give a torch.jit.save file)")
    if kind == "huggingface" and not (where / "config.json").is_file():
        raise ConfigError("data.features_path", f"{where} is not a save_pretrained folder (no config.json)")
    try:
        import torch  # noqa: F401

        if kind == "huggingface":
            import transformers  # noqa: F401
    except ImportError as exc:
        extra = "hf" if kind == "huggingface" else "torch"
        raise ConfigError("data.features", f"needs {exc.name}: pip install 'autophagy[{extra}]'") from None
    return (TorchScriptFeatures if kind == "torchscript" else HuggingFaceFeatures)(where, shape)


def _try(extractor: Any, rows: np.ndarray, options: ImagesOptions) -> None:
    """Load the extractor and run it on two images: a broken file is a config error now, not later."""
    try:
        out = np.asarray(extractor(rows[:, :-1]), dtype=np.float64)
    except Exception as exc:  # the user's model: any failure is theirs, reported on the field
        raise ConfigError(
            "data.features_path", f"{options.features_path}: {type(exc).__name__}: {exc}"
        ) from None
    if out.ndim != 2 or len(out) != len(rows) or not np.isfinite(out).all():
        raise ConfigError(
            "data.features_path",
            f"{options.features_path}: features of 2 images must be a finite (2, f) array, "
            f"got shape {out.shape}",
        )
