"""Run configuration: TOML in, validated and resolved before any work starts.

``load_config`` reads a TOML file and applies ``--set key=value`` overrides;
``resolve`` checks every section against its registry and cross-checks the sections,
raising one :class:`ConfigError` that names the field at fault, and returns the
:class:`~autophagy.loop.engine.Experiment` plus the fully resolved config (as written to
``config.json``).
"""

from __future__ import annotations

import os
import sys
import tomllib
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, NonNegativeInt, PositiveInt, ValidationError

from autophagy.core.errors import ConfigError, did_you_mean
from autophagy.core.protocols import (
    BindsData,
    ChecksConfig,
    ChecksData,
    DataSource,
    HeldOutReference,
    KnownModes,
    LabelledImages,
    ModelSettings,
)
from autophagy.core.registry import LOGGERS, Options, Plugin, load_entry_points, load_plugins
from autophagy.core.schedule import DataSchedule, LoopOptions, resolve_schedule
from autophagy.core.varying import first_values, span, varying_fields
from autophagy.data import DATA, GaussianData
from autophagy.loop.engine import Experiment
from autophagy.metrics import METRICS, metric_for
from autophagy.mitigations import MitigationOptions, build_mitigation
from autophagy.models import MODELS, GaussianModel
from autophagy.trackers import BUILT_IN as _TRACKERS  # noqa: F401  (registers the built-in loggers)


class MetricsOptions(Options):
    """The ``[metrics]`` table: which metrics, on how many samples, with which bias."""

    names: list[str] = Field(
        default_factory=lambda: ["wasserstein2", "trace_cov", "mean_drift", "precision", "recall"]
    )
    n_eval: PositiveInt = 500
    k: PositiveInt = 5
    unbiased_eval: bool = False
    generations: list[PositiveInt] | None = None  # evaluate only these generations (default: every one)


class PlotsOptions(Options):
    """The ``[plots]`` table: samples of the first replicate kept at the chosen ``generations``
    (default: every generation for image data, none otherwise), ``n_samples`` each (default 500
    images or 2000 points), drawn in ``plots/`` by :mod:`autophagy.results.pictures`."""

    generations: list[PositiveInt] | None = None
    n_samples: PositiveInt | None = None

    def chosen(self, data: DataSource, generations: int) -> tuple[list[int], int]:
        """The generations whose samples are kept, and how many samples each."""
        images = isinstance(data, LabelledImages)
        chosen = self.generations if self.generations is not None else []
        if self.generations is None and images:
            chosen = list(range(1, generations + 1))
        return chosen, self.n_samples or (500 if images else 2000)


class RunConfig(Options):
    """The whole TOML file. ``data`` and ``model`` tables are checked by their plug-in."""

    name: str = Field("run", pattern=r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,99}$")  # a safe file name
    plugins: list[str] = Field(default_factory=list)  # modules imported (executed) before the run
    seed: NonNegativeInt = 0
    replicates: PositiveInt = 1
    generations: PositiveInt = 10
    block_size: PositiveInt = 64
    data: dict[str, Any]
    model: dict[str, Any] = Field(default_factory=lambda: {"kind": "gaussian"})
    loop: LoopOptions
    metrics: MetricsOptions = MetricsOptions()
    mitigation: MitigationOptions | None = None
    plots: PlotsOptions = PlotsOptions()


def pydantic_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first validation error as a ConfigError naming its dotted field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "") or prefix or "config"
    field = field.replace(".[", "[")  # a schedule's entries: loop.n_synthetic[1].from
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key" + did_you_mean(err["loc"][-1], _known_keys(exc.title, err["loc"][:-1]))
    elif (
        err["type"] not in ("missing", "value_error")
        and "input" in err
        and not isinstance(err["input"], dict)
    ):
        message += f" (got {err['input']!r})"
    return ConfigError(field, message)


def _known_keys(title: str, loc: tuple) -> list[str]:
    """Field names of the (nested) options model at ``loc`` of the model called ``title``."""
    from autophagy.core.registry import Options

    pending, models = [Options], []
    while pending:  # every Options subclass, to find the one that raised
        cls = pending.pop()
        models.append(cls)
        pending.extend(cls.__subclasses__())
    model = next((m for m in models if m.__name__ == title), None)
    for part in loc:
        field = model.model_fields.get(str(part)) if model is not None else None
        inner = getattr(field, "annotation", None) if field is not None else None
        options = [
            t for t in (inner, *typing.get_args(inner)) if isinstance(t, type) and issubclass(t, Options)
        ]
        model = options[0] if options else None  # X or X | None
    return list(model.model_fields) if model is not None else []


