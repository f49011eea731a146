"""`autophagy demo` end to end: the expected ordering of the four families."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from autophagy.cli import app


def test_demo_runs_and_shows_the_papers_orderings(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plots" / "wasserstein2.png").is_file()
    with (tmp_path / "summary.csv").open() as fh:
        rows = {(r["family"], float(r["sampling_bias"])): r for r in csv.DictReader(fh)}
    assert len(rows) == 8
    w2 = {key: float(r["wasserstein2"]) for key, r in rows.items()}
    # fresh real data keeps the loop near P_r; the fully synthetic loop drifts furthest
    for bias in (1.0, 0.8):
        assert w2[("fresh_data", bias)] < w2[("synthetic_augmentation", bias)] < w2[("fully_synthetic", bias)]
    # bias trades diversity for quality: lower recall, higher precision in the fully synthetic loop
    fs1, fs08 = rows[("fully_synthetic", 1.0)], rows[("fully_synthetic", 0.8)]
    assert float(fs08["recall"]) < float(fs1["recall"]) and float(fs08["precision"]) > float(fs1["precision"])
