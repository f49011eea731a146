"""The neural models report their training curve: Run.training() of a tiny DDPM run and of a
tiny Hugging Face run (slow) holds one report per logging step, and the callback changes no
number (a fit with it samples exactly what a fit without it samples)."""

from __future__ import annotations

import numpy as np
import pytest

import autophagy as ap

torch = pytest.importorskip("torch")


def ddpm_config(train_steps: int = 10) -> dict:
    return {
        "name": "tiny-ddpm",
        "seed": 0,
        "replicates": 1,
        "generations": 2,
        "data": {"kind": "digits"},
        "model": {
            "kind": "ddpm",
            "steps": 5,
            "train_steps": train_steps,
            "width": 16,
            "depth": 1,
            "device": "cpu",
        },
        "loop": {"family": "fully_synthetic", "n_ini": 40, "n_synthetic": 40, "sampling_bias": 0.5},
        "metrics": {"names": ["wasserstein2"], "n_eval": 10},
    }


def test_ddpm_run_training_curve(tmp_path, one_torch_thread):
    run = ap.run(ddpm_config(), tmp_path / "run", executor="inline", progress=False, plots=False)
    frame = run.training()
    assert sorted(set(zip(frame["generation"], frame["step"], strict=True))) == [
        (g, s)
        for g in (1, 2)
        for s in range(1, 11)  # 10 steps: every step is a logging step
    ]
    assert (frame["replicate"] == 0).all()
    # noise-prediction MSE of unit Gaussian noise: positive, finite, of order 1 at the start
    assert np.isfinite(frame["loss"]).all() and (frame["loss"] > 0).all()
    assert 0.1 < frame["loss"].iloc[0] < 10
    for _, group in frame.groupby("generation"):
        assert np.all(np.diff(group["seconds"].to_numpy()) >= 0)
    # the report's Training figure is checked on a cheaper model in tests/running/test_training_telemetry.py


def test_ddpm_fit_with_telemetry_samples_what_a_fit_without_samples(one_torch_thread):
    """The callback never touches a random stream: same samples with and without it."""
    from autophagy.core.registry import MODELS
    from autophagy.models.ddpm import DDPMOptions

    settings = MODELS["ddpm"].build(DDPMOptions(steps=4, train_steps=6, width=8, depth=1, device="cpu"))
    data = np.random.default_rng(1).uniform(0, 1, size=(2, 12, 65))
    data[..., -1] = np.arange(12) % 10
    calls = []

    def fit(telemetry):
        rng = [np.random.default_rng(s) for s in (5, 6)]
        model = settings.fit(data, rng=rng, telemetry=telemetry)
        return model.sample(5, rng=[np.random.default_rng(s) for s in (7, 8)], sampling_bias=1.0)

    with_callback = fit(lambda *a, **k: calls.append(a))
    np.testing.assert_array_equal(with_callback, fit(None))
    assert [c[:2] for c in calls] == [(r, s) for r in (0, 1) for s in range(1, 7)]


@pytest.mark.slow  # transformers and a tokenizer: about 20 s on 2 busy cores
def test_hf_run_training_curve(tmp_path):
    """A tiny GPT-2 from a local checkpoint: one report per optimiser step (3 steps per fit),
    causal-LM loss in nats per token, below the uniform guess log(vocabulary)."""
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    import json

    from test_hf import _corpus, _raw

    from autophagy.models.hf_train import train_tokenizer

    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"text": d}) + "\n" for d in _corpus()))
    folder = tmp_path / "tiny-gpt2"
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = train_tokenizer(_corpus(), 300)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=64,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    raw = _raw(corpus, folder)
    raw["generations"] = 2
    raw["metrics"] = {"names": ["cross_entropy"], "n_eval": 4, "k": 2}
    run = ap.run(raw, tmp_path / "run", executor="inline", progress=False, plots=False)
    frame = run.training()
    assert sorted(set(zip(frame["generation"], frame["step"], strict=True))) == [
        (g, s) for g in (1, 2) for s in (1, 2, 3)
    ]
    assert np.isfinite(frame["loss"]).all()
    assert (frame["loss"] > 0).all() and (frame["loss"] < np.log(len(tokenizer)) + 1).all()
