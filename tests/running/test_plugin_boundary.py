"""Invariant: a bad value from a plug-in is the plug-in's error, never ours.

One home: :mod:`autophagy.core.boundary`, called where plug-in values enter the engine
(``loop.engine.evaluate``, ``core.simulators.SampleSimulator.synthetic``, the snapshot, the
checkpoint's ``state_dict``) and by ``running.tasks.run_task`` for ``SystemExit`` /
``KeyboardInterrupt`` raised in plug-in code.

Property test: a plug-in model whose ``sample`` (or ``fit``) and a plug-in metric that return
random bad values (NaN, inf, None, a scalar, the wrong shape, complex, R + 2 values, n / 2
samples, strings, dicts, ``sys.exit``) under the inline and loky executors: every trial ends in
a :class:`PluginError` naming the plug-in module, never a ``WorkerError`` (exit 70).
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.core import registry
from autophagy.core.errors import PluginError, WorkerError
from autophagy.core.registry import METRICS, MODELS

MODULE = """
import sys
import numpy as np
from autophagy import Options, register_metric, register_model

BAD = {
    "nan": lambda R, n, d: np.full((R, n, d), np.nan),
    "inf": lambda R, n, d: np.full((R, n, d), np.inf),
    "none": lambda R, n, d: None,
    "scalar": lambda R, n, d: 1.0,
    "2d": lambda R, n, d: np.zeros((R, n)),
    "dim": lambda R, n, d: np.zeros((R, n, d + 1)),
    "complex": lambda R, n, d: np.zeros((R, n, d), dtype=complex),
    "half": lambda R, n, d: np.zeros((R, n // 2, d)),
    "extra": lambda R, n, d: np.zeros((R + 2, n, d)),
    "string": lambda R, n, d: "samples",
    "dict": lambda R, n, d: {"x": np.zeros((R, n, d))},
    "list": lambda R, n, d: np.zeros((R, n, d)).tolist(),
    "bool": lambda R, n, d: np.zeros((R, n, d), dtype=bool),
}
METRIC_BAD = {
    "none": lambda R: None,
    "scalar": lambda R: 0.5,
    "2d": lambda R: np.zeros((R, 2)),
    "complex": lambda R: np.zeros(R, dtype=complex),
    "extra": lambda R: np.zeros(R + 2),
    "few": lambda R: np.zeros(R - 1),
    "string": lambda R: "value",
    "dict": lambda R: {"v": np.zeros(R)},
    "strings": lambda R: ["a"] * R,
    "object": lambda R: np.array([None] * R),
}


class BadOptions(Options):
    bad: str = "ok"
    at: str = "sample"


class Fitted:
    def __init__(self, mean, bad, at):
        self.mean, self.bad, self.at = mean, bad, at

    def sample(self, n, *, rng, sampling_bias):
        if self.at == "sample" and self.bad != "ok":
            return BAD[self.bad](len(rng), n, self.mean.shape[-1])
        return np.stack([g.normal(m, 1.0, size=(n, m.size)) for g, m in zip(rng, self.mean)])

    def state_dict(self):
        if self.at == "state":
            return {"mean": "not an array"}
        return {"mean": self.mean}


class Bad:
    min_samples = 2

    def __init__(self, options):
        self.bad, self.at = options.bad, options.at

    def fit(self, data, *, rng, init=None):
        if self.at == "exit":
            sys.exit(int(self.bad) if self.bad.isdigit() else 0)
        if self.at == "keyboard":
            raise KeyboardInterrupt
        return Fitted(data.mean(axis=1), self.bad, self.at)

    def load(self, state):
        return Fitted(state["mean"], "ok", "sample")


register_model("badplug_model", options=BadOptions, build=Bad, summary="returns bad values")
for _name, _make in METRIC_BAD.items():
    _fn = (lambda make: lambda real, synthetic: make(len(real)))(_make)
    register_metric(f"badplug_{_name}", _fn, higher_is_better=False)
"""
SAMPLE_BAD = (
    "nan",
    "inf",
    "none",
    "scalar",
    "2d",
    "dim",
    "complex",
    "half",
    "extra",
    "string",
    "dict",
    "list",
    "bool",
)
METRIC_BAD = ("none", "scalar", "2d", "complex", "extra", "few", "string", "dict", "strings", "object")


@pytest.fixture(scope="module")
def badplug(tmp_path_factory):
    root = tmp_path_factory.mktemp("badplug")
    (root / "badplug.py").write_text(textwrap.dedent(MODULE))
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    MODELS.pop("badplug_model", None)
    for name in METRIC_BAD:
        METRICS.pop(f"badplug_{name}", None)
    sys.modules.pop("badplug", None)


def _config(R: int, at: str, bad: str, metric: str | None) -> dict:
    return {
        "name": "bad",
        "seed": 0,
        "replicates": R,
        "generations": 2,
        "block_size": R,
        "plugins": ["badplug"],
        "data": {"kind": "gaussian", "dim": 2},
        "model": {"kind": "badplug_model", "bad": bad, "at": at},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
        "metrics": {"names": [metric or "precision"], "n_eval": 20},
    }


def _trial(tmp_path, seed: int) -> tuple[str, str, str]:
    rng = np.random.default_rng(seed)
    R = int(rng.integers(2, 5))
    at = ("sample", "metric", "exit", "keyboard", "state")[int(rng.choice(5, p=[0.4, 0.4, 0.08, 0.06, 0.06]))]
    executor = "local" if rng.random() < 0.3 else "inline"
    metric = None
    bad = "ok"
    if at == "sample":
        bad = SAMPLE_BAD[int(rng.integers(len(SAMPLE_BAD)))]
    elif at == "metric":
        metric = f"badplug_{METRIC_BAD[int(rng.integers(len(METRIC_BAD)))]}"
    elif at == "exit":
        bad = str(int(rng.integers(0, 4)))
    config = _config(R, at, bad, metric)
    try:
        ap.run(
            config,
            tmp_path / f"t{seed}",
            executor=executor,
            workers=2 if executor == "local" else None,
            progress=False,
            plots=False,
            task_seconds=0.0,
        )
    except PluginError as exc:
        assert "badplug" in str(exc), (seed, at, bad, metric, str(exc))
    except WorkerError as exc:  # pragma: no cover - the failure this test exists to catch
        pytest.fail(f"trial {seed} ({at}, {bad}, {metric}, {executor}) blamed autophagy: {exc.summary}")
    else:
        pytest.fail(f"trial {seed} ({at}, {bad}, {metric}, {executor}) was accepted")
    return at, bad if metric is None else metric, executor


def test_bad_plugin_values_are_the_plugins_errors(tmp_path, badplug):
    seen = [_trial(tmp_path, seed) for seed in range(25)]
    assert {executor for *_, executor in seen} == {"inline", "local"}


@pytest.mark.slow
def test_bad_plugin_values_over_a_thousand_trials(tmp_path, badplug):
    import shutil

    for seed in range(1000):
        _trial(tmp_path, seed)
        shutil.rmtree(tmp_path / f"t{seed}", ignore_errors=True)


@pytest.mark.parametrize("bad", SAMPLE_BAD)
def test_every_bad_sample_is_named(tmp_path, badplug, bad):
    with pytest.raises(PluginError, match=r"badplug.*returned"):
        ap.run(
            _config(3, "sample", bad, None), tmp_path / "x", executor="inline", progress=False, plots=False
        )


@pytest.mark.parametrize("bad", METRIC_BAD)
def test_every_bad_metric_value_is_named(tmp_path, badplug, bad):
    with pytest.raises(PluginError, match=rf"badplug_{bad}.*returned"):
        ap.run(
            _config(3, "metric", "ok", f"badplug_{bad}"),
            tmp_path / "x",
            executor="inline",
            progress=False,
            plots=False,
        )


def test_a_good_plugin_passes_the_boundary(tmp_path, badplug):
    """Negative control: the same plug-in returning good values runs."""
    done = ap.run(
        _config(3, "sample", "ok", None), tmp_path / "x", executor="inline", progress=False, plots=False
    )
    assert len(done.rows()) == 3 * 2


IMPORT_EXIT = "import sys\nsys.exit({code})\n"


@pytest.mark.parametrize("command", [["check-model", "gaussian"], ["list"], ["run", "CONFIG"]])
def test_a_plugin_exiting_at_import_never_exits_silently(tmp_path, monkeypatch, command):
    (tmp_path / "exitplug.py").write_text(IMPORT_EXIT.format(code=0))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "c.toml"
    config.write_text(
        'name = "x"\nplugins = ["exitplug"]\n[data]\nkind = "gaussian"\ndim = 2\n[model]\nkind = "gaussian"\n'
        '[loop]\nfamily = "fully_synthetic"\nn_ini = 10\nn_synthetic = 10\n'
    )
    args = [str(config) if a == "CONFIG" else a for a in command] + ["--plugin", "exitplug"]
    try:
        result = CliRunner().invoke(app, args)
    finally:
        sys.modules.pop("exitplug", None)
        registry._SCANNED.clear()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "exitplug" in result.output and "sys.exit" in result.output
