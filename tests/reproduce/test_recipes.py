"""``autophagy reproduce``: a real recipe passes; data that violate the expectation fail."""

from __future__ import annotations

import dataclasses

import numpy as np
from typer.testing import CliRunner

from autophagy import reproduce
from autophagy.cli import app
from autophagy.reproduce.base import Interval
from autophagy.reproduce.gaussian import G1Data, g1_judge
from autophagy.reproduce.gaussian_phase import G5Data, g5_judge

runner = CliRunner()


def test_list_names_every_recipe():
    result = runner.invoke(app, ["reproduce", "--list"])
    assert result.exit_code == 0
    for rid in ("G1", "G2", "G3", "G4", "G5"):
        assert rid in result.output


def test_g2_quick_passes_and_writes_its_figure(tmp_path):
    result = runner.invoke(app, ["reproduce", "G2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("G2: PASS")
    assert (tmp_path / "G2.png").stat().st_size > 0


def _no_collapse(dim: int = 2, n: int = 10, replicates: int = 200, generations: int = 50) -> G1Data:
    """A loop that refits on fresh real data every generation: the means do not random-walk
    and Sigma_t never shrinks, which contradicts G1 for lambda = 0.8 and for the collapse."""
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((replicates, generations, n, dim))
    means = draws.mean(axis=2)
    variances = draws.var(axis=2, ddof=1)
    data = {b: (means, variances, variances.sum(-1)) for b in (1.0, 0.8)}
    return G1Data(dim, n, (1.0, 0.8), *({b: v[i] for b, v in data.items()} for i in range(3)))


def test_g1_judge_fails_on_a_loop_without_collapse():
    checks = {c.name: c.passed for c in g1_judge(_no_collapse())}
    assert not checks["lambda=0.8: E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1)"]
    assert not checks["lambda=1: Sigma_t -> 0 (tr Sigma_T < 0.1 tr Sigma_r in >= 90 % of replicates)"]
    assert checks["lambda=1: E[mu_t - mu_(t-1)] = 0"]  # independent means: still zero-mean steps


def test_failing_measurement_gives_exit_1_and_a_fail_line(tmp_path, monkeypatch):
    fake = dataclasses.replace(reproduce.RECIPES["G1"], measure=_no_collapse, profiles={"quick": {}})
    monkeypatch.setitem(reproduce.RECIPES, "G1", fake)
    result = runner.invoke(app, ["reproduce", "G1", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith("G1: FAIL")


def test_g5_judge_fails_when_biased_w2_keeps_improving():
    sizes = (200, 800, 3200)
    wd = {}
    for bias, p in ((1.0, 1.0), (1.0, 0.5), (1.0, 0.2), (0.9, 0.5)):
        for n in sizes:  # every curve falls like n^-1/2: no floor for lambda < 1
            wd[(bias, p, n)] = Interval((2 - p) / np.sqrt(n), 1e-4 / np.sqrt(n))
    checks = {c.name: c.passed for c in g5_judge(G5Data(10, wd))}
    assert not checks["lambda=0.9, p=0.5: W2 stops improving with n (last slope less than half lambda=1's)"]
    assert checks["lambda=1, p=1: W2 falls with n (minus the log-log slope)"]


def test_unknown_id_and_profile_are_config_errors():
    assert runner.invoke(app, ["reproduce", "Z9"]).exit_code == 2
    assert runner.invoke(app, ["reproduce", "G1", "--profile", "huge"]).exit_code == 2
