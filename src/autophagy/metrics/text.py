"""Text metrics: lexical diversity of generated token sequences and cross-entropy of a language model.

Sample metrics (``needs="samples"``) take real and synthetic sequences ``(R, n, L)`` (or
``(n, L)``), one token id per entry (any values: an entry is a token type), and describe the
synthetic text; n-grams never cross from one sequence to the next. Model metrics
(``needs="model"``) score real text under the fitted model, in nats per token.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.protocols import HeldOutText, ScoresText, ScoresTokens
from autophagy.core.rng import Rngs
from autophagy.metrics.inputs import cap_samples, finish, paired


def _prepare(real, synthetic, max_samples, rng) -> tuple[np.ndarray, np.ndarray, bool]:
    real3, synthetic3, single = paired(real, synthetic)
    return (
        cap_samples(real3, max_samples, rng, "real"),
        cap_samples(synthetic3, max_samples, rng, "synthetic"),
        single,
    )


def _finish(values: np.ndarray, single: bool) -> float | np.ndarray:
    return finish({"v": values}, single)["v"]


def ngrams(tokens: np.ndarray, n: int, pad: float | None = None) -> np.ndarray:
    """Every n-gram ``(k, n)`` of sequences ``(m, L)``, never across sequences; with ``pad``, the
    n-grams holding a pad entry are left out (variable-length sequences padded on the right)."""
    if n > tokens.shape[-1]:
        raise ValueError(f"n = {n} exceeds the sequence length {tokens.shape[-1]}")
    grams = np.stack([tokens[:, j : tokens.shape[1] - n + 1 + j] for j in range(n)], axis=-1).reshape(-1, n)
    return grams if pad is None else grams[~(grams == pad).any(axis=1)]


def distinct_n(tokens: np.ndarray, n: int, pad: float | None = None) -> float:
    """Distinct n-grams / all n-grams of one set of sequences ``(m, L)`` (Li et al. 2016); n = 1 is
    the type-token ratio. Higher = more diverse. ``pad`` entries (if given) are not tokens; NaN
    when there is no n-gram."""
    grams = ngrams(tokens, n, pad)
    return len(np.unique(grams, axis=0)) / len(grams) if len(grams) else float("nan")


def ngram_novelty(tokens: np.ndarray, reference: np.ndarray, n: int, pad: float | None = None) -> float:
    """Share of the n-grams of ``tokens`` ``(m, L)`` (with repeats) that never occur in
    ``reference`` ``(k, L')``: 0 when the text only copies the reference's n-grams. Higher = more
    novel text (which, for a collapsing model, rises with its errors)."""
    grams = ngrams(tokens, n, pad)
    if not len(grams):
        return float("nan")
    known = ngrams(reference, n, pad)
    joint = np.unique(np.concatenate([known, grams]), axis=0, return_inverse=True)[1].ravel()
    return float((~np.isin(joint[len(known) :], joint[: len(known)])).mean())


def rare_type_share(
    tokens: np.ndarray, real: np.ndarray, head: float = 0.9, pad: float | None = None
) -> float:
    """Share of the real text's rare types (outside the head: the most frequent types holding
    ``head`` of the real tokens, as in :func:`tail_mass`) that occur in ``tokens`` at least once.
    Higher = more of the tail survives; compare runs at equal amounts of generated text."""
    real, tokens = np.asarray(real).ravel(), np.asarray(tokens).ravel()
    if pad is not None:
        real, tokens = real[real != pad], tokens[tokens != pad]
    types, counts = np.unique(real, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    before = np.cumsum(counts[order]) - counts[order]
    rare = types[order][before >= head * counts.sum()]
    return float(np.isin(rare, tokens).mean()) if rare.size else float("nan")


def type_counts(tokens: np.ndarray) -> np.ndarray:
    """Occurrences of every distinct token in ``tokens``, most frequent first."""
    return np.sort(np.unique(tokens, return_counts=True)[1])[::-1]


def zipf_fit(counts: np.ndarray) -> float:
    """Exponent s of count ~ rank^-s, least squares on log-log over the types seen at least twice
    (hapaxes form a flat, noisy tail) or, with fewer than 2 of those, over every type (0 when
    all are hapaxes); NaN with a single type."""
    repeated = counts[counts >= 2]
    counts = repeated if repeated.size >= 2 else np.asarray(counts)
    if counts.size < 2:
        return float("nan")
    ranks = np.arange(1, counts.size + 1)
    return float(-np.polyfit(np.log(ranks), np.log(counts), 1)[0])


def _per_replicate(fn, synthetic: np.ndarray) -> np.ndarray:
    return np.array([fn(s) for s in synthetic], dtype=np.float64)


def lexical(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict:
    """Every diversity measure of the synthetic text at once: ``type_token_ratio``, ``distinct_2``,
    ``distinct_3``, ``unigram_entropy`` (nats), ``zipf_exponent`` and ``tail_mass``."""
    real3, synthetic3, single = _prepare(real, synthetic, max_samples, rng)
    length = synthetic3.shape[2]
    values = {
        "type_token_ratio": _per_replicate(lambda s: distinct_n(s, 1), synthetic3),
        "distinct_2": _per_replicate(lambda s: distinct_n(s, min(2, length)), synthetic3),
        "distinct_3": _per_replicate(lambda s: distinct_n(s, min(3, length)), synthetic3),
        "unigram_entropy": _per_replicate(lambda s: _entropy(type_counts(s)), synthetic3),
        "zipf_exponent": _per_replicate(lambda s: zipf_fit(type_counts(s)), synthetic3),
        "tail_mass": np.array([_tail_mass(r, s) for r, s in zip(real3, synthetic3, strict=True)]),
    }
    return finish(values, single)


def _entropy(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def tail_mass(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    head: float = 0.9,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> float | np.ndarray:
    """Share of synthetic tokens outside the real text's head: the most frequent real types that
    together hold ``head`` of the real tokens (about 1 - head for text like the real one)."""
    real3, synthetic3, single = _prepare(real, synthetic, max_samples, rng)
    values = np.array([_tail_mass(r, s, head) for r, s in zip(real3, synthetic3, strict=True)])
    return _finish(values, single)


def _tail_mass(real: np.ndarray, synthetic: np.ndarray, head: float = 0.9) -> float:
    types, counts = np.unique(real, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    before = np.cumsum(counts[order]) - counts[order]  # real tokens of more frequent types
    head_types = types[order][before < head * counts.sum()]
    return float(1.0 - np.isin(synthetic, head_types).mean())


def cross_entropy(model: object, data: object, *, rng: Rngs) -> np.ndarray:
    """Cross-entropy (nats per token) of held-out real text under the fitted model, ``(R,)``.

    Held-out text is ``data.held_out(rng)``: fresh sequences of a built-in language, or the
    held-out end of a text file. A model with its own tokenizer (``token_cross_entropy``,
    e.g. ``hf_causal_lm``) reports nats per token of that tokenizer, summed over every held-out
    token and divided by their count.
    """
    if not isinstance(model, ScoresText | ScoresTokens) or not isinstance(data, HeldOutText):
        raise ValueError("cross_entropy needs a language model (ngram, transformer, hf) on text data")
    text = np.stack([data.held_out(g) for g in rng])
    if isinstance(model, ScoresTokens):  # models with their own tokenizer (hf)
        return model.token_cross_entropy(text)
    return -model.log_likelihood(text).mean(axis=1) / text.shape[2]


def perplexity(model: object, data: object, *, rng: Rngs) -> np.ndarray:
    """Perplexity exp(cross_entropy) of held-out real text under the fitted model, ``(R,)``:
    the effective number of equally likely next tokens. Lower is better."""
    return np.exp(cross_entropy(model, data, rng=rng))


def cross_entropy_true(model: object, data: object, *, rng: Rngs | None = None) -> np.ndarray:
    """Exact cross-entropy H(P, Q) / L (nats per token) of an n-gram model Q against the
    built-in Markov language P, summed over every sequence by a forward pass, ``(R,)``.

    Never below the language's entropy rate; the gap is the KL divergence per token.
    """
    start, transitions = getattr(data, "start", None), getattr(data, "transitions", None)
    if start is None or getattr(model, "conditionals", None) is None:
        raise ValueError("cross_entropy_true needs an ngram model on the text_grammar language")
    v, order, length = model.vocab_size, model.order, data.length
    base, width = v + 1, max(order - 1, 1)  # track at least the last token: the truth is Markov
    n_states = base**width
    if n_states * v > 4_000_000:
        raise ValueError(
            f"exact cross-entropy of order {order} over {v} tokens is too large; use cross_entropy"
        )
    states = np.arange(n_states)
    truth = np.vstack([transitions, start])[states % base]  # (S, V): next-token law given the last token
    successor = (states[:, None] * base + np.arange(v)[None, :]) % n_states  # (S, V)
    model_context = states % base ** (order - 1)
    out = np.empty(model.replicates)
    for r in range(model.replicates):
        log_q = np.log(model.conditionals(r, model_context))  # (S, V)
        joint = np.zeros(n_states)
        joint[n_states - 1] = 1.0  # all-BOS context (every digit V)
        total = 0.0
        for _ in range(length):
            step = joint[:, None] * truth
            total -= (step * log_q).sum()
            joint = np.bincount(successor.ravel(), weights=step.ravel(), minlength=n_states)
        out[r] = total / length
    return out
