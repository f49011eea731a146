"""The typed protocols through which plug-ins meet the loop engine.

Arrays are batched over replicates on the leading axis: training data has shape
``(R, n, d)`` and ``rng`` is a sequence of ``R`` generators, generator ``i`` serving
replicate ``i`` only. A model that cannot batch loops over the leading axis itself.

:class:`ModelSettings`, :class:`FittedModel` and :class:`DataSource` are required. Every other
protocol here is an optional hook: the code that calls it tests for it with ``isinstance``
(or ``getattr``, naming the protocol in a comment) and goes without it when it is absent.
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

        ``sampling_bias`` is the paper's lambda, from 0 up to the family's registered
        ``max_bias`` (:func:`autophagy.core.registry.register_model`; 1 by default,
        ``MAX_TEMPERATURE`` = 10 for the families whose lambda is a temperature: categorical,
        ngram, transformer, hf_causal_lm): 1 samples the fitted distribution, smaller values
        concentrate samples toward its modes, larger ones (temperatures) flatten it.
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
    """Optional: a fitted model that *is* N(mean, cov) per replicate (``moments()`` exact): the
    loop engine's ``evaluate`` then computes metrics with a Gaussian closed form (e.g.
    ``wasserstein2``) from the moments instead of samples."""

    is_gaussian: bool

    def moments(self) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class LabelledImages(Protocol):
    """A real image set (a :class:`DataSource`) whose rows are ``C * H * W`` pixels in [0, 1]
    (flattened channel-first, row-major) followed by the class label; image metrics use its
    cached classifier. ``shape`` is ``(H, W)`` for one channel, ``(C, H, W)`` for more
    (:func:`image_dims` reads either)."""

    shape: tuple[int, ...]
    classes: int

    def classifier(self) -> Any:
        """A trained classifier with ``features(pixels (n, C*H*W)) -> (n, f)`` and ``predict -> (n,)``."""
        ...


# -- optional hooks of model settings ------------------------------------------------------------


@runtime_checkable
class BindsData(Protocol):
    """Settings that take sizes (vocabulary, items, design) from the data: ``running.config``
    (and ``check_model``) call ``for_data`` once, right after ``build``, before any other check."""

    def for_data(self, data: DataSource) -> ModelSettings: ...


@runtime_checkable
class ChecksData(Protocol):
    """Settings that accept only some data: ``running.config`` calls ``check_data`` when it
    resolves a config, and turns its ``ValueError`` into a ``model.kind`` config error."""

    def check_data(self, data: DataSource) -> None: ...


@runtime_checkable
class EstimatesMemory(Protocol):
    """Settings or a data source that know their peak bytes: ``running.budget.task_memory``
    calls ``memory_bytes(block, union, d)`` when it sizes a task (else a generic estimate)."""

    def memory_bytes(self, block: int, union: int, d: int) -> int: ...


# -- optional hooks of fitted models ------------------------------------------------------------


@runtime_checkable
class Inherits(Protocol):
    """A fitted model that carries state across generations (hf_causal_lm's reference network):
    the loop engine calls ``inherit(previous)`` on every fit after the first, with the newest
    earlier model, and keeps what it returns."""

    def inherit(self, previous: Any) -> FittedModel: ...


@runtime_checkable
class HasMixture(Protocol):
    """A fitted model or data source whose density is a Gaussian mixture: ``density_l2`` calls
    ``mixture()`` for the exact L2 distance (weights, means, covariances; batched for models)."""

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@runtime_checkable
class HasProbabilities(Protocol):
    """A fitted discrete model: the metrics ``gini_simpson``, ``surviving`` and ``true_tv`` call
    ``probabilities()`` for its fitted distribution ``(R, K)``."""

    def probabilities(self) -> np.ndarray: ...


@runtime_checkable
class ScoresText(Protocol):
    """A fitted language model: ``cross_entropy`` calls ``log_likelihood(text (R, m, L))`` for
    the log-probability of each held-out sequence ``(R, m)``."""

    def log_likelihood(self, text: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class ScoresTokens(Protocol):
    """A fitted language model with its own tokenizer (hf_causal_lm): ``cross_entropy`` calls
    ``token_cross_entropy(rows (R, m, L))`` for nats per token of that tokenizer ``(R,)``."""

    def token_cross_entropy(self, rows: np.ndarray) -> np.ndarray: ...


# -- optional hooks of data sources -------------------------------------------------------------


@runtime_checkable
class HeldOutReference(Protocol):
    """A fixed data set that keeps rows out of training: the simulators' metric reference and
    ``heldout_nll`` draw with ``draw_reference`` instead of ``draw`` (at most the held-out rows),
    and ``running.config`` then skips the ``metrics.n_eval`` capacity check."""

    def draw_reference(self, n: int, *, rng: np.random.Generator) -> np.ndarray: ...


@runtime_checkable
class KnownModes(Protocol):
    """A data source with known modes ``(K, d)`` and their common ``mode_std``: the ``"modes"``
    metrics read them, and ``running.config`` refuses those metrics on other data."""

    modes: np.ndarray
    mode_std: float


@runtime_checkable
class KnownDensity(Protocol):
    """A data source whose log-density is known: ``density_l2`` integrates against
    ``log_prob(points (n, d)) -> (n,)`` on a grid (and its config check requires it)."""

    def log_prob(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class HeldOutText(Protocol):
    """A text source: ``cross_entropy`` / ``perplexity`` call ``held_out(rng)`` for held-out
    real sequences ``(m, L)``, fresh ones of a built-in language or a file's held-out end."""

    def held_out(self, rng: np.random.Generator) -> np.ndarray: ...


# -- training telemetry and experiment trackers ------------------------------------------------


@runtime_checkable
class TrainingTelemetry(Protocol):
    """The callback the engine passes to ``fit(data, *, rng, init, telemetry=...)`` when the
    settings' ``fit`` has a ``telemetry`` parameter (optional: a ``fit`` without one never gets it).

    A model calls it every logging interval of each replicate's training (the built-ins: about
    50 times per fit, with :class:`autophagy.core.telemetry.LossReport`): ``replicate`` is the
    index in the batch (0 to R - 1), ``step`` the optimiser steps done so far (1-based),
    ``loss`` the mean training loss since the last call, ``total`` the steps the fit plans (for
    progress and ETA; None if unknown) and ``seconds`` the wall time since this replicate's
    training began (None: the engine takes the time since the fit began). The values land in
    the run store's ``training`` table, :meth:`Run.training`, the exports, the trackers and the
    report; the engine also feeds the progress line from it. The call is cheap, never raises on
    a well-formed value, and must not change the fit's random streams.
    """

    def __call__(
        self,
        replicate: int,
        step: int,
        loss: float,
        *,
        total: int | None = None,
        seconds: float | None = None,
    ) -> None: ...


@runtime_checkable
class Tracker(Protocol):
    """An experiment tracker (``autophagy.loggers``; MLflow, TensorBoard, W&B built in).

    The runner calls it in the parent process only, after it committed a task, never in a
    worker. ``start`` opens (or reopens) the tracker's runs; ``state`` is what the previous
    ``start`` on this folder returned (empty the first time: the run store keeps it, so a
    resume logs into the same runs). ``log`` is called once per (cell, generation) when every
    replicate of that generation is committed, with the metric means and t-interval bounds and
    the training summary; ``timestamp_ms`` is fixed by the store before the call, so a call
    repeated after a kill carries the same stamp. ``artifacts`` gets the plots and the report
    at the end (``cell`` None: the whole run or sweep); ``close`` ends every open run.
    """

    def start(self, run: Any, state: dict[str, Any]) -> dict[str, Any]: ...

    def log(self, cell: int, generation: int, values: dict[str, float], timestamp_ms: int) -> None: ...

    def artifacts(self, paths: list[Any], cell: int | None = None) -> None: ...

    def close(self, complete: bool) -> None: ...


# -- optional hook of metric functions ----------------------------------------------------------


@runtime_checkable
class ChecksConfig(Protocol):
    """A metric function with a config-time check: ``running.config`` calls
    ``fn.check_config(model_kind, data)`` and turns its ``ValueError`` into a config error."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    def check_config(self, model_kind: str, data: DataSource) -> None: ...


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


def image_dims(shape: tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    """``(C, H, W)`` of an image shape given as ``(H, W)`` (one channel) or ``(C, H, W)``."""
    dims = tuple(int(s) for s in shape)
    if len(dims) == 2:
        return (1, *dims)
    if len(dims) != 3:
        raise ValueError(f"an image shape is (H, W) or (C, H, W), got {dims}")
    return dims  # type: ignore[return-value]
