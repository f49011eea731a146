"""B1 (Bertrand et al.): a tiny real run passes; the same runs with their real shares swapped
(the stable loop labelled as the unstable one and back) fail every check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from autophagy.reproduce import RECIPES
from autophagy.reproduce.stability import B1Data, b1_draw, kappa, threshold


@pytest.fixture(scope="module")
def tiny() -> B1Data:
    """Both loops at a tiny size, with shares far from p* so the stable loops settle within a
    few generations: the Gaussian at p = 0 and 0.5 over 30 generations (200 replicates), the KDE
    at p = 0.05 and 0.5 over 24 (60 replicates)."""
    profile = {
        "B1/replicates": 200,
        "B1/generations": 30,
        "B1/block_size": 200,
        "B1/sweep.grid": {"loop.real_fraction": [0.0, 0.5]},
        "B1_kde/replicates": 60,
        "B1_kde/generations": 24,
        "B1_kde/block_size": 60,
        "B1_kde/sweep.grid": {"loop.real_fraction": [0.05, 0.5]},
    }
    return dataclasses.replace(RECIPES["B1"], profiles={"tiny": profile}).measure("tiny")


def test_thresholds_follow_the_closed_form():
    assert threshold("gaussian", 100) == 0.0
    assert kappa("kde", 100) == pytest.approx(1 - 0.01 + 100**-0.4)
    assert threshold("kde", 100) == pytest.approx(0.129, abs=1e-3)
    # stability iff (1 - p) kappa < 1: the fixed point p / (1 - (1 - p) kappa) exists just above p*
    p = threshold("kde", 100) + 1e-9
    assert (1 - p) * kappa("kde", 100) < 1


def test_tiny_run_passes_and_draws(tiny, tmp_path):
    report = RECIPES["B1"].verdict(tiny)
    assert report.outcome == "PASS", [c.detail for c in report.checks if not c.passed]
    assert len(report.checks) == 4
    # every check carries its control (the other side of p*), judged in the verdict: contradicted
    assert all(c.control.outcome == "CONTRADICTED" for c in report.checks), [
        c.control.detail for c in report.checks
    ]
    b1_draw(tiny, tmp_path / "B1.png")
    assert (tmp_path / "B1.png").stat().st_size > 0


def test_swapped_shares_fail_every_check(tiny):
    """The negative control: each loop's stable and drifting cells exchange their labels, so
    the bounded claims meet drifting distances and the growth claims bounded ones."""
    swapped = {}
    for model, cells in tiny.distances.items():
        shares = sorted(cells)
        stable, drifting = shares[-1], shares[0]
        relabelled = {p: cells[stable] for p in shares if p <= threshold(model, tiny.n[model])}
        relabelled |= {p: cells[drifting] for p in shares if p > threshold(model, tiny.n[model])}
        swapped[model] = relabelled
    report = RECIPES["B1"].verdict(dataclasses.replace(tiny, distances=swapped))
    assert not any(c.passed for c in report.checks), [c.detail for c in report.checks if c.passed]
    assert report.outcome == "INVALID"  # the swapped data make every control hold


def test_a_transient_alone_is_not_drift():
    """A stable loop's rise to its level (generations 1-5) is left out of the judged half."""
    gens = np.arange(1, 21)
    rng = np.random.default_rng(0)
    rising = 1 - 0.5 * 0.5**gens + 0.01 * rng.standard_normal((50, 20))
    data = B1Data({"gaussian": {0.5: rising}}, {"gaussian": "moment_w2"}, {"gaussian": 100})
    assert RECIPES["B1"].verdict(data).checks[0].outcome == "SUPPORTED"
