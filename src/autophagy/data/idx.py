"""MNIST-format files without network: IDX (optionally gzipped) and NPZ readers, an IDX writer.

IDX (LeCun's MNIST format): two zero bytes, a type code, the number of dimensions, one
big-endian uint32 per dimension, then the values, big-endian, row-major. Every malformed
or truncated file raises one ``ValueError`` naming the file and the field at fault.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _raw_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` is decompressed), native byte order."""
    path = Path(path)
    raw = _raw_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated header (magic number needs 4 bytes, file has {len(raw)})")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: bad magic number (first two bytes must be 0): not an IDX file")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X} in the magic number")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated header (dimension sizes of {ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    body = len(raw) - 4 - 4 * ndim
    if body != expected:
        problem = "truncated data" if body < expected else "trailing bytes after the data"
        raise ValueError(f"{path}: {problem}: shape {shape} needs {expected} bytes, found {body}")
    values = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64) as an IDX file."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("=").str[1:]: code for code, dtype in IDX_TYPES.items()}
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in codes or array.ndim == 0:
        raise ValueError(f"IDX cannot store a {array.ndim}-d array of dtype {array.dtype}")
    code = codes[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    return path


def read_npz(path: Path, images_key: str, labels_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels stored under two keys of an ``.npz`` archive (e.g. Keras' ``mnist.npz``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in (images_key, labels_key) if k not in archive.files]
            if missing:
                raise ValueError(f"{path}: no array {missing[0]!r} (arrays: {', '.join(archive.files)})")
            return archive[images_key], archive[labels_key]
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"cannot read {path}: {exc}") from None
