"""The low-dimensional example configs validate as shipped (without running them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autophagy.running.config import load_config, resolve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(("name", "model"), [("g6_mixture_modes", "gmm"), ("g7_flow_rosenbrock", "flow")])
def test_example_config_resolves(name, model):
    _, config, resolved = resolve(load_config(EXAMPLES / f"{name}.toml"))
    assert resolved["model"]["kind"] == model
    assert max(config.plots.generations) == config.generations
