"""The public Python API: load_config, run, open_run and Run's tables, summaries and state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import autophagy as ap
from autophagy.storage.layout import STORE_FILE

SWEEP = {
    "name": "api",
    "seed": 3,
    "replicates": 5,
    "generations": 4,
    "data": {"kind": "gaussian", "dim": 2},
    "loop": {"family": "fully_synthetic", "n_ini": 40, "n_synthetic": 40},
    "metrics": {"names": ["trace_cov", "mean_drift"]},
    "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.8]}},
}


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "sweep"
    return ap.run(ap.load_config(SWEEP), out=out, executor="inline", progress=False, plots=False)


def test_public_names_are_listed_and_importable():
    assert set(ap.__all__) >= {"load_config", "run", "open_run", "Run", "register_model", "register_metric"}
    for name in ap.__all__:
        assert getattr(ap, name) is not None


def test_three_lines_give_a_long_table(sweep_run):
    table = sweep_run.table()
    assert list(table.columns) == ["loop.sampling_bias", "replicate", "generation", "metric", "value"]
    # every planned row: 2 cells x 5 replicates x 4 generations x 2 metrics
    assert len(table) == 2 * 5 * 4 * 2
    assert set(table["loop.sampling_bias"]) == {1.0, 0.8}
    assert sweep_run.complete


def test_summary_is_the_student_t_interval_of_the_replicates(sweep_run):
    table, summary = sweep_run.table(), sweep_run.summary(ci=0.9)
    assert len(summary) == 2 * 4 * 2 and set(summary["n"]) == {5}
    for _, row in summary.iterrows():
        values = table[
            (table["loop.sampling_bias"] == row["loop.sampling_bias"])
            & (table["generation"] == row["generation"])
            & (table["metric"] == row["metric"])
        ]["value"].to_numpy()
        low, high = stats.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert (row["low"], row["high"]) == pytest.approx((low, high), rel=1e-10)


def test_table_pairs_replicates_across_sweep_points(sweep_run):
    """Shared streams make sweep points paired: with the same draws scaled by sqrt(lambda),
    each replicate's fitted covariance under lambda = 0.8 is exactly 0.8^(t-1) times its
    covariance under lambda = 1 (an invariance the long table must preserve row by row)."""
    trace = sweep_run.table().query("metric == 'trace_cov'")
    paired = trace.pivot_table(
        index=["replicate", "generation"], columns="loop.sampling_bias", values="value"
    )
    generation = paired.index.get_level_values("generation").to_numpy()
    np.testing.assert_allclose(paired[0.8] / paired[1.0], 0.8 ** (generation - 1), rtol=1e-9)


def test_open_run_reads_the_same_folder(sweep_run):
    again = ap.open_run(sweep_run.path)
    assert again.is_sweep and again.swept == ["loop.sampling_bias"]
    assert again.table().equals(sweep_run.table())
    assert again.config["sweep"] == SWEEP["sweep"]


def test_an_unfinished_block_makes_the_run_incomplete(tmp_path):
    config = {**SWEEP, "generations": 3}
    config.pop("sweep")
    run = ap.run(config, out=tmp_path / "one", executor="inline", progress=False, plots=False)
    assert run.complete and run.progress() == (5 * 3, 5 * 3)
    with run.store() as store, store.conn:  # roll the block's checkpoint back one generation
        store.conn.execute("UPDATE checkpoints SET generation = 2")
    assert not ap.open_run(run.path).complete
    assert ap.open_run(run.path).progress() == (5 * 2, 5 * 3)


def test_overrides_as_strings_or_mapping_agree():
    base = {k: v for k, v in SWEEP.items() if k != "sweep"}
    by_string = ap.load_config(base, ["loop.sampling_bias=0.7", "seed=9"])
    by_mapping = ap.load_config(base, {"loop.sampling_bias": 0.7, "seed": 9})
    assert by_string == by_mapping
    assert base["loop"].get("sampling_bias") is None  # the caller's dict is untouched


def test_bad_config_raises_before_anything_is_written(tmp_path):
    bad = {**SWEEP, "replicates": 0}
    with pytest.raises(ap.ConfigError, match="replicates"):
        ap.run(bad, out=tmp_path / "bad", executor="inline", progress=False)
    assert not (tmp_path / "bad").exists()


def test_relative_data_path_is_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    np.save(folder / "real.npy", np.random.default_rng(0).normal(size=(200, 2)))
    (folder / "cfg.toml").write_text(
        'name = "file"\nreplicates = 2\ngenerations = 2\n[data]\nkind = "file"\npath = "real.npy"\n'
        '[loop]\nfamily = "fully_synthetic"\nn_ini = 50\nn_synthetic = 50\n'
        '[metrics]\nnames = ["wasserstein2"]\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = ap.run(folder / "cfg.toml", out=tmp_path / "out", executor="inline", progress=False, plots=False)
    stored = json.loads((run.path / "config.json").read_text())
    assert stored["data"]["path"] == str(folder / "real.npy")
    assert stored["data"]["held_out"] == 0.2
    assert len(run.table()) == 2 * 2


def test_not_a_folder_is_a_config_error(tmp_path):
    with pytest.raises(ap.ConfigError, match=STORE_FILE):
        ap.open_run(tmp_path)


def test_a_folder_from_before_new_keys_resumes_with_its_stored_config(tmp_path, monkeypatch):
    """Old folders stored file data without ``held_out`` and with the path as given: the same
    config resumes there (as held_out = 0, its rows untouched) instead of being refused."""
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "real.npy", np.random.default_rng(0).normal(size=(100, 2)))
    text = (
        'name = "old"\nreplicates = 2\ngenerations = 2\n[data]\nkind = "file"\npath = "real.npy"\n'
        '[loop]\nfamily = "fully_synthetic"\nn_ini = 40\nn_synthetic = 40\n'
        '[metrics]\nnames = ["frechet"]\nn_eval = 50\n'
    )
    (tmp_path / "cfg.toml").write_text(text)
    raw = ap.load_config(tmp_path / "cfg.toml", {"data.held_out": 0})
    first = ap.run(raw, out="old", executor="inline", progress=False, plots=False)
    manifest = json.loads((first.path / "config.json").read_text())
    del manifest["data"]["held_out"], manifest["data"]["split_seed"], manifest["plugins"]
    del manifest["loop"]["retention"]
    manifest["data"]["path"] = "real.npy"  # as older versions stored it
    (first.path / "config.json").write_text(json.dumps(manifest))
    again = ap.run(ap.load_config(tmp_path / "cfg.toml"), out="old", executor="inline", progress=False)
    assert again.rows() == first.rows()
    with pytest.raises(ap.ConfigError, match="different config"):  # a new default is a new run
        ap.run(ap.load_config(tmp_path / "cfg.toml", ["data.held_out=0.3"]), out="old", executor="inline")
