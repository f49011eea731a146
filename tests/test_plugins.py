"""A user's plug-in package (model + metric, entry points), built in a temporary folder and run
under every executor: identical rows for the same seed, and one identical error line when the
plug-in raises."""

from __future__ import annotations

import sys
import textwrap

import pytest
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.core import registry
from autophagy.core.registry import DATA, METRICS, MODELS, load_entry_points

PACKAGE = '''
"""A throwaway plug-in: a diagonal Gaussian and a mean-gap metric."""
import numpy as np

from autophagy import Options, register_metric, register_model


class DiagOptions(Options):
    fail: bool = False


class Fitted:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def sample(self, n, *, rng, sampling_bias):
        scale = self.std * np.sqrt(sampling_bias)
        return np.stack([g.normal(m, s, size=(n, m.size)) for g, m, s in zip(rng, self.mean, scale)])

    def state_dict(self):
        return {"mean": self.mean, "std": self.std}


class Diag:
    min_samples = 2

    def __init__(self, options):
        self.fail = options.fail

    def fit(self, data, *, rng, init=None):
        if self.fail:
            raise ValueError("labplug refuses to fit")
        return Fitted(data.mean(axis=1), data.std(axis=1, ddof=1))

    def load(self, state):
        return Fitted(state["mean"], state["std"])


def mean_gap(real, synthetic, *, rng):
    """|mean(real) - mean(synthetic)|_1 per replicate, on a random half of the synthetic rows."""
    half = synthetic.shape[1] // 2
    picked = np.stack([s[g.permutation(s.shape[0])[:half]] for g, s in zip(rng, synthetic)])
    return np.abs(real.mean(axis=1) - picked.mean(axis=1)).sum(axis=-1)


register_model("labplug_diag", options=DiagOptions, build=Diag, summary="diagonal Gaussian")
register_metric("labplug_gap", mean_gap, higher_is_better=False, summary="mean gap, L1")
'''

CONFIG = """
name = "plug"
seed = 5
replicates = 4
generations = 3
block_size = 2
[data]
kind = "gaussian"
dim = 3
[model]
kind = "labplug_diag"
[loop]
family = "fully_synthetic"
n_ini = 30
n_synthetic = 30
[metrics]
names = ["labplug_gap", "frechet"]
n_eval = 60
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The package folder with an installed-looking distribution (dist-info with entry points)."""
    root = tmp_path_factory.mktemp("site")
    (root / "labplug").mkdir()
    (root / "labplug" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    info = root / "labplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[autophagy.models]\nlabplug_diag = labplug\n[autophagy.metrics]\nlabplug_gap = labplug\n"
    )
    return root


@pytest.fixture
def installed(package, monkeypatch):
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setenv("PYTHONPATH", f"{package}:{':'.join(p for p in sys.path if p)}")
    yield package
    MODELS.pop("labplug_diag", None)
    METRICS.pop("labplug_gap", None)
    sys.modules.pop("labplug", None)
    registry._SCANNED.clear()
    registry._LOADED_ENTRY_POINTS.clear()


def _rows(config, out, executor, workers=None):
    run = ap.run(config, out=out, executor=executor, workers=workers, progress=False, plots=False)
    return run.rows()


def test_entry_points_register_and_run_identically_in_every_executor(installed, tmp_path):
    (tmp_path / "cfg.toml").write_text(CONFIG)
    config = ap.load_config(tmp_path / "cfg.toml")
    inline = _rows(config, tmp_path / "inline", "inline")
    assert {m for *_, m, _ in inline} == {"labplug_gap", "frechet"}
    assert len(inline) == 4 * 3 * 2
    assert MODELS["labplug_diag"].provider == "labplug"
    assert _rows(config, tmp_path / "local", "local", workers=2) == inline
    pytest.importorskip("ray")
    assert _rows(config, tmp_path / "ray", "ray", workers=2) == inline


def test_listed_plugin_module_runs_from_another_directory(installed, tmp_path, monkeypatch):
    """`--plugin` with a relative data path, run from a folder that is not the config's."""
    import numpy as np

    study = tmp_path / "study"
    study.mkdir()
    np.save(study / "real.npy", np.random.default_rng(1).normal(size=(120, 3)))
    text = CONFIG.replace('kind = "gaussian"\ndim = 3', 'kind = "file"\npath = "real.npy"')
    (study / "cfg.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app,
        ["run", "study/cfg.toml", "--plugin", "labplug", "--out", "out", "--quiet", "--workers", "2"],
    )
    assert result.exit_code == 0, result.output
    rows = ap.open_run(tmp_path / "out").rows()
    assert len(rows) == 4 * 3 * 2


@pytest.mark.parametrize("executor", ["inline", "local", pytest.param("ray", marks=pytest.mark.slow)])
def test_a_raising_plugin_gives_the_same_one_line_error(installed, tmp_path, executor):
    if executor == "ray":
        pytest.importorskip("ray")
    (tmp_path / "cfg.toml").write_text(
        CONFIG.replace('kind = "labplug_diag"', 'kind = "labplug_diag"\nfail = true')
    )
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(tmp_path / "cfg.toml"),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
            "--executor",
            executor,
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: plugin labplug: ValueError: labplug refuses to fit"), result.output
    assert "Traceback" not in result.output


def test_unlisted_hook_module_is_refused(tmp_path):
    raw = ap.load_config(
        {
            "data": {"kind": "gaussian", "dim": 2},
            "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
            "mitigation": {"correct": {"gamma": 0.5, "method": "os:system"}},
        }
    )
    with pytest.raises(ap.ConfigError, match="not listed in plugins"):
        ap.run(raw, out=tmp_path / "x", executor="inline", progress=False)
    assert not (tmp_path / "x").exists()


def test_plugin_names_are_absolute_modules(tmp_path):
    raw = {
        "plugins": [".relative"],
        "data": {"kind": "gaussian", "dim": 2},
        "loop": {"family": "fully_synthetic", "n_ini": 20, "n_synthetic": 20},
    }
    with pytest.raises(ap.ConfigError, match=r"plugins: '\.relative' is not an absolute module"):
        ap.run(raw, out=tmp_path / "x", executor="inline", progress=False)


def test_register_refuses_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        ap.register_data("gaussian", options=ap.Options, build=lambda o: None)
    assert "gaussian" in DATA and DATA["gaussian"].provider == "autophagy"
    load_entry_points()  # idempotent without new paths