def set_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply one ``key.path=value`` override in place; the value is parsed as TOML if it can be."""
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", f"expected key=value, got {assignment!r}")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        value = text
    set_key(raw, key.strip(), value)


def set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` of ``raw`` to ``value`` in place, creating tables on the way."""
    *parents, leaf = key.split(".")
    table = raw
    for i, part in enumerate(parents):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(".".join(parents[: i + 1]), "is not a table; cannot set keys inside it")
    table[leaf] = value


def load_config(
    path: Path | None, overrides: Sequence[str] = (), plugins: Sequence[str] = ()
) -> dict[str, Any]:
    """Raw config dict from a TOML file (or an empty one) with ``key=value`` overrides applied
    and ``plugins`` appended to its ``plugins`` list.

    Relative file paths in the file's ``[data]`` and ``[model]`` tables (and in its sweep) are
    made absolute against the file's folder, so a run works from any working directory;
    paths given as overrides stay relative to the working directory.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError("CONFIG", f"file not found: {path}")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("CONFIG", f"{path} is not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError("CONFIG", f"{path} is not UTF-8 text (byte {exc.start})") from None
        except RecursionError:
            raise ConfigError("CONFIG", f"{path} nests tables or arrays too deeply") from None
        anchor_paths(raw, path.resolve().parent)
    for assignment in overrides:
        set_override(raw, assignment)
    refuse_swept_overrides(raw, [a.partition("=")[0].strip() for a in overrides])
    add_plugins(raw, plugins)
    return raw


def swept_keys(raw: dict[str, Any]) -> dict[str, str]:
    """The dotted keys a raw config's ``[sweep]`` sets in every cell, with the sweep field that
    sets each (``sweep.grid``, ``sweep.zip``; ``seed`` by ``sweep.seeds``). A malformed sweep
    table gives what can be read (validation names its errors later)."""
    sweep = raw.get("sweep")
    found: dict[str, str] = {}
    if not isinstance(sweep, dict):
        return found

    def walk(node: Any, prefix: str, field: str) -> None:
        for key, value in node.items() if isinstance(node, dict) else ():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                walk(value, dotted, field)
            else:
                found[dotted] = field

    walk(sweep.get("grid"), "", "sweep.grid")
    walk(sweep.get("zip"), "", "sweep.zip")
    if sweep.get("seeds") is not None:
        found["seed"] = "sweep.seeds"
    return found


def refuse_swept_overrides(raw: dict[str, Any], keys: Sequence[str]) -> None:
    """Refuse (:class:`ConfigError` naming the key, exit 2) an override of a key the sweep sets
    in every cell: the base value would be silently replaced in each cell. The sweep's own
    values are what to change (``--set 'sweep.seeds=[3]'``, or edit ``[sweep]``)."""
    swept = swept_keys(raw)
    for key in keys:
        field = swept.get(key)
        if field is None:
            continue
        if field == "sweep.seeds":
            raise ConfigError(
                "seed",
                f"the sweep's seeds ({field} = {raw['sweep']['seeds']!r}) set every cell's seed, so this "
                "override would be ignored; change the seeds instead: --set 'sweep.seeds=[3]'",
            )
        raise ConfigError(
            key,
            f"is swept by {field}, which sets it in every cell, so this override would be ignored; "
            f"change the sweep's values instead (edit {field} in the TOML)",
        )


def add_plugins(raw: dict[str, Any], plugins: Sequence[str]) -> None:
    """Append module names to ``raw["plugins"]`` in place (each once)."""
    if not plugins:
        return
    listed = raw.get("plugins", [])
    if not isinstance(listed, list):
        raise ConfigError("plugins", f"must be a list of module names, got {listed!r}")
    raw["plugins"] = [*listed, *(m for m in plugins if m not in listed)]


PATH_KEYS = ("path", "labels")  # keys of [data] / [model] that name files (mnist's labels file too)


def _is_path_key(key: str) -> bool:
    return key.split(".")[-1] in PATH_KEYS or key.endswith("_path")


def anchor_paths(raw: dict[str, Any], folder: Path) -> None:
    """Make relative path strings in ``[data]``, ``[model]`` and sweep axes over them absolute
    against ``folder``, in place."""

    def anchor(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).is_absolute():
            return os.path.abspath(folder / value)
        return value

    for section in ("data", "model"):
        table = raw.get(section)
        if isinstance(table, dict):
            for key, value in table.items():
                if _is_path_key(key):
                    table[key] = anchor(value)
    sweep = raw.get("sweep")
    for axes in (sweep.get("grid"), sweep.get("zip")) if isinstance(sweep, dict) else ():
        if isinstance(axes, dict):
            for key, values in axes.items():
                if key.startswith(("data.", "model.")) and _is_path_key(key) and isinstance(values, list):
                    axes[key] = [anchor(v) for v in values]


def _plugin(section: str, table: Any, registry: dict[str, Plugin]) -> tuple[Any, dict]:
    """Build a plug-in from its config table; returns it and its resolved options."""
    if not isinstance(table, dict) or "kind" not in table:
        raise ConfigError(f"{section}.kind", "is required")
    kind = table["kind"]
    if kind not in registry:
        raise ConfigError(
            f"{section}.kind",
            f"unknown kind {kind!r}{did_you_mean(kind, registry)}; choose from {', '.join(registry)}",
        )
    entry = registry[kind]
    try:
        options = entry.options.model_validate({k: v for k, v in table.items() if k != "kind"})
    except ValidationError as exc:
        raise pydantic_error(exc, section) from None
    except MemoryError:  # e.g. a d x d covariance for a huge dim, built while validating
        raise ConfigError(section, f"{kind} with these sizes does not fit in memory") from None
    try:
        plugin = entry.build(first_values(options))  # scheduled settings: see _model_schedule
    except ConfigError:
        raise
    except ValueError as exc:  # e.g. a data file that cannot be read: name the section
        raise ConfigError(section, str(exc)) from None
    except MemoryError:  # e.g. a d x d covariance for a huge dim
        raise ConfigError(section, f"{kind} with these sizes does not fit in memory") from None
    return plugin, {"kind": kind, **options.model_dump(mode="json")}


def resolve(raw: dict[str, Any]) -> tuple[Experiment, RunConfig, dict[str, Any]]:
    """Validate ``raw`` fully; return the experiment, the typed config and the resolved dict.

    Installed plug-ins (entry points) and the modules in ``raw["plugins"]`` are imported first.
    """
    load_entry_points()
    plugins = raw.get("plugins", [])
    if not isinstance(plugins, list):
        raise ConfigError("plugins", f"must be a list of module names, got {plugins!r}")
    load_plugins(plugins)
    try:
        config = RunConfig.model_validate(raw, context={"plugins": plugins})
    except ValidationError as exc:
        raise pydantic_error(exc) from None
    data, data_resolved = _plugin("data", config.data, DATA)
    model, model_resolved = _plugin("model", config.model, MODELS)
    if isinstance(model, BindsData):  # settings that take sizes (vocabulary, items) from the data
        try:
            model = model.for_data(data)
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError("model", str(exc)) from None
    schedule = resolve_schedule(config.loop, config.generations)
    model_schedule = _model_schedule(model_resolved, data, config.generations)

    gaussian = isinstance(model, GaussianModel)
    entry = MODELS[model_resolved["kind"]]
    if isinstance(model, ChecksData):
        try:
            model.check_data(data)  # the model reads these data at all: before its metrics
        except ValueError as exc:
            raise ConfigError("model.kind", str(exc)) from None
    if "names" not in config.metrics.model_fields_set:  # the model family's own defaults
        names = default_metric_names(entry, model_resolved["kind"], data, data_resolved["kind"], gaussian)
        metrics = MetricsOptions.model_construct(**{**config.metrics.model_dump(), "names": names})
        config = config.model_copy(update={"metrics": metrics})
    if not config.metrics.names and "names" not in config.metrics.model_fields_set:
        raise ConfigError(
            "metrics.names", f"no default metric fits model.kind = {model_resolved['kind']!r} here; name some"
        )
    if not config.metrics.names:  # refused, not allowed with a note: a loop that records nothing
        raise ConfigError(
            "metrics.names", "is empty: the loop would record nothing; name at least one metric"
        )
    for name in config.metrics.names:
        if name not in METRICS:
            raise ConfigError(
                "metrics.names",
                f"unknown metric {name!r}{did_you_mean(name, METRICS)}; choose from {', '.join(METRICS)}",
            )
    for name in config.metrics.names:
        problem = metric_problem(name, entry, model_resolved["kind"], data, data_resolved["kind"], gaussian)
        if problem is not None:
            raise ConfigError("metrics.names", problem)
    late = [t for t in config.plots.generations or [] if t > config.generations]
    if late:
        raise ConfigError("plots.generations", f"{late[0]} is beyond generations = {config.generations}")
    if config.plots.generations and data.dim < 2:
        raise ConfigError("plots.generations", "sample panels need data with at least 2 dimensions")
    if max(schedule.values("sampling_bias")) > entry.max_bias:
        where = "a temperature" if entry.max_bias > 1 else "lambda in [0, 1]"
        raise ConfigError(
            "loop.sampling_bias", f"must be at most {entry.max_bias:g} for {model_resolved['kind']} ({where})"
        )
    if min(schedule.values("sampling_bias")) == 0 and not entry.zero_bias:
        raise ConfigError(
            "loop.sampling_bias", f"must be above 0 for {model_resolved['kind']} (lambda = 0 is undefined)"
        )
    if config.metrics.k >= config.metrics.n_eval:
        raise ConfigError("metrics.k", f"must be below metrics.n_eval = {config.metrics.n_eval}")
    _check_sizes(config, schedule, model, data)
    mitigation = build_mitigation(
        config.mitigation, schedule, MODELS[model_resolved["kind"]], model.min_samples, config.generations
    )

    linear = "linear" in schedule.values("retention")
    if mitigation is not None and mitigation.options.filter is not None and linear:
        raise ConfigError(
            "loop.retention", "cannot be combined with [mitigation.filter] (use retention = 'all')"
        )
    choice = model_resolved.get("simulator", "samples")
    simulator = _simulator(choice, data, schedule, config.metrics.names, mitigation is not None, gaussian)
    simulator = _backend(model_resolved, choice, simulator, data, schedule, config.metrics.names, mitigation)
    experiment = Experiment(
        seed=config.seed,
        generations=config.generations,
        schedule=schedule,
        model=model,
        data=data,
        metrics=tuple(config.metrics.names),
        n_eval=config.metrics.n_eval,
        k=config.metrics.k,
        unbiased_eval=config.metrics.unbiased_eval,
        simulator=simulator,
        mitigation=mitigation,
        evaluate_at=None if config.metrics.generations is None else frozenset(config.metrics.generations),
        model_schedule=model_schedule,
    )
    resolved = {**config.model_dump(mode="json"), "data": data_resolved, "model": model_resolved}
    if mitigation is None:
        resolved.pop("mitigation")
    return experiment, config, resolved


GAUSSIAN_LOOP_METRICS = ("wasserstein2", "trace_cov", "mean_drift", "precision", "recall")
"""``metrics.names`` of a config that names none, for models without their own defaults (those
the model supports: the moment metrics need closed-form ``moments()``)."""
IMAGE_METRICS = ("lenet_fid", "lenet_precision", "lenet_recall")
"""The defaults on labelled image data (``digits``, ``mnist``)."""


def default_metric_names(
    entry: Plugin, kind: str, data: DataSource, data_kind: str, gaussian: bool
) -> list[str]:
    """The metrics a config without ``metrics.names`` records: the model family's
    ``default_metrics`` (see :func:`autophagy.register_model`), else the image metrics on image
    data, else :data:`GAUSSIAN_LOOP_METRICS`; each kept only where this model and data support it."""
    if entry.default_metrics:
        names = list(entry.default_metrics)
    elif isinstance(data, LabelledImages):
        names = list(IMAGE_METRICS)
    else:
        names = list(GAUSSIAN_LOOP_METRICS)
    return [
        n for n in names if n in METRICS and metric_problem(n, entry, kind, data, data_kind, gaussian) is None
    ]


def metric_problem(
    name: str, entry: Plugin, kind: str, data: DataSource, data_kind: str, gaussian: bool
) -> str | None:
    """Why metric ``name`` cannot measure model ``kind`` (registered as ``entry``) on ``data``
    (of ``data_kind``), as the message of a ``metrics.names`` error; None when it can."""
    metric = metric_for(name, gaussian)
    if metric.needs == "moments" and not entry.has_moments:
        return f"{name} needs a model with closed-form moments (gaussian)"
    if metric.needs_log_prob and not entry.has_log_prob:
        return f"{name} needs a model with a log-density (has_log_prob)"
    if isinstance(metric.fn, ChecksConfig):
        try:
            metric.fn.check_config(kind, data)
        except ValueError as exc:
            return f"{name}: {exc}"
    for section, kinds, mine in (("model", metric.models, kind), ("data", metric.data, data_kind)):
        if kinds and mine not in kinds:
            return f"{name} needs {section}.kind in {', '.join(kinds)}"
    if METRICS[name].needs == "modes" and not isinstance(data, KnownModes):
        return f"{name} needs data with known modes (mode_grid, ring)"
    if METRICS[name].needs == "images" and not isinstance(data, LabelledImages):
        return f"{name} needs image data (data.kind = 'digits', 'mnist', 'images' or 'shapes')"
    return None


def _simulator(
    choice: str,
    data: DataSource,
    schedule: DataSchedule,
    metrics: list[str],
    mitigated: bool = False,
    gaussian: bool = True,
) -> str:
    """Resolve ``model.simulator``: the exact path needs Gaussian P_r, closed-form metrics only,
    no subsampling and no mitigation (it holds no samples to act on); "auto" takes it whenever
    those hold."""
    if choice == "samples":
        return "samples"
    blockers = []
    if not isinstance(data, GaussianData):
        blockers.append("real data that is a known Gaussian (data.kind = 'gaussian')")
    sample_metrics = [m for m in metrics if metric_for(m, gaussian).needs != "moments"]
    if sample_metrics:
        blockers.append(f"closed-form metrics only ({', '.join(sample_metrics)} need samples)")
    if any(size is not None for size in schedule.values("train_size")):
        blockers.append("no subsampling (loop.train_size)")
    if "linear" in schedule.values("retention"):
        blockers.append("every pooled sample kept (loop.retention = 'all')")
    if mitigated:
        blockers.append("no [mitigation] (mitigations act on samples)")
    if choice == "exact" and blockers:
        raise ConfigError("model.simulator", "'exact' needs " + "; ".join(blockers))
    return "samples" if blockers else "exact"


def _backend(
    model: dict[str, Any],
    choice: str,
    simulator: str,
    data: DataSource,
    schedule: DataSchedule,
    metrics: list[str],
    mitigation: Any,
) -> str:
    """Resolve ``model.backend``: "torch" runs the exact simulator on PyTorch (it needs what
    "exact" needs, and the torch extra); a ``device`` other than "auto" needs that backend."""
    if model.get("kind") != "gaussian":  # the option of the gaussian family only
        return simulator
    backend = model.get("backend", "numpy")
    if backend != "torch":
        if model.get("device", "auto") != "auto":
            raise ConfigError(
                "model.device", "is used by backend = 'torch' only; set model.backend = 'torch'"
            )
        return simulator
    if choice == "samples":
        raise ConfigError(
            "model.backend", "'torch' runs the exact simulator; model.simulator = 'samples' has no torch path"
        )
    try:
        _simulator("exact", data, schedule, metrics, mitigation is not None)
    except ConfigError as exc:
        raise ConfigError("model.backend", f"'torch' runs the exact simulator, and {exc.message}") from None
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("model.backend", "'torch' needs PyTorch: pip install 'autophagy[torch]'") from None
    return "exact_torch"


def _check_sizes(config: RunConfig, schedule: DataSchedule, model: ModelSettings, data: DataSource) -> None:
    """Every generation must give the model enough samples and the data source enough rows."""
    sizes = {t: schedule.training_size(t) for t in schedule.checked_generations(config.generations)}
    smallest = min(sizes.values())
    if smallest < model.min_samples:
        field = "loop.n_ini" if schedule.n_ini < model.min_samples else "loop.n_synthetic"
        when = f" (generation {min(sizes, key=sizes.get)})" if schedule.timeline else ""
        raise ConfigError(
            field,
            f"training sets of {smallest} samples are too small{when}: the model needs {model.min_samples}",
        )
    if data.capacity is not None:
        sizes = {
            "loop.n_ini": schedule.n_ini,
            "loop.n_real": max(schedule.values("fresh_real")),
        }
        if not isinstance(data, HeldOutReference):  # held-out references cap the draw themselves
            sizes["metrics.n_eval"] = config.metrics.n_eval
        for field, n in sizes.items():
            if n > data.capacity:
                raise ConfigError(field, f"{n} exceeds the {data.capacity} samples the data source holds")


def _model_schedule(
    resolved: dict[str, Any], data: DataSource, generations: int
) -> tuple[ModelSettings, ...]:
    """The model settings of every generation 1..``generations`` when a ``[model]`` setting is a
    schedule (e.g. ``ridge`` of ``ols``; see :mod:`autophagy.core.varying`), else ``()``. Settings
    are built once per distinct combination of values."""
    entry = MODELS[resolved["kind"]]
    options = entry.options.model_validate({k: v for k, v in resolved.items() if k != "kind"})
    varying = varying_fields(options)
    if not varying:
        return ()
    for name, v in varying.items():
        gap = v.covers(generations)
        if gap is not None:
            raise ConfigError(
                f"model.{name}[{len(v.steps) - 1}].to", f"leaves {span(gap, generations)} without a value"
            )
    built: dict[tuple, ModelSettings] = {}
    settings = []
    for t in range(1, generations + 1):
        values = {name: v.at(t) for name, v in varying.items()}
        key = tuple(values.values())
        if key not in built:
            try:
                model = entry.build(options.model_copy(update=values))
                built[key] = model.for_data(data) if isinstance(model, BindsData) else model
            except ConfigError:
                raise
            except ValueError as exc:
                raise ConfigError(f"model.{next(iter(varying))}", f"{exc} (at generation {t})") from None
        settings.append(built[key])
    return tuple(settings)


class TrackingOptions(Options):
    """The ``[tracking]`` table: the experiment trackers a run is sent to (``--log NAME`` adds
    one) and, in ``[tracking.NAME]`` sub-tables, each tracker's own options. Not part of the
    run's identity: a folder resumes with other trackers, or none."""

    loggers: list[str] = Field(default_factory=list)


