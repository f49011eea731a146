"""``hf_causal_lm``: a Hugging Face ``transformers`` causal language model in the loop (extra ``hf``).

Where the weights come from:

- ``model.path``: a local folder written by ``save_pretrained`` (OPT, GPT-2, Pythia, Llama,
  ...) with its tokenizer; loaded with ``local_files_only``, nothing is downloaded. A missing,
  empty or half-written folder is a ``model.path`` error before any training.
- ``model.architecture`` (``gpt2``, ``gpt_neox``, ``llama``, ``opt``) with ``layers``,
  ``width``, ``heads`` and ``context``: a model trained from scratch, with a byte-level BPE
  tokenizer of ``vocab_size`` entries trained locally with ``tokenizers`` on the real training
  text (every training document of the data source, so the tokenizer is fixed for the run).

Where each generation starts (``loop.finetune``): false (Shumailov et al.'s setting) starts
every generation from the given checkpoint, or from fresh random weights seeded by
(replicate, generation) when training from scratch; true continues from the previous
generation's weights. Optional LoRA (``model.lora = {r = 8}``, via ``peft``) trains adapters
that are merged into the weights after each generation.

Sampling and lambda: every sequence starts from BOS and ends at EOS or after
``max_new_tokens``. The loop's ``sampling_bias`` lambda drives the temperature,
T = ``temperature`` x lambda: lambda = 1 samples the model as configured, smaller lambda is
colder, lambda = 0 (or T = 0) is greedy decoding (beam search with ``num_beams`` > 1, as in
Shumailov et al.). ``top_k`` / ``top_p`` cut the tail at every lambda. As for the other
discrete families, lambda may exceed 1 up to ``MAX_TEMPERATURE`` (hotter sampling, Marchi et
al.'s "heat death" setting); the ``temperature`` option itself stays in (0, 1].

Data: rows of the ``documents`` source (UTF-8 bytes padded with -1, see
:mod:`autophagy.data.documents`) or ``text_file`` windows at ``level = "char"`` (token ids of
its vocabulary; generated characters outside it are dropped and short rows padded with -1).

Device: CUDA when present (bf16 autocast where supported, weights in fp32), else CPU. Every
draw is seeded from the replicate's stream: a CPU run is repeatable bit for bit (same torch
build and thread count); a GPU run is repeatable up to cuBLAS/atomics nondeterminism in
training and sampling kernels (``torch.use_deterministic_algorithms`` is not forced).

Checkpoints: each generation's weights (and, from scratch, the generation-1 reference model)
are safetensors bytes inside the model's ``state_dict``, so they travel in the block's
checkpoint that the run store commits in the same SQLite transaction as the generation's
rows: a checkpoint counts exactly when its rows do. SQLite holds blobs up to 1 GB, which
bounds replicates x weights (OPT-125m in fp32 is 0.5 GB: one replicate per block).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveInt

from autophagy.core.device import Device, resolve_device
from autophagy.core.errors import ConfigError
from autophagy.core.protocols import TrainingTelemetry
from autophagy.core.registry import Options
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import LossReport


class LoraOptions(Options):
    """``peft`` LoRA adapters: rank ``r``, scale ``alpha``, ``dropout``, ``target_modules``
    (default: peft's choice for the architecture)."""

    r: PositiveInt = 8
    alpha: float = Field(16.0, gt=0.0)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] | None = None


class EarlyStoppingOptions(Options):
    """Every ``every`` optimiser steps the held-out real text is scored; training stops after
    ``patience`` scores without improvement and keeps the best weights. It selects on the text
    that ``perplexity`` reports, so leave it off for an unbiased held-out perplexity."""

    every: PositiveInt = 50
    patience: PositiveInt = 2


