"""n-gram language model on fixed-length token sequences ``(R, n, L)`` with add-alpha smoothing.

P(x_t | c) = (count(c, x_t) + alpha) / (count(c) + alpha V), where the context c is the
previous ``order - 1`` tokens of the same sequence, padded with a begin-of-sequence id V.
Counts are kept sparse (sorted (context, token) keys per replicate). Sampling draws each
token from its context's distribution at temperature lambda (tail narrowing), cut to the
``top_k`` / ``top_p`` most probable tokens (tail cutting); lambda = 0 is greedy decoding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from autophagy.core.rng import Rngs
from autophagy.models.discrete import biased_choice, integer_tokens


def context_ids(tokens: np.ndarray, vocab_size: int, order: int) -> np.ndarray:
    """Context id of every position of ``tokens`` ``(..., L)``: the previous ``order - 1``
    tokens in base V + 1, the most recent as the lowest digit (BOS = V pads the start)."""
    base, width = vocab_size + 1, order - 1
    ids = np.zeros(tokens.shape, dtype=np.int64)
    for lag in range(1, width + 1):
        previous = np.full(tokens.shape, vocab_size, dtype=np.int64)
        previous[..., lag:] = tokens[..., :-lag]
        ids += previous * base ** (lag - 1)
    return ids


@dataclass(frozen=True)
class FittedNgram:
    """Sparse counts per replicate: sorted ``keys`` = context * V + token with their ``counts``,
    replicate r owning entries ``offsets[r]:offsets[r + 1]``."""

    keys: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray
    length: int  # L, tokens per sequence
    vocab_size: int
    order: int
    smoothing: float
    top_k: int | None = None
    top_p: float | None = None

    @property
    def replicates(self) -> int:
        return len(self.offsets) - 1

    def _table(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[r], self.offsets[r + 1]
        return self.keys[lo:hi], self.counts[lo:hi]

    def conditionals(self, r: int, contexts: np.ndarray) -> np.ndarray:
        """Next-token probabilities ``(m, V)`` of replicate ``r`` for ``contexts`` ``(m,)``."""
        keys, counts = self._table(r)
        v = self.vocab_size
        lo = np.searchsorted(keys, contexts * v)
        hi = np.searchsorted(keys, (contexts + 1) * v)
        lengths = hi - lo
        rows = np.full((contexts.size, v), self.smoothing)
        which = np.repeat(np.arange(contexts.size), lengths)
        positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        entries = positions + np.repeat(lo, lengths)
        rows[which, keys[entries] % v] += counts[entries]
        return rows / rows.sum(axis=1, keepdims=True)

    def log_likelihood(self, tokens: np.ndarray) -> np.ndarray:
        """log P(sequence) in nats, ``(R, m)``, of ``tokens`` ``(R, m, L)``; model r scores row r."""
        tokens = integer_tokens(tokens, self.vocab_size, "tokens")
        contexts = context_ids(tokens, self.vocab_size, self.order)
        out = np.empty(tokens.shape[:2])
        for r in range(self.replicates):
            unique, inverse = np.unique(contexts[r], return_inverse=True)
            probs = self.conditionals(r, unique)
            out[r] = np.log(probs[inverse.reshape(tokens[r].shape), tokens[r]]).sum(axis=-1)
        return out

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` sequences per replicate ``(R, n, L)`` at temperature ``sampling_bias``."""
        if len(rng) != self.replicates:
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {self.replicates}")
        length = self.length
        base, width = self.vocab_size + 1, self.order - 1
        out = np.empty((self.replicates, n, length))
        for r, g in enumerate(rng):
            u = g.random((n, length))  # drawn up front: common random numbers across biases
            contexts = np.full(n, sum(self.vocab_size * base**j for j in range(width)), dtype=np.int64)
            for t in range(length):
                unique, inverse = np.unique(contexts, return_inverse=True)
                tokens = biased_choice(
                    self.conditionals(r, unique), u[:, t], sampling_bias, self.top_k, self.top_p, inverse
                )
                out[r, :, t] = tokens
                contexts = (contexts * base + tokens) % base**width
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        shape = np.array([self.length, self.vocab_size])
        return {"keys": self.keys, "counts": self.counts, "offsets": self.offsets, "shape": shape}


@dataclass(frozen=True)
class NgramModel:
    """Settings: ``order`` (1 = unigram, 2 = bigram, ...), add-``smoothing`` alpha, the tail cut,
    and ``vocab_size`` V (bound from the data source by :meth:`for_data`; inferred as the
    largest id + 1 when unbound)."""

    order: int = 2
    smoothing: float = 0.1
    vocab_size: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_samples: int = 1

    def for_data(self, data: object) -> NgramModel:
        size = getattr(data, "vocab_size", None)
        if size is None:
            raise ValueError(f"data source {type(data).__name__} is not text (it has no vocab_size)")
        if self.vocab_size is not None and self.vocab_size < size:
            raise ValueError(f"model vocab_size = {self.vocab_size} is smaller than the data's {size}")
        if (size + 1) ** (self.order - 1) * size > 2**62:
            raise ValueError(f"order {self.order} over {size} tokens overflows 64-bit context ids")
        return dataclasses.replace(self, vocab_size=self.vocab_size or size)

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedNgram | None = None) -> FittedNgram:
        """Count every (context, token) of ``data`` ``(R, n, L)``."""
        if data.ndim != 3 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, L) of token ids, got {data.shape}")
        tokens = integer_tokens(data, self.vocab_size, "data")
        v = self.vocab_size or int(tokens.max()) + 1
        keys = context_ids(tokens, v, self.order) * v + tokens
        tables = [np.unique(row.ravel(), return_counts=True) for row in keys]
        offsets = np.concatenate([[0], np.cumsum([len(k) for k, _ in tables])])
        return FittedNgram(
            np.concatenate([k for k, _ in tables]),
            np.concatenate([c for _, c in tables]),
            offsets,
            data.shape[2],
            v,
            *self._sampling(),
        )

    def _sampling(self) -> tuple:
        return self.order, self.smoothing, self.top_k, self.top_p

    def load(self, state: dict[str, np.ndarray]) -> FittedNgram:
        length, vocab_size = (int(x) for x in state["shape"])
        arrays = (np.asarray(state[name]) for name in ("keys", "counts", "offsets"))
        return FittedNgram(*arrays, length, vocab_size, *self._sampling())
