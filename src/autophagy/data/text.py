"""Text as fixed-length token sequences ``(n, L)``: a built-in language with a known
distribution, or windows of a user's UTF-8 text file.

Token ids are 0..V-1; models pad contexts with a begin-of-sequence id V. Both sources offer
``held_out(rng)``, real sequences never used for training (cross-entropy on held-out text).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from autophagy.core.registry import Options
from autophagy.data.discrete import zipf_probabilities
from autophagy.data.files import TrainRows, distinct_rows


class MarkovLanguageOptions(Options):
    """A Zipfian Markov source: each word's successors follow a Zipf(``exponent``) law over a
    word-specific random order of the vocabulary (fixed by ``structure_seed``)."""

    vocab_size: int = Field(64, ge=2, le=10_000)
    length: int = Field(24, ge=2)
    exponent: float = Field(1.1, gt=0.0)
    structure_seed: int = Field(0, ge=0)
    held_out_size: int = Field(1000, ge=1)


@dataclass(frozen=True)
class MarkovLanguage:
    """Sequences x_1..x_L with x_1 ~ ``start`` ``(V,)`` and x_t | x_(t-1) ~ ``transitions`` ``(V, V)``.

    Its probability of every sequence is known, so cross-entropies against it are exact.
    """

    start: np.ndarray
    transitions: np.ndarray
    length: int
    held_out_size: int = 1000
    capacity: int | None = None

    @property
    def vocab_size(self) -> int:
        return self.start.size

    @property
    def dim(self) -> int:
        return self.length

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` sequences ``(n, L)`` (token ids as floats), by inverse CDF per step."""
        tokens = np.empty((n, self.length), dtype=np.int64)
        u = rng.random((n, self.length))
        cdf_start, cdf = np.cumsum(self.start), np.cumsum(self.transitions, axis=1)
        tokens[:, 0] = np.minimum(np.searchsorted(cdf_start, u[:, 0], side="right"), self.vocab_size - 1)
        for t in range(1, self.length):
            rows = cdf[tokens[:, t - 1]]
            tokens[:, t] = np.minimum((rows <= u[:, t, None]).sum(axis=1), self.vocab_size - 1)
        return tokens.astype(np.float64)

    def held_out(self, rng: np.random.Generator) -> np.ndarray:
        """``held_out_size`` fresh sequences: any draw is unseen text for this language."""
        return self.draw(self.held_out_size, rng=rng)

    def log_prob(self, tokens: np.ndarray) -> np.ndarray:
        """Exact log-probability (nats) of each sequence in ``tokens`` ``(..., L)``."""
        x = np.asarray(tokens).astype(np.int64)
        logp = np.log(self.start[x[..., 0]])
        return logp + np.log(self.transitions[x[..., :-1], x[..., 1:]]).sum(axis=-1)

    def entropy_rate(self) -> float:
        """H(x_1..x_L) / L in nats per token: the lowest cross-entropy any model can reach."""
        with np.errstate(divide="ignore", invalid="ignore"):
            row_entropy = -np.where(
                self.transitions > 0, self.transitions * np.log(self.transitions), 0.0
            ).sum(1)
            total = -np.where(self.start > 0, self.start * np.log(self.start), 0.0).sum()
        marginal = self.start
        for _ in range(1, self.length):
            total += marginal @ row_entropy
            marginal = marginal @ self.transitions
        return float(total / self.length)

    def decode(self, tokens: np.ndarray) -> list[str]:
        """Sequences as text, word ``i`` spelled ``w<i>``."""
        return [" ".join(f"w{int(t)}" for t in row) for row in np.atleast_2d(tokens)]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError("token sequences have no Gaussian moments; use text metrics")

    @classmethod
    def from_options(cls, o: MarkovLanguageOptions) -> MarkovLanguage:
        structure = np.random.default_rng(o.structure_seed)
        law = zipf_probabilities(o.exponent, o.vocab_size)
        start = law[np.argsort(structure.permutation(o.vocab_size))]
        transitions = np.stack(
            [law[np.argsort(structure.permutation(o.vocab_size))] for _ in range(o.vocab_size)]
        )
        return cls(start, transitions, o.length, o.held_out_size)


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; a clear ``ValueError`` if it is missing, empty, binary or not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"text file not found: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"text file is empty: {path}")
    if b"\x00" in raw[:65536]:
        raise ValueError(f"{path} looks binary (it contains NUL bytes); give a plain UTF-8 text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not valid UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); "
            "re-encode it as UTF-8"
        ) from None


def tokenize(text: str, level: Literal["char", "word"], lowercase: bool = False) -> list[str]:
    """Characters, or words and single punctuation marks (``\\w+|[^\\w\\s]``)."""
    text = text.lower() if lowercase else text
    return list(text) if level == "char" else re.findall(r"\w+|[^\w\s]", text)


class TextFileOptions(Options):
    """``path``: a UTF-8 text file; ``level``: "char" or "word" tokens; ``length``: tokens per
    sequence; the last ``held_out`` fraction of the sequences is kept for evaluation only."""

    path: Path
    level: Literal["char", "word"] = "char"
    length: int = Field(32, ge=2)
    held_out: float = Field(0.1, gt=0.0, lt=1.0)
    lowercase: bool = False

    @field_validator("path")
    @classmethod
    def _readable(cls, v: Path) -> Path:
        read_text(v)
        return v

    @model_validator(mode="after")
    def _enough_text(self) -> TextFileOptions:
        _windows(self)
        return self


def _windows(o: TextFileOptions) -> tuple[np.ndarray, list[str], int]:
    """Token-id windows ``(W, L)`` of the file, its vocabulary (most frequent first), and how
    many final windows are held out; a clear ValueError if the text is too short."""
    tokens = tokenize(read_text(o.path), o.level, o.lowercase)
    windows = len(tokens) // o.length
    n_test = max(1, round(o.held_out * windows))
    if windows - n_test < 2:
        raise ValueError(
            f"{o.path} has {len(tokens)} {o.level} tokens: too few for 2 training sequences of "
            f"length {o.length} plus held-out text; use a longer file or a smaller length"
        )
    counts = Counter(tokens)
    vocab = sorted(counts, key=lambda tok: (-counts[tok], tok))
    index = {tok: i for i, tok in enumerate(vocab)}
    ids = np.array([index[tok] for tok in tokens[: windows * o.length]]).reshape(windows, o.length)
    return ids, vocab, n_test


@dataclass(frozen=True)
class TextFileData(TrainRows):
    """Consecutive windows of a text: ``train`` ``(N, L)`` to draw from, ``test`` held out.

    ``vocab`` lists the tokens, most frequent first (id = rank - 1).
    """

    train: np.ndarray
    test: np.ndarray
    vocab: list[str] = field(default_factory=list)
    level: str = "char"

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct training windows ``(n, L)``."""
        return distinct_rows(self.train, n, rng, "training windows of the text").astype(np.float64)

    def held_out(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Every held-out window ``(M, L)`` (the end of the file, never drawn for training)."""
        return self.test.astype(np.float64)

    def decode(self, tokens: np.ndarray) -> list[str]:
        joiner = "" if self.level == "char" else " "
        return [joiner.join(self.vocab[int(t)] for t in row) for row in np.atleast_2d(tokens)]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError("token sequences have no Gaussian moments; use text metrics")

    @classmethod
    def from_options(cls, o: TextFileOptions) -> TextFileData:
        ids, vocab, n_test = _windows(o)
        return cls(ids[: len(ids) - n_test], ids[len(ids) - n_test :], vocab, o.level)
