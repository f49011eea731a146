"""Every image example config validates; the profiles have the sizes they promise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autophagy.running.config import load_config, resolve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "images"
QUICK = sorted(p for p in EXAMPLES.glob("*.toml") if p.name != "full.toml")


@pytest.mark.parametrize("path", QUICK, ids=lambda p: p.stem)
def test_quick_examples_resolve(path):
    experiment, config, resolved = resolve(load_config(path))
    assert resolved["data"]["kind"] == "digits" and config.generations >= 5
    assert experiment.schedule.n_ini <= 1797 and experiment.n_eval == 500


def test_quick_profile_is_the_fully_synthetic_digits_ddpm():
    experiment, config, resolved = resolve(load_config(EXAMPLES / "quick.toml"))
    assert (resolved["model"]["kind"], resolved["model"]["steps"], config.generations) == ("ddpm", 500, 5)
    assert experiment.schedule.fixed_real == 0 and experiment.schedule.fresh_real == 0


def test_full_profile_declares_paper_sizes():
    raw = load_config(EXAMPLES / "full.toml")
    assert raw["data"]["kind"] == "mnist" and raw["loop"]["n_ini"] == raw["loop"]["n_synthetic"] == 60_000
    assert raw["model"]["steps"] == 500 and raw["model"]["device"] == "auto"


@pytest.mark.slow
def test_full_profile_reads_mnist_at_paper_size(tmp_path):
    images = np.zeros((60_000, 28, 28), np.uint8)  # a blank stand-in with MNIST's shape
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=np.arange(60_000, dtype=np.uint8) % 10)
    experiment, _, resolved = resolve(
        load_config(EXAMPLES / "full.toml", [f"data.path='{tmp_path}/mnist.npz'"])
    )
    assert experiment.data.shape == (28, 28) and experiment.data.capacity == 60_000
    assert experiment.schedule.n_ini == experiment.schedule.synthetic == 60_000
    assert resolved["model"]["denoiser"] == "unet"
