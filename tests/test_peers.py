"""The peer configs of docs/peers.md (examples/peers/*.toml) run through the engine and agree
with the closed forms behind the peers' headline claims, at reduced sizes."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import t as student_t

from autophagy.api import run
from autophagy.running.runner import plan_run

PEERS = Path(__file__).parents[1] / "examples" / "peers"
LEVEL = 1e-3


def load(name: str, **top) -> dict:
    raw = tomllib.loads((PEERS / f"{name}.toml").read_text())
    raw.update(top)
    return raw


def cells(raw: dict, folder: Path) -> list[tuple[dict, dict[str, np.ndarray]]]:
    """Run ``raw`` into ``folder``: each cell's swept values and metrics ``(R, G)``."""
    done = run(raw, folder, executor="inline", progress=False, plots=False)
    return [(cell["values"], done.arrays(index)) for index, cell in enumerate(done.cells)]


def wishart_step(n: int, d: int, mle: bool = False) -> float:
    """E[log det S - log det Sigma] for the covariance S fitted to n Gaussian samples in d dims
    (scatter / (n - 1), or / n for the MLE)."""
    return sum(digamma((n - i) / 2) for i in range(1, d + 1)) + d * math.log(2 / (n if mle else n - 1))


def covers(samples: np.ndarray, expected: np.ndarray) -> np.ndarray:
    r, k = samples.shape
    half = student_t.isf(LEVEL / (2 * k), r - 1) * samples.std(axis=0, ddof=1) / math.sqrt(r)
    return np.abs(samples.mean(axis=0) - expected) <= half


@pytest.mark.parametrize("path", sorted(PEERS.glob("*.toml")), ids=lambda p: p.stem)
def test_peer_configs_validate(path, tmp_path):
    assert plan_run(tomllib.loads(path.read_text()), tmp_path / "out").cells


def test_shumailov_variance_and_log_variance_follow_their_closed_forms(tmp_path):
    """Unbiased: E[sigma_t^2] = 1 (a martingale) while E[log sigma_t^2] falls linearly; MLE:
    E[sigma_t^2] = ((M-1)/M)^t."""
    raw = load("shumailov_gaussian", replicates=1000, generations=20, block_size=1000)
    t = np.arange(1, 21)
    for values, metrics in cells(raw, tmp_path / "run"):
        mle = values["model.estimator"] == "mle"
        variance = 0.99**t if mle else np.ones(20)
        assert covers(metrics["trace_cov"], variance).all()
        assert covers(metrics["logdet_ratio"], t * wishart_step(100, 1, mle)).all()
        # negative control: the log-variance is not flat
        assert not covers(metrics["logdet_ratio"][:, -1:], np.zeros(1)).any()


def test_collapse_or_thrive_replace_follows_the_closed_forms_and_accumulate_stays_bounded(tmp_path):
    raw = load("collapse_or_thrive_gaussian", replicates=300, generations=20, block_size=300)
    by_family = {values["loop.family"]: metrics for values, metrics in cells(raw, tmp_path / "run")}
    t = np.arange(1, 21)
    replace = by_family["fully_synthetic"]["logdet_ratio"]
    assert covers(by_family["fully_synthetic"]["trace_cov"], 10 * 0.99**t).all()  # MLE: ((n-1)/n)^t
    assert covers(replace, t * wishart_step(100, 10, mle=True)).all()
    for family in ("accumulate", "accumulate_subsample"):  # far above replace at t = 20
        kept = by_family[family]["logdet_ratio"][:, -1]
        gap = kept.mean() - replace[:, -1].mean()
        se = math.hypot(kept.std(ddof=1), replace[:, -1].std(ddof=1)) / math.sqrt(300)
        assert gap > student_t.isf(LEVEL, 299) * se


def gillman_recursion(gamma: float, n: int, trace: float, generations: int) -> np.ndarray:
    """E tr Sigma_t and E |mu_t - mu_r|^2, ``(generations, 2)``, of the MLE loop with mixture
    correction weight w = gamma / (1 + gamma) toward P_r."""
    w = gamma / (1 + gamma)
    a, b = trace * (n - 1) / n, trace / n
    out = [(a, b)]
    for _ in range(generations - 1):
        c = (1 - w) * a + w * trace + w * (1 - w) * b
        a, b = c * (n - 1) / n, (1 - w) ** 2 * b + c / n
        out.append((a, b))
    return np.array(out)


@pytest.mark.slow  # 9 s: a peer's recursion, not a control or an invariant
def test_gillman_correction_follows_its_recursion_and_stops_the_collapse(tmp_path):
    raw = load("gillman_correction", replicates=300, generations=20, block_size=300)
    by_gamma = {v["mitigation.correct.gamma"]: metrics for v, metrics in cells(raw, tmp_path / "run")}
    for gamma, metrics in by_gamma.items():
        expected = gillman_recursion(gamma, 100, 10.0, 20)
        assert covers(metrics["trace_cov"], expected[:, 0]).all(), gamma
        assert covers(metrics["mean_drift"] ** 2, expected[:, 1]).all(), gamma
    # negative control: the uncorrected loop is not at the corrected fixed point by t = 20
    fixed = gillman_recursion(1.0, 100, 10.0, 20)[-1, 0]
    assert not covers(by_gamma[0.0]["trace_cov"][:, -1:], np.array([fixed])).any()
