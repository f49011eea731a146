"""Independent seeds: every loop of a recipe draws from ``SeedSequence(seed, spawn_key=(recipe,
role, cell))`` (:func:`recipe_seed`), never ``seed + i``, so recipes at seeds S and S + 1 share no
draws (with ``seed + i``, seed S's loop i + 1 was seed S + 1's loop i)."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.reproduce import RECIPES, gaussian_phase
from autophagy.reproduce.recipe import recipe_seed


def _loop_seeds(rid: str, seed: int, monkeypatch) -> list[int]:
    """The seeds G3-G5 give their loops (the fresh-data limits and the real-only curve),
    recorded instead of running them."""
    seen: list[int] = []

    def fake_limit(dim, nr, ns, bias, k, replicates, loop_seed, cap, folder):
        seen.append(loop_seed)
        return _FakeLimit()

    def fake_curve(dim, sizes, replicates, curve_seed, **_):
        seen.append(curve_seed)

    monkeypatch.setattr(gaussian_phase, "_limit", fake_limit)
    monkeypatch.setattr(gaussian_phase, "real_only_curve", fake_curve)
    monkeypatch.setattr(gaussian_phase, "effective_ratio", lambda limit, nr, curve: _FakeLimit())
    monkeypatch.setattr(gaussian_phase, "parallel_map", lambda fn, calls, workers: [fn(*c) for c in calls])
    settings = RECIPES[rid].settings("quick") | {"seed": seed}
    RECIPES[rid].measure_fn(**settings, folder=None, workers=1)
    return seen


class _FakeLimit:
    """A limit (or n_e / n_r ratio) with its 95 % interval and its replicates' values."""

    value, low, high = 0.1, 0.09, 0.11
    per_replicate = (0.09, 0.1, 0.11)


@pytest.mark.parametrize("rid", ["G3", "G4", "G5"])
def test_recipes_at_seeds_s_and_s_plus_1_share_no_loop_seed(rid, monkeypatch):
    for s in (0, 1, 7):
        here, there = _loop_seeds(rid, s, monkeypatch), _loop_seeds(rid, s + 1, monkeypatch)
        assert len(set(here)) == len(here) > 0  # every loop of one run its own stream
        assert not set(here) & set(there)


def test_recipe_seeds_are_keyed_on_recipe_seed_role_and_cell():
    keys = [
        (r, s, role, c)
        for r in ("G3", "G4", "G5")
        for s in range(4)
        for role in ("loop", "real-only")
        for c in range(20)
    ]
    seeds = [recipe_seed(*k) for k in keys]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= x < 2**62 for x in seeds)
    assert recipe_seed("G3", 0, "loop", 1) == recipe_seed("G3", 0, "loop", 1)  # reproducible
    # a run's streams are SeedSequence(seed, spawn_key=...): distinct seeds, distinct draws
    a = np.random.default_rng(np.random.SeedSequence(recipe_seed("G5", 0, "loop", 1))).random(4)
    b = np.random.default_rng(np.random.SeedSequence(recipe_seed("G5", 1, "loop", 0))).random(4)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("rid", ["G1", "G2", "T1", "G8"])
def test_config_recipes_give_every_loop_the_run_seed(rid):
    """Config recipes run each loop at the seed asked for (cells of one sweep share it on
    purpose: they are compared replicate by replicate); seeds S and S + 1 are different
    SeedSequence roots, hence independent streams."""
    for s in (0, 1):
        assert {raw["seed"] for raw in RECIPES[rid].loop_configs("quick", s).values()} == {s}
