"""The image models on C x H x W images: 32 x 32 RGB shapes in, rows of the same layout out,
exact checkpoint round trips; with one channel the networks are the grey ones, weight for weight."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.data import DATA
from autophagy.models import MODELS

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def shapes():
    entry = DATA["shapes"]
    return entry.build(entry.options(n=80))


TINY = {
    "ddpm-mlp": ("ddpm", {"steps": 4, "train_steps": 3, "width": 16, "depth": 1, "batch_size": 16}),
    "ddpm-unet": ("ddpm", {"steps": 3, "train_steps": 2, "width": 8, "denoiser": "unet", "batch_size": 8}),
    "wgan_gp": ("wgan_gp", {"train_steps": 2, "critic_steps": 1, "width": 16, "batch_size": 16}),
    "vae": ("vae", {"epochs": 1, "hidden": 16, "batch_size": 16}),
}


@pytest.mark.parametrize("name", TINY)
def test_models_fit_and_sample_rgb_rows_and_round_trip(shapes, name):
    kind, options = TINY[name]
    entry = MODELS[kind]
    settings = entry.build(entry.options(device="cpu", **options)).for_data(shapes)
    train = np.stack([shapes.draw(24, rng=np.random.default_rng([0, i])) for i in range(2)])
    model = settings.fit(train, rng=[np.random.default_rng([1, i]) for i in range(2)])
    samples = model.sample(5, rng=[np.random.default_rng([2, i]) for i in range(2)], sampling_bias=0.8)
    assert samples.shape == (2, 5, 3 * 32 * 32 + 1)
    pixels, labels = samples[..., :-1], samples[..., -1]
    assert pixels.min() >= 0 and pixels.max() <= 1
    assert set(np.unique(labels)) <= {0.0, 1.0, 2.0, 3.0}
    again = settings.load(model.state_dict()).sample(
        5, rng=[np.random.default_rng([2, i]) for i in range(2)], sampling_bias=0.8
    )
    np.testing.assert_array_equal(again, samples)


def test_one_channel_builds_the_grey_networks_weight_for_weight():
    from autophagy.metrics.lenet import build_lenet
    from autophagy.models.nets import Critic, Generator, MLPDenoiser, UNetDenoiser

    builders = [
        lambda s: UNetDenoiser(s, 10, 8),
        lambda s: MLPDenoiser(s, 10, 16, 1),
        lambda s: Generator(s, 10, 4, 16),
        lambda s: Critic(s, 10, 16),
        lambda s: build_lenet(s, 10),
    ]
    for build in builders:
        torch.manual_seed(0)
        grey = build((8, 8)).state_dict()
        torch.manual_seed(0)
        single = build((1, 8, 8)).state_dict()
        assert list(grey) == list(single)
        for key in grey:
            torch.testing.assert_close(grey[key], single[key], rtol=0, atol=0)
    torch.manual_seed(0)
    assert UNetDenoiser((3, 8, 8), 10, 8).inp.in_channels == 3
