"""Plug-in registries and the one public way to fill them.

A config's ``model.kind``, ``data.kind`` and ``metrics.names`` are keys of ``MODELS``,
``DATA`` and ``METRICS``. Built-ins and users' plug-ins alike enter them through
:func:`register_model`, :func:`register_data` and :func:`register_metric`. Plug-in modules
reach a run in two ways, both explicit because importing a module runs its code:

- installed packages declare entry points in the groups ``autophagy.models``,
  ``autophagy.data``, ``autophagy.metrics`` and ``autophagy.loggers`` (found with
  :mod:`importlib.metadata` and loaded the first time a kind is looked up, as pytest loads
  its plug-ins);
- a config names modules in its top-level ``plugins`` list (or the CLI's ``--plugin``);
  :func:`load_plugins` imports them, in the parent and in every worker.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from autophagy.core.contract import ModelCase
from autophagy.core.errors import ConfigError

ENTRY_POINT_GROUPS = {
    "model": "autophagy.models",
    "data": "autophagy.data",
    "metric": "autophagy.metrics",
    "logger": "autophagy.loggers",  # experiment trackers (register_logger)
}
MAX_TEMPERATURE = 10.0
"""Largest sampling bias (temperature T) of the discrete families (categorical, n-gram,
transformer, hf_causal_lm). Above 1 the tail widens (Marchi et al.'s "heat death" regime):
sampling probabilities are p^(1/T) renormalised, so at T = 10 a probability ratio r between
two outcomes shrinks to r^(1/10) (10^4 becomes 2.5), close to uniform over the model's
support; higher temperatures add little."""

MetricNeeds = Literal["moments", "samples", "model", "modes", "images"]


class Options(BaseModel):
    """Base of every plug-in's options: unknown keys are errors, values are immutable, floats
    finite, and a config's values are taken strictly: no string becomes a number or a boolean,
    no float an integer (``replicates = 1e12`` or ``"200"`` is refused). Paths, tuples and
    literals still read from TOML strings and lists (values are checked as JSON would be)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def model_validate(cls, obj: Any, *, strict: bool | None = None, **kwargs: Any) -> Any:
        """Validate a config table strictly in JSON mode (see the class docstring); values JSON
        cannot hold (a TOML date, an array, a Path) fall back to the ordinary (lax) check."""
        if strict is None and isinstance(obj, dict):
            try:
                text = json.dumps(obj, allow_nan=True)
            except (TypeError, ValueError):
                text = None
            if text is not None:
                return cls.model_validate_json(text, strict=True, **kwargs)
        return super().model_validate(obj, strict=strict, **kwargs)


@dataclass(frozen=True)
class Plugin:
    """A registered model or data source: its options schema, builder and one-line summary."""

    options: type[Options]
    build: Callable[[Any], Any]
    summary: str
    has_moments: bool = False  # models only: fitted models expose closed-form ``moments()``
    has_log_prob: bool = False  # models only: fitted models score samples with ``log_prob(x)``
    zero_bias: bool = True  # models only: sampling_bias = 0 is defined (the modes)
    provider: str = "autophagy"  # the package (or module) that registered it
    max_bias: float = 1.0  # models only: the largest sampling_bias (a temperature above 1 where > 1)
    contract: ModelCase | None = None  # models only: the case check_model runs (None: Gaussian rows)
    default_metrics: tuple[str, ...] = ()  # models only: metrics.names when a config names none


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function, direction, inputs and a one-line summary."""

    fn: Callable
    higher_is_better: bool
    needs: MetricNeeds
    summary: str
    key: str | None = None
    models: tuple[str, ...] = ()  # model kinds a "model" metric accepts (empty = any)
    data: tuple[str, ...] = ()  # data kinds it accepts (empty = any)
    provider: str = "autophagy"
    needs_log_prob: bool = False  # only models registered with has_log_prob
    gaussian_form: str | None = None  # a "moments" metric computing the same value exactly for Gaussian fits
    takes_rng: bool = False  # sample metrics: called with rng = one generator per replicate
    takes_k: bool = True  # sample metrics: called with the config's k (metrics.k)


MODELS: dict[str, Plugin] = {}
DATA: dict[str, Plugin] = {}
METRICS: dict[str, Metric] = {}


def _provider(fn: Callable) -> str:
    """The top-level package of the module that defined ``fn`` (``__main__`` in a notebook)."""
    return (getattr(fn, "__module__", None) or "__main__").split(".")[0]


def _check_name(kind: str, name: str, registry: dict, replace: bool) -> None:
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"{kind} name must be letters, digits, '_' or '-', got {name!r}")
    if name in registry and not replace:
        raise ValueError(f"a {kind} named {name!r} is already registered (pass replace=True to override)")


def register_model(
    name: str,
    *,
    options: type[Options],
    build: Callable[[Any], Any],
    summary: str = "",
    has_moments: bool = False,
    has_log_prob: bool = False,
    zero_bias: bool = True,
    max_bias: float = 1.0,
    contract: ModelCase | None = None,
    replace: bool = False,
    default_metrics: Iterable[str] = (),
) -> None:
    """Make ``model.kind = name`` available.

    ``options`` is a pydantic model (subclass :class:`Options`) of the ``[model]`` keys;
    ``build(options)`` returns settings with ``min_samples``, ``fit(data (R, n, d), *, rng,
    init)`` and ``load(state)`` (see :class:`autophagy.core.protocols.ModelSettings`). Declare
    ``has_moments`` / ``has_log_prob`` when fitted models offer ``moments()`` / ``log_prob(x)``,
    and ``zero_bias=False`` when ``sampling_bias = 0`` is undefined for the family. ``max_bias``
    is the largest ``sampling_bias`` a config may set (default 1: lambda in [0, 1]); families
    whose lambda is a temperature (discrete and language models) may allow more. ``contract``
    is the small :class:`~autophagy.core.contract.ModelCase` that
    :func:`autophagy.testing.check_model` runs (options, data, spread); without one it fits
    3-d Gaussian rows and requires only strict narrowing. ``default_metrics`` are the
    ``metrics.names`` of a config that names none (default: the Gaussian-loop metrics that the
    model supports, or the LeNet image metrics on image data).
    """
    _check_name("model", name, MODELS, replace)
    if not max_bias >= 1.0:
        raise ValueError(f"max_bias must be at least 1, got {max_bias!r}")
    MODELS[name] = Plugin(
        options,
        build,
        summary,
        has_moments,
        has_log_prob,
        zero_bias,
        provider=_provider(build),
        max_bias=float(max_bias),
        contract=contract,
        default_metrics=tuple(default_metrics),
    )


def register_data(
    name: str,
    *,
    options: type[Options],
    build: Callable[[Any], Any],
    summary: str = "",
    replace: bool = False,
) -> None:
    """Make ``data.kind = name`` available: ``build(options)`` returns a
    :class:`autophagy.core.protocols.DataSource` (``dim``, ``capacity``, ``draw(n, rng=)``, ``moments()``)."""
    _check_name("data source", name, DATA, replace)
    DATA[name] = Plugin(options, build, summary, provider=_provider(build))


def register_metric(
    name: str,
    fn: Callable,
    *,
    higher_is_better: bool,
    summary: str = "",
    needs: MetricNeeds = "samples",
    key: str | None = None,
    models: Iterable[str] = (),
    data: Iterable[str] = (),
    needs_log_prob: bool = False,
    gaussian_form: str | None = None,
    takes_rng: bool | None = None,
    replace: bool = False,
) -> None:
    """Make ``name`` usable in ``metrics.names``.

    A ``"samples"`` metric is ``fn(real (R, n, d), synthetic (R, m, d), *, rng, k) -> (R,)``
    (or a dict of ``(R,)`` arrays, ``key`` picking one): ``rng`` is a list of one generator
    per replicate (stream ``metric:<name>``), passed when ``fn`` has a parameter named ``rng``
    (or ``takes_rng=True``); ``k`` (the config's ``metrics.k``) when it has one named ``k`` or
    takes ``**kwargs``. ``real`` is the held-out reference where the data source keeps one.
    See :mod:`autophagy.metrics` for the other ``needs``. ``needs_log_prob``
    restricts it to models registered with ``has_log_prob``; ``gaussian_form`` names a registered
    ``"moments"`` metric that gives the same value in closed form when the fitted model is a
    Gaussian (the ``gaussian`` model), which is then used instead.
    """
    _check_name("metric", name, METRICS, replace)
    if needs not in ("moments", "samples", "model", "modes", "images"):
        raise ValueError(f"needs must be moments, samples, model, modes or images, got {needs!r}")
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or C function: no introspection
        parameters = {}
    variadic = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    METRICS[name] = Metric(
        fn,
        bool(higher_is_better),
        needs,
        summary,
        key,
        tuple(models),
        tuple(data),
        provider=_provider(fn),
        needs_log_prob=bool(needs_log_prob),
        gaussian_form=gaussian_form,
        takes_rng="rng" in parameters if takes_rng is None else bool(takes_rng),
        takes_k="k" in parameters or variadic or not parameters,
    )


@dataclass(frozen=True)
class Logger:
    """A registered experiment tracker: its options (the ``[tracking.NAME]`` table), builder,
    the modules it needs (checked before a run starts), the extra that installs them and a
    one-line summary."""

    options: type[Options]
    build: Callable[[Any], Any]
    summary: str
    requires: tuple[str, ...] = ()
    extra: str | None = None
    provider: str = "autophagy"


LOGGERS: dict[str, Logger] = {}


def register_logger(
    name: str,
    *,
    options: type[Options],
    build: Callable[[Any], Any],
    summary: str = "",
    requires: Iterable[str] = (),
    extra: str | None = None,
    replace: bool = False,
) -> None:
    """Make ``--log name`` (and ``[tracking] loggers = [name]``) available.

    ``build(options)`` returns a :class:`autophagy.core.protocols.Tracker`; ``options`` is the
    pydantic model (subclass :class:`Options`) of the ``[tracking.name]`` table. ``requires``
    names the modules the tracker imports (lazily, inside its methods): a run that asks for it
    without them is refused before anything is written, naming ``pip install 'autophagy[extra]'``
    (or the modules). Trackers run in the parent process only.
    """
    _check_name("logger", name, LOGGERS, replace)
    LOGGERS[name] = Logger(options, build, summary, tuple(requires), extra, provider=_provider(build))


def metric_for(name: str, gaussian: bool) -> Metric:
    """The metric that computes ``name``: its ``gaussian_form`` when the fitted model is a Gaussian."""
    metric = METRICS[name]
    return METRICS[metric.gaussian_form] if gaussian and metric.gaussian_form else metric


_SCANNED: dict[str, tuple[str, ...]] = {}  # "path": the sys.path last scanned for entry points
_LOADED_ENTRY_POINTS: set[tuple[str, str, str]] = set()


def entry_points() -> list[importlib.metadata.EntryPoint]:
    """Every installed entry point in the ``autophagy.*`` groups."""
    found: list[importlib.metadata.EntryPoint] = []
    for group in ENTRY_POINT_GROUPS.values():
        found.extend(importlib.metadata.entry_points(group=group))
    return found


def load_entry_points() -> None:
    """Load installed packages' plug-ins (again only when ``sys.path`` changed). An entry point
    names a module (whose import registers) or a callable taking no arguments (which registers
    when called)."""
    if _SCANNED.get("path") == tuple(sys.path):
        return
    _SCANNED["path"] = tuple(sys.path)
    for ep in entry_points():
        key = (ep.group, ep.name, ep.value)
        if key in _LOADED_ENTRY_POINTS:
            continue
        try:
            target = ep.load()
            if callable(target) and not isinstance(target, type):
                target()
        except (Exception, SystemExit) as exc:  # never a silent exit
            _SCANNED.clear()
            package = ep.dist.name if ep.dist is not None else ep.value
            raise ConfigError(
                "plugins", f"entry point {ep.name!r} of {package} failed to load: {type(exc).__name__}: {exc}"
            ) from None
        _LOADED_ENTRY_POINTS.add(key)


def load_plugins(modules: Iterable[str]) -> None:
    """Import each named module (code execution: only modules a config or ``--plugin`` names).

    A module already imported is not imported again; relative names are refused. The working
    directory is searched too (as ``python -m`` does), after the installed packages.
    """
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    for module in modules:
        if (
            not isinstance(module, str)
            or not module
            or module.startswith(".")
            or not all(part.isidentifier() for part in module.split("."))
        ):
            raise ConfigError("plugins", f"{module!r} is not an absolute module name like 'mylab.models'")
        if module in sys.modules:
            continue
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError("plugins", f"cannot import {module!r}: {exc}") from None
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError("plugins", f"importing {module!r} raised {type(exc).__name__}: {exc}") from None
        except SystemExit as exc:  # never a silent exit: check-model would pass without checking
            sys.modules.pop(module, None)
            raise ConfigError(
                "plugins", f"importing {module!r} called sys.exit({exc.code!r}); a plug-in must not exit"
            ) from None


def unimportable_entries() -> tuple[tuple[str, str, Plugin | Metric], ...]:
    """Entries registered from ``__main__`` (a script or notebook): worker processes cannot
    import them, so tasks carry them (pickled by value) and :func:`adopt` registers them there."""
    tables = {"model": MODELS, "data": DATA, "metric": METRICS}
    return tuple(
        (kind, name, entry)
        for kind, table in tables.items()
        for name, entry in table.items()
        if entry.provider == "__main__"
    )


def adopt(entries: Iterable[tuple[str, str, Plugin | Metric]]) -> None:
    """Register, in this (worker) process, entries shipped by :func:`unimportable_entries`."""
    tables: dict[str, dict[str, Any]] = {"model": MODELS, "data": DATA, "metric": METRICS}
    for kind, name, entry in entries:
        tables[kind].setdefault(name, entry)


def user_modules() -> set[str]:
    """Top-level packages that registered plug-ins other than autophagy's own (and ``__main__``)."""
    return {e.provider for t in (MODELS, DATA, METRICS) for e in t.values()} - {"autophagy"}


def plugin_roots(modules: Iterable[str]) -> tuple[str, ...]:
    """The ``sys.path`` folders the (imported) plug-in modules came from, so that a worker
    process started elsewhere finds them too (see :func:`extend_path`)."""
    roots: list[str] = []
    for module in modules:
        top = sys.modules.get(module.split(".")[0])
        file = getattr(top, "__file__", None)
        if file is None:
            continue
        root = (
            os.path.dirname(os.path.dirname(file)) if file.endswith("__init__.py") else os.path.dirname(file)
        )
        if root not in roots:
            roots.append(root)
    return tuple(roots)


def extend_path(roots: Iterable[str]) -> None:
    """Append plug-in roots to this (worker) process's ``sys.path``."""
    for root in roots:
        if root not in sys.path:
            sys.path.append(root)
