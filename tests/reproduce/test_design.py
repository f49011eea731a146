"""Design files (``reproduce/designs/ID.toml``): one per recipe, the source of its R per profile,
its margins (each with a reason) and its history; the hash a verdict records."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.design import design, margin


@pytest.mark.parametrize("rid", list(RECIPES))
def test_every_recipe_has_one_design_that_fixes_its_replicates(rid):
    found = design(rid)
    assert found is not None and found.id == rid and found.data["id"] == rid
    assert found.sha256 == hashlib.sha256(Path(found.path).read_bytes()).hexdigest()
    recipe = RECIPES[rid]
    assert found.data["alpha"] == recipe.alpha
    for profile in ("quick", "full"):
        assert "replicates" not in recipe.profiles[profile]  # the design is the one source of R
        r = found.replicates(profile)
        assert isinstance(r, int) and r >= 2
        assert recipe.settings(profile)["replicates"] == r
        for raw in recipe.loop_configs(profile).values():
            assert raw["replicates"] == r
    for key, entry in found.data.get("margins", {}).items():
        assert entry["value"] > 0 and len(entry["reason"]) > 20, key
    assert found.data["changes"] and all(c["what"] and c["prompted_by"] for c in found.data["changes"])
    assert found.as_dict()["sha256"] == found.sha256


def test_a_missing_margin_is_named():
    with pytest.raises(KeyError, match="no margin 'nonexistent'"):
        margin("G1", "nonexistent")
    assert design("Z9") is None


def _real_only_w2sq(d: int, n: int, reps: int, rng: np.random.Generator) -> float:
    """E W2^2 between N(0, I_d) and the Gaussian fitted (unbiased covariance) on n of its draws."""
    out = []
    for _ in range(reps):
        x = rng.standard_normal((n, d))
        ev = np.clip(np.linalg.eigvalsh(np.cov(x.T, ddof=1)), 0.0, None)
        out.append(x.mean(0) @ x.mean(0) + np.sum(1 + ev - 2 * np.sqrt(ev)))
    return float(np.mean(out))


def test_g3_full_grid_reaches_the_mean_field_threshold_at_every_n_r():
    """The grid declared in designs/G3.toml: at every n_r, the mean-field threshold (stationary
    covariance s I, s = n_r / (n_r + (1 - lambda) n_s), whose W2 bias d (1 - sqrt s)^2 equals the
    real-only E W2^2 at n_r; an upper bound, the loop's fluctuations adding to its W2) lies
    inside the n_s grid with a doubling to spare; and n_r = 25 at d = 100, left out, has none."""
    settings = RECIPES["G3"].settings("full")
    d, n_real, n_syn = settings["dim"], settings["n_real"], settings["n_synthetic"]
    rng = np.random.default_rng(0)
    for nr in n_real:
        w = _real_only_w2sq(d, nr, 4, rng)
        s = (1 - math.sqrt(w / d)) ** 2
        for bias in (0.9, 0.8):
            assert nr * (1 / s - 1) / (1 - bias) <= max(n_syn) / 2, (nr, bias)
    assert _real_only_w2sq(d, 25, 4, rng) > d  # no s in (0, 1] solves the equation: no threshold
