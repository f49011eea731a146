"""A tiny causal transformer language model (PyTorch, optional) on token sequences ``(R, n, L)``.

Each replicate trains its own network with Adam on next-token cross-entropy, seeded from that
replicate's generator. Sampling is autoregressive through
:func:`~autophagy.models.discrete.biased_choice`, like the n-gram model: lambda is the
temperature, ``top_k`` / ``top_p`` cut the tail, and the uniforms are drawn up front.

Device (``device``, :mod:`autophagy.core.device`): initial weights are drawn on the CPU (the
same on every device), then the network and the replicate's tokens move to the device once;
minibatches are drawn by a generator on that device. Sampling reads the next-token
probabilities back to the host, where the numpy uniforms pick the tokens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from autophagy.core.device import resolve_device, torch_generator
from autophagy.core.protocols import TrainingTelemetry
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import LossReport
from autophagy.models.discrete import biased_choice, integer_tokens


class TinyLM(nn.Module):
    """Token + position embeddings, ``layers`` pre-norm causal encoder blocks, a linear head."""

    def __init__(self, vocab_size: int, length: int, width: int, heads: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size + 1, width)  # id V is begin-of-sequence
        self.position = nn.Parameter(torch.zeros(length, width))
        block = nn.TransformerEncoderLayer(
            width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, vocab_size)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(length), persistent=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(b, t, V)`` for inputs ``(b, t)`` starting with BOS."""
        t = inputs.shape[1]
        h = self.embed(inputs) + self.position[:t]
        return self.head(self.blocks(h, mask=self.mask[:t, :t], is_causal=True))


@dataclass(frozen=True)
class FittedTransformer:
    """One trained network per replicate (``nets``), with the settings that built them, on
    ``device`` (the resolved ``"cpu"`` or ``"cuda"``)."""

    nets: list[TinyLM]
    settings: TransformerModel
    length: int
    device: str = "cpu"

    def _bos(self, n: int) -> torch.Tensor:
        return torch.full((n, 1), self.settings.vocab_size, dtype=torch.long, device=self.device)

    @torch.no_grad()
    def log_likelihood(self, tokens: np.ndarray) -> np.ndarray:
        """log P(sequence) in nats, ``(R, m)``, of ``tokens`` ``(R, m, L)``; network r scores row r."""
        x = torch.as_tensor(integer_tokens(tokens, self.settings.vocab_size, "tokens"), device=self.device)
        out = []
        for r, net in enumerate(self.nets):
            logits = net(torch.cat([self._bos(x.shape[1]), x[r, :, :-1]], dim=1))
            logp = torch.log_softmax(logits.double(), dim=-1).gather(2, x[r, :, :, None])[..., 0]
            out.append(logp.sum(dim=1).cpu().numpy())
        return np.stack(out)

    @torch.no_grad()
    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` sequences per replicate ``(R, n, L)`` at temperature ``sampling_bias``."""
        if len(rng) != len(self.nets):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.nets)}")
        s = self.settings
        out = np.empty((len(self.nets), n, self.length))
        for r, (net, g) in enumerate(zip(self.nets, rng, strict=True)):
            u = g.random((n, self.length))
            prefix = self._bos(n)
            for t in range(self.length):
                probs = torch.softmax(net(prefix)[:, -1].double(), dim=-1).cpu().numpy()
                tokens = (
                    biased_choice(probs, u[:, t], sampling_bias, s.top_k, s.top_p) if n else np.zeros(0, int)
                )
                out[r, :, t] = tokens
                picked = torch.as_tensor(tokens, dtype=torch.long, device=self.device)
                prefix = torch.cat([prefix, picked[:, None]], dim=1)
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter stacked over replicates, plus the sequence length."""
        states = [net.state_dict() for net in self.nets]
        out = {name: np.stack([st[name].cpu().numpy() for st in states]) for name in states[0]}
        return {**out, "length": np.array([self.length])}


@dataclass(frozen=True)
class TransformerModel:
    """Settings: network ``width``, ``heads``, ``layers``; Adam ``steps`` on batches of
    ``batch_size`` sequences at learning rate ``lr``; the tail cut; ``vocab_size`` from the data."""

    width: int = 32
    heads: int = 2
    layers: int = 1
    steps: int = 150
    batch_size: int = 32
    lr: float = 3e-3
    vocab_size: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_samples: int = 1
    device: str = "auto"

    def for_data(self, data: object) -> TransformerModel:
        size = getattr(data, "vocab_size", None)
        if size is None:
            raise ValueError(f"data source {type(data).__name__} is not text (it has no vocab_size)")
        if self.vocab_size is not None and self.vocab_size < size:
            raise ValueError(f"model vocab_size = {self.vocab_size} is smaller than the data's {size}")
        return dataclasses.replace(self, vocab_size=self.vocab_size or size)

    def _net(self, length: int) -> TinyLM:
        return TinyLM(self.vocab_size, length, self.width, self.heads, self.layers)

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedTransformer | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedTransformer:
        """Train one network per replicate on ``data`` ``(R, n, L)``; ``init`` fine-tunes its
        networks; ``telemetry`` gets the next-token cross-entropy (nats) about 50 times per replicate."""
        if self.vocab_size is None:
            raise ValueError("bind the vocabulary first: TransformerModel.for_data(data_source)")
        if data.ndim != 3 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, L) of token ids, got {data.shape}")
        device = resolve_device(self.device, "model.device")
        tokens = torch.as_tensor(integer_tokens(data, self.vocab_size, "data"), device=device)
        length, nets = data.shape[2], []
        for r, g in enumerate(rng):
            seed = int(g.integers(2**63 - 1))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)  # initial weights from this replicate's stream only
                net = self._net(length)
            if init is not None:
                net.load_state_dict(init.nets[r].state_dict())
            net = net.to(device)
            batches = torch_generator(seed, device)
            optimizer = torch.optim.Adam(net.parameters(), lr=self.lr)
            x = tokens[r]
            bos = torch.full(
                (min(self.batch_size, len(x)), 1), self.vocab_size, dtype=torch.long, device=device
            )
            report = LossReport(telemetry, r, self.steps)
            for _ in range(self.steps):
                batch = x[torch.randint(len(x), (len(bos),), generator=batches, device=device)]
                logits = net(torch.cat([bos, batch[:, :-1]], dim=1))
                loss = nn.functional.cross_entropy(logits.reshape(-1, self.vocab_size), batch.reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                report.add(loss)
            nets.append(net.eval())
        return FittedTransformer(nets, self, length, device)

    def load(self, state: dict[str, np.ndarray]) -> FittedTransformer:
        device = resolve_device(self.device, "model.device")
        length = int(state["length"][0])
        params = {k: v for k, v in state.items() if k != "length"}
        nets = []
        for r in range(len(next(iter(params.values())))):
            net = self._net(length)
            net.load_state_dict({k: torch.as_tensor(v[r]) for k, v in params.items()})
            nets.append(net.to(device).eval())
        return FittedTransformer(nets, self, length, device)
