"""hf_causal_lm end to end on CPU without network: a tiny GPT-2 written by save_pretrained, loops
from it with loop.finetune off and on, LoRA off and on, every metric, repeatability, resume from a
checkpoint, and bad inputs refused before any training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("peft")

from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.data.documents import stdlib_docstrings
from autophagy.loop.checkpoint import decode_state, encode_state
from autophagy.loop.engine import run_block
from autophagy.metrics.language import KEYS
from autophagy.running.config import resolve

METRICS = ["perplexity", "cross_entropy", *KEYS]


def _corpus() -> list[str]:
    return [d[:160] for d in stdlib_docstrings(("json", "textwrap", "heapq", "copy", "shlex", "string"))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in _corpus()))
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny GPT-2 (1 layer, width 16, context 64) and its BPE tokenizer, saved with save_pretrained."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from autophagy.models.hf_train import train_tokenizer

    folder = tmp_path_factory.mktemp("tiny-gpt2")
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
    return folder


def _raw(corpus: Path, checkpoint: Path, **model) -> dict:
    return {
        "name": "hf",
        "seed": 0,
        "replicates": 1,
        "generations": 3,
        "data": {"kind": "documents", "format": "jsonl", "path": str(corpus), "max_bytes": 96},
        "model": {
            "kind": "hf_causal_lm",
            "path": str(checkpoint),
            "steps": 3,
            "batch_size": 8,
            "seq_length": 32,
            "max_new_tokens": 12,
            "score_samples": 6,
            "lr": 1e-2,
            **model,
        },
        "loop": {"family": "fully_synthetic", "n_ini": 16, "n_synthetic": 16},
        "metrics": {"names": METRICS, "n_eval": 8, "k": 2},
    }


def _run(raw: dict) -> tuple[list, list]:
    exp, config, _ = resolve(raw)
    out = list(run_block(exp, range(config.replicates)))
    return [s for s, _ in out], [m for _, m in out]


def _weights(blob: np.ndarray) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    return load(np.asarray(blob, dtype=np.uint8).tobytes())


@pytest.mark.parametrize("finetune", [False, True])
@pytest.mark.parametrize("lora", [None, {"r": 4}])
def test_three_generations_from_a_checkpoint(corpus, checkpoint, finetune, lora):
    raw = _raw(corpus, checkpoint, **({"lora": lora} if lora else {}))
    raw["loop"]["finetune"] = finetune
    states, metrics = _run(raw)
    assert [s.generation for s in states] == [1, 2, 3]
    for row in metrics:
        assert set(row) == set(METRICS)
        for name, value in row.items():
            assert value.shape == (1,) and np.isfinite(value).all(), name
        np.testing.assert_allclose(row["perplexity"], np.exp(row["cross_entropy"]), rtol=1e-12)
    # the reference is the checkpoint: at generation 1 a model trained for 3 steps scores its own text
    base = _weights(states[0].models[0].blobs[0])
    from safetensors.numpy import load_file

    start = load_file(str(checkpoint / "model.safetensors"))
    if lora:  # adapters merged into the attention projections only; every other weight is the checkpoint's
        changed = {k for k in start if not np.array_equal(start[k], base[k])}
        assert changed and all("attn" in k for k in changed)
    drift = [
        sum(float(((_weights(s.models[0].blobs[0])[k] - start[k]) ** 2).sum()) for k in start) for s in states
    ]
    if finetune:  # each generation continues from the last: later generations end further away
        assert drift[2] > drift[0]
    else:  # every generation restarts from the checkpoint: no accumulation
        assert drift[2] < 3 * drift[0]


def test_rerun_gives_identical_rows_and_a_checkpoint_resumes_exactly(corpus, checkpoint):
    raw = _raw(corpus, checkpoint)
    raw["loop"]["finetune"] = True
    states, first = _run(raw)
    _, again = _run(raw)
    for a, b in zip(first, again, strict=True):
        assert {k: v.tolist() for k, v in a.items()} == {k: v.tolist() for k, v in b.items()}
    exp, _, _ = resolve(raw)  # a fresh process's settings: nothing cached
    restored = decode_state(encode_state(states[0]), exp.model)
    resumed = [m for _, m in run_block(exp, range(1), restored)]
    for a, b in zip(first[1:], resumed, strict=True):
        assert {k: v.tolist() for k, v in a.items()} == {k: v.tolist() for k, v in b.items()}


def test_scratch_model_carries_the_generation1_reference(corpus):
    raw = {
        "name": "scratch",
        "replicates": 2,
        "generations": 2,
        "data": {"kind": "documents", "format": "jsonl", "path": str(corpus), "max_bytes": 96},
        "model": {
            "kind": "hf_causal_lm",
            "architecture": "gpt2",
            "layers": 1,
            "width": 16,
            "heads": 2,
            "context": 32,
            "seq_length": 32,
            "vocab_size": 300,
            "steps": 3,
            "max_new_tokens": 8,
            "score_samples": 4,
        },
        "loop": {"family": "fully_synthetic", "n_ini": 16, "n_synthetic": 16},
        "metrics": {"names": ["perplexity", "generated_perplexity"], "n_eval": 8, "k": 2},
    }
    states, metrics = _run(raw)
    first, second = states[0].models[0], states[1].models[0]
    assert all(np.array_equal(a, b) for a, b in zip(first.references, first.blobs, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(second.references, first.blobs, strict=True))
    assert not np.array_equal(second.blobs[0], first.blobs[0])
    assert all(np.isfinite(m["generated_perplexity"]).all() for m in metrics)


runner = CliRunner()


def _refused(tmp_path: Path, raw: dict, field: str) -> str:
    config = tmp_path / "run.toml"
    config.write_text(_toml(raw))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.startswith(f"error: {field}:") and "\n" not in line, line
    assert not out.exists()
    return line


def _toml(raw: dict) -> str:
    def value(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = [f"{k} = {value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for k, v in raw.items():
        if isinstance(v, dict):
            lines += [f"[{k}]", *(f"{a} = {value(b)}" for a, b in v.items())]
    return "\n".join(lines) + "\n"


def test_missing_empty_and_half_written_model_folders_are_refused(tmp_path, corpus, checkpoint):
    assert "does not exist" in _refused(tmp_path, _raw(corpus, tmp_path / "nowhere"), "model.path")
    (tmp_path / "empty").mkdir()
    assert "is empty" in _refused(tmp_path, _raw(corpus, tmp_path / "empty"), "model.path")
    half = tmp_path / "half"
    half.mkdir()
    for file in checkpoint.iterdir():
        data = file.read_bytes()
        (half / file.name).write_bytes(data[: len(data) // 2] if file.suffix == ".safetensors" else data)
    assert "half-written" in _refused(tmp_path, _raw(corpus, half), "model.path")
    (half / "model.safetensors").unlink()
    assert "no weights" in _refused(tmp_path, _raw(corpus, half), "model.path")


def test_bad_text_and_sizes_are_refused_before_training(tmp_path, corpus, checkpoint):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait\n\nsecond document\n\nthird one".encode("latin-1"))
    raw = _raw(corpus, checkpoint)
    raw["data"] = {"kind": "documents", "format": "text", "path": str(latin)}
    assert "UTF-8" in _refused(tmp_path, raw, "data.path")
    raw["data"] = {"kind": "text_file", "path": str(latin)}
    assert "UTF-8" in _refused(tmp_path, raw, "data.path")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    raw["data"] = {"kind": "documents", "format": "jsonl", "path": str(empty)}
    _refused(tmp_path, raw, "data.path")
    raw = _raw(corpus, checkpoint, seq_length=65)
    assert "context of 64" in _refused(tmp_path, raw, "model.seq_length")
    raw = _raw(corpus, checkpoint)
    raw["model"] = {"kind": "hf_causal_lm", "architecture": "gpt2", "context": 32, "seq_length": 64}
    assert "context of 32" in _refused(tmp_path, raw, "model.seq_length")


def test_the_opt125m_example_resolves_with_local_files(tmp_path, checkpoint):
    """examples/hf/opt125m_wikitext2.toml runs as it is given its two folders: here a tiny
    checkpoint and a tiny save_to_disk corpus stand in for OPT-125m and wikitext-2."""
    datasets = pytest.importorskip("datasets")
    from autophagy.running.config import load_config

    folder = tmp_path / "wikitext"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": _corpus() * 40})}).save_to_disk(
        str(folder)
    )
    example = Path(__file__).parents[2] / "examples" / "hf" / "opt125m_wikitext2.toml"
    raw = load_config(
        example,
        [
            f"model.path={json.dumps(str(checkpoint))}",
            f"data.path={json.dumps(str(folder))}",
            "loop.n_ini=100",
            "loop.n_synthetic=100",
        ],
    )
    exp, config, _ = resolve(raw)
    assert exp.schedule.finetune is False and exp.schedule.sampling_bias == 0.0
    assert exp.model.options.num_beams == 5 and config.generations == 10


def test_text_file_windows_travel_as_vocabulary_ids(tmp_path, checkpoint):
    text = tmp_path / "t.txt"
    text.write_text(" ".join(_corpus()))
    raw = _raw(tmp_path, checkpoint)
    raw["data"] = {"kind": "text_file", "path": str(text), "length": 48}
    raw["metrics"]["names"] = ["perplexity", "length_mean"]
    raw["generations"] = 2
    exp, _, _ = resolve(raw)
    states, metrics = _run(raw)
    rows = states[-1].models[0].sample(5, rng=[np.random.default_rng(0)], sampling_bias=1.0)
    assert rows.shape == (1, 5, 48)
    assert np.all((rows >= -1) & (rows < exp.data.vocab_size) & (rows == np.round(rows)))
    assert all(np.isfinite(m["perplexity"]).all() for m in metrics)


def test_early_stopping_keeps_the_best_held_out_weights(corpus, checkpoint):
    """Scoring after every step with a patience longer than the run, early stopping returns the
    best of all those weights, the last included: never worse than the run without it (same seed,
    same batches); with patience 1 it stops at the first step that does not improve."""
    losses = {}
    for name, extra in (
        ("plain", {}),
        ("best", {"early_stopping": {"every": 1, "patience": 100}}),
        ("stopped", {"early_stopping": {"every": 1, "patience": 1}}),
    ):
        raw = _raw(corpus, checkpoint, lr=0.5, steps=6, **extra)
        raw["generations"] = 1
        exp, _, _ = resolve(raw)
        fitted = exp.model.fit(
            exp.data.draw(16, rng=np.random.default_rng(0))[None], rng=[np.random.default_rng(1)]
        )
        losses[name] = float(fitted.token_cross_entropy(exp.data.held_out()[None])[0])
    assert losses["best"] <= losses["plain"]
    assert losses["best"] <= losses["stopped"]


@pytest.mark.parametrize("architecture", ["gpt2", "gpt_neox", "llama", "opt"])
def test_every_scratch_architecture_trains_and_round_trips_its_weights(architecture):
    import torch

    from autophagy.models import hf_train

    tokenizer = hf_train.train_tokenizer(_corpus(), 300)
    config = hf_train.scratch_config(architecture, len(tokenizer), 1, 16, 2, 32, tokenizer)
    model = hf_train.new_model(config, 0, torch.device("cpu"))
    ids, mask, labels = hf_train.pad_batch([[0, 5, 6, 7], [0, 8, 9]], tokenizer.pad_token_id)
    assert labels[1, 3] == -100 and mask.sum() == 7
    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert abs(loss.item() - np.log(len(tokenizer))) < 0.5  # an untrained model is near uniform
    other = hf_train.new_model(config, 1, torch.device("cpu"))
    hf_train.load_bytes(other, hf_train.state_bytes(model))
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_embeddings_give_zero_semantic_diversity_to_identical_texts(corpus, checkpoint):
    from autophagy.metrics.text_diversity import mean_cosine_distance

    raw = _raw(corpus, checkpoint)
    raw["generations"] = 1
    states, _ = _run(raw)
    fitted = states[0].models[0]
    [vectors] = fitted.embed([["Return the value."] * 4 + ["A different sentence, somewhat longer."]])
    assert vectors.shape == (5, 16)
    np.testing.assert_array_equal(vectors[0], vectors[3])  # identical texts, identical vectors
    assert mean_cosine_distance(vectors[:4]) == pytest.approx(0.0, abs=1e-12)
    assert mean_cosine_distance(vectors) > 1e-6
