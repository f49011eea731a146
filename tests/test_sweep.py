"""Sweeps: grid and zip expansion, seeds, validation, the issue's example end to end, and a
cell of a sweep equalling the same config run alone."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import base_config
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.running.config import load_config
from autophagy.running.sweep import SweepOptions, expand, plan_cells

ISSUE_SWEEP = """\
name = "issue-sweep"
replicates = 3
generations = 4
block_size = 2
[data]
kind = "gaussian"
dim = 3
[loop]
family = "fresh_data"
n_ini = 60
n_real = 50
n_synthetic = 450
[metrics]
names = ["wasserstein2", "trace_cov", "precision"]
n_eval = 40
[sweep]
grid = { "loop.sampling_bias" = [1.0, 0.7], "loop.family" = ["fresh_data", "fully_synthetic"] }
zip = { "loop.n_real" = [50, 100], "loop.n_synthetic" = [450, 900] }
seeds = [0, 1]
"""

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_grid_is_a_product_zip_moves_together_seeds_repeat_every_cell():
    spec = SweepOptions(
        grid={"a": [1, 2], "b": ["x", "y", "z"]}, zip={"c": [10, 20], "d": [0.1, 0.2]}, seeds=[7, 8]
    )
    keys, cells = expand(spec)
    assert keys == ["a", "b", "c", "d", "seed"]
    assert len(cells) == 2 * 3 * 2 * 2
    assert len({json.dumps(c, sort_keys=True) for c in cells}) == len(cells)
    assert all((c["c"], c["d"]) in {(10, 0.1), (20, 0.2)} for c in cells)  # zipped, never crossed
    assert cells[0] == {"a": 1, "b": "x", "c": 10, "d": 0.1, "seed": 7}
    assert cells[-1] == {"a": 2, "b": "z", "c": 20, "d": 0.2, "seed": 8}
    assert expand(SweepOptions(seeds=[3]))[1] == [{"seed": 3}]


def test_nested_tables_mean_dotted_keys_and_cells_carry_their_values():
    dotted = {**base_config(), "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.5]}, "seeds": [0, 4]}}
    nested = {**base_config(), "sweep": {"grid": {"loop": {"sampling_bias": [1.0, 0.5]}}, "seeds": [0, 4]}}
    keys, cells = plan_cells(dotted)
    assert (keys, [c.values for c in cells]) == (
        plan_cells(nested)[0],
        [c.values for c in plan_cells(nested)[1]],
    )
    assert [(c.config.loop.sampling_bias, c.config.seed) for c in cells] == [
        (1.0, 0),
        (1.0, 4),
        (0.5, 0),
        (0.5, 4),
    ]
    assert [c.index for c in cells] == [0, 1, 2, 3]


BAD_SWEEPS = [
    ('grid = { "loop.nope" = [1, 2] }', 'sweep.grid["loop.nope"]: value 1: unknown key'),
    ('grid = { "data.dimm" = [1] }', 'sweep.grid["data.dimm"]: value 1: unknown key'),
    ('grid = { "loop.sampling_bias" = [1.0, 1.5] }', 'sweep.grid["loop.sampling_bias"]: value 1.5'),
    ('grid = { "loop.sampling_bias" = [] }', 'sweep.grid["loop.sampling_bias"]: is empty'),
    ('grid = { "loop.sampling_bias" = 0.5 }', 'sweep.grid["loop.sampling_bias"]: must be a list'),
    ('zip = { "loop.n_real" = [50, 100], "loop.n_synthetic" = [450] }', "sweep.zip: lists must have equal"),
    (
        'grid = { "loop.n_real" = [50] }\nzip = { "loop.n_real" = [50, 100], "loop.n_synthetic" = [4, 5] }',
        'sweep.zip["loop.n_real"]: is also in sweep.grid',
    ),
    ("seeds = []", "sweep.seeds: is empty"),
    ("seeds = [1, 1]", "sweep.seeds: repeats a seed"),
    ("seeds = [-1]", "sweep.seeds.0"),
    ('seeds = [0]\ngrid = { "seed" = [1, 2] }', "sweep.seeds: seed is also a grid or zip key"),
    (
        'grid = { "loop.family" = ["fresh_data", "sideways"] }',
        "sweep.grid[\"loop.family\"]: value 'sideways'",
    ),
    ('grid = { "loop.n_real" = [10, 0] }', 'sweep.grid["loop.n_real"]: value 0: must be positive'),
    ('grids = { "seed" = [1] }', "sweep.grids: unknown key"),
    ('grid = { "sweep.seeds" = [[1]] }', "a sweep cannot sweep itself"),
    ('grid = { "loop.sampling_bias.x" = [1] }', 'sweep.grid["loop.sampling_bias.x"]'),
    ('grid = { "metrics.n_eval" = [3] }', "(in the sweep cell metrics.n_eval = 3)"),
]


@pytest.mark.parametrize(("table", "message"), BAD_SWEEPS)
def test_bad_sweep_one_clear_error_exit_2_nothing_written(tmp_path, table, message):
    path = tmp_path / "s.toml"
    path.write_text(ISSUE_SWEEP.split("[sweep]")[0] + "[sweep]\n" + table + "\n")
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--quiet")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_issue_example_sweep_runs_and_exports_one_column_per_swept_key(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(ISSUE_SWEEP)
    out = tmp_path / "sweep"
    result = invoke("run", path, "--out", out, "--quiet", "--executor", "inline")
    assert result.exit_code == 0, result.output
    assert "sweep of 16 runs" in result.output
    result = invoke("export", out, "--output", out / "table.csv")
    assert result.exit_code == 0, result.output
    text = (out / "table.csv").read_text()
    header = text.splitlines()[0].split(",")
    swept = ["loop.sampling_bias", "loop.family", "loop.n_real", "loop.n_synthetic", "seed"]
    assert header == [*swept, "replicate", "generation", "metric", "value", "complete"]
    rows = _csv(text)
    assert len(rows) == 16 * 3 * 4 * 3  # cells x replicates x generations x metrics
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["swept"] == swept and len(manifest["cells"]) == 16
    for cell in manifest["cells"]:  # fully synthetic cells do not use n_real; they say so
        fully = cell["values"]["loop.family"] == "fully_synthetic"
        assert cell["ignored"] == (["loop.n_real"] if fully else [])
        assert cell["config"]["loop"]["n_real"] == (0 if fully else cell["values"]["loop.n_real"])
        assert cell["config"]["loop"]["n_synthetic"] == cell["values"]["loop.n_synthetic"]
    assert {p.name for p in (out / "plots").iterdir()} == {
        "wasserstein2.png",
        "trace_cov.png",
        "precision.png",
    }

    # a sweep cell is exactly the same config run alone
    alone = tmp_path / "alone"
    sets = ["loop.sampling_bias=0.7", "loop.family='fresh_data'", "loop.n_real=100", "loop.n_synthetic=900"]
    base = tmp_path / "base.toml"
    base.write_text(ISSUE_SWEEP.split("[sweep]")[0])
    args = [a for s in [*sets, "seed=1"] for a in ("--set", s)]
    assert invoke("run", base, "--out", alone, "--quiet", *args).exit_code == 0
    assert invoke("export", alone, "--output", alone / "t.csv").exit_code == 0
    single = [
        (r["replicate"], r["generation"], r["metric"], r["value"])
        for r in _csv((alone / "t.csv").read_text())
    ]
    cell = [
        (r["replicate"], r["generation"], r["metric"], r["value"])
        for r in rows
        if (r["loop.sampling_bias"], r["loop.family"], r["loop.n_real"], r["seed"])
        == ("0.7", "fresh_data", "100", "1")
    ]
    assert cell == single


def test_rerun_of_a_finished_sweep_changes_nothing_and_a_changed_sweep_is_refused(tmp_path):
    raw = {**base_config(), "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.5]}}}
    path = tmp_path / "s.toml"
    path.write_text(_toml(raw))
    out = tmp_path / "out"
    assert invoke("run", path, "--out", out, "--quiet").exit_code == 0
    assert invoke("export", out, "--output", tmp_path / "a.csv").exit_code == 0
    assert invoke("run", path, "--out", out, "--quiet").exit_code == 0
    assert invoke("export", out, "--output", tmp_path / "b.csv").exit_code == 0
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    result = invoke("run", path, "--out", out, "--quiet", "--set", "sweep.seeds=[1]")
    assert result.exit_code == 2 and "different config" in result.output
    (out / "plots" / "wasserstein2.png").unlink()
    assert invoke("plot", out).exit_code == 0 and (out / "plots" / "wasserstein2.png").is_file()


def _toml(raw: dict) -> str:
    """A raw config as TOML (enough for the tables these tests use)."""
    lines, tables = [], []
    for key, value in raw.items():
        (tables if isinstance(value, dict) else lines).append((key, value))
    text = "".join(f"{k} = {json.dumps(v)}\n" for k, v in lines)
    for name, table in tables:
        text += f"[{name}]\n"
        for key, value in table.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
                text += f"{key} = {{ {inner} }}\n"
            else:
                text += f"{key} = {json.dumps(value)}\n"
    return text


def test_toml_helper_round_trips(tmp_path):
    raw = {**base_config(), "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.5]}, "seeds": [0, 1]}}
    path = tmp_path / "s.toml"
    path.write_text(_toml(raw))
    assert load_config(path) == raw


FAMILY_SWEEP = """\
name = "families"
replicates = 3
generations = 3
block_size = 3
[data]
kind = "gaussian"
dim = 2
[loop]
family = "fresh_data"
n_ini = 100
n_real = 100
n_synthetic = 100
[metrics]
names = ["wasserstein2", "trace_cov"]
n_eval = 20
[sweep]
grid = { "loop.family" = ["fully_synthetic", "fresh_data"] }
"""


def test_family_sweep_over_a_base_with_n_real_runs_and_exports_both_points(tmp_path):
    """A base key a family does not use (n_real for fully_synthetic) is ignored there, said once."""
    path = tmp_path / "s.toml"
    path.write_text(FAMILY_SWEEP)
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--quiet", "--executor", "inline")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.count("loop.n_real is not used by loop.family = 'fully_synthetic'") == 1, result.output
    manifest = json.loads((out / "sweep.json").read_text())
    assert [c["ignored"] for c in manifest["cells"]] == [["loop.n_real"], []]
    assert [c["config"]["loop"]["n_real"] for c in manifest["cells"]] == [0, 100]
    assert invoke("export", out, "--output", out / "t.csv").exit_code == 0
    rows = _csv((out / "t.csv").read_text())
    assert {r["loop.family"] for r in rows} == {"fully_synthetic", "fresh_data"}
    assert len(rows) == 2 * 3 * 3 * 2  # cells x replicates x generations x metrics


def test_family_that_needs_a_key_the_base_lacks_gets_one_error_naming_it(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        FAMILY_SWEEP.replace('family = "fresh_data"', 'family = "fully_synthetic"').replace(
            "n_real = 100\n", ""
        )
    )
    out = tmp_path / "out"
    result = invoke("run", path, "--out", out, "--quiet")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    text = " ".join(result.output.split())
    assert text.startswith("error: loop.n_real: must be positive for fresh_data: set loop.n_real"), text
    assert "loop.family = 'fresh_data'" in text and text.count("error:") == 1 and len(lines) <= 3
    assert not out.exists()


def test_a_plain_run_still_refuses_a_key_its_family_does_not_use():
    raw = base_config(n_real=10)  # fully_synthetic
    with pytest.raises(ConfigError) as err:
        plan_cells(raw)
    assert err.value.field == "loop.n_real"


def test_repeated_values_are_points_keyed_by_position_and_labelled_apart(tmp_path):
    raw = base_config(family="fresh_data", n_real=10)
    raw.update(replicates=2, generations=2, block_size=2)
    raw["metrics"] = {"names": ["wasserstein2"], "n_eval": 20}
    raw["sweep"] = {
        "zip": {"loop.sampling_bias": [1.0, 1.0, 0.5], "loop.n_real": [10, 10, 20]},
        "seeds": [0, 1],
    }
    _, cells = plan_cells(raw)
    assert [c.tags for c in cells] == [{}, {}, {"loop.sampling_bias": 2}, {"loop.sampling_bias": 2}, {}, {}]
    path, out = tmp_path / "s.toml", tmp_path / "out"
    path.write_text(_toml(raw))
    assert invoke("run", path, "--out", out, "--quiet", "--executor", "inline").exit_code == 0
    from autophagy.results.report import render
    from autophagy.results.run import cell_label, open_run

    folder = open_run(out)
    labels = {cell_label(c["values"], skip=("seed",), tags=c.get("tags")) for c in folder.cells}
    assert labels == {
        "loop.sampling_bias=1.0, loop.n_real=10",
        "loop.sampling_bias=1.0 #2, loop.n_real=10",
        "loop.sampling_bias=0.5, loop.n_real=20",
    }
    page = render(open_run(out))
    assert "1.0 #2</td>" in page  # the cells table tells the repeat apart
    table = folder.table()
    assert list(table.columns[:4]) == ["loop.sampling_bias", "loop.n_real", "seed", "point"]
    assert sorted(table["point"].unique()) == [0, 1, 2]  # seeds pooled into their point
    summary = folder.summary()
    assert len(summary[(summary.metric == "wasserstein2") & (summary.generation == 2)]) == 3
    assert set(summary["n"]) == {4}  # 2 seeds x 2 replicates per point


def test_fully_repeated_point_gives_the_same_rows_as_its_twin():
    raw = base_config()
    raw["sweep"] = {"grid": {"loop.sampling_bias": [0.5, 0.5]}}
    _, cells = plan_cells(raw)
    assert [c.tags for c in cells] == [{}, {"loop.sampling_bias": 2}]
    assert cells[0].raw == cells[1].raw  # a cell is its config run alone: twins agree
    assert cells[0].shipped == cells[1].shipped  # and ship the same experiment
