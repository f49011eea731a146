"""The pieces of the Hugging Face loop that touch torch and transformers (imported lazily by
:mod:`autophagy.models.hf`): checkpoint checks, tokenizer training, padded batches, the
training loop, batched generation and scoring.

Batches of documents are padded to their longest member with the pad id, an attention mask
marks real tokens and the labels of pad positions are -100 (ignored by the loss). Every
document is ``BOS tokens EOS``; one longer than ``seq_length`` tokens is cut into consecutive
pieces of that many.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from autophagy.core.errors import ConfigError

transformers.utils.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

SPECIAL = "<|endoftext|>"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
SIZE_KEYS = {  # model_type -> config names of (layers, width, heads, context, feed-forward width)
    "gpt2": ("n_layer", "n_embd", "n_head", "n_positions", "n_inner"),
    "gpt_neox": (
        "num_hidden_layers",
        "hidden_size",
        "num_attention_heads",
        "max_position_embeddings",
        "intermediate_size",
    ),
    "llama": (
        "num_hidden_layers",
        "hidden_size",
        "num_attention_heads",
        "max_position_embeddings",
        "intermediate_size",
    ),
    "opt": ("num_hidden_layers", "hidden_size", "num_attention_heads", "max_position_embeddings", "ffn_dim"),
}


def check_checkpoint(path: Path) -> None:
    """A clear ``model.path`` error unless ``path`` is a complete ``save_pretrained`` folder:
    config, tokenizer and every weight file present with a readable header."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise ConfigError("model.path", f"{path} does not exist (give a folder written by save_pretrained)")
    if not path.is_dir():
        raise ConfigError("model.path", f"{path} is not a folder (give a folder written by save_pretrained)")
    if not any(path.iterdir()):
        raise ConfigError("model.path", f"{path} is empty (give a folder written by save_pretrained)")
    if not (path / "config.json").is_file():
        raise ConfigError("model.path", f"{path} has no config.json: not a complete save_pretrained folder")
    try:
        AutoConfig.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise ConfigError("model.path", f"{path}/config.json cannot be read: {exc}") from None
    weights = [path / f for f in WEIGHT_FILES if (path / f).is_file()]
    for index in (path / f for f in INDEX_FILES):
        if index.is_file():
            try:
                shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            except Exception as exc:
                raise ConfigError("model.path", f"{index} cannot be read: {exc}") from None
            missing = [s for s in shards if not (path / s).is_file()]
            if missing:
                raise ConfigError("model.path", f"{path} is half-written: shard {missing[0]} is missing")
            weights += [path / s for s in shards]
    if not weights:
        raise ConfigError(
            "model.path", f"{path} has no weights (model.safetensors): half-written or not a model"
        )
    for file in weights:
        if file.suffix == ".safetensors":
            try:
                with safe_open(str(file), "pt") as f:
                    f.keys()
            except Exception as exc:
                raise ConfigError(
                    "model.path", f"{file} is incomplete or corrupt (half-written?): {exc}"
                ) from None
    if not any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json")):
        raise ConfigError("model.path", f"{path} has no tokenizer files (save the tokenizer there too)")


