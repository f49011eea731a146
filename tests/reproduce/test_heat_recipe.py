"""H1 (Heat Death): a tiny real run passes; two realistic nulls -- the temperatures swapped, and
the external-data loops swapped with the closed ones -- together fail every check."""

from __future__ import annotations

import dataclasses

import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.heat import CLOSED, FRESH, H1Data, h1_draw


@pytest.fixture(scope="module")
def tiny() -> H1Data:
    """K = 20 over 20 generations, n = 1000, 40 replicates (far past both degenerations; 40/40
    collapsed replicates have a Wilson bound above the 0.8 the design declares)."""
    profile = {"replicates": 40, "generations": 20, "block_size": 40}
    return dataclasses.replace(RECIPES["H1"], profiles={"tiny": profile}).measure("tiny")


def failed(m: H1Data) -> set[str]:
    return {c.name for c in RECIPES["H1"].verdict(m).checks if not c.passed}


def test_tiny_run_passes_and_draws(tiny, tmp_path):
    report = RECIPES["H1"].verdict(tiny)
    assert report.outcome == "PASS", [c.detail for c in report.checks if not c.passed]
    # every check's control (the other temperature or the other loop) is judged and contradicted
    assert all(c.control.outcome == "CONTRADICTED" for c in report.checks), [
        c.control.detail for c in report.checks
    ]
    assert len(report.checks) == 6 and tiny.share == 0.5
    h1_draw(tiny, tmp_path / "H1.png")
    assert (tmp_path / "H1.png").stat().st_size > 0


def test_nulls_fail_every_check(tiny):
    names = {c.name for c in RECIPES["H1"].verdict(tiny).checks}
    cold, hot = tiny.temperatures
    swap_t = {(cold if t == hot else hot, f): v for (t, f), v in tiny.entropy.items()}
    swap_f = {(t, CLOSED if f == FRESH else FRESH): v for (t, f), v in tiny.entropy.items()}
    by_temperature = failed(dataclasses.replace(tiny, entropy=swap_t))
    by_family = failed(dataclasses.replace(tiny, entropy=swap_f))
    # swapped temperatures contradict every claim about the direction of the closed loops
    assert {n for n in names if "no external data" in n} <= by_temperature
    # external data where there was none (and back) contradicts every level claim
    assert {n for n in names if "log K" in n} <= by_family
    assert by_temperature | by_family == names