class HFCausalLMOptions(Options):
    """See the module docstring. Training: ``epochs`` passes (or ``steps`` optimiser steps when
    given) of AdamW at ``lr`` with ``weight_decay``, ``schedule`` after ``warmup`` (a share of the
    steps), batches of ``batch_size`` documents of at most ``seq_length`` tokens. On CPU torch
    uses ``cpu_threads`` threads (fixed, so results repeat bit for bit; runs parallelise over
    blocks of replicates instead)."""

    path: Path | None = None
    architecture: Literal["gpt2", "gpt_neox", "llama", "opt"] | None = None
    layers: PositiveInt = 2
    width: PositiveInt = 64
    heads: PositiveInt = 2
    context: PositiveInt = 256
    vocab_size: int = Field(2000, ge=300)
    epochs: PositiveInt = 1
    steps: PositiveInt | None = None
    lr: float = Field(5e-4, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    schedule: Literal["constant", "linear", "cosine"] = "linear"
    warmup: float = Field(0.0, ge=0.0, lt=1.0)
    batch_size: PositiveInt = 16
    seq_length: int = Field(128, ge=2)
    lora: LoraOptions | None = None
    early_stopping: EarlyStoppingOptions | None = None
    temperature: float = Field(1.0, gt=0.0, le=1.0)
    top_k: PositiveInt | None = None
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    num_beams: PositiveInt = 1
    max_new_tokens: PositiveInt | None = None
    generate_batch_size: PositiveInt = 64
    score_samples: PositiveInt | None = None
    device: Device = "auto"
    cpu_threads: PositiveInt = 1


def build(o: HFCausalLMOptions) -> HFCausalLM:
    """Check the checkpoint (or size keys) now, before any training; the tokenizer is bound in
    :meth:`HFCausalLM.for_data`."""
    if (o.path is None) == (o.architecture is None):
        raise ConfigError(
            "model.path", "give either model.path (a save_pretrained folder) or model.architecture"
        )
    if o.path is None:
        if o.width % o.heads:
            raise ConfigError("model.width", f"{o.width} is not a multiple of model.heads = {o.heads}")
        if o.seq_length > o.context:
            raise ConfigError(
                "model.seq_length", f"{o.seq_length} exceeds the model's context of {o.context} tokens"
            )
    try:
        from autophagy.models import hf_train
    except ImportError as exc:
        raise ConfigError(
            "model.kind", f"hf_causal_lm needs the hf extra (pip install 'autophagy[hf]'): {exc}"
        ) from None
    if o.path is not None:
        hf_train.check_checkpoint(o.path)
        config = hf_train.AutoConfig.from_pretrained(str(o.path), local_files_only=True)
        context = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        if context is not None and o.seq_length > context:
            raise ConfigError(
                "model.seq_length", f"{o.seq_length} exceeds the model's context of {context} tokens"
            )
    if o.lora is not None:
        try:
            import peft  # noqa: F401
        except ImportError as exc:
            raise ConfigError("model.lora", f"LoRA needs peft (pip install 'autophagy[hf]'): {exc}") from None
    return HFCausalLM(o)


@dataclass(frozen=True)
class Codec:
    """How rows of the data source turn into text and back: document bytes, or a text_file's
    character vocabulary."""

    width: int
    vocab: tuple[str, ...] = ()  # empty: rows are UTF-8 bytes padded with -1

    def decode(self, rows: np.ndarray) -> list[str]:
        from autophagy.data.documents import decode_rows

        if not self.vocab:
            return decode_rows(rows)
        return ["".join(self.vocab[int(t)] for t in row if t >= 0) for row in np.atleast_2d(rows)]

    def encode(self, texts: list[str]) -> np.ndarray:
        from autophagy.data.documents import encode_texts

        if not self.vocab:
            return encode_texts(texts, self.width)
        index = {c: i for i, c in enumerate(self.vocab)}
        rows = np.full((len(texts), self.width), -1.0)
        for i, text in enumerate(texts):
            ids = [index[c] for c in text if c in index][: self.width]
            rows[i, : len(ids)] = ids
        return rows


@dataclass(frozen=True)
class HFCausalLM:
    """Settings of ``hf_causal_lm``, bound to a data source by :meth:`for_data` (codec,
    tokenizer, real training and held-out text)."""

    options: HFCausalLMOptions
    codec: Codec | None = None
    tokenizer_json: str | None = None  # trained tokenizer (from scratch), serialized
    train_rows: Any = None
    held_out_rows: Any = None
    min_samples: int = 1
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    # --- binding ------------------------------------------------------------------------------

    def for_data(self, data: object) -> HFCausalLM:
        """Bind the row codec and the tokenizer (trained on the real training text from scratch)."""
        from autophagy.data.documents import DocumentsData
        from autophagy.data.text import TextFileData

        if isinstance(data, DocumentsData):
            codec = Codec(data.dim)
        elif isinstance(data, TextFileData) and data.level == "char":
            codec = Codec(data.dim, tuple(data.vocab))
        else:
            raise ConfigError(
                "data.kind", "hf_causal_lm reads text: data.kind = 'documents' or 'text_file' (level 'char')"
            )
        bound = dataclasses.replace(
            self, codec=codec, train_rows=data.train, held_out_rows=data.held_out(None), _cache={}
        )
        if self.options.path is None:
            from autophagy.models import hf_train

            texts = bound.codec.decode(data.train)
            tokenizer = hf_train.train_tokenizer(texts, self.options.vocab_size)
            bound = dataclasses.replace(bound, tokenizer_json=tokenizer.backend_tokenizer.to_str(), _cache={})
        return bound

    def _need_bound(self) -> None:
        if self.codec is None:
            raise ValueError("bind the data first: HFCausalLM.for_data(data_source)")

    @property
    def tokenizer(self):
        from autophagy.models import hf_train

        if "tokenizer" not in self._cache:
            self._need_bound()
            self._cache["tokenizer"] = (
                hf_train.load_tokenizer(self.options.path)
                if self.options.path is not None
                else hf_train.wrap_tokenizer(self.tokenizer_json)
            )
        return self._cache["tokenizer"]

    @property
    def device(self):
        """The resolved ``torch.device`` (:func:`autophagy.core.device.resolve_device`), once per process."""
        import torch

        if "device" not in self._cache:
            self._cache["device"] = torch.device(resolve_device(self.options.device, "model.device"))
        return self._cache["device"]

    def config(self):
        """The transformers config every replicate's network has."""
        from autophagy.models import hf_train

        if "config" not in self._cache:
            o = self.options
            if o.path is not None:
                self._cache["config"] = hf_train.AutoConfig.from_pretrained(
                    str(o.path), local_files_only=True
                )
            else:
                self._cache["config"] = hf_train.scratch_config(
                    o.architecture, len(self.tokenizer), o.layers, o.width, o.heads, o.context, self.tokenizer
                )
        return self._cache["config"]

    def sequences(self, rows: np.ndarray) -> list[list[int]]:
        """Token-id sequences (``BOS ... EOS``, cut to ``seq_length``) of data rows ``(m, L)``."""
        from autophagy.models import hf_train

        return hf_train.encode_documents(self.tokenizer, self.codec.decode(rows), self.options.seq_length)

    # --- fitting ------------------------------------------------------------------------------

    def _start(self, seed: int, init_blob: np.ndarray | None):
        """A replicate's starting network: the previous weights, the checkpoint, or random."""
        from autophagy.models import hf_train

        if init_blob is not None:
            net = hf_train.new_model(self.config(), seed, self.device)
            hf_train.load_bytes(net, init_blob)
            return net
        if self.options.path is not None:
            return hf_train.pretrained(self.options.path, self.device)
        return hf_train.new_model(self.config(), seed, self.device)

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedHF | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedHF:
        """Train one network per replicate on rows ``data`` ``(R, n, L)``; ``init`` continues
        from its weights (``loop.finetune``); ``telemetry`` gets the causal-LM loss (nats per
        token) about 50 times per replicate."""
        from autophagy.models import hf_train

        self._need_bound()
        if data.ndim != 3 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, L) of text rows, got {data.shape}")
        blobs = []
        for r, g in enumerate(rng):
            seed = int(g.integers(2**62))
            with hf_train.cpu_threads(self.device, self.options.cpu_threads):
                net = self._start(seed, None if init is None else init.blobs[r])
                net = self._train(net, self.sequences(data[r]), seed, telemetry, r)
            blobs.append(hf_train.state_bytes(net))
            self._remember(blobs[-1], net)
        if self.options.path is not None:
            return FittedHF(self, blobs, [])
        return FittedHF(self, blobs, list(blobs) if init is None else list(init.references))

    def _train(
        self,
        net,
        sequences: list[list[int]],
        seed: int,
        telemetry: TrainingTelemetry | None = None,
        r: int = 0,
    ):
        import torch

        from autophagy.models import hf_train

        o, device = self.options, self.device
        if o.lora is not None:
            import peft

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed + 1)
                lora = peft.LoraConfig(
                    r=o.lora.r,
                    lora_alpha=o.lora.alpha,
                    lora_dropout=o.lora.dropout,
                    target_modules=o.lora.target_modules,
                    task_type="CAUSAL_LM",
                )
                net = peft.get_peft_model(net, lora)
        batches = list(hf_train.batch_order(len(sequences), o.batch_size, o.steps, o.epochs, seed))
        params = [p for p in net.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
        warmup = round(o.warmup * len(batches))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, hf_train.schedule_factor(o.schedule, warmup, len(batches))
        )
        pad = self.tokenizer.pad_token_id
        report = LossReport(telemetry, r, len(batches))
        best, best_loss, waited = None, np.inf, 0
        held_out = self.sequences(self.held_out_rows) if o.early_stopping is not None else None
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed + 2)  # dropout, if the architecture has any
            for step, index in enumerate(batches, start=1):
                net.train()
                ids, mask, labels = hf_train.pad_batch([sequences[i] for i in index], pad)
                with hf_train.autocast(device):
                    loss = net(
                        input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)
                    ).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                report.add(loss)
                if held_out is not None and (step % o.early_stopping.every == 0 or step == len(batches)):
                    nll = hf_train.mean_nll(net, held_out, pad, o.generate_batch_size, device).sum(axis=0)
                    if nll[0] / nll[1] < best_loss:
                        best_loss, waited = nll[0] / nll[1], 0
                        best = {k: v.detach().clone() for k, v in net.state_dict().items()}
                    else:
                        waited += 1
                        if waited >= o.early_stopping.patience:
                            report.flush()  # the steps since the last report, before stopping early
                            break
        if best is not None:
            net.load_state_dict(best)
        if o.lora is not None:
            net = net.merge_and_unload()
        return net.eval()

    def load(self, state: dict[str, np.ndarray]) -> FittedHF:
        n = len([k for k in state if k.startswith("w")])
        references = [state[f"ref{r}"] for r in range(n) if f"ref{r}" in state]
        return FittedHF(self, [state[f"w{r}"] for r in range(n)], references)

    def _remember(self, blob: np.ndarray, net) -> None:
        """Keep the few most recent networks of this process, keyed by their weights' hash."""
        nets = self._cache.setdefault("nets", {})
        nets[hashlib.blake2b(blob.tobytes(), digest_size=16).digest()] = net
        while len(nets) > 8:
            nets.pop(next(iter(nets)))

    def network(self, blob: np.ndarray | None):
        """The network holding weights ``blob`` (the checkpoint's when None), cached."""
        from autophagy.models import hf_train

        if blob is None:
            if "checkpoint" not in self._cache:
                self._cache["checkpoint"] = hf_train.pretrained(self.options.path, self.device).eval()
            return self._cache["checkpoint"]
        key = hashlib.blake2b(blob.tobytes(), digest_size=16).digest()
        nets = self._cache.setdefault("nets", {})
        if key not in nets:
            net = hf_train.new_model(self.config(), 0, self.device)
            hf_train.load_bytes(net, blob)
            self._remember(blob, net.eval())
        return nets[key]


