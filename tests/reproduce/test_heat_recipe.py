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
    """Swapped temperatures fail every direction claim; the loops swapped at T = 1.25 fail its
    level and band claims. (At T = 0.8 the closed loop has collapsed in every replicate,
    entropy exactly 0: a mean check on it has no spread and the verdict refuses it, so that band
    is controlled in the verdict by T = 1.25's closed loop, asserted in the test above.)"""
    names = {c.name for c in RECIPES["H1"].verdict(tiny).checks}
    cold, hot = tiny.temperatures
    swap_t = {(cold if t == hot else hot, f): v for (t, f), v in tiny.entropy.items()}
    swap_f = {
        (t, f if t == cold else CLOSED if f == FRESH else FRESH): v for (t, f), v in tiny.entropy.items()
    }
    by_temperature = failed(dataclasses.replace(tiny, entropy=swap_t))
    by_family = failed(dataclasses.replace(tiny, entropy=swap_f))
    assert {n for n in names if "no external data" in n} <= by_temperature
    assert {n for n in names if n.startswith(f"T = {hot:g}") and "log K" in n} <= by_family
