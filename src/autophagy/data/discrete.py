"""Discrete real data: a categorical distribution, and Zipf-distributed items with answers.

Outcomes travel through the engine as float arrays of integer ids: a categorical draw is
``(n, 1)``, a Zipf (item, answer) pair ``(n, 2)``. Both sources know their true
probabilities, so metrics can compare a fitted model with the truth exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, PositiveInt, model_validator

from autophagy.core.registry import Options


def zipf_probabilities(beta: float, n_items: int) -> np.ndarray:
    """p(i) proportional to i^-beta for ranks i = 1..n_items, shape ``(n_items,)``."""
    weights = np.arange(1, n_items + 1, dtype=np.float64) ** -float(beta)
    return weights / weights.sum()


def _index_moments(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(probs.size)
    mean = float(probs @ ids)
    return np.array([mean]), np.array([[float(probs @ (ids - mean) ** 2)]])


class CategoricalDataOptions(Options):
    """Either ``probs`` (weights of the categories, normalised) or ``n_categories`` with a Zipf
    ``exponent`` (0 = uniform)."""

    probs: list[float] | None = None
    n_categories: PositiveInt = 20
    exponent: float = Field(1.0, ge=0.0)

    @model_validator(mode="after")
    def _valid_probs(self) -> CategoricalDataOptions:
        if self.probs is not None:
            p = np.asarray(self.probs, dtype=np.float64)
            if p.size < 2 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
                raise ValueError("probs must be at least 2 finite nonnegative weights with a positive sum")
        return self

    def probabilities(self) -> np.ndarray:
        if self.probs is not None:
            p = np.asarray(self.probs, dtype=np.float64)
            return p / p.sum()
        return zipf_probabilities(self.exponent, self.n_categories)


@dataclass(frozen=True)
class CategoricalData:
    """Category ids 0..K-1 drawn with ``probabilities`` ``(K,)``; draws are ``(n, 1)``."""

    probabilities: np.ndarray
    dim: int = 1
    capacity: int | None = None

    @property
    def n_categories(self) -> int:
        return self.probabilities.size

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.n_categories, size=(n, 1), p=self.probabilities).astype(np.float64)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the category id (for completeness; ids are labels, not values)."""
        return _index_moments(self.probabilities)

    @classmethod
    def from_options(cls, options: CategoricalDataOptions) -> CategoricalData:
        return cls(options.probabilities())


class ZipfDataOptions(Options):
    """Items 1..n_items with p(i) ~ i^-beta (beta > 1), each with a fixed answer among
    ``n_answers``; ``answer_noise`` > 0 is the probabilistic-answer variant (with that
    probability the answer is uniform over all answers). ``answer_seed`` fixes the answer table.

    ``top_k`` / ``temperature`` make the source emit what a perfect generator with tail cutting
    / narrowing would (Tale of Tails' T2, T4): items from q ~ p^(1/temperature) cut to the k
    most probable, mixed with a ``clean_fraction`` pi of draws from p itself (each draw is clean
    with probability pi). Metrics still compare with the true law p (``test_error``, ``true_tv``).
    """

    beta: float = Field(2.0, gt=1.0)
    n_items: int = Field(10_000, ge=2)
    n_answers: int = Field(10, ge=2)
    answer_noise: float = Field(0.0, ge=0.0, lt=1.0)
    answer_seed: int = Field(0, ge=0)
    top_k: PositiveInt | None = None
    temperature: float = Field(1.0, gt=0.0, le=1.0)
    clean_fraction: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cut_fits(self) -> ZipfDataOptions:
        if self.top_k is not None and self.top_k > self.n_items:
            raise ValueError(f"top_k = {self.top_k} exceeds n_items = {self.n_items}")
        return self

    def emitted(self, p: np.ndarray) -> np.ndarray | None:
        """The law draws follow, pi p + (1 - pi) q, or None when it is p itself."""
        if self.top_k is None and self.temperature == 1.0:
            return None
        q = p ** (1.0 / self.temperature)  # p is decreasing, so the top k are the first k
        if self.top_k is not None:
            q[self.top_k :] = 0.0
        q /= q.sum()
        return self.clean_fraction * p + (1.0 - self.clean_fraction) * q


@dataclass(frozen=True)
class ZipfData:
    """(item, answer) pairs, ``(n, 2)``: item ids 0..N-1 (rank - 1), answers 0..m-1.

    The answer table is part of the distribution (fixed by ``answer_seed``, not by the run's
    streams); with noise eps the answer to item i is ``answers[i]`` with probability
    1 - eps + eps/m, any other answer with probability eps/m.
    """

    probabilities: np.ndarray
    answers: np.ndarray
    n_answers: int
    answer_noise: float = 0.0
    emitted: np.ndarray | None = None  # the law draws follow when not the truth (tail-cut source)
    dim: int = 2
    capacity: int | None = None

    @property
    def n_items(self) -> int:
        return self.probabilities.size

    @property
    def sampling_probabilities(self) -> np.ndarray:
        """Item law of the draws: the truth, or the cut / narrowed / mixed law of a generator."""
        return self.probabilities if self.emitted is None else self.emitted

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        items = rng.choice(self.n_items, size=n, p=self.sampling_probabilities)
        answers = self.answers[items]
        if self.answer_noise > 0:
            noisy = rng.random(n) < self.answer_noise
            answers = np.where(noisy, rng.integers(self.n_answers, size=n), answers)
        return np.stack([items, answers], axis=1).astype(np.float64)

    def answer_probabilities(self) -> np.ndarray:
        """P(answer | item), shape ``(N, m)``."""
        table = np.full((self.n_items, self.n_answers), self.answer_noise / self.n_answers)
        table[np.arange(self.n_items), self.answers] += 1.0 - self.answer_noise
        return table

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of the drawn (item, answer) ids (for completeness; they are labels)."""
        items = np.arange(self.n_items)
        joint = self.sampling_probabilities[:, None] * self.answer_probabilities()
        values = np.stack(
            [np.repeat(items, self.n_answers), np.tile(np.arange(self.n_answers), self.n_items)], axis=1
        ).astype(np.float64)
        weights = joint.ravel()
        mean = weights @ values
        centred = values - mean
        return mean, (centred * weights[:, None]).T @ centred

    @classmethod
    def from_options(cls, options: ZipfDataOptions) -> ZipfData:
        answers = np.random.default_rng(options.answer_seed).integers(options.n_answers, size=options.n_items)
        p = zipf_probabilities(options.beta, options.n_items)
        return cls(p, answers, options.n_answers, options.answer_noise, options.emitted(p))
