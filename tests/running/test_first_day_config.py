"""First-day friction in configs: overrides of swept keys, overrides validated where they are
given, a refused folder naming the key that differs, and default metrics per model family."""

from __future__ import annotations

import copy

import pytest
from conftest import base_config
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.running.config import resolve

SWEEP = """\
name = "s"
replicates = 2
generations = 2
[data]
kind = "gaussian"
dim = 2
[loop]
family = "fully_synthetic"
n_ini = 20
n_synthetic = 20
sampling_bias = 0.9
[metrics]
names = ["wasserstein2"]
n_eval = 30
[sweep]
grid = { "loop.sampling_bias" = [1.0, 0.5] }
seeds = [0, 1]
"""


@pytest.mark.parametrize(
    ("setting", "field", "words"),
    [
        ("loop.sampling_bias=0.5", "loop.sampling_bias", "is swept by sweep.grid"),
        ("loop.sampling_bias=1.7", "loop.sampling_bias", "is swept by sweep.grid"),
        ("seed=3", "seed", "--set 'sweep.seeds=[3]'"),
    ],
)
def test_an_override_of_what_the_sweep_sets_is_refused_naming_the_key(tmp_path, setting, field, words):
    (tmp_path / "s.toml").write_text(SWEEP)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(tmp_path / "s.toml"), "--out", str(out), "--set", setting])
    assert done.exit_code == 2 and done.output.startswith(f"error: {field}: ") and words in done.output
    assert not out.exists()
    key, _, value = setting.partition("=")
    with pytest.raises(ConfigError, match=f"^{field}: "):
        ap.load_config(tmp_path / "s.toml", {key: float(value)})
    with pytest.raises(ConfigError, match=f"^{field}: "):
        ap.load_config(tmp_path / "s.toml", [setting])


def test_the_sweep_itself_can_be_overridden(tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP)
    raw = ap.load_config(tmp_path / "s.toml", ["sweep.seeds=[3]", "loop.n_ini=25"])
    assert raw["sweep"]["seeds"] == [3] and raw["loop"]["n_ini"] == 25


def test_load_config_validates_its_overrides():
    with pytest.raises(ConfigError, match=r"^loop\.sampling_bias: .*at most 1"):
        ap.load_config(base_config(), {"loop.sampling_bias": 1.7})
    with pytest.raises(ConfigError, match=r"^loop\.sampling_bias: "):
        ap.load_config(base_config(), ["loop.sampling_bias=1.7"])
    assert (
        ap.load_config(base_config(), {"loop.sampling_bias": 1.7}, validate=False)["loop"]["sampling_bias"]
        == 1.7
    )
    assert ap.load_config(base_config())["loop"]["sampling_bias"] == 0.9  # no overrides: validated at run


def test_a_folder_of_another_config_names_the_key_that_differs(tmp_path):
    raw = base_config()
    raw["generations"] = 1
    ap.run(raw, tmp_path / "r", executor="inline", progress=False, plots=False)
    other = copy.deepcopy(raw)
    other["loop"]["sampling_bias"] = 0.7
    with pytest.raises(ConfigError, match=r"different config \(loop\.sampling_bias: 0\.9 there, 0\.7 here\)"):
        ap.run(other, tmp_path / "r", executor="inline", progress=False)


def _defaults(model, data):
    raw = base_config()
    raw["model"], raw["data"] = model, data
    del raw["metrics"]
    return resolve(raw)[2]["metrics"]["names"]


@pytest.mark.parametrize(
    ("model", "data", "expected"),
    [
        (
            {"kind": "gaussian"},
            {"kind": "gaussian", "dim": 3},
            ["wasserstein2", "trace_cov", "mean_drift", "precision", "recall"],
        ),
        (
            {"kind": "kde"},
            {"kind": "gaussian", "dim": 3},
            ["wasserstein2", "trace_cov", "mean_drift", "precision", "recall"],
        ),
        ({"kind": "flow"}, {"kind": "gaussian", "dim": 3}, ["wasserstein2", "precision", "recall"]),
        (
            {"kind": "categorical"},
            {"kind": "categorical", "n_categories": 5},
            ["gini_simpson", "surviving", "true_tv"],
        ),
        (
            {"kind": "ngram"},
            {"kind": "text_grammar"},
            ["cross_entropy", "cross_entropy_true", "distinct_2", "type_token_ratio"],
        ),
        ({"kind": "ols"}, {"kind": "linear_regression"}, ["test_error"]),
    ],
)
def test_each_model_family_brings_metrics_it_supports(model, data, expected):
    assert _defaults(model, data) == expected


def test_hf_causal_lm_defaults_fit_text_data():
    """The defaults of hf_causal_lm on documents data (the check, without building a model)."""
    from autophagy.models import MODELS
    from autophagy.running.config import default_metric_names

    names = default_metric_names(MODELS["hf_causal_lm"], "hf_causal_lm", object(), "documents", False)
    assert names == ["perplexity", "generated_distinct_2", "length_mean"]
    assert "trace_cov" not in names  # the old default that needed a Gaussian


@pytest.mark.slow
def test_hf_causal_lm_without_metrics_resolves():
    pytest.importorskip("transformers")
    model = {"kind": "hf_causal_lm", "architecture": "gpt2", "layers": 1, "width": 16, "heads": 2}
    model |= {"context": 32, "seq_length": 32, "vocab_size": 300, "device": "cpu"}
    names = _defaults(model, {"kind": "documents", "max_bytes": 64})
    assert names == ["perplexity", "generated_distinct_2", "length_mean"]