@dataclass(frozen=True)
class FittedHF:
    """One trained network per replicate (as safetensors bytes ``blobs``) and the reference
    networks that score generated text (the checkpoint's, or generation 1's from scratch)."""

    settings: HFCausalLM
    blobs: list[np.ndarray]
    references: list[np.ndarray]

    @property
    def replicates(self) -> int:
        return len(self.blobs)

    @property
    def device(self) -> str:
        """Where the networks run: ``"cpu"`` or ``"cuda"`` (the resolved ``model.device``)."""
        return self.settings.device.type

    def inherit(self, previous: FittedHF) -> FittedHF:
        """Carry the generation-1 reference networks forward from the previous generation."""
        return dataclasses.replace(self, references=list(previous.references))

    def generate(self, n: int, *, rng: Rngs, sampling_bias: float) -> list[list[str]]:
        """``n`` generated texts per replicate (see the module docstring for lambda)."""
        import torch

        from autophagy.models import hf_train

        if len(rng) != self.replicates:
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {self.replicates}")
        s, o = self.settings, self.settings.options
        tokenizer, device = s.tokenizer, s.device
        temperature = o.temperature * sampling_bias
        sample = temperature > 0
        kwargs: dict[str, Any] = {
            "do_sample": sample,
            "num_beams": o.num_beams,
            "max_new_tokens": o.max_new_tokens or o.seq_length - 1,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
        if sample:
            kwargs |= {"temperature": temperature, "top_k": o.top_k or 0, "top_p": o.top_p or 1.0}
        out = []
        for blob, g in zip(self.blobs, rng, strict=True):
            net, seed, texts = s.network(blob), int(g.integers(2**62)), []
            with (
                torch.random.fork_rng(devices=[device] if device.type == "cuda" else []),
                torch.no_grad(),
                hf_train.cpu_threads(device, o.cpu_threads),
            ):
                torch.manual_seed(seed)
                for start in range(0, n, o.generate_batch_size):
                    size = min(o.generate_batch_size, n - start)
                    prompt = torch.full((size, 1), tokenizer.bos_token_id, dtype=torch.long, device=device)
                    with hf_train.autocast(device):
                        ids = net.generate(prompt, attention_mask=torch.ones_like(prompt), **kwargs)
                    texts += tokenizer.batch_decode(ids[:, 1:], skip_special_tokens=True)
            out.append(texts)
        return out

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` generated documents per replicate as data rows ``(R, n, L)``."""
        texts = self.generate(n, rng=rng, sampling_bias=sampling_bias)
        rows = [self.settings.codec.encode(t) for t in texts]
        return np.stack(rows).reshape(self.replicates, n, self.settings.codec.width)

    def nll(self, rows_or_texts, which: str = "model") -> list[np.ndarray]:
        """Per replicate, summed NLL (nats) and token count ``(m, 2)`` of each text under the
        replicate's network (``which = "model"``) or its reference (``"reference"``)."""
        from autophagy.models import hf_train

        s = self.settings
        texts = [
            rows_or_texts[r] if isinstance(rows_or_texts, list) else s.codec.decode(rows_or_texts[r])
            for r in range(self.replicates)
        ]
        seqs = [hf_train.encode_documents(s.tokenizer, t, s.options.seq_length) for t in texts]
        return self._per_replicate(hf_train.mean_nll, seqs, which)

    def embed(self, texts: list[list[str]], which: str = "reference") -> list[np.ndarray]:
        """Per replicate, each text's embedding ``(m, width)``: the mean of the last hidden states
        over its tokens (BOS and EOS included) under the replicate's reference network
        (``which = "reference"``: the checkpoint, or generation 1's from scratch) or its own
        (``"model"``). Texts longer than ``seq_length`` tokens are embedded by their first piece."""
        from autophagy.models import hf_train

        s = self.settings
        bos, eos = s.tokenizer.bos_token_id, s.tokenizer.eos_token_id
        seqs = []
        for replicate_texts in texts:
            ids = (
                s.tokenizer(replicate_texts, add_special_tokens=False)["input_ids"] if replicate_texts else []
            )
            seqs.append([[bos, *t, eos][: s.options.seq_length] for t in ids])
        return self._per_replicate(hf_train.mean_hidden, seqs, which)

    def _per_replicate(self, measure: Callable[..., np.ndarray], seqs: list, which: str) -> list[np.ndarray]:
        """``measure(network, sequences, pad id, batch size, device)`` per replicate, under its own
        network (``which = "model"``) or its reference (the checkpoint, or generation 1's)."""
        from autophagy.models import hf_train

        s = self.settings
        blobs = self.blobs if which == "model" else (self.references or [None] * self.replicates)
        out = []
        for blob, replicate_seqs in zip(blobs, seqs, strict=True):
            with hf_train.cpu_threads(s.device, s.options.cpu_threads):
                out.append(
                    measure(
                        s.network(blob),
                        replicate_seqs,
                        s.tokenizer.pad_token_id,
                        s.options.generate_batch_size,
                        s.device,
                    )
                )
        return out

    def token_cross_entropy(self, rows: np.ndarray) -> np.ndarray:
        """Cross-entropy (nats per token of this model's tokenizer) of rows ``(R, m, L)``, ``(R,)``."""
        return np.array([t[:, 0].sum() / t[:, 1].sum() for t in self.nll(rows)])

    def state_dict(self) -> dict[str, np.ndarray]:
        """Safetensors bytes of every replicate's weights (``w<r>``) and reference (``ref<r>``,
        only when it differs: training from scratch)."""
        state = {f"w{r}": b for r, b in enumerate(self.blobs)}
        return state | {f"ref{r}": b for r, b in enumerate(self.references)}
