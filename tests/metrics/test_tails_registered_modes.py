"""Tail share against binomial intervals, and the registered known-mode metrics through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.loop.engine import evaluate
from autophagy.metrics import tail_share
from autophagy.models.mixture import FittedMixture
from autophagy.running.config import resolve


def test_tail_share_of_matching_distributions_is_one_minus_level():
    rng = np.random.default_rng(0)
    real, synthetic = rng.normal(size=(2, 4, 20_000, 2))
    share = tail_share(real, synthetic)
    # the real radius is itself estimated: its share of P_r has sd sqrt(p (1 - p) / n) too, so the
    # difference has twice the binomial variance; 5 standard errors
    p, n = 0.05, 20_000
    assert np.all(np.abs(share - p) < 5 * np.sqrt(2 * p * (1 - p) / n))


def test_tail_share_is_affine_invariant_and_falls_when_tails_shrink():
    rng = np.random.default_rng(1)
    real, synthetic = rng.standard_t(df=5, size=(2, 3000, 2))
    transform = np.array([[2.0, 0.3], [0.0, 0.5]])
    base = tail_share(real, synthetic)
    moved = tail_share(real @ transform + 7.0, synthetic @ transform + 7.0)
    assert base == pytest.approx(moved, abs=1e-12)
    assert tail_share(real, 0.5 * synthetic) < base / 3
    with pytest.raises(ValueError, match="level"):
        tail_share(real, synthetic, level=1.0)


def _grid_config(data: dict) -> dict:
    return {
        "replicates": 2,
        "generations": 2,
        "data": data,
        "model": {"kind": "gmm", "components": 4},
        "loop": {"family": "fully_synthetic", "n_ini": 200, "n_synthetic": 200},
        "metrics": {"names": ["modes_covered", "high_quality", "mode_variance"], "n_eval": 2000},
    }


def test_known_mode_metrics_from_the_data_source():
    """A mixture placed exactly on the 4 modes of a 2 x 2 grid: all covered, 1 - exp(-4.5) high quality."""
    exp = resolve(_grid_config({"kind": "mode_grid", "side": 2, "spacing": 4.0, "std": 0.1}))[0]
    modes = exp.data.modes
    model = FittedMixture(
        np.full((2, 4), 0.25), np.stack([modes] * 2), np.tile(0.01 * np.eye(2), (2, 4, 1, 1))
    )
    values = evaluate(exp, [0, 1], 1, model)
    p, n = 1 - np.exp(-4.5), 2000
    assert np.all(values["modes_covered"] == 4)
    assert np.all(np.abs(values["high_quality"] - p) < 5 * np.sqrt(p * (1 - p) / n))
    truncated = (1.0 - 5.5 * np.exp(-4.5)) / (1.0 - np.exp(-4.5)) * 0.01  # 3-std truncated variance
    np.testing.assert_allclose(values["mode_variance"], truncated, rtol=0.1)  # ~500 samples per mode


def test_mode_metrics_need_known_modes():
    with pytest.raises(ConfigError, match=r"metrics\.names: modes_covered needs data with known modes"):
        resolve(_grid_config({"kind": "rosenbrock"}))
