"""Effective sample size and phase maps on the exact simulator."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.phase import Curve, burn_in, effective_ratio, fresh_limit, invert_curve, real_only_curve


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
    assert abs(invert_curve(1 / np.sqrt(316.2277), curve) - 316.2277) < 1e-6  # exact on a power law
    assert invert_curve(10.0, curve) == pytest.approx(10.0)  # clipped to the grid


def test_burn_in_follows_the_loop_memory():
    assert burn_in(100, 0, 1, 4.0, 400) == 4
    assert burn_in(100, 100, 1, 4.0, 400) == 6  # rho = 1/2: 4 / (1 - 1/4)
    assert burn_in(100, 900, 2, 4.0, 400) == 400  # K n_s > n_r + n_s: no forgetting bound


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
