"""``autophagy check-model``: every item printed as plain text, exit 0 / 1 / 2."""

from __future__ import annotations

import textwrap

from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core.registry import MODELS

runner = CliRunner()

BROKEN_PLUGIN = """
import numpy as np
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.core.registry import Options, register_model


class NoRng(FittedGaussian):
    def sample(self, n, *, rng, sampling_bias):  # ignores its rngs: not reproducible
        z = np.random.default_rng().standard_normal((len(self.mean), n, self.mean.shape[1]))
        return self.mean[:, None, :] + np.sqrt(sampling_bias) * z


class Settings(GaussianModel):
    def fit(self, data, *, rng, init=None):
        m = super().fit(data, rng=rng)
        return NoRng(m.mean, m.cov)

    def load(self, state):
        return NoRng(state["mean"], state["cov"])


class NoOptions(Options):
    pass


register_model("no_rng_cli", options=NoOptions, build=lambda o: Settings(), replace=True)
"""


def test_builtin_passes_with_every_item_listed():
    result = runner.invoke(app, ["check-model", "gaussian"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "contract of model 'gaussian'"
    for item in ("shape", "determinism", "unbiased", "bias_narrows", "moments", "log_prob", "state_dict"):
        assert any(line.startswith(f"  ok   {item}: ") for line in lines), item
    assert lines[-1] == "13 passed, 0 failed"


def test_broken_plugin_fails_with_exit_1_and_names_the_item(tmp_path, monkeypatch):
    (tmp_path / "broken_models.py").write_text(textwrap.dedent(BROKEN_PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        result = runner.invoke(app, ["check-model", "no_rng_cli", "--plugin", "broken_models"])
    finally:
        MODELS.pop("no_rng_cli", None)
    assert result.exit_code == 1, result.output
    assert "contract of model 'no_rng_cli'" in result.output
    assert (
        "  FAIL determinism: two sample() calls with identically seeded rngs gave different" in result.output
    )
    assert "  ok   shape:" in result.output
    assert result.output.splitlines()[-1].endswith(" failed") and " 0 failed" not in result.output


def test_unknown_model_exits_2_with_one_line():
    """The name, which looks like Rich markup, is printed as typed, never interpreted."""
    result = runner.invoke(app, ["check-model", "[bold]nope"])
    assert result.exit_code == 2
    assert result.output.startswith("error: model: unknown model '[bold]nope'; choose from ")


def test_plugin_that_cannot_be_imported_exits_2():
    result = runner.invoke(app, ["check-model", "gaussian", "--plugin", "no_such_module_xyz"])
    assert result.exit_code == 2
    assert "error: plugins: cannot import 'no_such_module_xyz'" in result.output
