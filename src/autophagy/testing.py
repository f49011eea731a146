"""The plug-in contract as a library: :func:`check_model` (scikit-learn's ``check_estimator``
for the protocols of :mod:`autophagy.core.protocols`) and :func:`check_metric`.

``check_model("gmm")`` builds the registered model, fits it on small data and runs the items
of :data:`ITEMS`, one table that both drives the checks and names what is reported (and what
``autophagy check-model`` prints): what the loop engine relies on, i.e. the fitted-model
protocol, output shape and dtype ``(R, n, d)`` float, finite values, determinism for a fixed
rng (fit and sample), replicates independent of the batch, ``sampling_bias = 1`` sampling the
fitted distribution, smaller lambda narrowing the spread, the lambda = 0 promise, the declared
capabilities (``moments()``, ``log_prob(x)``), fine-tuning from ``init``, and the
``state_dict()``/``load()`` round trip. Contract failures are listed in the
:class:`ContractReport`, never raised; an unknown model name raises
:class:`~autophagy.core.errors.ConfigError`.

Each family runs on the case registered with it (``register_model(..., contract=ModelCase(...))``,
read back by :func:`case_of`): Gaussian rows ``(3, 60, 3)`` by default, a data source for
discrete models (ids of categories, items or tokens; settings with ``for_data``
(:class:`~autophagy.core.protocols.BindsData`) are bound to it first, as ``config.resolve``
does), 4 x 4 labelled image rows (pixels, then the class) for the image models. A caller passes
its own :class:`ModelCase` (``case=``) when the registered one does not fit.

``check_metric("kid")`` calls a registered metric the way the loop engine does for its
``needs`` kind and checks shape, finiteness, seeding and replicate independence.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autophagy.core.contract import ModelCase, off_mode, total_spread, within_class_spread
from autophagy.core.errors import ConfigError
from autophagy.core.protocols import BindsData, FittedModel
from autophagy.core.registry import METRICS, MODELS, Metric, Plugin, load_entry_points, load_plugins

R, N = 3, 60  # replicates and training rows per replicate of the default cases
BIASES = (0.0, 0.1, 0.4, 0.7, 1.0)  # lambdas at which the spread is compared


def rngs(seed: int, count: int = R) -> list[np.random.Generator]:
    """``count`` generators, replicate ``i`` seeded by ``[seed, i]``."""
    return [np.random.default_rng([seed, i]) for i in range(count)]


def gaussian_source() -> Any:
    """A 3-d Gaussian with unequal variances and uncorrelated axes (the default real data)."""
    from autophagy.data import GaussianData

    return GaussianData(np.array([0.0, 1.0, -1.0]), np.diag([1.0, 2.0, 0.5]))


DEFAULT_CASE = ModelCase(monotone=False)  # a plug-in without a case: Gaussian rows, strict narrowing only


def case_of(name: str) -> ModelCase:
    """The contract case registered with model ``name`` (``register_model(..., contract=)``),
    or :data:`DEFAULT_CASE`."""
    entry = MODELS.get(name)
    return entry.contract if entry is not None and entry.contract is not None else DEFAULT_CASE


@dataclass(frozen=True)
class ContractItem:
    """One checked promise: its ``name``, whether it ``passed`` and a human-readable ``detail``."""

    name: str
    passed: bool
    detail: str


@dataclass
class ContractReport:
    """The outcome of :func:`check_model`: one :class:`ContractItem` per promise, in order."""

    model: str
    items: list[ContractItem] = field(default_factory=list)
    kind: str = "model"  # what was checked: "model" or "metric"
    expected: tuple[str, ...] = ()  # the item names the check set out to run, in order

    @property
    def passed(self) -> bool:
        """True when there is at least one item, every item expected was run, and all passed."""
        ran = tuple(item.name for item in self.items)
        return bool(self.items) and ran == self.expected and all(item.passed for item in self.items)

    def failures(self) -> list[ContractItem]:
        return [item for item in self.items if not item.passed]

    def __getitem__(self, name: str) -> ContractItem:
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"{'ok  ' if i.passed else 'FAIL'} {i.name}: {i.detail}" for i in self.items]
        return "\n".join([f"contract of {self.kind} {self.model!r}", *lines])


class _Failed(Exception):
    """A contract item failed; its message is the item's detail."""


