"""Effective sample size and phase maps on the exact simulator."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.admissible.effective import (
    Curve,
    effective_ratio,
    flat_window,
    invert,
    stage_ends,
    stationarity_windows,
    stationary_window,
)
from autophagy.admissible.maps import fresh_limit, real_only_curve, w2_by_generation
from autophagy.cli import app
from autophagy.core.schedule import DataSchedule
from autophagy.data import GaussianData
from autophagy.loop.engine import Experiment, run_block
from autophagy.models import GaussianModel


def test_without_synthetic_data_the_effective_size_is_the_real_size():
    """n_s = 0: the fresh-data loop is real-only, so n_e / n_r = 1 within its interval."""
    dim, n_real, reps = 5, 40, 400
    sizes = np.array([10, 20, 30, 40, 60, 80, 160])
    curve = real_only_curve(dim, sizes, reps, seed=1)
    ratio = effective_ratio(fresh_limit(dim, n_real, 0, 0.8, replicates=reps, seed=2), n_real, curve)
    assert ratio.low <= 1.0 <= ratio.high
    assert ratio.high - ratio.low < 0.2


def test_real_only_curve_falls_like_one_over_root_n():
    # E[W2] of a fit on n samples shrinks with n; for large n it scales as n^(-1/2)
    sizes = np.array([200, 800, 3200])
    curve = real_only_curve(3, sizes, 300, seed=0)
    assert np.all(np.diff(curve.mean) < 0)
    slopes = np.diff(np.log(curve.mean)) / np.diff(np.log(sizes))
    np.testing.assert_allclose(slopes, -0.5, atol=0.06)


def test_invert_curve_interpolates_in_log_log():
    sizes = np.array([10.0, 100.0, 1000.0])
    curve = Curve(sizes, 1 / np.sqrt(sizes), np.zeros(3))
    n, censored = invert(1 / np.sqrt(316.2277), curve, higher_is_better=False, log_value=True)
    assert abs(n - 316.2277) < 1e-6 and not censored  # exact on a power law
    assert invert(10.0, curve, False, log_value=True) == (pytest.approx(10.0), True)  # clipped to the grid


def test_w2_by_generation_matches_the_engine_metric_draw_for_draw():
    """The loop run through autophagy.api.run takes the same draws as the engine run directly."""
    schedule = DataSchedule(n_ini=30, fixed_real=0, fresh_real=10, synthetic=20, sampling_bias=0.8)
    exp = Experiment(
        3,
        6,
        schedule,
        GaussianModel(),
        GaussianData(np.zeros(4), np.eye(4)),
        ("wasserstein2",),
        simulator="exact",
    )
    engine = np.stack([m["wasserstein2"] for _, m in run_block(exp, range(5))], axis=1)
    np.testing.assert_allclose(w2_by_generation(4, schedule, 6, 5, 3), engine, rtol=1e-9)


def test_flat_window_sees_a_trend_and_accepts_noise():
    rng = np.random.default_rng(1)
    noise = 1.0 + 0.05 * rng.standard_normal((200, 20))
    assert flat_window(noise, 0.01).flat
    trend = noise + np.linspace(0.0, 0.05, 20)  # 5 % drift over the window, 1 % allowed
    test = flat_window(trend, 0.01)
    assert not test.flat and test.drift.interval(0.05)[0] > 0.01 * test.level
    assert flat_window(trend, 0.1).flat  # within a 10 % tolerance


def test_stationary_window_waits_for_a_slow_approach():
    """A geometric approach to 1 with time constant 60 generations: the first windows drift,
    the chosen one is flat and its mean is the limit within the tolerance."""
    rng = np.random.default_rng(2)
    states = [1.0 - 0.5 * np.exp(-t / 60) + 0.01 * rng.standard_normal(100) for t in range(1, 441)]
    limit = stationary_window(iter(states), lambda v: v, window=20, tolerance=0.01, max_generations=400)
    assert limit.flat and limit.burn_in >= 80
    assert abs(limit.value - 1.0) < 0.01
    spans = [(int(g[0]) - 1, int(g[-1]), len(g)) for g in stationarity_windows(20, 400)]
    assert spans[:5] == [(5, 25, 20), (10, 30, 20), (20, 40, 20), (40, 60, 20), (80, 120, 20)]
    assert spans[-1][1] == 400  # the last window ends at the cap
    assert stage_ends(stationarity_windows(20, 400)) == [25, 60, 120, 240, 400]  # each stage reruns
    capped = stationary_window(iter(np.linspace(0, 1, 400)[:, None] * np.ones(10)), lambda v: v)
    assert not capped.flat and capped.burn_in == spans[-1][0]  # still trending at the cap


def test_without_synthetic_data_the_loop_is_stationary_at_once():
    limit = fresh_limit(3, 50, 0, 1.0, replicates=50, seed=0)
    assert limit.flat and limit.burn_in == 5


def test_lambda_below_one_has_a_synthetic_threshold():
    """G3: at lambda < 1 a little synthetic data helps a small n_r, a lot of it hurts."""
    dim, n_real, reps = 5, 12, 200
    sizes = np.unique(np.geomspace(2, 20_000, 40).round())
    curve = real_only_curve(dim, sizes, reps, seed=3)
    few = effective_ratio(fresh_limit(dim, n_real, 12, 0.9, replicates=reps), n_real, curve)
    many = effective_ratio(fresh_limit(dim, n_real, 3000, 0.9, replicates=reps), n_real, curve)
    assert few.low > 1.0 > many.high


def test_phase_map_command_writes_numbers_and_figure(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "phase-map",
            "fig11",
            "--out",
            str(tmp_path),
            "--set",
            "replicates=20",
            "--set",
            "dim=3",
            "--set",
            "n_real=[10, 40]",
            "--set",
            "n_synthetic=[5, 50]",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "fig11.csv").read_text().splitlines()
    assert len(lines) == 1 + 4 and lines[0].startswith("n_real,n_synthetic")
    assert (tmp_path / "fig11.png").stat().st_size > 0
    bad = CliRunner().invoke(app, ["phase-map", "fig99"])
    assert bad.exit_code == 2 and "unknown map" in bad.output
    bad = CliRunner().invoke(app, ["phase-map", "fig11", "--set", "sampling_bias=2"])
    assert bad.exit_code == 2 and "sampling_bias" in bad.output


@pytest.mark.slow
def test_phase_map_rows_do_not_depend_on_workers(tmp_path):
    """Cells split over processes give the same rows as one process (each cell its own streams)."""
    from autophagy.admissible.maps import PhaseMapOptions, phase_map

    base = {"dim": 3, "replicates": 20, "n_real": [10, 40], "n_synthetic": [5, 50], "max_generations": 60}
    one = phase_map("fig11", PhaseMapOptions(**base, workers=1), tmp_path / "one").read_text()
    two = phase_map("fig11", PhaseMapOptions(**base, workers=2), tmp_path / "two").read_text()
    assert one == two
    assert "burn_in" in one.splitlines()[0]
