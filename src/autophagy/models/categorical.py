"""Categorical (unigram) model and the memorising "Hutter" model of Zipf items with answers.

Both fit by counting, so their fits are exact and fine-tuning (``init``) is ignored. They
sample through :func:`~autophagy.models.discrete.biased_choice`: the sampling bias lambda is
the temperature (tail narrowing, 0 = the most frequent outcome only) and the ``top_k`` /
``top_p`` settings cut the tail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from autophagy.core.rng import Rngs
from autophagy.models.discrete import biased_choice, integer_tokens


def _check_rngs(rng: Rngs, replicates: int) -> None:
    if len(rng) != replicates:
        raise ValueError(f"need one rng per replicate: got {len(rng)} for {replicates}")


def _counts(ids: np.ndarray, size: int) -> np.ndarray:
    """Per-replicate counts ``(R, size)`` of integer ``ids`` ``(R, n)``."""
    return np.stack([np.bincount(row, minlength=size) for row in ids]).reshape(len(ids), size)


@dataclass(frozen=True)
class FittedCategorical:
    """Empirical category frequencies per replicate: ``counts`` ``(R, K)``."""

    counts: np.ndarray
    top_k: int | None = None
    top_p: float | None = None

    def probabilities(self) -> np.ndarray:
        """The fitted distribution (unbiased), shape ``(R, K)``."""
        return self.counts / self.counts.sum(axis=1, keepdims=True)

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` category ids per replicate, ``(R, n, 1)``, at temperature ``sampling_bias``."""
        _check_rngs(rng, len(self.counts))
        draws = [
            biased_choice(c, g.random(n), sampling_bias, self.top_k, self.top_p)
            for c, g in zip(self.counts, rng, strict=True)
        ]
        return np.asarray(draws, dtype=np.float64).reshape(len(self.counts), n, 1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}


@dataclass(frozen=True)
class CategoricalModel:
    """Settings of the categorical model: ``n_categories`` K (bound from the data source by
    :meth:`for_data`; inferred as max id + 1 when unbound) and the tail cut."""

    n_categories: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_samples: int = 1

    def for_data(self, data: object) -> CategoricalModel:
        """These settings with K taken from a categorical data source."""
        return dataclasses.replace(self, n_categories=_bound(self.n_categories, data, "n_categories"))

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedCategorical | None = None) -> FittedCategorical:
        """Category frequencies of ``data`` ``(R, n, 1)``."""
        if data.ndim != 3 or data.shape[2] != 1 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, 1), got {data.shape}")
        ids = integer_tokens(data[:, :, 0], self.n_categories, "data")
        size = self.n_categories or int(ids.max()) + 1
        return FittedCategorical(_counts(ids, size), self.top_k, self.top_p)

    def load(self, state: dict[str, np.ndarray]) -> FittedCategorical:
        return FittedCategorical(np.asarray(state["counts"]), self.top_k, self.top_p)


def _bound(current: int | None, data: object, attribute: str) -> int:
    """A size setting taken from ``data.<attribute>``, or checked against it when already set."""
    size = getattr(data, attribute, None)
    if size is None:
        raise ValueError(f"data source {type(data).__name__} does not define {attribute}")
    if current is not None and current < size:
        raise ValueError(f"model {attribute} = {current} is smaller than the data's {size}")
    return current or size


@dataclass(frozen=True)
class FittedMemorizer:
    """What a memorising model saw: ``item_counts`` ``(R, N)`` and ``answer_counts`` ``(R, N, m)``.

    It answers item i with the answer it saw most often (none if it never saw i); as a
    generator it replays its memory, items in proportion to how often it saw them and each
    with an answer drawn from the answers it saw for that item.
    """

    item_counts: np.ndarray
    answer_counts: np.ndarray
    top_k: int | None = None
    top_p: float | None = None

    def probabilities(self) -> np.ndarray:
        """The learned item distribution, ``(R, N)``."""
        return self.item_counts / self.item_counts.sum(axis=1, keepdims=True)

    def predictions(self) -> np.ndarray:
        """Answer to every item, ``(R, N)``; -1 for items never seen."""
        return np.where(self.item_counts > 0, self.answer_counts.argmax(axis=2), -1)

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` (item, answer) pairs per replicate, ``(R, n, 2)``; lambda is the temperature of
        both the item and the answer distribution, the tail cut applies to items."""
        _check_rngs(rng, len(self.item_counts))
        out = np.empty((len(self.item_counts), n, 2))
        for r, g in enumerate(rng):
            u = g.random((n, 2))
            items = biased_choice(self.item_counts[r], u[:, 0], sampling_bias, self.top_k, self.top_p)
            out[r, :, 0] = items
            out[r, :, 1] = biased_choice(self.answer_counts[r, items], u[:, 1], sampling_bias)
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"item_counts": self.item_counts, "answer_counts": self.answer_counts}


@dataclass(frozen=True)
class MemorizerModel:
    """Settings of the memorising ("Hutter") model of Zipf items with answers.

    ``n_items`` N and ``n_answers`` m are bound from the data source by :meth:`for_data`
    (inferred as max id + 1 when unbound).
    """

    n_items: int | None = None
    n_answers: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_samples: int = 1

    def for_data(self, data: object) -> MemorizerModel:
        return dataclasses.replace(
            self,
            n_items=_bound(self.n_items, data, "n_items"),
            n_answers=_bound(self.n_answers, data, "n_answers"),
        )

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedMemorizer | None = None) -> FittedMemorizer:
        """Memorise the (item, answer) pairs of ``data`` ``(R, n, 2)``."""
        if data.ndim != 3 or data.shape[2] != 2 or data.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= 1, 2) of (item, answer) pairs, got {data.shape}")
        items = integer_tokens(data[:, :, 0], self.n_items, "items")
        answers = integer_tokens(data[:, :, 1], self.n_answers, "answers")
        n_items = self.n_items or int(items.max()) + 1
        n_answers = self.n_answers or int(answers.max()) + 1
        pairs = _counts(items * n_answers + answers, n_items * n_answers).astype(np.int32)
        answer_counts = pairs.reshape(len(data), n_items, n_answers)
        return FittedMemorizer(answer_counts.sum(axis=2), answer_counts, self.top_k, self.top_p)

    def load(self, state: dict[str, np.ndarray]) -> FittedMemorizer:
        return FittedMemorizer(
            np.asarray(state["item_counts"]), np.asarray(state["answer_counts"]), self.top_k, self.top_p
        )
