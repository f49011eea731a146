"""G6 and G7 recipes: a small real G6 run passes; measurements that contradict the paper fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.reproduce import RECIPES
from autophagy.reproduce.lowdim import G6Data, G7Data, g6_draw


def verdict(rid: str, m, profile: str = "full") -> dict[str, bool]:
    return RECIPES[rid].verdict(m, profile).by_name()


def test_list_names_g6_and_g7():
    result = CliRunner().invoke(app, ["reproduce", "--list"])
    assert result.exit_code == 0
    assert "G6" in result.output and "G7" in result.output


def _g6_tiny(**overrides) -> object:
    """G6 at n = 300 over 40 generations, 6 replicates, metrics at 8 log-spaced checkpoints
    plus the middle (15)."""
    profile = {
        "replicates": 6,
        "generations": 40,
        "loop.n_ini": 300,
        "loop.n_synthetic": 300,
        "metrics.n_eval": 500,
        "metrics.generations": [1, 2, 3, 5, 8, 14, 15, 24, 40],
        "plots.generations": [1, 15, 40],
        "plots.n_samples": 500,
    }
    return dataclasses.replace(RECIPES["G6"], profiles={"tiny": profile | overrides})


def test_g6_small_run_passes_and_draws(tmp_path):
    # n = 300 loses modes within tens of generations (about 10 of 25 by generation 40), many
    # interval widths beyond the 99.9 % intervals over 6 replicates
    m = _g6_tiny().measure("tiny")
    assert m.metrics["recall"].shape == (6, m.generations.size)
    report = RECIPES["G6"].verdict(m)
    assert report.passed, report.checks
    g6_draw(m, tmp_path / "G6.png")
    assert (tmp_path / "G6.png").stat().st_size > 0


def _scale_collapse(replicates: int = 20) -> G6Data:
    """Every mode kept while the whole picture shrinks: tr(Sigma) falls to half by generation 10,
    recall and the per-mode variance by a fifth (noise 2 % per value) -- the opposite of fig. 15."""
    rng = np.random.default_rng(1)
    gens = np.array([1, 10, 100])
    shrink = {"trace_cov": 0.5, "recall": 0.8, "mode_variance": 0.8, "high_quality": 1.0}
    start = {"trace_cov": 16.0, "recall": 0.95, "mode_variance": 0.0023, "high_quality": 0.98}
    metrics = {
        name: start[name]
        * np.array([1.0, shrink[name], shrink[name]])
        * (1 + 0.02 * rng.standard_normal((replicates, gens.size)))
        for name in start
    }
    metrics["modes_covered"] = np.full((replicates, gens.size), 25.0)
    return G6Data(1000, gens, 10, metrics, {}, np.zeros((0, 2)))


def test_g6_judge_fails_when_modes_stay_and_total_variance_falls_most():
    checks = verdict("G6", _scale_collapse())
    assert checks == {
        "modes covered fall over all 3 checkpoints (slope on log generation)": False,
        "modes are still being lost from generation 10 to 100": False,
        "by generation 10 recall falls by a larger share than tr(Sigma)": False,
        "by generation 10 average per-mode variance falls by a larger share than tr(Sigma)": False,
    }


def _g7(shares: dict[float, tuple[float, float]], replicates: int = 4, generations: int = 6) -> G7Data:
    """Tail shares moving linearly from ``start`` to ``end`` per lambda, each a binomial share
    of 2,000 evaluation samples (as the measured ``tail_share`` is)."""
    rng = np.random.default_rng(2)
    tail = {
        bias: rng.binomial(2000, np.linspace(start, end, generations), size=(replicates, generations)) / 2000
        for bias, (start, end) in shares.items()
    }
    return G7Data(2000, 10, tail, {}, np.zeros((0, 2)))


G7_CHECKS = (
    "lambda=1: tail share falls over generations 1-6 (slope)",
    "lambda=0.8: tail share falls over generations 1-6 (slope)",
    "lambda=0.8: tails lost faster than lambda=1 (slope difference)",
    "lambda=0.8: tail share at generation 6 below generation 1's (unbiased draws)",
)


def test_g7_controls_fail_their_checks():
    assert not any(v is False for v in verdict("G7", _g7({1.0: (0.05, 0.03), 0.8: (0.035, 0.001)})).values())
    # both loops keep the real tail share 0.05: every check fails
    kept = verdict("G7", _g7({1.0: (0.05, 0.05), 0.8: (0.05, 0.05)}))
    assert kept == dict.fromkeys(G7_CHECKS, False)
    # lambda = 0.8 no faster than lambda = 1 (the control "lambda = 1 for faster with bias")
    same = verdict("G7", _g7({1.0: (0.035, 0.001), 0.8: (0.035, 0.001)}))
    assert [name for name, ok in same.items() if not ok] == [G7_CHECKS[2]]
    # the lambda = 1 half is judged at the full profile only (16 generations)
    quick = RECIPES["G7"].verdict(_g7({1.0: (0.05, 0.05), 0.8: (0.035, 0.001)}), "quick")
    assert quick.passed and any(G7_CHECKS[0] in note.name for note in quick.notes)


@pytest.mark.slow
def test_g7_quick_profile_passes(tmp_path):
    # the quick profile itself: with fewer samples or epochs (n = 1000, 10 epochs) the
    # undertrained lambda = 1 flows spread out instead (tail share 0.07 -> 0.4-0.8 by generation 6)
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    result = CliRunner().invoke(app, ["reproduce", "G7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("G7: PASS") for line in result.output.splitlines())


def test_g6_middle_outside_the_run_is_an_error():
    tiny = _g6_tiny(
        replicates=2,
        generations=10,
        **{"loop.n_ini": 100, "loop.n_synthetic": 100},
        **{"metrics.generations": [1, 10], "plots.generations": [1, 10, 10]},
    )
    with pytest.raises(ValueError, match="middle"):
        tiny.measure("tiny")