def _lookup(name: str, plugins: Iterable[str]) -> Plugin:
    import autophagy.data
    import autophagy.models  # noqa: F401  (registers the built-in models)

    load_plugins(list(plugins))
    if name not in MODELS:
        load_entry_points()
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return MODELS[name]


def _as_case(name: str, case: ModelCase | None, options: dict | None, data: Any) -> ModelCase:
    base = case or case_of(name)
    changes: dict[str, Any] = {}
    if options is not None:
        changes["options"] = dict(options)
    if data is not None:
        if isinstance(data, np.ndarray) or isinstance(data, list | tuple):
            rows = np.asarray(data, dtype=np.float64)
            changes.update(source=None, data=lambda: rows)
        else:
            changes.update(source=lambda: data, data=None)
    return ModelCase(**{**base.__dict__, **changes})


def _diff(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shapes {a.shape} and {b.shape}"
    bad = np.argwhere(~np.isclose(a, b, rtol=0, atol=0, equal_nan=True))
    where = tuple(int(i) for i in bad[0]) if len(bad) else ()
    top = np.nanmax(np.abs(a - b)) if a.size else 0.0
    return f"{len(bad)} of {a.size} values differ (first at index {where}, max |diff| {top:.3g})"


def _same(a: Any, b: Any, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
        raise _Failed(f"{what}: {_diff(a, b)}")


class _Items:
    """Runs a table of items in order; after a failed gate the rest are listed as not checked."""

    gates: tuple[str, ...] = ()

    def __init__(self, report: ContractReport) -> None:
        self.report = report

    def item(self, name: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
            passed = True
        except _Failed as exc:
            detail, passed = str(exc), False
        except Exception as exc:  # the model itself raised: that is the failure
            detail, passed = f"raised {type(exc).__name__}: {exc}", False
        self.report.items.append(ContractItem(name, passed, detail))
        return passed

    def skip(self, names: Iterable[str], because: str) -> None:
        for name in names:
            self.report.items.append(ContractItem(name, False, f"not checked: {because} failed"))

    def run(self, items: Sequence[tuple[str, Callable[[Any], str]]]) -> ContractReport:
        """Run ``items`` in order; after a failed gate the rest are listed as not checked. No
        items at all is a failure, never an empty pass."""
        self.report.expected = tuple(name for name, _ in items)
        if not items:
            self.report.items.append(ContractItem("items", False, "no contract items to run"))
            return self.report
        for i, (name, check) in enumerate(items):
            if not self.item(name, functools.partial(check, self)) and name in self.gates:
                self.skip([later for later, _ in items[i + 1 :]], name)
                break
        return self.report


class _Checker(_Items):
    """The model contract's items (see :data:`ITEMS`)."""

    gates = ("build", "fit")

    def __init__(self, name: str, entry: Plugin, case: ModelCase) -> None:
        super().__init__(ContractReport(name))
        self.name, self.entry, self.case = name, entry, case

    # -- setup ---------------------------------------------------------------------------------

    def build(self) -> str:
        options = self.entry.options(**self.case.options)
        settings = self.entry.build(options)
        source = None
        if self.case.data is None:
            source = self.case.source() if self.case.source is not None else gaussian_source()
        if source is not None and isinstance(settings, BindsData):
            settings = settings.for_data(source)
        for attr in ("fit", "load"):
            if not callable(getattr(settings, attr, None)):
                raise _Failed(f"settings {type(settings).__name__} have no {attr}() method")
        min_samples = getattr(settings, "min_samples", None)
        if not isinstance(min_samples, int | np.integer) or min_samples < 1:
            raise _Failed(f"settings need an integer min_samples >= 1, got {min_samples!r}")
        if self.case.data is not None:
            self.data = np.asarray(self.case.data(), dtype=np.float64)
        else:
            self.data = np.stack([source.draw(N, rng=g) for g in rngs(99)]).astype(np.float64)
        if self.data.ndim != 3:
            raise _Failed(f"contract data must have shape (R, n, d), got {self.data.shape}")
        self.settings = settings
        self.r, self.n, self.d = self.data.shape
        return f"{type(settings).__name__} from options {self.case.options or '{}'}; data {self.data.shape}"

    def rngs(self, seed: int) -> list[np.random.Generator]:
        return rngs(seed, self.r)

    def fit(self) -> str:
        before = self.data.copy()
        self.model = self.settings.fit(self.data, rng=self.rngs(1))
        missing = [m for m in ("sample", "state_dict") if not callable(getattr(self.model, m, None))]
        if missing or not isinstance(self.model, FittedModel):
            raise _Failed(f"fit returned {type(self.model).__name__}, which lacks {', '.join(missing)}")
        if not np.array_equal(self.data, before, equal_nan=True):
            raise _Failed("fit modified its input array in place")
        return f"fit {self.data.shape} -> {type(self.model).__name__}; input left unchanged"

    # -- the items -----------------------------------------------------------------------------

    def shape(self) -> str:
        for n in (7, 0):
            x = self.model.sample(n, rng=self.rngs(2), sampling_bias=1.0)
            if not isinstance(x, np.ndarray):
                raise _Failed(f"sample({n}) returned {type(x).__name__}, not a numpy array")
            if x.shape != (self.r, n, self.d):
                raise _Failed(f"sample({n}) has shape {x.shape}, expected {(self.r, n, self.d)}")
            if not np.issubdtype(x.dtype, np.floating):
                raise _Failed(f"sample({n}) has dtype {x.dtype}, expected a float dtype")
        return f"sample(n) is a float array ({self.r}, n, {self.d}), n = 0 included"

    def finite(self) -> str:
        biases = [b for b in BIASES if b > 0 or self.entry.zero_bias]
        for b in biases:
            x = self.model.sample(200, rng=self.rngs(3), sampling_bias=b)
            if not np.isfinite(x).all():
                raise _Failed(f"sampling_bias={b}: {np.size(x) - np.isfinite(x).sum()} non-finite values")
        return f"200 samples per replicate finite at lambda in {biases}"

    def determinism(self) -> str:
        a = self.model.sample(50, rng=self.rngs(3), sampling_bias=0.7)
        b = self.model.sample(50, rng=self.rngs(3), sampling_bias=0.7)
        _same(
            a,
            b,
            "two sample() calls with identically seeded rngs gave different samples (hidden randomness?)",
        )
        g = self.rngs(3)
        first, second = (self.model.sample(50, rng=g, sampling_bias=0.7) for _ in range(2))
        if np.array_equal(first, second):
            raise _Failed(
                "successive sample() calls on the same rngs gave the same samples (rng not consumed)"
            )
        again = self.settings.fit(self.data, rng=self.rngs(1))
        _same(
            again.sample(50, rng=self.rngs(3), sampling_bias=0.7),
            a,
            "two fits with identically seeded rngs sample differently (hidden randomness in fit?)",
        )
        s1, s2 = self.model.state_dict(), again.state_dict()
        if set(s1) != set(s2):
            raise _Failed(
                f"two identically seeded fits have different state keys: {sorted(set(s1) ^ set(s2))}"
            )
        for key in s1:
            _same(s1[key], s2[key], f"two identically seeded fits differ in state {key!r}")
        return "same rng seeds: identical fits (state_dict) and samples; successive calls advance the rng"

    def batch(self) -> str:
        last = self.r - 1
        alone = self.settings.fit(self.data[last:], rng=self.rngs(1)[last:])
        single = alone.sample(20, rng=self.rngs(5)[last:], sampling_bias=0.8)
        batched = self.model.sample(20, rng=self.rngs(5), sampling_bias=0.8)
        if single.shape != (1, 20, self.d) or not np.allclose(
            single[0], batched[last], rtol=1e-12, atol=1e-12
        ):
            raise _Failed(
                f"replicate {last} fitted alone samples differently than inside a batch of {self.r}: "
                f"{_diff(single[0], batched[last])}"
            )
        return f"replicate {last} fitted and sampled alone equals its slice of the batch of {self.r}"

    def unbiased(self) -> str:
        notes = []
        default = inspect.signature(self.model.sample).parameters.get("sampling_bias")
        if default is not None and default.default is not inspect.Parameter.empty:
            _same(
                self.model.sample(50, rng=self.rngs(6)),
                self.model.sample(50, rng=self.rngs(6), sampling_bias=1.0),
                "sample() without sampling_bias differs from sampling_bias=1",
            )
            notes.append("the default equals lambda = 1")
        _same(
            self.model.sample(50, rng=self.rngs(6), sampling_bias=1),
            self.model.sample(50, rng=self.rngs(6), sampling_bias=1.0),
            "sampling_bias=1 (int) differs from sampling_bias=1.0",
        )
        if self.entry.has_moments:
            notes.append(self._moments_match())
        else:
            notes.append("lambda = 1 and 1.0 agree (no closed-form moments to compare samples with)")
        return "; ".join(notes)

    def _moments_match(self) -> str:
        """lambda = 1 samples have the fitted mean and total variance: per replicate, the
        Hotelling-type statistic n (xbar - mu)' Sigma^+ (xbar - mu) below the chi2_d quantile at
        1e-6 / R, and the z-score of the mean squared distance to xbar against tr Sigma below 5.5
        (standard error estimated from the same draws)."""
        from scipy import stats

        mean, cov = self.model.moments()
        n = 4000
        x = self.model.sample(n, rng=self.rngs(7), sampling_bias=1.0)
        bound = stats.chi2.ppf(1 - 1e-6 / self.r, self.d)
        for r in range(self.r):
            gap = x[r].mean(axis=0) - mean[r]
            t2 = n * gap @ np.linalg.pinv(cov[r]) @ gap
            if t2 > bound:
                raise _Failed(
                    f"replicate {r}: lambda = 1 sample mean is off the fitted mean "
                    f"(T2 {t2:.1f} > {bound:.1f})"
                )
            q = ((x[r] - x[r].mean(axis=0)) ** 2).sum(axis=1)
            z = (q.mean() - np.trace(cov[r])) / (q.std(ddof=1) / np.sqrt(n) + 1e-300)
            if abs(z) > 5.5:
                raise _Failed(
                    f"replicate {r}: lambda = 1 total variance {q.mean():.4g} is not tr(Sigma) = "
                    f"{np.trace(cov[r]):.4g} (z = {z:.1f})"
                )
        return f"lambda = 1 samples ({n} per replicate) match moments(): mean and total variance"

    def narrows(self) -> str:
        case = self.case
        mode = self.model.sample(400, rng=self.rngs(4), sampling_bias=0.0) if self.entry.zero_bias else None
        biases = BIASES if self.entry.zero_bias else (0.05, 0.4, 1.0)
        spreads = np.stack(
            [case.spread(self.model.sample(400, rng=self.rngs(4), sampling_bias=b), mode) for b in biases]
        )
        low = 1 if self.entry.zero_bias else 0
        if not np.all(spreads[low] < spreads[-1]):
            r = int(np.argmin(spreads[-1] - spreads[low]))
            raise _Failed(
                f"replicate {r}: spread at lambda = {biases[low]} is {spreads[low, r]:.4g}, not below "
                f"{spreads[-1, r]:.4g} at lambda = 1"
            )
        if case.monotone:
            steps = np.diff(spreads, axis=0)
            if np.any(steps < -1e-12):
                i, r = np.argwhere(steps < -1e-12)[0]
                raise _Failed(
                    f"replicate {r}: spread falls from {spreads[i, r]:.4g} at lambda = {biases[i]} to "
                    f"{spreads[i + 1, r]:.4g} at lambda = {biases[i + 1]} (promised monotone)"
                )
        kind = "never widens as lambda falls" if case.monotone else "is smaller at small lambda"
        return f"spread ({case.spread.__name__}) {kind}: " + ", ".join(
            f"{b:g}: {s:.3g}" for b, s in zip(biases, spreads.mean(axis=1), strict=True)
        )

    def zero(self) -> str:
        if not self.entry.zero_bias:
            try:
                self.model.sample(5, rng=self.rngs(4), sampling_bias=0.0)
            except ValueError as exc:
                if "sampling_bias" not in str(exc):
                    raise _Failed(
                        f"lambda = 0 raised ValueError without naming sampling_bias: {exc}"
                    ) from None
                return "declared zero_bias=False: lambda = 0 raises ValueError naming sampling_bias"
            raise _Failed("declared zero_bias=False but sampling_bias=0 did not raise ValueError")
        atoms = self.model.sample(4 * self.n, rng=self.rngs(4), sampling_bias=0.0)
        for r, replicate in enumerate(atoms):  # rounded so that float noise does not split an atom
            distinct = len(np.unique(np.round(replicate, 9), axis=0))
            if distinct > self.n:
                raise _Failed(
                    f"replicate {r}: lambda = 0 gave {distinct} distinct points from {4 * self.n} draws, "
                    f"more than the {self.n} training rows (not the modes)"
                )
        return f"lambda = 0 samples a finite set of modes (at most {self.n} distinct points)"

    def moments(self) -> str:
        if not self.entry.has_moments:
            has = callable(getattr(self.model, "moments", None))
            return "not declared" + (" (a moments() method exists: declare has_moments=True?)" if has else "")
        if not callable(getattr(self.model, "moments", None)):
            raise _Failed("declared has_moments=True but the fitted model has no moments() method")
        mean, cov = self.model.moments()
        mean, cov = np.asarray(mean), np.asarray(cov)
        if mean.shape != (self.r, self.d) or cov.shape != (self.r, self.d, self.d):
            raise _Failed(
                f"moments() shapes {mean.shape}, {cov.shape}; expected ({self.r}, {self.d}) and "
                f"({self.r}, {self.d}, {self.d})"
            )
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise _Failed("moments() has non-finite values")
        if not np.allclose(cov, np.swapaxes(cov, 1, 2), rtol=1e-8, atol=1e-10):
            raise _Failed("moments() covariance is not symmetric")
        return f"moments(): mean ({self.r}, {self.d}), symmetric covariance ({self.r}, {self.d}, {self.d})"

    def log_prob(self) -> str:
        if not self.entry.has_log_prob:
            has = callable(getattr(self.model, "log_prob", None))
            return "not declared" + (
                " (a log_prob() method exists: declare has_log_prob=True?)" if has else ""
            )
        if not callable(getattr(self.model, "log_prob", None)):
            raise _Failed("declared has_log_prob=True but the fitted model has no log_prob(x) method")
        x = self.model.sample(11, rng=self.rngs(8), sampling_bias=1.0)
        lp = np.asarray(self.model.log_prob(x))
        if lp.shape != (self.r, 11):
            raise _Failed(f"log_prob(x) for x {x.shape} has shape {lp.shape}, expected ({self.r}, 11)")
        if not np.isfinite(lp).all():
            raise _Failed("log_prob of the model's own samples is not finite")
        return f"log_prob(x (R, n, d)) -> ({self.r}, n), finite on the model's samples"

    def init(self) -> str:
        tuned = self.settings.fit(self.data, rng=self.rngs(9), init=self.model)
        x = tuned.sample(5, rng=self.rngs(2), sampling_bias=1.0)
        if x.shape != (self.r, 5, self.d):
            raise _Failed(
                f"a model fine-tuned from init samples shape {x.shape}, expected {(self.r, 5, self.d)}"
            )
        return "fit(data, rng=..., init=model) gives a working model"

    def round_trip(self) -> str:
        state = self.model.state_dict()
        if not isinstance(state, dict):
            raise _Failed(f"state_dict() returned {type(state).__name__}, not a dict")
        bad = [
            k
            for k, v in state.items()
            if not isinstance(k, str) or not isinstance(v, np.ndarray) or v.dtype == object
        ]
        if bad:
            raise _Failed(f"state_dict() values must be numeric numpy arrays keyed by str: {bad[:3]}")
        restored = self.settings.load(state)
        _same(
            restored.sample(10, rng=self.rngs(6), sampling_bias=0.5),
            self.model.sample(10, rng=self.rngs(6), sampling_bias=0.5),
            "load(state_dict()) samples differently from the original",
        )
        return f"load(state_dict()) of {len(state)} arrays samples identically"


ITEMS: tuple[tuple[str, Callable[[_Checker], str]], ...] = (
    ("build", _Checker.build),
    ("fit", _Checker.fit),
    ("shape", _Checker.shape),
    ("finite", _Checker.finite),
    ("determinism", _Checker.determinism),
    ("batch_independence", _Checker.batch),
    ("unbiased", _Checker.unbiased),
    ("bias_narrows", _Checker.narrows),
    ("zero_bias", _Checker.zero),
    ("moments", _Checker.moments),
    ("log_prob", _Checker.log_prob),
    ("init", _Checker.init),
    ("state_dict", _Checker.round_trip),
)
"""The contract, in the order it is checked and printed: (item name, check returning its detail)."""
GATES = _Checker.gates
"""Items every other item needs: they run first whenever any item is chosen."""


def _chosen(items: Iterable[str] | None) -> list[tuple[str, Callable[[_Checker], str]]]:
    if items is None:
        return list(ITEMS)
    names = list(items)
    unknown = sorted(set(names) - {name for name, _ in ITEMS})
    if unknown:
        raise ValueError(f"unknown contract items {unknown}; choose from {[name for name, _ in ITEMS]}")
    if not names:
        return []
    return [(name, check) for name, check in ITEMS if name in names or name in GATES]


def check_model(
    name: str,
    *,
    options: dict | None = None,
    data: Any = None,
    plugins: Iterable[str] = (),
    case: ModelCase | None = None,
    items: Iterable[str] | None = None,
) -> ContractReport:
    """Fit the registered model ``name`` on small data and check its contract, item by item.

    ``options``: the model's ``[model]`` keys (default: the family's registered case, or {}).
    ``data``: training rows ``(R, n, d)`` or a data source (default: the family's case, else
    ``(3, 60, 3)`` Gaussian rows). ``plugins``: modules to import first (their import runs
    their code, so name only modules you trust). ``case``: a :class:`ModelCase` for a plug-in
    whose spread or data differ from the defaults. ``items``: names from :data:`ITEMS` to run
    (default: all; ``build`` and ``fit`` always run first; none at all is a failed report).
    Contract failures are listed, not raised; an unknown ``name`` raises :class:`ConfigError`
    (field ``model``).
    """
    chosen = _chosen(items)
    entry = _lookup(name, plugins)
    return _Checker(name, entry, _as_case(name, case, options, data)).run(chosen)


# -- the metric contract ------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyImages:
    """A :class:`~autophagy.core.protocols.LabelledImages` source for :func:`check_metric`:
    4 x 4 images of three classes (a bright diagonal pixel per class plus noise), with a
    classifier whose features are the pixels and whose prediction is the brightest of the three
    class pixels (no training, no PyTorch)."""

    shape: tuple[int, int] = (4, 4)
    classes: int = 3
    dim: int = 17
    capacity: int | None = None

    def draw(self, n: int, *, rng: np.random.Generator) -> np.ndarray:
        labels = rng.integers(0, self.classes, size=n)
        pixels = np.clip(rng.normal(0.2, 0.1, size=(n, 16)), 0, 1)
        pixels[np.arange(n), labels * 5] = 1.0
        return np.concatenate([pixels, labels[:, None]], axis=1)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError("TinyImages has no closed-form moments")

    def classifier(self) -> Any:
        return self

    def features(self, pixels: np.ndarray) -> np.ndarray:
        return np.asarray(pixels, dtype=np.float64)

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        return np.argmax(np.asarray(pixels)[:, [0, 5, 10]], axis=1)


def _metric_source(metric: Metric) -> Any:
    """The real data a metric of each ``needs`` kind is checked on by default."""
    from autophagy.data import DATA

    if metric.needs == "modes":
        return DATA["ring"].build(DATA["ring"].options())
    if metric.needs == "images":
        return TinyImages()
    return gaussian_source()


def _model_for(metric: Metric, model: str | None) -> str:
    """The model kind a ``"model"`` metric is checked with: ``model``, else the first it accepts."""
    if model is not None:
        return model
    for kind in metric.models or ("gaussian",):
        if kind in MODELS:
            return kind
    raise ConfigError("model", f"none of the models {metric.models} the metric accepts is registered")


_FITTED: dict[tuple, Any] = {}  # models fitted on a registered case's data, by (kind, n, rows)


class _MetricChecker(_Items):
    """The metric contract's items (see :data:`METRIC_ITEMS`)."""

    gates = ("inputs",)

    def __init__(self, name: str, metric: Metric, model: str | None, data: Any, n: int) -> None:
        super().__init__(ContractReport(name, kind="metric"))
        self.name, self.metric, self.model_kind, self.source, self.n = name, metric, model, data, n

    def call(self, rows: slice, seed: int) -> np.ndarray:
        """The metric's value for replicates ``rows``, called as the loop engine calls it
        (:func:`autophagy.loop.engine.evaluate`), with metric rngs seeded by ``seed``."""
        metric, gens = self.metric, rngs(seed, self.r)[rows]
        if metric.needs == "moments":
            value = metric.fn(self.mean[rows], self.cov[rows], *self.reference)
        elif metric.needs == "model":
            model = self.model if rows == slice(None) else self.fit(rows)
            value = metric.fn(model, self.source, rng=gens)
        else:
            extra: dict[str, Any] = {"data": self.source} if metric.needs in ("modes", "images") else {}
            if metric.takes_k:
                extra["k"] = 5
            if metric.takes_rng:
                extra["rng"] = gens
            value = metric.fn(self.real[rows], self.synthetic[rows], **extra)
        return value[metric.key] if metric.key else value

    def fit(self, rows: slice) -> Any:
        key = (self.model_kind, self.n, rows.start, rows.stop)
        if self.shared and key in _FITTED:  # the registered case fits identically every time
            return _FITTED[key]
        fitted = self.settings.fit(self.train[rows], rng=rngs(1, self.r)[rows])
        if self.shared:
            _FITTED[key] = fitted
        return fitted

    def inputs(self) -> str:
        metric, n = self.metric, self.n
        if metric.needs == "model":
            kind = self.model_kind = _model_for(metric, self.model_kind)
            case = case_of(kind)
            self.shared = self.source is None  # default inputs: fits are shared between metrics
            if self.source is None:
                self.source = case.source() if case.source is not None else gaussian_source()
            entry = MODELS[kind]
            self.settings = entry.build(entry.options(**case.options))
            if isinstance(self.settings, BindsData):
                self.settings = self.settings.for_data(self.source)
            self.train = np.stack([self.source.draw(n, rng=g) for g in rngs(99)]).astype(np.float64)
            self.r = len(self.train)
            self.model = self.fit(slice(None))
            return f"model {kind} fitted on {self.train.shape} from {type(self.source).__name__}"
        if self.source is None:
            self.source = _metric_source(metric)
        self.real = np.stack([self.source.draw(n, rng=g) for g in rngs(98)]).astype(np.float64)
        self.synthetic = np.stack([self.source.draw(n, rng=g) for g in rngs(97)]).astype(np.float64)
        self.r = len(self.real)
        if metric.needs == "moments":
            shrink = np.linspace(0.6, 1.0, self.r)[:, None, None]  # unequal replicates
            fits = self.synthetic * np.sqrt(shrink)
            self.mean = fits.mean(axis=1)
            self.cov = np.stack([np.cov(x, rowvar=False).reshape(self.source.dim, -1) for x in fits])
            self.reference = tuple(np.asarray(m, dtype=np.float64) for m in self.source.moments())
            return f"fitted moments of {self.r} replicates against {type(self.source).__name__}'s"
        self.synthetic = self.synthetic[:, : n - n // 4]  # unequal set sizes
        where = type(self.source).__name__
        return f"real {self.real.shape} and synthetic {self.synthetic.shape} from {where}"

    def shape(self) -> str:
        value = self.call(slice(None), 3)
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            raise _Failed(f"returned {type(value).__name__} {getattr(value, 'dtype', '')}, not a float array")
        if value.shape != (self.r,):
            raise _Failed(f"returned shape {value.shape}, expected ({self.r},)")
        self.value = value
        return f"a float array ({self.r},)"

    def finite(self) -> str:
        value = np.asarray(self.call(slice(None), 3), dtype=np.float64)
        if not np.isfinite(value).all():
            raise _Failed(f"{np.size(value) - np.isfinite(value).sum()} non-finite values: {value}")
        return "finite: " + ", ".join(f"{v:.4g}" for v in value)

    def determinism(self) -> str:
        _same(self.call(slice(None), 3), self.call(slice(None), 3), "identically seeded calls differ")
        return "identical values for identical inputs and seeds"

    def batch(self) -> str:
        batched = np.asarray(self.call(slice(None), 3), dtype=np.float64)
        last = self.r - 1
        alone = np.asarray(self.call(slice(last, None), 3), dtype=np.float64).reshape(-1)
        if alone.shape != (1,) or not np.allclose(alone, batched[last], rtol=1e-9, atol=1e-12):
            raise _Failed(
                f"replicate {last} alone gives {alone}, inside a batch of {self.r} {batched[last]:.6g}"
            )
        return f"replicate {last} computed alone equals its value in the batch of {self.r}"


METRIC_ITEMS: tuple[tuple[str, Callable[[_MetricChecker], str]], ...] = (
    ("inputs", _MetricChecker.inputs),
    ("shape", _MetricChecker.shape),
    ("finite", _MetricChecker.finite),
    ("determinism", _MetricChecker.determinism),
    ("batch_independence", _MetricChecker.batch),
)
"""The metric contract, in the order it is checked and reported."""


def check_metric(
    name: str,
    *,
    model: str | None = None,
    data: Any = None,
    plugins: Iterable[str] = (),
    n: int = 48,
) -> ContractReport:
    """Call the registered metric ``name`` as the loop engine does and check its contract.

    Inputs follow its ``needs``: ``"samples"``: real and synthetic rows ``(3, n, 3)`` of a
    Gaussian (or draws of ``data``); ``"moments"``: fitted means and covariances against the
    source's; ``"modes"``: draws of the ``ring`` source; ``"images"``: :class:`TinyImages` rows
    (pass ``data=`` a real image source to use its classifier); ``"model"``: ``model`` (default
    the first kind the metric accepts, else ``gaussian``) fitted on its registered contract case.
    Items (:data:`METRIC_ITEMS`): a float array ``(R,)``, finite values, identical values for
    identical seeds, and replicate ``R - 1`` computed alone equal to its value in the batch.
    Failures are listed, not raised; an unknown ``name`` raises :class:`ConfigError`.
    """
    import autophagy.models  # noqa: F401  (registers the built-ins: models, data, metrics)

    load_plugins(list(plugins))
    if name not in METRICS:
        load_entry_points()
    if name not in METRICS:
        known = ", ".join(sorted(METRICS))
        raise ConfigError("metrics.names", f"unknown metric {name!r}; choose from {known}")
    return _MetricChecker(name, METRICS[name], model, data, n).run(METRIC_ITEMS)


__all__ = [
    "DEFAULT_CASE",
    "ITEMS",
    "METRIC_ITEMS",
    "ContractItem",
    "ContractReport",
    "ModelCase",
    "TinyImages",
    "case_of",
    "check_metric",
    "check_model",
    "off_mode",
    "total_spread",
    "within_class_spread",
]
