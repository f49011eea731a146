"""Image sources: IDX / NPZ round trips on small generated files, clear errors, digits rows."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.data import DATA, read_idx, read_npz, split_rows, write_idx
from autophagy.data.images import MnistOptions, load_mnist_data
from autophagy.running.config import resolve


@pytest.fixture
def mnist_like() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 6, 5), dtype=np.uint8), rng.integers(0, 10, size=12).astype(
        np.uint8
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = np.random.default_rng(1).normal(scale=50, size=(4, 3, 2)).astype(dtype)
    back = read_idx(write_idx(tmp_path / f"a{suffix}", array))
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_the_mnist_layout(tmp_path):
    # LeCun's format: 0x00000803 then big-endian dimension sizes, for an unsigned-byte 3-d array
    raw = write_idx(tmp_path / "x.idx", np.zeros((2, 28, 28), np.uint8)).read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c") and len(raw) == 16 + 2 * 784


def test_mnist_idx_and_npz_sources_round_trip(tmp_path, mnist_like):
    images, labels = mnist_like
    write_idx(tmp_path / "images.idx", images)
    write_idx(tmp_path / "labels.idx", labels)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=labels)
    from_idx = load_mnist_data(MnistOptions(path=tmp_path / "images.idx", labels=tmp_path / "labels.idx"))
    from_npz = load_mnist_data(MnistOptions(path=tmp_path / "mnist.npz"))
    for data in (from_idx, from_npz):
        assert data.shape == (6, 5) and data.dim == 31 and data.capacity == 12
        np.testing.assert_array_equal(data.pixels, images.reshape(12, 30) / 255.0)
        pixels, back = split_rows(data.rows, 10)
        np.testing.assert_array_equal(back, labels)
        np.testing.assert_array_equal(np.rint(pixels * 255).astype(np.uint8).reshape(images.shape), images)
    limited = load_mnist_data(MnistOptions(path=tmp_path / "mnist.npz", limit=5))
    assert limited.capacity == 5


def _truncated(raw: bytes) -> bytes:
    return raw[:-3]


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_truncated, "truncated data"),
        (lambda raw: raw[:6], "truncated header"),
        (lambda raw: raw[:2], "truncated header"),
        (lambda raw: b"\x01" + raw[1:], "bad magic number"),
        (lambda raw: raw[:2] + b"\x07" + raw[3:], "unknown IDX type code"),
        (lambda raw: raw + b"\x00", "trailing bytes"),
    ],
)
def test_corrupt_idx_names_file_and_field(tmp_path, mnist_like, corrupt, message):
    path = tmp_path / "images.idx"
    path.write_bytes(corrupt(write_idx(path, mnist_like[0]).read_bytes()))
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_and_npz_files(tmp_path, mnist_like):
    gz = tmp_path / "images.idx.gz"
    gz.write_bytes(gzip.compress(write_idx(tmp_path / "x.idx", mnist_like[0]).read_bytes())[:-10])
    with pytest.raises(ValueError, match=r"cannot read .*images\.idx\.gz"):
        read_idx(gz)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match=r"cannot read .*bad\.npz"):
        read_npz(bad, "x_train", "y_train")
    np.savez(tmp_path / "keys.npz", images=mnist_like[0], y_train=mnist_like[1])
    with pytest.raises(ValueError, match=r"no array 'x_train' .*images, y_train"):
        read_npz(tmp_path / "keys.npz", "x_train", "y_train")
    np.savez(tmp_path / "short.npz", x_train=mnist_like[0], y_train=mnist_like[1][:5])
    with pytest.raises(ValueError, match="labels must have shape"):
        load_mnist_data(MnistOptions(path=tmp_path / "short.npz"))


def test_mnist_config_errors_name_the_field(tmp_path, mnist_like):
    write_idx(tmp_path / "images.idx", mnist_like[0])
    raw = {
        "data": {"kind": "mnist", "path": str(tmp_path / "images.idx")},
        "loop": {"family": "fully_synthetic"},
    }
    with pytest.raises(ConfigError, match="labels: an IDX images file needs"):
        resolve(raw)
    (tmp_path / "labels.idx").write_bytes(write_idx(tmp_path / "labels.idx", mnist_like[1]).read_bytes()[:-1])
    raw["data"]["labels"] = str(tmp_path / "labels.idx")
    with pytest.raises(ConfigError, match=r"^data: .*labels.idx: truncated data"):
        resolve(raw)


def test_digits_rows_hold_pixels_and_labels():
    data = DATA["digits"].build(DATA["digits"].options())
    assert (data.dim, data.capacity, data.shape, data.classes) == (65, 1797, (8, 8), 10)
    pixels, labels = split_rows(data.rows, 10)
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    np.testing.assert_array_equal(np.bincount(labels) >= 170, True)  # ~180 images per digit
    rows = data.draw(1797, rng=np.random.default_rng(0))
    assert len({r.tobytes() for r in rows}) == len({r.tobytes() for r in data.rows})  # distinct rows
    three = DATA["digits"].build(DATA["digits"].options(classes=[3]))
    assert set(three.labels) == {3}


def test_split_rows_rejects_bad_labels():
    with pytest.raises(ValueError, match="integer class label"):
        split_rows(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        split_rows(np.array([[0.5, 10.0]]), 10)
