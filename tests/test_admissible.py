"""Effective sample size and admissibility maps for any model (``autophagy admissible``)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.admissible.boundary import (
    PhaseOptions,
    _config,
    admissible_map,
    boundary,
    cell_limit,
    choose_metric,
    options_from,
    parse_axis,
)
from autophagy.admissible.effective import Curve, invert, monotone, stationary_window
from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.loop.engine import run_block
from autophagy.running.config import resolve


def _gauss(simulator: str = "exact", replicates: int = 40) -> dict:
    return {
        "name": "g",
        "seed": 0,
        "replicates": replicates,
        "data": {"kind": "gaussian", "dim": 3},
        "model": {"kind": "gaussian", "simulator": simulator},
        "loop": {"family": "fresh_data", "n_real": 50, "n_synthetic": 50, "sampling_bias": 0.8},
        "metrics": {"names": ["wasserstein2"], "n_eval": 400},
    }


def _gmm() -> dict:
    return {
        "name": "gmm",
        "seed": 0,
        "replicates": 8,
        "data": {"kind": "gaussian", "dim": 2},
        "model": {"kind": "gmm", "components": 2},
        "loop": {"family": "fresh_data", "n_real": 60, "n_synthetic": 60, "sampling_bias": 0.5},
        "metrics": {"names": ["frechet"], "n_eval": 1000},
    }


def test_axes_parse_lists_and_log_ranges():
    assert parse_axis("loop.n_synthetic=50,200,800", "x") == ("loop.n_synthetic", [50, 200, 800])
    key, values = parse_axis("loop.n_synthetic=log:50:6400:8", "x")
    assert key == "loop.n_synthetic" and values[0] == 50 and values[-1] == 6400 and len(values) == 8
    assert np.allclose(np.diff(np.log(values)), np.log(2), atol=0.02)  # factor 2 apart
    for bad in ("loop.n_synthetic", "loop.n_synthetic=log:0:5:3", "k=1,1", "k=a,b"):
        with pytest.raises(ConfigError):
            parse_axis(bad, "phase.x")


def test_non_monotone_metrics_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="precision is refused: its real-only curve need not be monotone"):
        choose_metric({"metrics": {"names": ["precision"]}}, None)
    with pytest.raises(ConfigError, match="recall is refused"):
        choose_metric({}, "recall")
    assert choose_metric({"metrics": {"names": ["precision", "frechet"]}}, None) == "frechet"
    result = CliRunner().invoke(app, ["admissible", "missing.toml", "--x", "loop.n_synthetic=1,2"])
    assert result.exit_code == 2 and "CONFIG" in result.output


def test_monotone_fit_and_inversion():
    sizes = np.array([10.0, 20.0, 40.0, 80.0])
    fit = monotone(sizes, np.array([1.0, 0.5, 0.6, 0.2]), np.ones(4), increasing=False)
    np.testing.assert_allclose(fit, [1.0, 0.55, 0.55, 0.2])  # the violating pair pooled
    curve = Curve(sizes, np.array([1.0, 0.8, 0.6, 0.4]), np.ones(4))
    n, censored = invert(0.7, curve, higher_is_better=False)
    assert n == pytest.approx(np.sqrt(20 * 40)) and not censored  # halfway in log n
    assert invert(5.0, curve, higher_is_better=False) == (pytest.approx(10.0), True)
    up = Curve(sizes, -curve.mean, np.ones(4))  # a likelihood: higher is better
    assert invert(-0.7, up, higher_is_better=True)[0] == pytest.approx(np.sqrt(20 * 40))


def test_quiet_loop_equals_the_brute_force_loop_cell_by_cell():
    """The slow way: the metric at every generation through the engine, then the same windows.
    Measuring only the windows must give exactly the same limit (the draws are shared)."""
    raw = _config(_gmm(), "frechet", {"generations": 24})
    o = PhaseOptions(x_values=[60], y_values=[60], window=8, max_generations=24)
    fast = cell_limit(raw, "frechet", o)
    exp, config, _ = resolve(raw)
    every = [m["frechet"] for _, m in run_block(exp, range(config.replicates))]
    slow = stationary_window(iter(every), lambda v: v, window=8, tolerance=0.01, max_generations=24)
    assert fast == slow


@pytest.mark.slow
def test_gmm_bisection_finds_the_grid_boundary(tmp_path):
    """Done-when: on a GMM config, the boundary found by bisection equals the one of the full grid
    computed cell by cell, visiting fewer cells."""
    raw = _gmm()
    table = {"x_values": [8, 30, 120, 480, 1920], "y_values": [30, 120], "window": 6, "max_generations": 20}
    # workers=1: both searches in this process (their cells are the same computations either way)
    grid = admissible_map(raw, PhaseOptions(**table, search="grid", workers=1), tmp_path / "grid")
    bis = admissible_map(raw, PhaseOptions(**table, search="bisect", workers=1), tmp_path / "bisect")
    read = lambda p: p.with_name("boundary.csv").read_text()  # noqa: E731
    assert read(grid) == read(bis)
    assert len(bis.read_text().splitlines()) < len(grid.read_text().splitlines())
    lines = read(grid).splitlines()[1:]
    assert any(line.split(",")[2] for line in lines)  # a surely inadmissible n_s was found
    assert (tmp_path / "grid" / "admissible.png").stat().st_size > 0


class Killed(Exception):
    pass


def _kill_after(monkeypatch, runs: int) -> None:
    """Every loop goes through autophagy.api.run: make the (runs + 1)-th call die, as a kill would."""
    from autophagy.admissible import effective

    real, calls = effective.run_loops, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) > runs:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(effective, "run_loops", dying)


@pytest.mark.parametrize("search", ["grid", "bisect"])
def test_a_search_killed_mid_way_resumes_to_identical_numbers(tmp_path, monkeypatch, search):
    from autophagy import open_run

    raw = _gauss(replicates=30)
    o = PhaseOptions(
        x_values=[10, 100, 1000], y_values=[20, 80], window=10, max_generations=60, workers=1, search=search
    )
    whole = admissible_map(raw, o, tmp_path / "whole").read_text()
    with monkeypatch.context() as patch:
        _kill_after(patch, 3)  # the baseline sweep and two cell runs finish, then the process dies
        with pytest.raises(Killed):
            admissible_map(raw, o, tmp_path / "killed")
    assert not (tmp_path / "killed" / "cells.csv").exists()
    assert admissible_map(raw, o, tmp_path / "killed").read_text() == whole
    cells = [line.split(",") for line in whole.splitlines()[1:]]
    assert {c[-2] for c in cells} <= {"admissible", "inadmissible", "undecided"}
    stages = sorted((tmp_path / "killed" / "cells").glob("*/g*"))  # every cell's loops: run folders
    assert stages and all(open_run(p).complete for p in stages)
    assert open_run(tmp_path / "killed" / "baseline").complete


def test_a_phase_map_killed_mid_way_resumes_to_identical_numbers(tmp_path, monkeypatch):
    from autophagy.admissible.maps import PhaseMapOptions, phase_map

    o = PhaseMapOptions(
        dim=3, replicates=20, n_real=[10, 40], n_synthetic=[5, 50], max_generations=60, workers=1
    )
    whole = phase_map("fig11", o, tmp_path / "whole").read_text()
    with monkeypatch.context() as patch:
        _kill_after(patch, 2)
        with pytest.raises(Killed):
            phase_map("fig11", o, tmp_path / "killed")
    assert phase_map("fig11", o, tmp_path / "killed").read_text() == whole
    with pytest.raises(ConfigError, match=r"another phase\.replicates"):
        phase_map("fig11", o.model_copy(update={"replicates": 21}), tmp_path / "killed")


def test_a_folder_of_another_map_is_refused_before_any_work(tmp_path):
    """Cells are keyed by (x, y) only: resuming with another config or option would mix two
    maps, so the folder's manifest must match (exit 2 naming the key, nothing written)."""
    raw = _gauss(replicates=10)
    o = PhaseOptions(x_values=[10], y_values=[20], window=5, max_generations=20, workers=1)
    admissible_map(raw, o, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    other = {**raw, "loop": {**raw["loop"], "sampling_bias": 0.5}}
    with pytest.raises(ConfigError, match=r"another config") as err:
        admissible_map(other, o, tmp_path)
    assert err.value.field == "out"
    with pytest.raises(ConfigError, match=r"another phase\.window"):
        admissible_map(raw, o.model_copy(update={"window": 6}), tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    admissible_map(raw, o.model_copy(update={"workers": 2}), tmp_path)  # workers change no number


def test_a_folder_in_use_is_refused(tmp_path):
    from autophagy.core.errors import EnvironmentFault
    from autophagy.storage.safety import FolderLock

    raw = _gauss(replicates=10)
    o = PhaseOptions(x_values=[10], y_values=[20], window=5, max_generations=20, workers=1)
    tmp_path.mkdir(exist_ok=True)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, done))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(EnvironmentFault, match="in use"):
            admissible_map(raw, o, tmp_path)
    finally:
        done.set()
        holder.join(60)
    assert not (tmp_path / "cells").exists()
    with FolderLock(tmp_path):  # released: usable again
        pass


