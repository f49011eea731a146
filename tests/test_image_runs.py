"""A tiny image loop end to end: digits, a DDPM, LeNet metrics, pictures, checkpoints and resume."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.results.pictures import sample_grid
from autophagy.results.run import open_run
from autophagy.running.runner import execute, plan_run

torch = pytest.importorskip("torch")


def _config(cache) -> dict:
    return {
        "name": "tiny-images",
        "seed": 3,
        "replicates": 2,
        "generations": 2,
        "data": {"kind": "digits", "classifier": {"cache_dir": str(cache), "epochs": 3}},
        "model": {"kind": "ddpm", "steps": 5, "train_steps": 5, "width": 16, "depth": 1, "device": "cpu"},
        "loop": {"family": "fully_synthetic", "n_ini": 60, "n_synthetic": 60, "sampling_bias": 0.5},
        "metrics": {"names": ["lenet_fid", "lenet_precision", "lenet_recall", "legibility"], "n_eval": 30},
    }


def test_image_run_writes_metrics_and_pictures_and_resumes(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = execute(plan_run(_config(tmp_path / "cache"), tmp_path / "run"), progress=False)
        rows = open_run(out).rows(0)
        assert {(r, g) for r, g, _, _ in rows} == {(0, 1), (0, 2), (1, 1), (1, 2)}
        assert all(np.isfinite(v) for *_, v in rows) and len(rows) == 16
        for kind in ("samples", "embedding"):
            assert sorted(p.name for p in (out / "plots" / kind).iterdir()) == [
                "generation_001.png",
                "generation_002.png",
            ]
        # a second run resumes from the stored checkpoints (decoded DDPMs) and changes nothing
        again = open_run(execute(plan_run(_config(tmp_path / "cache"), out), progress=False)).rows(0)
        assert again == rows
    finally:
        torch.set_num_threads(threads)


def test_sample_grid_places_each_class_on_its_row():
    rows = np.array([[0.1] * 4 + [1.0], [0.9] * 4 + [0.0], [0.5] * 4 + [1.0]])
    grid = sample_grid(rows, (2, 2), classes=2, per_class=3)
    assert grid.shape == (5, 8)  # 2 x 3 tiles of 2 x 2 with one blank pixel between tiles
    np.testing.assert_array_equal(grid[:2, :2], 0.9)  # class 0, first image
    np.testing.assert_array_equal(grid[3:, :2], 0.1)  # class 1, in the order given
    np.testing.assert_array_equal(grid[3:, 3:5], 0.5)
    np.testing.assert_array_equal(grid[:2, 3:], 0.0)  # class 0 has one image: the rest is blank
    np.testing.assert_array_equal(grid[2], 0.0)  # the gap between rows
