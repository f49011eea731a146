"""The ``images`` and ``shapes`` sources: PNG folders and arrays of any channel count read back
exactly, held-out splits, the generated shapes, and one named field per bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from autophagy.core.errors import ConfigError
from autophagy.data import DATA, make_shapes, write_image_folder
from autophagy.data.image_files import read_image_folder
from autophagy.running.config import resolve
from autophagy.storage.identity import input_paths


def _build(kind: str, **options):
    entry = DATA[kind]
    return entry.build(entry.options.model_validate(options))


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(24, size=12, seed=3)


def test_shapes_are_deterministic_balanced_rgb_in_unit_range():
    a, labels = make_shapes(40, size=16, seed=7)
    b, same = make_shapes(40, size=16, seed=7)
    c, _ = make_shapes(40, size=16, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(labels, same)
    assert not np.allclose(a, c)
    assert a.shape == (40, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(np.bincount(labels), [10, 10, 10, 10])
    # each image holds a bright shape over a dark background: colour, not noise, sets the range
    assert (a.reshape(40, -1).max(axis=1) > 0.7).all() and (np.median(a.reshape(40, -1), axis=1) < 0.5).all()


def test_png_folder_round_trips_to_8_bits_with_labels_from_sub_folders(tmp_path, shapes):
    images, labels = shapes
    folder = write_image_folder(images, labels, tmp_path / "set")
    assert sorted(p.name for p in folder.iterdir()) == ["0_disc", "1_square", "2_triangle", "3_cross"]
    read, read_labels, names = read_image_folder(folder, "auto", None)
    order = np.lexsort((np.arange(len(labels)), labels))  # read order: class folder, then file name
    np.testing.assert_array_equal(read_labels, labels[order])
    np.testing.assert_array_equal(read, np.rint(images[order] * 255) / 255)  # exact 8-bit values
    assert names == ["0_disc", "1_square", "2_triangle", "3_cross"]


def test_images_source_splits_held_out_rows_and_rows_are_channel_first(tmp_path, shapes):
    images, labels = shapes
    folder = write_image_folder(images, labels, tmp_path / "set")
    data = _build("images", path=str(folder), held_out=6)
    assert data.shape == (3, 12, 12) and data.dim == 3 * 144 + 1 and data.classes == 4
    assert data.capacity == 18 and data.reference.shape == (6, 433)
    every = {tuple(r) for r in np.rint(np.concatenate([data.rows, data.reference]) * 255)}
    expected = np.column_stack([np.rint(images.reshape(24, -1) * 255), labels * 255])
    assert every == {tuple(r) for r in expected}  # train and held-out: a partition of the set
    held = data.draw_reference(100, rng=np.random.default_rng(0))
    assert len(held) == 6 and {tuple(r) for r in held} == {tuple(r) for r in data.reference}


def test_arrays_in_every_layout_give_the_rows_of_the_folder(tmp_path, shapes):
    images, labels = shapes
    eight = np.rint(images * 255).astype(np.uint8)
    np.savez(
        tmp_path / "nhwc.npz", images=eight.transpose(0, 2, 3, 1), labels=labels[:, None]
    )  # Keras (N, 1)
    np.savez(tmp_path / "nchw.npz", x=eight / 255.0, y=labels)
    np.save(tmp_path / "images.npy", eight.transpose(0, 2, 3, 1))
    np.save(tmp_path / "labels.npy", labels)
    sources = [
        _build("images", path=str(tmp_path / "nhwc.npz")),
        _build("images", path=str(tmp_path / "nchw.npz"), images_key="x", labels_key="y"),
        _build("images", path=str(tmp_path / "images.npy"), labels=str(tmp_path / "labels.npy")),
    ]
    for data in sources[1:]:
        np.testing.assert_allclose(data.rows, sources[0].rows, atol=1e-12)
        np.testing.assert_allclose(data.reference, sources[0].reference, atol=1e-12)
    unlabelled = _build("images", path=str(tmp_path / "images.npy"))
    assert unlabelled.classes == 1 and (unlabelled.rows[:, -1] == 0).all()


def test_grey_images_keep_the_digits_row_layout(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, size=(10, 6, 5), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", images=grey, labels=np.arange(10) % 2)
    data = _build("images", path=str(tmp_path / "grey.npz"), held_out=0)
    assert data.shape == (6, 5) and data.dim == 31 and data.reference is None
    for i, label in enumerate(np.arange(10) % 2):
        (tmp_path / "folder" / f"c{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(grey[i]).save(tmp_path / "folder" / f"c{label}" / f"{i:02d}.png")
    folder = _build("images", path=str(tmp_path / "folder"), held_out=0)
    assert folder.shape == (6, 5)
    assert {tuple(r) for r in folder.rows} == {tuple(r) for r in data.rows}


def test_size_resizes_every_image_of_a_folder(tmp_path):
    (tmp_path / "a").mkdir()
    Image.new("RGB", (20, 10), (255, 0, 0)).save(tmp_path / "a" / "wide.png")
    Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / "a" / "small.jpg")
    with pytest.raises(ConfigError, match="set size") as info:
        _build("images", path=str(tmp_path), held_out=0)
    assert info.value.field == "data.size"
    data = _build("images", path=str(tmp_path), held_out=0, size=[6, 7])
    assert data.shape == (3, 6, 7)
    red = data.rows[np.argmax(data.rows[:, 0])][:-1].reshape(3, 6, 7)
    np.testing.assert_allclose(red[0], 1.0)
    np.testing.assert_allclose(red[1:], 0.0)


def _raw(data: dict) -> dict:
    return {
        "data": data,
        "model": {"kind": "ddpm", "classes": 4},
        "loop": {"family": "fully_synthetic", "n_ini": 8, "n_synthetic": 8},
        "metrics": {"names": ["image_fid"], "n_eval": 8, "k": 2},
    }


def _bad_inputs(tmp_path, shapes) -> list:
    images, labels = shapes
    folder = write_image_folder(images, labels, tmp_path / "set")
    mixed = write_image_folder(images, labels, tmp_path / "mixed")
    next((mixed / "0_disc").iterdir()).rename(mixed / "loose.png")
    broken = write_image_folder(images, labels, tmp_path / "broken")
    next((broken / "1_square").iterdir()).write_bytes(b"not a png")
    cube = np.zeros((8, 3, 5, 3), np.uint8)
    np.savez(tmp_path / "cube.npz", images=cube, labels=np.zeros(8, int))
    np.savez(tmp_path / "nolabels.npz", images=np.zeros((8, 5, 5), np.uint8))
    np.savez(tmp_path / "hot.npz", images=np.full((8, 5, 5), 2.0), labels=np.zeros(8, int))
    np.save(tmp_path / "img.npy", np.zeros((8, 5, 5), np.uint8))
    np.save(tmp_path / "short.npy", np.zeros(3, int))
    (tmp_path / "notes.txt").write_text("x")
    return [
        ({"path": str(tmp_path / "absent")}, "data.path", "not found"),
        ({"path": str(tmp_path / "notes.txt")}, "data.path", "folder of PNG/JPEG"),
        ({"path": str(mixed)}, "data.path", "both images and class sub-folders"),
        ({"path": str(broken)}, "data.path", "cannot be read as an image"),
        ({"path": str(tmp_path / "cube.npz")}, "data.layout", "channel axis"),
        ({"path": str(tmp_path / "nolabels.npz")}, "data.labels_key", "labels_key = ''"),
        ({"path": str(tmp_path / "nolabels.npz"), "images_key": "x"}, "data.images_key", "no array 'x'"),
        ({"path": str(tmp_path / "hot.npz")}, "data.max_value", r"\[0, 1\]"),
        ({"path": str(tmp_path / "img.npy"), "labels": str(tmp_path / "short.npy")}, "data.labels", "shape"),
        ({"path": str(tmp_path / "img.npy"), "size": [4, 4]}, "data.size", "folder only"),
        ({"path": str(folder), "held_out": 1.0}, "data.held_out", "below 1"),
        ({"path": str(folder), "features": "torchscript"}, "data.features_path", "needs the path"),
        (
            {"path": str(folder), "features": "torchscript", "features_path": str(tmp_path / "notes.txt")},
            "data.trust_features",
            "runs code",
        ),
        (
            {
                "path": str(folder),
                "features": "torchscript",
                "features_path": str(tmp_path / "notes.txt"),
                "trust_features": True,
            },
            "data.features_path",
            "notes.txt",
        ),
        ({"path": str(folder), "features_path": str(tmp_path / "notes.txt")}, "data.features_path", "only"),
    ]


def test_every_bad_input_is_one_error_naming_its_field(tmp_path, shapes):
    for data, field, message in _bad_inputs(tmp_path, shapes):
        with pytest.raises(ConfigError, match=message) as info:
            resolve(_raw({"kind": "images", **data}))
        assert info.value.field == field, (data, info.value)


def test_model_classes_and_shape_are_checked_against_the_images(tmp_path, shapes):
    folder = write_image_folder(*shapes, tmp_path / "set")
    raw = _raw({"kind": "images", "path": str(folder)})
    experiment, _, resolved = resolve(raw)
    assert experiment.model.shape == (3, 12, 12) and resolved["data"]["held_out"] == 0.2
    raw["model"]["classes"] = 3
    with pytest.raises(ConfigError, match="4 classes") as info:
        resolve(raw)
    assert info.value.field == "model.kind"
    raw["model"] = {"kind": "ddpm", "classes": 4, "image_shape": [12, 12]}  # grey shape, RGB rows
    with pytest.raises(ConfigError, match="432") as info:
        resolve(raw)
    assert info.value.field == "model.kind"


def test_extractor_and_label_files_are_fingerprinted_inputs():
    manifest = {"data": {"kind": "images", "path": "/a", "labels": "/b", "features_path": "/c"}}
    assert input_paths(manifest) == ["/a", "/b", "/c"]


def test_shapes_source_serves_the_generated_set_with_its_first_images_held_out():
    data = _build("shapes", n=20, size=8, held_out=5, seed=4)
    images, labels = make_shapes(20, size=8, seed=4)
    rows = np.column_stack([images.reshape(20, -1), labels])
    np.testing.assert_array_equal(data.reference, rows[:5])
    np.testing.assert_array_equal(data.rows, rows[5:])
    assert data.shape == (3, 8, 8) and data.classes == 4
