"""``autophagy reproduce``: the CLI, and G1-G5 judges on measurements where each claim is false.

Every check of G1-G5 has a negative control here: a constructed (or fresh-data) measurement
contradicting its claim, on which the check must fail, beside one where every claim holds.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from autophagy import reproduce
from autophagy.cli import app
from autophagy.core.stats import Estimate
from autophagy.reproduce import RECIPES
from autophagy.reproduce.gaussian import G1Data, G2Data
from autophagy.reproduce.gaussian_phase import G3Data, G4Data, G5Data

runner = CliRunner()


def judged(rid: str, m, profile: str = "full") -> dict[str, bool]:
    return RECIPES[rid].verdict(m, profile).by_name()


def failing(rid: str, m, profile: str = "full") -> set[str]:
    return {name for name, ok in judged(rid, m, profile).items() if not ok}


def test_list_names_every_recipe():
    result = runner.invoke(app, ["reproduce", "--list"])
    assert result.exit_code == 0
    for rid in ("G1", "G2", "G3", "G4", "G5", "N6"):
        assert rid in result.output


def test_g2_quick_passes_and_writes_its_figure_and_json(tmp_path):
    verdict = tmp_path / "v.json"
    result = runner.invoke(
        app,
        [
            "reproduce",
            "G2",
            "--out",
            str(tmp_path),
            "--seed",
            "3",
            "--replicates",
            "40",
            "--json",
            str(verdict),
        ],
    )
    assert result.exit_code == 0, result.output
    assert any(line.startswith("G2: PASS") for line in result.output.splitlines())
    assert (tmp_path / "G2.png").stat().st_size > 0
    body = json.loads(verdict.read_text())
    assert body["seed"] == 3 and body["settings"]["replicates"] == 40 and body["profile"] == "quick"
    assert body["passed"] and body["wall_seconds"] > 0 and "numpy" in body["versions"]
    assert body["outcome"] == "PASS" and len(body["design"]["sha256"]) == 64
    for check in body["checks"]:
        assert check["replicates"] == 40 and len(check["interval"]) == 2 and 0 < check["alpha"] <= 0.01
        assert check["detectable_effect"] > 0 and check["control"]["outcome"] != "SUPPORTED"
        if check["kind"] == "inside":  # every agreement carries its declared margin and reason
            assert check["margin"]["reason"] and check["margin"]["band"][0] < check["margin"]["band"][1]


def _no_collapse(dim: int = 2, n: int = 10, replicates: int = 200, generations: int = 50, drift: float = 0.0):
    """A loop that refits on fresh real data every generation: the means do not random-walk
    and Sigma_t never shrinks, which contradicts G1 for lambda = 0.8 and for the collapse."""
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((replicates, generations, n, dim))
    means = draws.mean(axis=2) + drift * np.arange(generations)[None, :, None] / math.sqrt(n)
    variances = draws.var(axis=2, ddof=1)
    data = {b: (means, variances, variances.sum(-1)) for b in (1.0, 0.8)}
    return G1Data(dim, n, (1.0, 0.8), *({b: v[i] for b, v in data.items()} for i in range(3)))


def test_g1_controls_fail_their_checks():
    bad = failing("G1", _no_collapse())
    for bias in ("1", "0.8"):
        assert f"lambda={bias}: Var of the step = lambda" in bad  # independent means: variance 2
        assert f"lambda={bias}: Sigma_t -> 0 (P(tr Sigma_T < 0.1 tr Sigma_r) above 0.9)" in bad
        assert f"lambda={bias}: E[mu_t - mu_(t-1)] = 0" not in bad  # zero-mean steps still
    assert "lambda=0.8: E[Sigma_t | Sigma_(t-1)] = lambda Sigma_(t-1)" in bad
    drifting = failing("G1", _no_collapse(drift=1.0))
    assert {"lambda=1: E[mu_t - mu_(t-1)] = 0", "lambda=0.8: E[mu_t - mu_(t-1)] = 0"} <= drifting


def test_failing_measurement_gives_exit_1_and_a_fail_line(tmp_path, monkeypatch):
    """The fresh-data loop contradicts G1 (step variance 2, E[tr ratio] = E[chi2 ratio] > 1,
    no collapse): FAIL, exit 1, and no control holds (each is as far off as its check)."""
    fake = dataclasses.replace(
        reproduce.RECIPES["G1"], measure_fn=lambda seed, **_: _no_collapse(), profiles={"quick": {}}
    )
    monkeypatch.setitem(reproduce.RECIPES, "G1", fake)
    result = runner.invoke(app, ["reproduce", "G1", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith("G1: FAIL 6 of 8 checks contradicted")


def _g2(limit=lambda b, s: 0.3 + 0.2 * (b < 1), start=lambda b, s: 5 / math.sqrt(s)) -> G2Data:
    """W2 ``(60, 10)`` per (lambda, n_ini): ``start`` at generation 1, ``limit`` from generation
    3 on, with 2 % noise."""
    rng = np.random.default_rng(4)
    w2 = {}
    for b in (1.0, 0.8):
        for s in (110, 1000, 10_000):
            curve = np.full(10, limit(b, s))
            curve[0] = start(b, s)
            w2[(b, s)] = curve * (1 + 0.02 * rng.standard_normal((60, 10)))
    return G2Data(20, 100, 900, 2, w2)


def test_g2_controls_fail_their_checks():
    assert not failing("G2", _g2())
    assert failing("G2", _g2(limit=lambda b, s: 0.3 + 0.2 * (b < 1) + 0.1 * math.log10(s))) == {
        f"lambda={b}: the limit is the same for n_ini={x} and n_ini={y} (log ratio)"
        for b in ("1", "0.8")
        for x, y in ((110, 1000), (1000, 10000))
    }
    assert failing("G2", _g2(start=lambda b, s: 0.5)) == {
        "lambda=1: n_ini=110 starts farther than n_ini=10000",
        "lambda=0.8: n_ini=110 starts farther than n_ini=10000",
    }
    no_lambda = RECIPES["G2"].verdict(_g2(limit=lambda b, s: 0.3))
    assert {c.name for c in no_lambda.checks if not c.passed} == {
        "the limit depends on lambda (lambda=0.8 above lambda=1)"
    }
    assert no_lambda.outcome == "INVALID"  # the same-limit checks' controls (lambda against lambda) hold


N_REAL, N_SYN = (50, 200, 800), (10, 50, 200, 400, 800, 1600, 3200)


def _g3(thresholds=None, unbiased: float = 0.1, se: float = 0.01) -> G3Data:
    """log(n_e / n_r) = -0.8 (log n_s - log threshold(lambda, n_r)) for lambda < 1, ``unbiased``
    for lambda = 1 (a callable of (n_r, n_s) or a number), each with standard error ``se``."""
    thresholds = thresholds or {0.9: (300, 400, 430), 0.8: (150, 200, 215)}
    ratio = {}
    for b in (1.0, 0.9, 0.8):
        for i, nr in enumerate(N_REAL):
            for ns in N_SYN:
                if b == 1.0:
                    value = unbiased(nr, ns) if callable(unbiased) else unbiased
                else:
                    value = -0.8 * (math.log(ns) - math.log(thresholds[b][i]))
                ratio[(b, nr, ns)] = Estimate(value, se, 59, 60)
    return G3Data(10, ratio)


FLATTENS = "lambda={b}: the threshold settles as n_r grows (successive log changes shrink in size)"


def test_g3_controls_fail_their_checks():
    assert not failing("G3", _g3())
    assert failing("G3", _g3(unbiased=lambda nr, ns: -0.3 if ns == 3200 else 0.1)) == {
        "lambda=1: admissible everywhere (log n_e / n_r above -0.1)"
    }
    accelerating = {0.9: (300, 400, 600), 0.8: (150, 200, 300)}  # growth x1.33 then x1.5
    assert failing("G3", _g3(accelerating)) == {FLATTENS.format(b=b) for b in ("0.9", "0.8")}
    # at the quick profile the flattening is reported only (d = 10 does not show it)
    assert not failing("G3", _g3(accelerating), profile="quick")
    # thresholds that fall then rise by less (the shape of d = 100's 4061, 2558, 3421) settle;
    # by more, not
    settling = {0.9: (406, 256, 342), 0.8: (194, 118, 150)}
    assert not failing("G3", _g3(settling))
    swinging = {0.9: (406, 256, 600), 0.8: (194, 118, 300)}
    assert failing("G3", _g3(swinging)) >= {FLATTENS.format(b=b) for b in ("0.9", "0.8")}
    same = {0.9: (300, 400, 430), 0.8: (300, 400, 430)}
    assert failing("G3", _g3(same)) == {
        "smaller lambda strictly shrinks the threshold (log thr 0.9 - log thr 0.8 > 0)"
    }
    never = _g3()
    never.ratio.update({k: Estimate(0.2, 0.01, 59, 60) for k in never.ratio if k[0] == 0.9})
    assert "lambda=0.9: inadmissible at n_s=3200 for every n_r (a threshold exists)" in failing("G3", never)


def _g4(ratios=(1.9, 2.65, 3.8, 5.4)) -> G4Data:
    return G4Data(
        10,
        {k: Estimate(math.log(r), 0.03, 99, 100) for k, r in zip((1, 2, 4, 8), ratios, strict=True)},
    )


def test_g4_controls_fail_their_checks():
    assert not failing("G4", _g4())
    assert failing("G4", _g4((2.0, 2.0, 2.0, 2.0))) == {
        "n_e / n_r rises with K (K=8 above K=1)",
        "every step in K helps",
        "diminishing returns: gain per model K=1->2 exceeds K=4->8",
    }
    assert failing("G4", _g4((2.0, 2.5, 3.5, 5.5))) == {
        "diminishing returns: gain per model K=1->2 exceeds K=4->8"
    }
    assert failing("G4", _g4((1.9, 2.65, 3.8, 3.8))) == {"every step in K helps"}


def test_g4_equal_settings_controls_run_in_the_verdict_and_make_it_invalid_when_supported():
    """The controls repeat K = 1 on independent streams: equal ratios leave every control
    unsupported (the recipe passes); controls that rise like the real K steps make it INVALID."""
    flat = [Estimate(math.log(1.9) + d, 0.03, 99, 100) for d in (0.01, -0.02, 0.015)]
    report = RECIPES["G4"].verdict(dataclasses.replace(_g4(), controls=flat), "quick")
    assert report.outcome == "PASS" and all(c.control is not None for c in report.checks)
    assert all(c.control.outcome != "SUPPORTED" for c in report.checks)
    rising = [Estimate(math.log(r), 0.03, 99, 100) for r in (2.65, 3.8, 5.4)]
    assert RECIPES["G4"].verdict(dataclasses.replace(_g4(), controls=rising), "quick").outcome == "INVALID"


def test_g3_admissible_and_shrink_checks_carry_controls():
    """lambda = 0.8's cells (inadmissible at large n_s) control "admissible everywhere"; lambda =
    0.9 repeated controls "smaller lambda shrinks the threshold": equal thresholds leave it
    unsupported, a repeat whose thresholds sit far above makes the recipe INVALID."""
    m = _g3()
    repeat = {(nr, ns): e for (b, nr, ns), e in m.ratio.items() if b == 0.9}
    report = RECIPES["G3"].verdict(dataclasses.replace(m, control=repeat), "full")
    shrink = next(c for c in report.checks if c.name.startswith("smaller lambda"))
    admissible = next(c for c in report.checks if c.name.startswith("lambda=1: admissible"))
    assert shrink.control.outcome != "SUPPORTED" and admissible.control.outcome == "CONTRADICTED"
    assert report.outcome == "PASS"
    far = _g3({0.9: (900, 1200, 1290), 0.8: (150, 200, 215)})
    higher = {(nr, ns): e for (b, nr, ns), e in far.ratio.items() if b == 0.9}
    assert RECIPES["G3"].verdict(dataclasses.replace(m, control=higher), "full").outcome == "INVALID"


def _g5(rate: float = -0.5, biased_rate=None, gap: float = 1.15) -> G5Data:
    """W2 = c n^rate with 1 % standard errors; p < 1 ``gap`` times p = 1's; lambda = 0.9 with
    log-log slopes ``biased_rate`` between successive sizes (default: flattening to a floor)."""
    sizes = (200, 800, 3200, 12_800)
    wd = {}
    for p, scale in ((1.0, 1.0), (0.5, gap), (0.2, gap**2)):
        for n in sizes:
            wd[(1.0, p, n)] = 0.4 * scale * (n / 200) ** rate
    slopes = biased_rate or (-0.4, -0.28, -0.12)
    value = 0.5
    for i, n in enumerate(sizes):
        value = value if i == 0 else value * 4 ** slopes[i - 1]
        wd[(0.9, 0.5, n)] = value
    noise = np.random.default_rng(5)  # 1 % independent noise per replicate and loop
    return G5Data(10, {k: v * (1 + 0.01 * noise.standard_normal(60)) for k, v in wd.items()})


def test_g5_controls_fail_their_checks():
    assert not failing("G5", _g5())
    assert failing("G5", _g5(rate=-0.3)) >= {
        f"lambda=1, p={p}: log-log slope of W2 on n = -0.5" for p in ("1", "0.5", "0.2")
    }
    assert failing("G5", _g5(gap=0.9)) == {
        f"lambda=1, p={p}: W2 above p=1's at every n (more data for the same W2)" for p in ("0.5", "0.2")
    }
    keeps_improving = failing("G5", _g5(biased_rate=(-0.5, -0.5, -0.5)))
    assert keeps_improving == {
        "synthetic data slows the decrease: lambda=0.9, p=0.5's log-log slope over all n above "
        "the fresh-only loop's (lambda=1, p=1)",
        "lambda=0.9, p=0.5: W2 flattens (log-log slope over n [3200, 12800] above over n [200, 800])",
        "lambda=0.9, p=0.5: stops improving (slope over n [3200, 12800] flatter than half lambda=1's)",
    }


def test_unknown_id_profile_and_bad_overrides_are_config_errors(tmp_path):
    for args in (
        ["reproduce", "Z9"],
        ["reproduce", "G1", "--profile", "huge"],
        ["reproduce", "G1", "--replicates", "1"],
        ["reproduce", "N1", "--workers", "0"],
        ["reproduce", "G1", "--all"],
        ["reproduce"],
    ):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2, args
        assert result.output.startswith("error: ")
    assert not (tmp_path / "x").exists()


def test_g1_loop_folder_killed_after_its_first_task_resumes_to_identical_numbers(tmp_path, monkeypatch):
    """G1's loops run from its package config through the driver into ``folder/runs/G1``; a run
    stopped right after its first committed task (one generation per task here, so the folder
    holds a mid-loop checkpoint) resumes there and gives the numbers of an uninterrupted run."""
    import dataclasses

    from autophagy.reproduce import RECIPES
    from autophagy.reproduce.gaussian import coordinates
    from autophagy.storage.store import RunStore

    tiny = {"data.dim": 2, "loop.n_ini": 10, "loop.n_synthetic": 10, "replicates": 5, "generations": 6}
    recipe = dataclasses.replace(
        RECIPES["G1"], profiles={"tiny": {**tiny, "metrics.names": coordinates(2)}}, task_seconds=0.0
    )
    reference = recipe.measure("tiny", seed=3)
    commit = RunStore.commit_task
    commits = []

    def killed_after_first(self, *args, **kwargs):
        if commits:
            raise RuntimeError("killed")
        commits.append(args)
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "commit_task", killed_after_first)
    with pytest.raises(RuntimeError, match="killed"):
        recipe.measure("tiny", seed=3, folder=tmp_path)
    # a cell's replicates from 0, generation 1, with its checkpoint (either cell: the pool may
    # commit cell 1's first task before cell 0's)
    assert commits[0][1:3] == (0, 1)
    monkeypatch.setattr(RunStore, "commit_task", commit)
    resumed = recipe.measure("tiny", seed=3, folder=tmp_path)
    for bias in reference.biases:
        for field in ("means", "variances", "traces"):
            np.testing.assert_array_equal(getattr(resumed, field)[bias], getattr(reference, field)[bias])
    assert (tmp_path / "runs" / "G1" / "sweep.json").is_file()
