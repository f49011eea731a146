"""Any estimator with ``fit(X)`` and ``sample(n)`` as a model family in one line: :func:`from_sklearn`.

``ap.from_sklearn("sk_gmm", GaussianMixture)`` registers ``model.kind = "sk_gmm"``; its
``[model]`` keys are the factory's keyword arguments (``n_components = 3``), typed from their
defaults, and unknown keys are errors as for every model. What the adapter does for you:

- **The replicate axis**: training data arrive as ``(R, n, d)``; one estimator per replicate
  is built by ``factory(**options)`` and fitted on its ``(n, d)`` rows; samples are stacked
  back to ``(R, n, d)``.
- **Random states from the loop's streams**: replicate ``r``'s estimator gets
  ``random_state`` = an integer drawn from ``rng[r]`` (the loop's ``fit`` stream of that
  replicate and generation, :mod:`autophagy.core.rng`) before ``fit``, and a fresh one from
  the ``synthetic`` stream before each ``sample`` (passed as ``sample(n, random_state=...)``
  when the method takes one, as ``KernelDensity`` does, else set with ``set_params``, as
  ``GaussianMixture`` reads it). So replicates never depend on the batch, worker or resume.
- **lambda** (``sampling_bias``): by default every draw is pulled toward the replicate's
  training mean ``m``: ``x -> m + sqrt(lambda) (x - m)``, so lambda = 1 samples the estimator
  unchanged, the spread (covariance) scales by lambda exactly, and lambda = 0 gives the one
  point ``m``, as the built-in ``gaussian`` scales its covariance. A family with a better
  notion of "toward the modes" (tempered mixture weights, a narrower kernel) passes ``bias``
  or is written by hand (``examples/plugins/sklearn_gmm``).
- **Checkpoints**: ``state_dict()`` holds the training rows ``(R, n, d)`` and the fit seeds
  ``(R,)``, arrays only; ``load`` refits from them, which gives the same estimator for any
  estimator that is deterministic given its ``random_state`` (the contract checks this).
- ``log_prob(x)`` is ``score_samples`` when the estimator has it (declared automatically).

Not covered: fine-tuning (``init`` is ignored: each generation refits from scratch) and
closed-form ``moments()`` (moment metrics need a hand-written wrapper; ``wasserstein2`` is then
the sample estimate).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import create_model

from autophagy.core.contract import ModelCase
from autophagy.core.registry import Options, register_model

Bias = Callable[[np.ndarray, float, Any], np.ndarray]
"""``bias(x (n, d), sampling_bias, estimator) -> (n, d)``: one replicate's lambda = 1 draws made
"toward the modes" at ``sampling_bias`` (must return ``x`` unchanged at 1)."""

SEED_RANGE = 2**31 - 1  # random_state integers scikit-learn accepts


def _typed(default: Any) -> Any:
    """The option type of a keyword default: int, float, bool, str kept; anything else Any."""
    for kind in (bool, int, float, str):
        if type(default) is kind:
            return kind
    return Any


def options_model(name: str, factory: Callable[..., Any], options: Any = None) -> type[Options]:
    """The ``[model]`` options of an adapted estimator: ``options`` itself when it is an
    :class:`Options` subclass; else one field per key of the mapping ``options`` (its value the
    default), or, without one, per keyword argument of ``factory`` with a default (``random_state``
    left out: the loop sets it)."""
    if isinstance(options, type) and issubclass(options, Options):
        return options
    if options is None:
        try:
            parameters = inspect.signature(factory).parameters.values()
        except (TypeError, ValueError):
            parameters = []
        options = {
            p.name: p.default
            for p in parameters
            if p.default is not inspect.Parameter.empty
            and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name != "random_state"
        }
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be an Options subclass or a mapping of defaults, got {options!r}")
    fields = {key: (_typed(value), value) for key, value in options.items()}
    title = "".join(part.capitalize() for part in name.replace("-", "_").split("_")) + "Options"
    return create_model(title, __base__=Options, **fields)


def _settable_random_state(estimator: Any) -> bool:
    getter = getattr(estimator, "get_params", None)
    return callable(getter) and "random_state" in getter(deep=False)


def _draw(estimator: Any, n: int, seed: int) -> np.ndarray:
    """``n`` draws ``(n, d)`` from one fitted estimator with its random state ``seed``."""
    sample = estimator.sample
    try:
        takes_state = "random_state" in inspect.signature(sample).parameters
    except (TypeError, ValueError):
        takes_state = False
    if takes_state:
        out = sample(n, random_state=seed)
    else:
        if _settable_random_state(estimator):
            estimator.set_params(random_state=seed)
        out = sample(n)
    if isinstance(out, tuple):  # GaussianMixture.sample returns (X, labels)
        out = out[0]
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(n, -1) if out.ndim == 1 else out


def shrink_to_mean(x: np.ndarray, sampling_bias: float, centre: np.ndarray) -> np.ndarray:
    """``centre + sqrt(lambda) (x - centre)``: the default bias (covariance times lambda)."""
    return centre + np.sqrt(sampling_bias) * (x - centre)


@dataclass(frozen=True, eq=False)
class FittedEstimators:
    """``R`` fitted estimators, their training rows ``data`` ``(R, n, d)`` and fit ``seeds`` ``(R,)``."""

    estimators: tuple[Any, ...]
    data: np.ndarray
    seeds: np.ndarray
    bias: Bias | None = None

    def sample(self, n: int, *, rng: Any, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate ``(R, n, d)`` at lambda = ``sampling_bias`` (see the module doc)."""
        if len(rng) != len(self.estimators):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.estimators)}")
        if not 0.0 <= sampling_bias <= 1.0:
            raise ValueError(f"sampling_bias must be in [0, 1], got {sampling_bias}")
        d = self.data.shape[2]
        out = np.empty((len(self.estimators), n, d))
        for r, (estimator, g) in enumerate(zip(self.estimators, rng, strict=True)):
            seed = int(g.integers(SEED_RANGE))
            if n == 0:
                continue
            x = _draw(estimator, n, seed)
            if x.shape != (n, d):
                raise ValueError(
                    f"{type(estimator).__name__}.sample({n}) gave shape {x.shape}, expected {(n, d)}"
                )
            if sampling_bias != 1.0:
                if self.bias is not None:
                    x = np.asarray(self.bias(x, sampling_bias, estimator), dtype=np.float64)
                else:
                    x = shrink_to_mean(x, sampling_bias, self.data[r].mean(axis=0))
            out[r] = x
        return out

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """``score_samples`` of each replicate's estimator: ``(R, n)`` for ``x`` ``(R, n, d)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3 or len(x) != len(self.estimators):
            raise ValueError(f"x must have shape ({len(self.estimators)}, n, d), got {x.shape}")
        pairs = zip(self.estimators, x, strict=True)
        return np.stack([np.asarray(e.score_samples(rows), dtype=np.float64) for e, rows in pairs])

    def state_dict(self) -> dict[str, np.ndarray]:
        """The training rows and fit seeds: :meth:`AdaptedSettings.load` refits from them."""
        return {"data": self.data, "seeds": self.seeds}


@dataclass(frozen=True)
class AdaptedSettings:
    """Settings of an adapted estimator: ``factory(**options)`` per replicate."""

    factory: Callable[..., Any]
    options: Options
    min_samples: int = 2
    bias: Bias | None = None

    def _fit(self, x: np.ndarray, seeds: np.ndarray) -> FittedEstimators:
        estimators = []
        for rows, seed in zip(x, seeds, strict=True):
            estimator = self.factory(**self.options.model_dump())
            if _settable_random_state(estimator):
                estimator.set_params(random_state=int(seed))
            estimator.fit(rows)
            estimators.append(estimator)
        return FittedEstimators(tuple(estimators), x, seeds, self.bias)

    def fit(self, data: np.ndarray, *, rng: Any, init: Any = None) -> FittedEstimators:
        """One estimator per replicate of ``data`` ``(R, n, d)``, seeded from ``rng[r]``;
        ``init`` is ignored (every generation refits from scratch)."""
        x = np.array(data, dtype=np.float64)  # a copy: the checkpoint keeps it
        if x.ndim != 3 or x.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d), got {x.shape}")
        if len(rng) != len(x):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(x)}")
        seeds = np.array([int(g.integers(SEED_RANGE)) for g in rng], dtype=np.int64)
        return self._fit(x, seeds)

    def load(self, state: Mapping[str, np.ndarray]) -> FittedEstimators:
        """Refit from a :meth:`FittedEstimators.state_dict` (the same rows and seeds)."""
        return self._fit(
            np.asarray(state["data"], dtype=np.float64), np.asarray(state["seeds"], dtype=np.int64)
        )


@dataclass(frozen=True)
class _Builder:
    """``build(options)`` of an adapted family; ``__module__`` names the registering module, so
    the registry's provider (and a notebook's registration travelling to workers) is the user's."""

    factory: Callable[..., Any]
    min_samples: int | Callable[[Any], int] | None
    bias: Bias | None
    module: str

    def __call__(self, options: Options) -> AdaptedSettings:
        if callable(self.min_samples):
            least = int(self.min_samples(options))
        elif self.min_samples is not None:
            least = int(self.min_samples)
        else:  # a mixture needs at least one row per component
            least = max(2, int(getattr(options, "n_components", 0) or 0))
        try:
            self.factory(**options.model_dump())  # unknown or bad arguments: a config error now
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{getattr(self.factory, '__name__', 'factory')}: {exc}") from None
        return AdaptedSettings(self.factory, options, least, self.bias)

    def __post_init__(self) -> None:
        object.__setattr__(self, "__module__", self.module)  # read by the registry's provider


