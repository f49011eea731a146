"""Image models trained briefly on the digits: legible samples, and guidance trades recall for quality."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.metrics import image_metrics
from autophagy.models import MODELS
from autophagy.running.config import resolve

torch = pytest.importorskip("torch")
N_EVAL = 500


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def brief_ddpm(digits_images):
    """A DDPM trained for 800 steps (T = 100) on all 1,797 digits: about 10 s on one core."""
    torch.set_num_threads(1)
    entry = MODELS["ddpm"]
    settings = entry.build(entry.options(steps=100, train_steps=800, width=128, depth=2, device="cpu"))
    train = digits_images.draw(digits_images.capacity, rng=np.random.default_rng(0))[None]
    return settings.fit(train, rng=[np.random.default_rng(1)])


def _metrics(model, data, bias: float) -> dict:
    real = data.draw(N_EVAL, rng=np.random.default_rng(5))[None]
    synthetic = model.sample(N_EVAL, rng=[np.random.default_rng(2)], sampling_bias=bias)  # common numbers
    return image_metrics(real, synthetic, data=data)


def test_brief_ddpm_samples_are_classified_above_chance(brief_ddpm, digits_images):
    legibility = _metrics(brief_ddpm, digits_images, 1.0)["legibility"]
    # chance is 0.1 (ten digits in their training shares); its binomial s.d. over 500 samples is
    # 0.013, so 0.1 + 6 s.d. = 0.18 cannot be reached by an untrained model
    assert legibility > 0.18


def test_guidance_raises_quality_and_lowers_recall(brief_ddpm, digits_images):
    unguided, guided = _metrics(brief_ddpm, digits_images, 1.0), _metrics(brief_ddpm, digits_images, 0.2)
    # lambda = 0.2 is guidance w = 4. Each share below is a mean over 500 samples, s.d. <= 0.022:
    # demand changes of at least 3 s.d. (0.066) in recall, and a rise in precision or legibility
    assert guided["recall"] < unguided["recall"] - 0.066
    assert guided["legibility"] > unguided["legibility"] or guided["precision"] > unguided["precision"]


@pytest.mark.slow  # 23 s on 2 cores: a model-quality check, not a control or an invariant
def test_brief_wgan_samples_are_classified_above_chance(digits_images):
    entry = MODELS["wgan_gp"]
    settings = entry.build(entry.options(train_steps=500, device="cpu"))
    train = digits_images.draw(digits_images.capacity, rng=np.random.default_rng(0))[None]
    model = settings.fit(train, rng=[np.random.default_rng(1)])
    assert _metrics(model, digits_images, 1.0)["legibility"] > 0.18  # as for the DDPM above
    truncated = model.sample(N_EVAL, rng=[np.random.default_rng(2)], sampling_bias=0.0)
    assert len(np.unique(truncated[0], axis=0)) == len(np.unique(truncated[0, :, -1]))  # one image per class


def _raw(**overrides) -> dict:
    raw = {
        "data": {"kind": "digits"},
        "model": {"kind": "ddpm"},
        "loop": {"family": "fully_synthetic", "n_ini": 100, "n_synthetic": 100},
        "metrics": {"names": ["lenet_fid", "legibility"], "n_eval": 50},
    }
    for key, value in overrides.items():
        section, field = key.split("__")
        raw[section][field] = value
    return raw


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"loop__sampling_bias": 0.0}, "loop.sampling_bias", "above 0 for ddpm"),
        ({"data__kind": "gaussian"}, "model.kind", "not square images"),
        ({"model__kind": "gaussian", "data__kind": "gaussian"}, "metrics.names", "needs image data"),
        ({"model__cond_dropout": 1.0}, "model.cond_dropout", "less than 1"),
        ({"model__denoiser": "vit"}, "model.denoiser", "'mlp' or 'unet'"),
    ],
)
def test_config_errors_name_the_field(overrides, field, message):
    with pytest.raises(ConfigError, match=message) as info:
        resolve(_raw(**overrides))
    assert info.value.field == field


def test_unet_denoiser_fits_samples_and_round_trips(digits_images):
    entry = MODELS["ddpm"]
    settings = entry.build(entry.options(denoiser="unet", width=8, steps=4, train_steps=3, device="cpu"))
    train = np.stack([digits_images.draw(40, rng=np.random.default_rng(i)) for i in range(2)])
    model = settings.fit(train, rng=[np.random.default_rng([1, i]) for i in range(2)])
    rngs = [np.random.default_rng([2, i]) for i in range(2)]
    samples = model.sample(6, rng=rngs, sampling_bias=0.5)
    assert samples.shape == (2, 6, 65) and samples[..., :-1].min() >= 0 and samples[..., :-1].max() <= 1
    again = settings.load(model.state_dict()).sample(
        6, rng=[np.random.default_rng([2, i]) for i in range(2)], sampling_bias=0.5
    )
    np.testing.assert_array_equal(again, samples)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("ddpm", {"steps": 4, "train_steps": 3, "width": 16, "depth": 1}),
        ("wgan_gp", {"train_steps": 2, "width": 16}),
    ],
)
def test_finetuning_starts_from_the_previous_model(digits_images, kind, options):
    entry = MODELS[kind]
    data = digits_images.draw(50, rng=np.random.default_rng(0))[None]
    first = entry.build(entry.options(device="cpu", **options)).fit(data, rng=[np.random.default_rng(1)])
    # a vanishing learning rate leaves the starting weights unchanged: fine-tuning must start from `first`
    frozen = entry.build(entry.options(device="cpu", learning_rate=1e-30, **options))
    tuned = frozen.fit(data, rng=[np.random.default_rng(2)], init=first)
    fresh = frozen.fit(data, rng=[np.random.default_rng(2)])

    def rngs() -> list:
        return [np.random.default_rng(3)]

    np.testing.assert_array_equal(
        tuned.sample(8, rng=rngs(), sampling_bias=1.0), first.sample(8, rng=rngs(), sampling_bias=1.0)
    )
    assert not np.array_equal(
        fresh.sample(8, rng=rngs(), sampling_bias=1.0), first.sample(8, rng=rngs(), sampling_bias=1.0)
    )
