"""What a notebook sees of a Run: a one-line repr, a named progress tuple, a sweep's config."""

from __future__ import annotations

import pytest
from conftest import base_config
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.reproduce import QUICK_TIMES, RECIPES
from autophagy.results.run import Progress


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    raw = base_config()
    raw["generations"] = 2
    raw["sweep"] = {"grid": {"loop.sampling_bias": [1.0, 0.8]}, "seeds": [0, 1]}
    return ap.run(raw, tmp_path_factory.mktemp("face") / "s", executor="inline", progress=False, plots=False)


def test_repr_is_one_short_line(sweep):
    text = repr(sweep)
    assert "\n" not in text and len(text) < 200
    assert "sweep 'test' of 4 cells over loop.sampling_bias, seed" in text


def test_progress_is_a_named_tuple(sweep):
    done = sweep.progress()
    assert isinstance(done, Progress) and done == (4 * 6 * 2, 4 * 6 * 2)
    assert done.done == done.planned and done.fraction == 1.0


def test_a_sweeps_config_is_a_config_not_the_manifest(sweep):
    config = sweep.config
    assert "cells" not in config and "swept" not in config
    assert config["model"]["kind"] == "gaussian" and config["generations"] == 2
    assert "sampling_bias" not in config["loop"] and "seed" not in config  # swept: set per cell
    assert config["sweep"]["seeds"] == [0, 1]
    assert sweep.manifest["cells"][1]["config"]["loop"]["sampling_bias"] == 1.0


def test_list_filters_a_section_and_says_each_direction_once():
    cli = CliRunner()
    done = cli.invoke(app, ["list", "models"])
    assert done.exit_code == 0 and "models (model.kind)" in done.output and "metrics" not in done.output
    done = cli.invoke(app, ["list", "metrics"], terminal_width=400)
    assert "lower is better; lower is better" not in done.output
    assert "mean_offset_0..9" in done.output and "mean_offset_3 " not in done.output
    done = cli.invoke(app, ["list", "nope"])
    assert done.exit_code == 2 and done.output.startswith("error: WHAT: unknown section 'nope'")


def test_help_lists_every_command_and_reproduce_list_shows_times():
    cli = CliRunner()
    done = cli.invoke(app, ["--help"])
    assert "check-model" in done.output.split("Commands:")[0] and "compare" in done.output
    assert set(QUICK_TIMES) == set(RECIPES)
    done = cli.invoke(app, ["reproduce", "--list"], terminal_width=400)
    assert "quick time" in done.output and QUICK_TIMES["G7"] in done.output
