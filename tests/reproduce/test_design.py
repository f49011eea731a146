"""Design files (``reproduce/designs/ID.toml``): one per recipe, the source of its R per profile,
its margins (each with a reason) and its history; the hash a verdict records."""

from __future__ import annotations

import hashlib
from pathlib import Path

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
