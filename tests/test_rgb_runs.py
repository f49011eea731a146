"""A 32 x 32 RGB folder loop end to end through ``autophagy.api.run``: generated shapes written
as PNG files in class sub-folders, a tiny DDPM, two generations, image metrics and pictures."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy import api
from autophagy.core.errors import ConfigError
from autophagy.data import make_shapes, write_image_folder

torch = pytest.importorskip("torch")

METRICS = ["image_fid", "image_kid", "image_precision", "image_recall", "lenet_fid", "legibility"]


def _config(folder, cache) -> dict:
    return {
        "name": "rgb-shapes",
        "seed": 1,
        "replicates": 1,
        "generations": 2,
        "data": {"kind": "images", "path": str(folder), "classifier": {"cache_dir": str(cache), "epochs": 2}},
        "model": {
            "kind": "ddpm",
            "steps": 10,
            "train_steps": 20,
            "batch_size": 32,
            "width": 32,
            "depth": 1,
            "classes": 4,
            "device": "cpu",
        },
        "loop": {"family": "fully_synthetic", "n_ini": 60, "n_synthetic": 60, "sampling_bias": 1.0},
        "metrics": {"names": METRICS, "n_eval": 24, "k": 3},
    }


def test_rgb_folder_loop_runs_through_the_api(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        images, labels = make_shapes(100, size=32, seed=0)
        folder = write_image_folder(images, labels, tmp_path / "shapes")
        run = api.run(
            _config(folder, tmp_path / "cache"), tmp_path / "run", executor="inline", progress=False
        )
        table = run.table()
        assert len(table) == 2 * len(METRICS)  # one replicate, two generations, every metric
        assert set(table["generation"]) == {1, 2} and set(table["metric"]) == set(METRICS)
        assert np.isfinite(table["value"]).all()
        # without a named extractor, image_* are the classifier's features: the same numbers
        fid = table.pivot(index="generation", columns="metric", values="value")
        np.testing.assert_allclose(fid["image_fid"], fid["lenet_fid"])
        assert (fid["image_fid"] > 0).all()
        pictures = sorted(p.name for p in (run.path / "plots" / "samples").iterdir())
        assert pictures == ["generation_001.png", "generation_002.png"]
        resolved = run.config
        assert resolved["data"]["kind"] == "images" and resolved["model"]["image_shape"] is None
        # the folder is the run's input: the same images resume (nothing left to do), changed ones
        # are refused before anything runs
        config = _config(folder, tmp_path / "cache")
        again = api.run(config, tmp_path / "run", executor="inline", progress=False, plots=False)
        assert again.rows(0) == run.rows(0)
        png = next((folder / "2_triangle").iterdir())
        png.write_bytes(png.read_bytes()[:-1] + b"\0")
        with pytest.raises(ConfigError, match="differs") as info:
            api.run(config, tmp_path / "run", executor="inline", progress=False, plots=False)
        assert info.value.field == "data.path"
    finally:
        torch.set_num_threads(threads)


def test_rgb_sample_grid_keeps_each_tiles_colours():
    from autophagy.results.pictures import sample_grid

    red = np.zeros((3, 2, 2))
    red[0] = 1.0
    blue = np.zeros((3, 2, 2))
    blue[2] = 0.5
    rows = np.array([np.r_[red.ravel(), 1.0], np.r_[blue.ravel(), 0.0]])
    grid = sample_grid(rows, (3, 2, 2), classes=2, per_class=2)
    assert grid.shape == (5, 5, 3)  # 2 x 2 tiles of 2 x 2 pixels, one blank pixel apart, channels last
    np.testing.assert_array_equal(grid[:2, :2], np.broadcast_to([0.0, 0.0, 0.5], (2, 2, 3)))  # class 0
    np.testing.assert_array_equal(grid[3:, :2], np.broadcast_to([1.0, 0.0, 0.0], (2, 2, 3)))  # class 1
    np.testing.assert_array_equal(grid[:, 3:], 0.0)  # one image per class: the second column is blank


def test_rgb_example_is_a_tiny_32x32_ddpm_loop_of_two_generations():
    from pathlib import Path

    from autophagy.running.config import load_config, resolve

    example = Path(__file__).resolve().parents[1] / "examples" / "rgb_shapes_ddpm.toml"
    experiment, config, resolved = resolve(load_config(example))
    assert (resolved["data"]["kind"], resolved["model"]["kind"], config.generations) == ("shapes", "ddpm", 2)
    assert experiment.model.shape == (3, 32, 32) and experiment.data.dim == 3 * 32 * 32 + 1
    assert set(config.metrics.names) >= {"image_fid", "image_precision", "image_recall"}