def from_sklearn(
    name: str,
    factory: Callable[..., Any],
    *,
    options: type[Options] | Mapping[str, Any] | None = None,
    summary: str = "",
    min_samples: int | Callable[[Any], int] | None = None,
    bias: Bias | None = None,
    has_log_prob: bool | None = None,
    contract: ModelCase | None = None,
    replace: bool = True,
) -> None:
    """Register ``model.kind = name`` for any estimator with ``fit(X)`` and ``sample(n)``.

    ``factory(**options)`` builds one unfitted estimator (a scikit-learn class such as
    ``GaussianMixture`` or ``KernelDensity``, or a function). ``options``: the ``[model]`` keys
    (an :class:`Options` subclass, or ``{key: default}``; default: ``factory``'s keyword
    arguments with defaults). ``min_samples``: the smallest training set per replicate (an int
    or ``fn(options)``; default ``max(2, n_components)``). ``bias``: how lambda acts (default:
    toward the training mean, see the module docstring). ``has_log_prob`` defaults to whether
    the estimator has ``score_samples``. Registers through :func:`autophagy.register_model`
    (``replace=True``: calling it again re-registers), so ``autophagy list`` and
    ``check_model(name)`` see it.
    """
    model_options = options_model(name, factory, options)
    if has_log_prob is None:
        try:
            probe = factory(**model_options().model_dump())
        except Exception:
            probe = None
        has_log_prob = callable(getattr(probe, "score_samples", None))
    caller = sys._getframe(1).f_globals.get("__name__", "__main__")
    build = _Builder(factory, min_samples, bias, caller)
    label = getattr(factory, "__name__", type(factory).__name__)
    register_model(
        name,
        options=model_options,
        build=build,
        summary=summary or f"{label} via ap.from_sklearn; lambda pulls draws toward the training mean",
        has_log_prob=bool(has_log_prob),
        contract=contract or ModelCase(monotone=bias is None),
        replace=replace,
    )
