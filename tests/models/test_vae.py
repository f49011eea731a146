"""The built-in VAE: importable without torch, registered through the public API, learns digits,
conditions on labels, truncates its latent with lambda, fine-tunes from ``init``. (The shared
contract is checked in test_contract.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autophagy.core.registry import MODELS
from autophagy.running.config import load_config, resolve
from autophagy.testing import rngs

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "vae_digits.toml"
SMALL = {"device": "cpu", "hidden": 64, "batch_size": 64}


def test_module_imports_and_registers_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"  # any 'import torch' now raises ImportError
        "from autophagy.models import MODELS\n"
        "from autophagy.models.vae import VAE, VAEOptions\n"
        "assert MODELS['vae'].options is VAEOptions and not MODELS['vae'].has_log_prob\n"
        "settings = MODELS['vae'].build(VAEOptions())\n"
        "try:\n    settings.fit(__import__('numpy').zeros((1, 4, 2)), rng=[None])\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "the vae model needs PyTorch" in out.stdout


@pytest.fixture(scope="module")
def digits():
    """300 bundled digits as one replicate's rows (64 pixels, then the label) and the source."""
    pytest.importorskip("sklearn")
    from autophagy.data.images import DigitsOptions, load_digits_data

    source = load_digits_data(DigitsOptions())
    return source, source.draw(300, rng=np.random.default_rng(0))[None]


def _settings(source, **options):
    entry = MODELS["vae"]
    return entry.build(entry.options(**{**SMALL, **options})).for_data(source)


def test_training_lowers_the_loss_and_reconstructs_better_than_the_label_alone(digits):
    pytest.importorskip("torch")
    source, rows = digits
    short = _settings(source, epochs=1, learning_rate=3e-3).fit(rows, rng=rngs(1, 1))
    long = _settings(source, epochs=40, learning_rate=3e-3).fit(rows, rng=rngs(1, 1))
    loss_short, loss_long = (
        short.negative_elbo(rows, rng=rngs(2, 1)),
        long.negative_elbo(rows, rng=rngs(2, 1)),
    )
    assert loss_long[0] < loss_short[0] - 10.0  # nats per image of 64 standardised pixels
    pixels, labels = rows[0, :, :-1], rows[0, :, -1]
    # what the label alone gives: each image replaced by its class's mean image
    class_means = np.stack([pixels[labels == y].mean(axis=0) for y in labels])
    label_only = ((pixels - class_means) ** 2).mean()
    recon = long.reconstruct(rows)
    np.testing.assert_array_equal(recon[..., -1], rows[..., -1])  # labels carried through
    assert ((recon[0, :, :-1] - pixels) ** 2).mean() < 0.75 * label_only


def test_digits_bind_labels_and_pixel_bounds(digits):
    """for_data on labelled images conditions on the 10 classes: samples are pixels in [0, 1] and
    integer labels drawn in the training shares (each share within a 4.5-sigma binomial band)."""
    pytest.importorskip("torch")
    source, rows = digits
    settings = _settings(source, epochs=2)
    assert (settings.classes, settings.bounds) == (10, (0.0, 1.0))
    model = settings.fit(rows, rng=rngs(1, 1))
    x = model.sample(2000, rng=rngs(3, 1), sampling_bias=1.0)
    assert x.shape == (1, 2000, 65)
    assert x[..., :-1].min() >= 0.0 and x[..., :-1].max() <= 1.0
    labels = x[0, :, -1]
    np.testing.assert_array_equal(labels, np.rint(labels))
    shares = np.bincount(rows[0, :, -1].astype(int), minlength=10) / 300
    observed = np.bincount(labels.astype(int), minlength=10) / 2000
    assert np.all(np.abs(observed - shares) <= 4.5 * np.sqrt(shares * (1 - shares) / 2000))
    modes = model.sample(500, rng=rngs(4, 1), sampling_bias=0.0)[0]
    assert len(np.unique(modes, axis=0)) == len(np.unique(rows[0, :, -1]))  # lambda = 0: one image per class


def test_lambda_is_latent_truncation_and_noise_scales_with_it():
    """x = mu(sqrt(lambda) z) + sqrt(lambda) sigma eps: with noise on, lambda = 1 samples spread more
    than the decoder means alone; with noise off, samples are decoder means of truncated latents."""
    pytest.importorskip("torch")
    rows = np.random.default_rng(0).normal(size=(1, 200, 2)) * [3.0, 0.5]
    noisy = MODELS["vae"].build(MODELS["vae"].options(**SMALL, epochs=10)).fit(rows, rng=rngs(1, 1))
    means = (
        MODELS["vae"].build(MODELS["vae"].options(**SMALL, epochs=10, noise=False)).fit(rows, rng=rngs(1, 1))
    )
    a = noisy.sample(3000, rng=rngs(5, 1), sampling_bias=1.0)
    b = means.sample(3000, rng=rngs(5, 1), sampling_bias=1.0)
    assert a.var(axis=1).sum() > b.var(axis=1).sum()
    zero = means.sample(10, rng=rngs(5, 1), sampling_bias=0.0)
    np.testing.assert_allclose(zero, noisy.sample(10, rng=rngs(6, 1), sampling_bias=0.0))  # both mu(0)


def test_init_fine_tunes_instead_of_retraining():
    pytest.importorskip("torch")
    rows = np.random.default_rng(0).normal(size=(2, 80, 3))
    settings = MODELS["vae"].build(MODELS["vae"].options(**SMALL, epochs=3))
    first = settings.fit(rows, rng=rngs(1, 2))
    shifted = rows + 5.0
    tuned, fresh = (settings.fit(shifted, rng=rngs(2, 2), init=i) for i in (first, None))
    s_first, s_tuned, s_fresh = first.state_dict(), tuned.state_dict(), fresh.state_dict()
    np.testing.assert_array_equal(s_tuned["shift"], s_first["shift"])  # init's standardisation kept
    np.testing.assert_allclose(s_fresh["shift"], shifted.mean(axis=1), rtol=1e-5)
    assert not np.array_equal(s_tuned["decoder.0.weight"], s_first["decoder.0.weight"])  # it trained
    with pytest.raises(ValueError, match="init has 2 replicates"):
        settings.fit(rows[:1], rng=rngs(1, 1), init=first)


def test_bad_labels_are_refused():
    pytest.importorskip("torch")
    settings = MODELS["vae"].build(MODELS["vae"].options(**SMALL, classes=3))
    rows = np.zeros((1, 10, 4))
    rows[0, :, -1] = 3.0
    with pytest.raises(ValueError, match=r"class label in \[0, 3\)"):
        settings.fit(rows, rng=rngs(1, 1))


def test_example_config_resolves_to_a_conditional_vae_on_digits():
    pytest.importorskip("sklearn")
    experiment, config, resolved = resolve(load_config(EXAMPLE))
    assert resolved["model"]["kind"] == "vae" and resolved["data"]["kind"] == "digits"
    assert experiment.model.classes == 10 and experiment.model.bounds == (0.0, 1.0)
    assert config.replicates * config.generations <= 10  # sized to run in well under a minute
