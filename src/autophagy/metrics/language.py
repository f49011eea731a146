"""Per-generation statistics of a language model's own generated text (``hf_causal_lm``).

One call generates ``score_samples`` documents per replicate (default: as many as the held-out
real documents) at lambda = 1, i.e. from the fitted model at its configured temperature,
top-k, top-p and beams, and describes them in the model's tokens (the tokenizer is fixed for
the whole run, so values are comparable across generations):

- ``generated_perplexity``: mean over documents of exp(NLL per token) under the reference
  model (the given checkpoint, or generation 1's network from scratch); Shumailov et al.'s
  histogram is summarised by ``generated_perplexity_q10`` / ``_q50`` / ``_q90``. Fine-tuning
  a strong checkpoint, collapse shows as falling values (the text becomes "probable" to the
  reference, its tails vanish); small models trained from scratch instead accumulate errors
  and the values rise (T7);
- ``generated_distinct_2`` / ``_3``: distinct n-grams / n-grams (:func:`distinct_n`);
- ``novelty_3``: share of generated token 3-grams absent from the real training text
  (:func:`ngram_novelty`);
- ``length_mean`` / ``length_std``: tokens per generated document (BOS and EOS excluded);
- ``rare_token_share``: share of the real training text's rare token types (outside the head
  holding 90 % of its tokens) that the generated text still produces (:func:`rare_type_share`);
- ``generated_syntactic_diversity``: mean pairwise Jaccard distance of the documents' token-class
  3-gram sets (:func:`~autophagy.metrics.text_diversity.syntactic_diversity`);
- ``generated_semantic_diversity`` / ``generated_semantic_vendi``: mean pairwise cosine distance
  and Vendi score of the documents' embeddings, the mean of the reference network's last hidden
  states over each document's tokens (:meth:`FittedHF.embed`; see
  :mod:`autophagy.metrics.text_diversity`). The reference is fixed for the run, so the
  embedding space does not drift with the generations it describes.

Held-out perplexity (``perplexity``) is :func:`autophagy.metrics.text.perplexity`.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.rng import Rngs
from autophagy.metrics.text import distinct_n, ngram_novelty, rare_type_share
from autophagy.metrics.text_diversity import mean_cosine_distance, syntactic_diversity
from autophagy.metrics.vendi import vendi_score

PAD = -1
KEYS = (
    "generated_perplexity",
    "generated_perplexity_q10",
    "generated_perplexity_q50",
    "generated_perplexity_q90",
    "generated_distinct_2",
    "generated_distinct_3",
    "novelty_3",
    "length_mean",
    "length_std",
    "rare_token_share",
    "generated_syntactic_diversity",
    "generated_semantic_diversity",
    "generated_semantic_vendi",
)


def padded(sequences: list[list[int]]) -> np.ndarray:
    """Token lists as one array ``(m, max length)`` padded with -1 (at least 1 column)."""
    width = max([len(s) for s in sequences] + [1])
    out = np.full((len(sequences), width), PAD, dtype=np.int64)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out


def _real_tokens(settings) -> np.ndarray:
    """The real training text in the model's tokens, padded (cached on the settings)."""
    cache = settings._cache
    if "real_tokens" not in cache:
        texts = settings.codec.decode(settings.train_rows)
        cache["real_tokens"] = padded(settings.tokenizer(texts, add_special_tokens=False)["input_ids"])
    return cache["real_tokens"]


def generation_stats(model: object, data: object, *, rng: Rngs) -> dict[str, np.ndarray]:
    """Every statistic of the module docstring, ``{key: (R,)}``."""
    settings = getattr(model, "settings", None)
    if settings is None or not hasattr(model, "generate"):
        raise ValueError("generation statistics need an hf_causal_lm model")
    n = settings.options.score_samples or len(settings.held_out_rows)
    texts = model.generate(n, rng=rng, sampling_bias=1.0)
    scores = model.nll(texts, which="reference")
    real = _real_tokens(settings)
    embeddings = model.embed(texts, which="reference")
    out: dict[str, list[float]] = {key: [] for key in KEYS}
    for replicate_texts, nll, vectors in zip(texts, scores, embeddings, strict=True):
        tokens = padded(settings.tokenizer(replicate_texts, add_special_tokens=False)["input_ids"])
        ppl = np.exp(nll[:, 0] / np.maximum(nll[:, 1], 1))
        lengths = (tokens != PAD).sum(axis=1)
        values = {
            "generated_perplexity": ppl.mean(),
            "generated_perplexity_q10": np.quantile(ppl, 0.1),
            "generated_perplexity_q50": np.quantile(ppl, 0.5),
            "generated_perplexity_q90": np.quantile(ppl, 0.9),
            "generated_distinct_2": distinct_n(tokens, min(2, tokens.shape[1]), pad=PAD),
            "generated_distinct_3": distinct_n(tokens, min(3, tokens.shape[1]), pad=PAD),
            "novelty_3": ngram_novelty(tokens, real, min(3, tokens.shape[1], real.shape[1]), pad=PAD),
            "length_mean": lengths.mean(),
            "length_std": lengths.std(ddof=1) if len(lengths) > 1 else 0.0,
            "rare_token_share": rare_type_share(tokens, real, pad=PAD),
            "generated_syntactic_diversity": syntactic_diversity(replicate_texts),
            "generated_semantic_diversity": mean_cosine_distance(vectors),
            "generated_semantic_vendi": vendi_score(vectors),
        }
        for key, value in values.items():
            out[key].append(float(value))
    return {key: np.array(v) for key, v in out.items()}
