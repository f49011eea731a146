"""L1's verdict on constructed measurements: a rise-then-fall that is steeper at the low real share
passes; equal arms, a flat early window and a rising late window are not SUPPORTED (negative
controls); the windows' slopes are the least-squares ones; the control run gets its own seed."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.briesch import ARMS, L1_METRICS, L1Data, shape, windows
from autophagy.reproduce.verdict import SUPPORTED


def _data(rise: float, fall: dict[str, float], r: int = 5, t: int = 8, seed: int = 0) -> L1Data:
    """Every metric: 0.5 + rise (g - 1) up to the design's k, then falling by ``fall[arm]`` a
    generation; replicate noise sd 0.005 shared by the paired arms (low, high), independent for null."""
    _, k = shape()
    rng = np.random.default_rng(seed)
    gens = np.arange(1, t + 1)
    shared = rng.normal(0, 0.005, size=(r, t))
    values = {}
    for arm in ARMS:
        curve = 0.5 + rise * (np.minimum(gens, k) - 1) - fall[arm] * np.maximum(gens - k, 0)
        noise = shared if arm != "null" else rng.normal(0, 0.005, size=(r, t))
        v = curve + noise + rng.normal(0, 0.002, size=(r, t))
        values[arm] = {m: v.copy() for m in L1_METRICS}
    return L1Data(values)


def _outcomes(m: L1Data):
    report = RECIPES["L1"].verdict(m, "quick")
    return report, [c.outcome for c in report.checks]


def test_rise_then_faster_fall_at_low_share_passes():
    report, outcomes = _outcomes(_data(0.05, {"low": 0.03, "high": 0.01, "null": 0.03}))
    assert outcomes == [SUPPORTED] * 3, [c.detail for c in report.checks]
    assert report.outcome == "PASS"


def test_equal_arms_do_not_support_falls_faster():
    report, outcomes = _outcomes(_data(0.05, {"low": 0.02, "high": 0.02, "null": 0.02}, seed=1))
    assert outcomes[:2] == [SUPPORTED, SUPPORTED] and outcomes[2] != SUPPORTED
    assert report.checks[2].control.outcome != SUPPORTED  # the equal-settings control


def test_no_rise_and_no_fall_are_not_supported():
    _, outcomes = _outcomes(_data(0.0, {"low": -0.02, "high": -0.02, "null": -0.02}, seed=2))
    assert outcomes[0] != SUPPORTED and outcomes[1] == "CONTRADICTED"


def test_window_slopes_are_least_squares():
    v = np.array([[1.0, 2.0, 3.0, 2.0, 1.0, 0.0]])
    early, late = windows(v, 3)
    assert early == pytest.approx([1.0]) and late == pytest.approx([-1.0])
    with pytest.raises(ValueError, match="rise_until"):
        windows(v, 6)


def test_the_control_run_draws_from_its_own_seed():
    configs = RECIPES["L1"].loop_configs("quick", seed=0)
    assert configs["L1"]["seed"] == 0 and configs["L1null"]["seed"] not in (0, 1)
    assert RECIPES["L1"].loop_configs("quick", seed=1)["L1null"]["seed"] != configs["L1null"]["seed"]
    assert configs["L1null"]["loop"] == configs["L1"]["loop"] | {"real_fraction": 0.0}


def test_the_rise_is_judged_in_the_design_arms_only_and_the_other_is_reported():
    """Design 3: the rise is judged at real share 0.5; share 0's early slope is a note, so a loop
    rising only where real data feed it passes, and one rising only at share 0 does not."""
    m = _data(0.05, {"low": 0.03, "high": 0.01, "null": 0.03}, seed=3)
    flat_low = {a: dict(v) for a, v in m.values.items()}
    k = shape()[1]
    for name in L1_METRICS:  # share 0 (and its control) flat over the early window, falling after
        for arm in ("low", "null"):
            v = flat_low[arm][name].copy()
            v[:, :k] -= 0.05 * (np.arange(1, k + 1) - 1)
            flat_low[arm][name] = v
    report, outcomes = _outcomes(L1Data(flat_low))
    assert outcomes[0] == SUPPORTED and "share 0.5" in report.checks[0].name
    assert any("early slope, real share 0 " in n.name for n in report.notes)
    only_low = {a: dict(v) for a, v in m.values.items()}
    for name in L1_METRICS:
        v = only_low["high"][name].copy()
        v[:, :k] -= 0.05 * (np.arange(1, k + 1) - 1)
        only_low["high"][name] = v
    assert _outcomes(L1Data(only_low))[1][0] != SUPPORTED
