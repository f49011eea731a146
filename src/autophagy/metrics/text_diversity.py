"""Text diversity beyond the lexical: the structure and the meaning of a set of generated texts.

Distinct-n and the type-token ratio (:mod:`autophagy.metrics.text`) count which *words* a model
still produces. Guo et al. ("The curious decline of linguistic diversity") show that recursive
training also narrows *how* sentences are built and *what* they say. Two offline measures:

- **Syntactic** (:func:`syntactic_diversity`): each text becomes the sequence of its tokens'
  classes (:func:`token_classes`: lower-case word ``w``, capitalised ``C``, all-caps ``U``,
  identifier with ``_`` ``i``, number ``9``, any other character as itself), i.e. the shape of
  the sentence with the words taken out, a part-of-speech-like abstraction that needs no tagger
  model (none ships offline with a package). The diversity is the mean pairwise Jaccard
  distance between the texts' sets of class n-grams (n = 3):

      D_syn = 2 / (m (m - 1)) sum_{i < j} (1 - |S_i & S_j| / |S_i | S_j|),

  0 when every text has the same shapes (identical texts: the minimum), 1 when no two texts
  share a class n-gram. Two texts with no class n-gram (shorter than n) count as identical.
  Chosen over a compression ratio (zlib) because its minimum is exact (0) and its value on a
  small set is computable by hand; chosen over parse-tree kernels because no parser ships
  its model offline.
- **Semantic** (:func:`mean_cosine_distance`, and :func:`autophagy.metrics.vendi.vendi_score`
  on the same vectors): each text is embedded as the mean of a language model's last hidden
  states over its tokens (the run's reference network, see :mod:`autophagy.metrics.language`),
  and the diversity is the mean pairwise cosine distance

      D_sem = 2 / (m (m - 1)) sum_{i < j} (1 - cos(e_i, e_j)),

  0 for identical texts (the minimum), in [0, 2]. Higher is more diverse for both.
"""

from __future__ import annotations

import re

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


def token_classes(text: str) -> list[str]:
    """The class of every token of ``text`` (words, numbers and single other characters):
    ``9`` all digits, ``i`` a word holding ``_``, ``U`` all-caps of 2+ letters, ``C`` capitalised,
    ``w`` any other word, and punctuation as itself (``.``, ``(``, ``=`` ...)."""
    out = []
    for tok in _TOKEN.findall(text):
        if tok.isdigit():
            out.append("9")
        elif not (tok[0].isalnum() or tok[0] == "_"):
            out.append(tok)
        elif "_" in tok:
            out.append("i")
        elif len(tok) > 1 and tok.isupper():
            out.append("U")
        elif tok[0].isupper():
            out.append("C")
        else:
            out.append("w")
    return out


def class_ngrams(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """The set of class n-grams of ``text`` (empty when it has fewer than ``n`` tokens)."""
    c = token_classes(text)
    return frozenset(tuple(c[i : i + n]) for i in range(len(c) - n + 1))


def syntactic_diversity(texts: list[str], n: int = 3) -> float:
    """Mean pairwise Jaccard distance of the texts' class n-gram sets (module docstring), in
    [0, 1]; needs at least 2 texts."""
    if len(texts) < 2:
        raise ValueError(f"syntactic diversity needs at least 2 texts, got {len(texts)}")
    sets = [class_ngrams(t, n) for t in texts]
    total, pairs = 0.0, 0
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            union = len(sets[i] | sets[j])
            total += 0.0 if union == 0 else 1.0 - len(sets[i] & sets[j]) / union
            pairs += 1
    return total / pairs


def mean_cosine_distance(vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance 1 - cos(e_i, e_j) over the rows of ``vectors`` ``(m, d)``,
    i < j, in [0, 2]. Needs m >= 2 and nonzero rows (``ValueError`` otherwise)."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need vectors (m >= 2, d), got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(x)):
        raise ValueError("cosine distance needs finite nonzero rows")
    u = x / norms
    m = len(u)
    s = u.sum(axis=0)
    off_diagonal = float(s @ s) - float(np.sum(u * u))  # sum over i != j of cos(e_i, e_j)
    return 1.0 - off_diagonal / (m * (m - 1))