def split_tracking(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any, Options]]]:
    """``raw`` without its ``[tracking]`` table (a copy when it had one), and the trackers it
    names, validated: ``(name, registry entry, options)`` each. Unknown names, unknown keys and
    trackers whose packages are not installed are :class:`ConfigError` naming the field."""
    if "tracking" not in raw:
        return raw, []
    raw = dict(raw)
    return raw, resolve_tracking(raw.pop("tracking"))


def resolve_tracking(table: Any) -> list[tuple[str, Any, Options]]:
    """Validate a ``[tracking]`` table (see :class:`TrackingOptions`)."""
    import importlib.util

    if not isinstance(table, dict):
        raise ConfigError("tracking", f"must be a table, got {table!r}")
    load_entry_points()
    try:
        chosen = TrackingOptions.model_validate({k: v for k, v in table.items() if k == "loggers"}).loggers
    except ValidationError as exc:
        raise pydantic_error(exc, "tracking") from None
    for name in [*chosen, *(k for k in table if k != "loggers")]:
        if name not in LOGGERS:
            raise ConfigError(
                "tracking.loggers" if name in chosen else f"tracking.{name}",
                f"unknown logger {name!r}{did_you_mean(name, LOGGERS)}; choose from {', '.join(LOGGERS)}",
            )
    resolved = []
    for name in dict.fromkeys(chosen):
        entry = LOGGERS[name]
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"tracking.{name}", f"must be a table, got {sub!r}")
        try:
            options = entry.options.model_validate(sub)
        except ValidationError as exc:
            raise pydantic_error(exc, f"tracking.{name}") from None
        missing = [m for m in entry.requires if m not in sys.modules and importlib.util.find_spec(m) is None]
        if missing:
            how = (
                f"pip install 'autophagy[{entry.extra}]'"
                if entry.extra
                else f"pip install {' '.join(missing)}"
            )
            raise ConfigError(
                "tracking.loggers", f"logger {name!r} needs {', '.join(missing)}, not installed: {how}"
            )
        resolved.append((name, entry, options))
    return resolved