def _hold_lock(folder: str, ready, done) -> None:
    from pathlib import Path

    from autophagy.storage.safety import FolderLock

    with FolderLock(Path(folder)):
        ready.set()
        done.wait(60)


def test_gaussian_exact_and_sample_paths_agree_on_n_e(tmp_path):
    """The exact simulator (fast path) and drawing every sample give the same n_e / n_r within
    their intervals on shared cells."""
    o = PhaseOptions(x_values=[20, 400], y_values=[40], window=10, max_generations=60, workers=1)
    exact = admissible_map(_gauss("exact"), o, tmp_path / "exact")
    samples = admissible_map(_gauss("samples"), o, tmp_path / "samples")
    rows = [[line.split(",") for line in p.read_text().splitlines()] for p in (exact, samples)]
    head = rows[0][0]
    lo, hi, value = head.index("ratio_low"), head.index("ratio_high"), head.index("ratio")
    for a, b in zip(rows[0][1:], rows[1][1:], strict=True):
        assert float(a[lo]) <= float(b[hi]) and float(b[lo]) <= float(a[hi]), (a, b)
    big = [float(r[value]) for r in rows[0][1:]]
    assert big[1] < big[0]  # lambda = 0.8: much synthetic data lowers n_e / n_r


def test_phase_table_and_command_line(tmp_path):
    raw = {**_gauss(replicates=20), "phase": {"x": "loop.n_synthetic=10,100", "y": "loop.n_real=30"}}
    o = options_from(raw, {"metric": None})
    assert o.x_values == [10, 100] and o.y == "loop.n_real" and o.y_values == [30]
    with pytest.raises(ConfigError, match=r"phase\.search"):
        options_from(raw, {"search": "random"})
    config = tmp_path / "g.toml"
    config.write_text(
        'name = "g"\nreplicates = 20\n[data]\nkind = "gaussian"\ndim = 2\n[loop]\nfamily = "fresh_data"\n'
        'n_real = 30\nsampling_bias = 0.8\n[metrics]\nnames = ["wasserstein2"]\n'
        "[phase]\nmax_generations = 30\nwindow = 10\n"
    )
    args = ["admissible", str(config), "--x", "loop.n_synthetic=10,100", "--y", "loop.n_real=30,60"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "out" / "cells.csv").read_text().splitlines()) == 1 + 4
    page = (tmp_path / "out" / "report.html").read_text()
    assert "data:image/png;base64," in page and "<h2>Boundary</h2>" in page and "http" not in page
    assert CliRunner().invoke(app, ["report", str(tmp_path / "out")]).exit_code == 0
    bad = CliRunner().invoke(app, [*args, "--metric", "precision", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "precision is refused" in bad.output
    assert not (tmp_path / "bad").exists()


def test_boundary_reads_rows():
    from autophagy.admissible.boundary import Cell

    def c(x, decided):
        return Cell(x, 1, 1, 1, 0, 0, 0, 0, True, 1, 1, 1, 1, decided, False)

    cells = [c(1, "admissible"), c(2, "admissible"), c(3, "undecided"), c(4, "inadmissible")]
    assert boundary(cells) == {1: (2, 4)}


def test_moons_example_validates_without_running():
    from pathlib import Path

    from autophagy.admissible.boundary import _check
    from autophagy.running.config import load_config

    raw = load_config(Path(__file__).resolve().parents[1] / "examples" / "admissible_moons.toml")
    o = options_from(raw, {})
    assert o.x_values == [10, 40, 160, 640, 2560] and o.y_values == [40, 160]
    _check(raw, choose_metric(raw, o.metric), o)