def load_tokenizer(path: Path) -> PreTrainedTokenizerFast:
    """The checkpoint's tokenizer, with a pad id (its EOS when it has none)."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise ConfigError("model.path", f"the tokenizer in {path} cannot be loaded: {exc}") from None
    if tokenizer.eos_token_id is None:
        raise ConfigError("model.path", f"the tokenizer in {path} has no end-of-sequence token")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.bos_token_id is None:
        tokenizer.bos_token = tokenizer.eos_token
    return tokenizer


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (GPT-2 style) with ``vocab_size`` entries trained on ``texts``
    (deterministic for the same texts); ``<|endoftext|>`` is BOS, EOS and pad."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return wrap_tokenizer(tok.to_str())


def wrap_tokenizer(serialized: str) -> PreTrainedTokenizerFast:
    """A transformers tokenizer from a serialized ``tokenizers`` JSON string."""
    from tokenizers import Tokenizer

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(serialized),
        bos_token=SPECIAL,
        eos_token=SPECIAL,
        pad_token=SPECIAL,
    )


def scratch_config(
    architecture: str,
    vocab_size: int,
    layers: int,
    width: int,
    heads: int,
    context: int,
    tokenizer: PreTrainedTokenizerFast,
):
    """A config of ``architecture`` at the given size, feed-forward width 4 x ``width``."""
    names = SIZE_KEYS[architecture]
    sizes = dict(zip(names, (layers, width, heads, context, 4 * width), strict=True))
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    extra = {"word_embed_proj_dim": width} if architecture == "opt" else {}
    if architecture == "llama":
        extra["num_key_value_heads"] = heads
    return AutoConfig.for_model(architecture, vocab_size=vocab_size, **sizes, **ids, **extra)


def encode_documents(tokenizer, texts: list[str], seq_length: int) -> list[list[int]]:
    """``BOS tokens EOS`` of each text, cut into pieces of at most ``seq_length`` ids."""
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    pieces = []
    for ids in encoded:
        full = [bos, *ids, eos]
        pieces += [full[i : i + seq_length] for i in range(0, max(len(full) - 1, 1), seq_length - 1)]
    return [p for p in pieces if len(p) >= 2]


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Input ids, attention mask and labels (-100 at pads) of ``sequences`` padded on the right."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels


def autocast(device: torch.device):
    """bf16 autocast on a GPU that supports it, nothing on CPU (full fp32, repeatable)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def cpu_threads(device: torch.device, n: int):
    """Run torch with ``n`` intra-op threads on CPU (restored afterwards): a fixed count keeps CPU
    results bit for bit, and one thread per worker avoids spin-waiting on a busy machine."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def batch_order(n: int, batch_size: int, steps: int | None, epochs: int, seed: int) -> Iterator[np.ndarray]:
    """Index batches: ``epochs`` shuffled passes, or ``steps`` batches over repeated passes."""
    rng = np.random.default_rng(seed)
    total = steps if steps is not None else epochs * math.ceil(n / batch_size)
    done = 0
    while done < total:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            if done == total:
                return
            yield order[start : start + batch_size]
            done += 1


def schedule_factor(kind: str, warmup: int, total: int):
    """The learning-rate multiplier of step s: linear warm-up, then constant, linear or cosine decay."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        if kind == "linear":
            return max(0.0, 1.0 - progress)
        if kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
        return 1.0

    return factor


def mean_nll(
    model, sequences: list[list[int]], pad_id: int, batch_size: int, device: torch.device
) -> np.ndarray:
    """Summed next-token negative log-likelihood (nats) and token count of every sequence, ``(m, 2)``."""
    out = np.zeros((len(sequences), 2))
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            ids, mask, labels = pad_batch(sequences[start : start + batch_size], pad_id)
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            with autocast(device):
                logits = model(input_ids=ids, attention_mask=mask).logits
            logp = torch.log_softmax(logits[:, :-1].double(), dim=-1)
            target = labels[:, 1:]
            keep = target != -100
            picked = logp.gather(2, target.clamp(min=0)[..., None])[..., 0] * keep
            out[start : start + len(ids), 0] = -picked.sum(dim=1).cpu().numpy()
            out[start : start + len(ids), 1] = keep.sum(dim=1).cpu().numpy()
    return out


def mean_hidden(
    model, sequences: list[list[int]], pad_id: int, batch_size: int, device: torch.device
) -> np.ndarray:
    """The mean of the last layer's hidden states over each sequence's tokens, ``(m, width)``
    (float64): a text embedding for the semantic diversity metrics."""
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            ids, mask, _ = pad_batch(sequences[start : start + batch_size], pad_id)
            ids, mask = ids.to(device), mask.to(device)
            with autocast(device):
                hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[
                    -1
                ]
            weights = mask[..., None].double()
            out.append(((hidden.double() * weights).sum(dim=1) / weights.sum(dim=1)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def state_bytes(model) -> np.ndarray:
    """The model's weights as safetensors bytes (fp32, contiguous), as a uint8 array."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    # tied weights (GPT-2's head is its embedding) share storage: save one copy of each
    unique, seen = {}, set()
    for name, tensor in tensors.items():
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key not in seen:
            seen.add(key)
            unique[name] = tensor
    return np.frombuffer(save(unique), dtype=np.uint8).copy()


def load_bytes(model, blob: np.ndarray) -> None:
    """Load :func:`state_bytes` into ``model`` (tied weights follow their source)."""
    from safetensors.torch import load

    weights = load(np.asarray(blob, dtype=np.uint8).tobytes())
    _, unexpected = model.load_state_dict(weights, strict=False)  # tied copies are not stored
    if unexpected:
        raise ValueError(f"checkpoint holds unknown weights: {unexpected[:3]}")
    model.tie_weights()


def new_model(config, seed: int, device: torch.device):
    """A randomly initialised causal LM of ``config``, seeded."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config)
    return model.to(device)


def pretrained(path: Path, device: torch.device):
    """The checkpoint at ``path`` (never downloaded), in fp32."""
    return AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype=torch.float32).to(
        device
    )
