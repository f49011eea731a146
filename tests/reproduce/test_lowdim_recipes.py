"""G6 and G7 recipes: a small real G6 run passes; measurements that contradict the paper fail."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.reproduce.lowdim import G6Data, G7Data, g6_draw, g6_judge, g6_measure, g7_judge


def test_list_names_g6_and_g7():
    result = CliRunner().invoke(app, ["reproduce", "--list"])
    assert result.exit_code == 0
    assert "G6" in result.output and "G7" in result.output


def test_g6_small_run_passes_and_draws(tmp_path):
    # n = 300 loses modes within tens of generations (about 10 of 25 by generation 40), many
    # interval widths beyond the 99.9 % intervals over 6 replicates
    m = g6_measure(replicates=6, generations=40, middle=15, n=300, n_eval=500, checkpoints=8)
    assert m.metrics["recall"].shape == (6, m.generations.size)
    checks = g6_judge(m)
    assert all(c.passed for c in checks), checks
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
    checks = {c.name: c.passed for c in g6_judge(_scale_collapse())}
    assert checks == {
        "modes covered fall from generation 1 to 10": False,
        "modes covered fall from generation 10 to 100": False,
        "by generation 10 recall falls by a larger share than tr(Sigma)": False,
        "by generation 10 average per-mode variance falls by a larger share than tr(Sigma)": False,
    }


def test_g7_judge_fails_when_biased_tails_are_kept():
    # both loops keep the real tail share 0.05: each replicate's share is a binomial proportion
    # of 2,000 evaluation samples, so neither the gap nor the fall is significant
    rng = np.random.default_rng(2)
    tail = {bias: rng.binomial(2000, 0.05, size=(8, 6)) / 2000 for bias in (1.0, 0.8)}
    checks = g7_judge(G7Data(2000, 10, tail, {}, np.zeros((0, 2))))
    assert [c.passed for c in checks] == [False, False, False]


@pytest.mark.slow
def test_g7_quick_profile_passes(tmp_path):
    # the quick profile itself: with fewer samples or epochs (n = 1000, 10 epochs) the
    # undertrained lambda = 1 flows spread out instead (tail share 0.07 -> 0.4-0.8 by generation 6)
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    result = CliRunner().invoke(app, ["reproduce", "G7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("G7: PASS")


def test_g6_middle_outside_the_run_is_an_error():
    with pytest.raises(ValueError, match="middle"):
        g6_measure(replicates=2, generations=10, middle=10, n=100)
