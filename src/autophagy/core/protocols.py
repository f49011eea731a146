"""The typed protocols through which plug-ins meet the loop engine.

Arrays are batched over replicates on the leading axis: training data has shape
``(R, n, d)`` and ``rng`` is a sequence of ``R`` generators, generator ``i`` serving
replicate ``i`` only. A model that cannot batch loops over the leading axis itself.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from autophagy.core.rng import Rngs


@runtime_checkable
class FittedModel(Protocol):
    """A trained generative model for ``R`` replicates."""

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """Draw ``n`` samples per replicate, shape ``(R, n, d)``.

        ``sampling_bias`` is the paper's lambda in [0, 1]: 1 samples the fitted
        distribution, smaller values concentrate samples toward its modes.
        """
        ...

    def state_dict(self) -> dict[str, np.ndarray]:
        """Arrays from which :meth:`ModelSettings.load` rebuilds this model (checkpoints)."""
        ...


@runtime_checkable
class HasMoments(Protocol):
    """A fitted model whose mean and covariance are known in closed form."""

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(R, d)`` and covariance ``(R, d, d)`` of the fitted distribution."""
        ...


@runtime_checkable
class HasLogProb(Protocol):
    """A fitted model that scores samples by its own log-density (used by likelihood curation)."""

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density of ``x`` ``(R, n, d)`` under replicate r's fitted distribution, shape ``(R, n)``."""
        ...


class ModelSettings(Protocol):
    """Frozen hyper-parameters of a model family; fitting returns a new fitted model."""

    min_samples: int
    """Smallest training-set size per replicate the fit accepts."""

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedModel | None = None) -> FittedModel:
        """Fit on ``data`` of shape ``(R, n, d)``; ``init`` fine-tunes from an earlier model."""
        ...

    def load(self, state: dict[str, np.ndarray]) -> FittedModel:
        """Rebuild a fitted model from :meth:`FittedModel.state_dict`."""
        ...


class DataSource(Protocol):
    """Real data: a distribution to draw fresh samples from, or a fixed set."""

    dim: int
    capacity: int | None
    """Largest single draw (rows of a fixed set), or None when draws are unlimited."""

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        """``n`` real samples, shape ``(n, d)``; successive draws are independent."""
        ...

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(d,)`` and covariance ``(d, d)`` of the real distribution P_r."""
        ...


@runtime_checkable
class ExactGaussian(Protocol):
    """Optional: a fitted model that *is* N(mean, cov) per replicate (``moments()`` exact), so
    metrics with a Gaussian closed form (e.g. ``wasserstein2``) use it instead of samples."""

    is_gaussian: bool

    def moments(self) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class LabelledImages(Protocol):
    """A real image set (a :class:`DataSource`) whose rows are ``H * W`` pixels in [0, 1]
    followed by the class label; image metrics use its cached classifier."""

    shape: tuple[int, int]
    classes: int

    def classifier(self) -> Any:
        """A trained classifier with ``features(pixels (n, H*W)) -> (n, f)`` and ``predict -> (n,)``."""
        ...


def split_rows(rows: np.ndarray, classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(..., H * W)`` and integer labels ``(...)`` of image rows ``(..., H * W + 1)``.

    Raises ``ValueError`` when a label is not an integer in ``[0, classes)``.
    """
    rows = np.asarray(rows)
    labels = np.rint(rows[..., -1])
    if rows.shape[-1] < 2 or not np.allclose(labels, rows[..., -1], atol=1e-6):
        raise ValueError("image rows must end with an integer class label column")
    if labels.size and (labels.min() < 0 or (classes is not None and labels.max() >= classes)):
        raise ValueError(f"class labels must lie in [0, {classes}), got {labels.min():g}..{labels.max():g}")
    return rows[..., :-1], labels.astype(np.int64)
