"""``autophagy compare`` / ``ap.compare``: several folders in one table and one report, with
the summary's t intervals and paired differences where folders share seeds."""

from __future__ import annotations

import copy
import html
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import autophagy as ap
from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.results.report import column_decimals, interval_text

BASE = {
    "name": "gauss",
    "seed": 0,
    "replicates": 6,
    "generations": 3,
    "block_size": 6,
    "data": {"kind": "gaussian", "dim": 2},
    "model": {"kind": "gaussian"},
    "loop": {"family": "fully_synthetic", "n_ini": 30, "n_synthetic": 30, "sampling_bias": 0.8},
    "metrics": {"names": ["trace_cov", "wasserstein2"], "n_eval": 60},
}


def _run(raw, out):
    return ap.run(raw, out, executor="inline", progress=False, plots=False)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A Gaussian loop and a GMM loop on the same seed and data, and a sweep of the GMM over
    lambda with two seeds (seed 0 shared with the others)."""
    root = tmp_path_factory.mktemp("compare")
    gmm = copy.deepcopy(BASE) | {"name": "gmm", "model": {"kind": "gmm", "components": 2}}
    sweep = copy.deepcopy(gmm) | {
        "name": "gmm-sweep",
        "sweep": {"grid": {"loop.sampling_bias": [1.0, 0.8]}, "seeds": [0, 5]},
    }
    return {
        "gauss": _run(copy.deepcopy(BASE), root / "runs" / "gauss"),
        "gmm": _run(gmm, root / "runs" / "gmm"),
        "sweep": _run(sweep, root / "sweep"),
        "root": root,
    }


def _cells(text: str, section: str) -> list[list[str]]:
    """The text of every row of the first table after heading ``section``."""
    part = text.split(f"<h2>{section}</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part, flags=re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S) for r in rows]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c.replace("<br>", " "))) for c in row] for row in cells]


def test_the_report_table_is_each_run_summary(folders, tmp_path):
    """Every number of the comparison's final table is the Run.summary interval of its folder,
    in one number format per metric column; metrics in the config's order."""
    comparison = ap.compare([folders["gauss"].path, folders["gmm"].path])
    written = comparison.write(tmp_path / "cmp")
    text = written["report"].read_text()
    rows = _cells(text, "Final generation")
    assert rows[0] == ["folder", "trace_cov closer to the true value", "wasserstein2 ↓ lower is better"]
    for label, row in zip(["gauss", "gmm"], rows[1:], strict=True):
        summary = folders[label].summary()
        final = summary[summary["generation"] == 3]
        assert row[0] == label
        for metric, cell in zip(["trace_cov", "wasserstein2"], row[1:], strict=True):
            both = comparison.summary()
            column = both[(both["metric"] == metric) & (both["generation"] == 3)].to_dict("records")
            mine = final[final["metric"] == metric].iloc[0]
            assert cell == interval_text(mine["mean"], mine["low"], mine["high"], column_decimals(column))
    csv = pd.read_csv(written["summary"])
    expected = pd.concat([folders[k].summary().assign(folder=k) for k in ("gauss", "gmm")], ignore_index=True)
    np.testing.assert_allclose(
        csv[["mean", "low", "high"]].to_numpy(), expected[["mean", "low", "high"]].to_numpy()
    )
    assert list(csv["folder"]) == list(expected["folder"])


def test_paired_differences_match_a_hand_computation(folders):
    """Same seed and replicates: the paired mean and interval are the t interval of the
    per-replicate differences gmm - gauss (scipy's t quantile), and they differ from the
    unpaired intervals."""
    paired = ap.compare([folders["gauss"].path, folders["gmm"].path]).paired()
    a, b = folders["gauss"].arrays(), folders["gmm"].arrays()
    for metric in ("trace_cov", "wasserstein2"):
        diff = b[metric][:, -1] - a[metric][:, -1]
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        row = paired[(paired["metric"] == metric) & (paired["generation"] == 3)].iloc[0]
        assert row["folder"] == "gmm" and row["baseline"] == "gauss" and row["n"] == 6
        np.testing.assert_allclose(
            [row["mean"], row["low"], row["high"]], [diff.mean(), diff.mean() - half, diff.mean() + half]
        )


def test_a_sweep_pairs_on_shared_seeds_and_fills_unswept_keys(folders):
    """The plain run reads its config's lambda (0.8) in the swept key's column; only the sweep's
    seed-0 cells pair with it (6 pairs), at the matching lambda only."""
    comparison = ap.compare([folders["gauss"].path, folders["sweep"].path])
    summary = comparison.summary()
    assert list(summary.columns[:2]) == ["folder", "loop.sampling_bias"]
    assert set(summary[summary["folder"] == "gauss"]["loop.sampling_bias"]) == {0.8}
    assert set(summary[summary["folder"] == "sweep"]["loop.sampling_bias"]) == {0.8, 1.0}
    paired = comparison.paired()
    assert set(paired["loop.sampling_bias"]) == {0.8} and set(paired["n"]) == {6}
    sweep_rows = folders["sweep"].table()
    mine = sweep_rows[(sweep_rows["seed"] == 0) & (sweep_rows["loop.sampling_bias"] == 0.8)]
    last = mine[(mine["generation"] == 3) & (mine["metric"] == "trace_cov")].sort_values("replicate")["value"]
    diff = last.to_numpy() - folders["gauss"].arrays()["trace_cov"][:, -1]
    row = paired[(paired["generation"] == 3) & (paired["metric"] == "trace_cov")].iloc[0]
    assert row["mean"] == pytest.approx(diff.mean(), rel=1e-12)


def test_a_folder_of_runs_opens_as_a_collection(folders, tmp_path):
    runs = folders["root"] / "runs"
    with pytest.raises(ConfigError, match=r"folder of 2 runs.*ap\.compare"):
        ap.open_run(runs)
    assert ap.compare(runs).labels == ("gauss", "gmm")
    cli = CliRunner()
    done = cli.invoke(app, ["report", str(runs)])
    assert done.exit_code == 0, done.output
    assert (runs / "report.html").is_file() and "Paired differences" in (runs / "report.html").read_text()
    done = cli.invoke(app, ["export", str(runs), "--output", str(tmp_path / "all.csv")])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "all.csv")
    assert len(table) == len(folders["gauss"].table()) + len(folders["gmm"].table())
    assert set(table["folder"]) == {"gauss", "gmm"}


def test_the_command_line(folders, tmp_path):
    cli = CliRunner()
    out = tmp_path / "out"
    done = cli.invoke(
        app,
        [
            "compare",
            str(folders["gauss"].path),
            str(folders["sweep"].path),
            "--metric",
            "trace_cov",
            "--output",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    assert {p.name for p in out.iterdir()} == {"report.html", "summary.csv", "paired.csv"}
    assert set(pd.read_csv(out / "summary.csv")["metric"]) == {"trace_cov"}
    for args, field in (
        (["--metric", "nope"], "--metric"),
        (["--hue", "nope"], "--hue"),
        (["--output", str(folders["gmm"].path)], "--output"),
    ):
        done = cli.invoke(app, ["compare", str(folders["gauss"].path), str(folders["gmm"].path), *args])
        assert done.exit_code == 2 and f"error: {field}:" in done.output, done.output
    done = cli.invoke(app, ["compare", str(tmp_path / "missing")])
    assert done.exit_code == 2 and "is not a run or sweep folder" in done.output
