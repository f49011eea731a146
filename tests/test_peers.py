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

from autophagy.reproduce.base import run_engine
from autophagy.runner import plan_run

PEERS = Path(__file__).parents[1] / "examples" / "peers"
LEVEL = 1e-3


def load(name: str, **top) -> dict:
    raw = tomllib.loads((PEERS / f"{name}.toml").read_text())
    raw.update(top)
    return raw


def wishart_step(n: int, d: int) -> float:
    """E[log det S - log det Sigma] for the unbiased covariance S of n Gaussian samples in d dims."""
    return sum(digamma((n - i) / 2) for i in range(1, d + 1)) + d * math.log(2 / (n - 1))


def covers(samples: np.ndarray, expected: np.ndarray) -> np.ndarray:
    r, k = samples.shape
    half = student_t.isf(LEVEL / (2 * k), r - 1) * samples.std(axis=0, ddof=1) / math.sqrt(r)
    return np.abs(samples.mean(axis=0) - expected) <= half


@pytest.mark.parametrize("path", sorted(PEERS.glob("*.toml")), ids=lambda p: p.stem)
def test_peer_configs_validate(path, tmp_path):
    assert plan_run(tomllib.loads(path.read_text()), tmp_path / "out").cells


def test_shumailov_variance_is_a_martingale_while_log_variance_falls_linearly():
    (cell,) = run_engine(load("shumailov_gaussian", replicates=1500, generations=30, block_size=1500))
    t = np.arange(1, 31)
    assert covers(cell.metrics["trace_cov"], np.ones(30)).all()  # E[sigma_t^2] = 1
    assert covers(cell.metrics["logdet_ratio"], t * wishart_step(100, 1)).all()
    # negative control: the log-variance is not flat
    assert not covers(cell.metrics["logdet_ratio"][:, -1:], np.zeros(1)).any()


def test_collapse_or_thrive_replace_follows_the_closed_form_and_accumulate_stays_bounded():
    raw = load("collapse_or_thrive_gaussian", replicates=300, generations=20, block_size=300)
    cells = {c.values["loop.family"]: c.metrics["logdet_ratio"] for c in run_engine(raw)}
    replace = cells["fully_synthetic"]
    assert covers(replace, np.arange(1, 21) * wishart_step(100, 10)).all()
    for family in ("accumulate", "accumulate_subsample"):  # far above replace at t = 20
        gap = cells[family][:, -1].mean() - replace[:, -1].mean()
        se = math.hypot(cells[family][:, -1].std(ddof=1), replace[:, -1].std(ddof=1)) / math.sqrt(300)
        assert gap > student_t.isf(LEVEL, 299) * se
