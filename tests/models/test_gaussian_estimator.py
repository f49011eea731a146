"""``model.estimator``: the unbiased (paper eq. 1) and maximum-likelihood Gaussian fits.

Closed form (fully synthetic loop, n samples a generation, lambda = 1): the expected trace of
the model fitted t refits after generation 1 is c^t times generation 1's, c = (n - 1) / n for
the MLE and c = 1 for the unbiased estimator. Checked per replicate on the ratio
tr(Sigma_{1+t}) / tr(Sigma_1) (its conditional mean is exactly c^t) with Student-t intervals
over replicates at 1 - 0.001 / 4 each: the four claims of a test hold jointly at 99.9 % (Holm's
first step, Bonferroni).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config
from scipy import stats

from autophagy.core.errors import ConfigError
from autophagy.loop.engine import run_block
from autophagy.models import GaussianModel
from autophagy.models.gaussian_exact import ExactGaussianSimulator, GroupStats
from autophagy.running.config import resolve

DIM, N = 10, 32
LEVEL = 1 - 0.001 / 4  # four interval claims per test


def trace_ratios(estimator: str, simulator: str, reps: int, generations: int = 51) -> np.ndarray:
    """tr(Sigma_t) / tr(Sigma_1) per replicate ``(R, generations)`` for d = 10, n = 32."""
    raw = base_config(n_ini=N, n_synthetic=N, sampling_bias=1.0)
    raw.update(
        replicates=reps,
        generations=generations,
        block_size=reps,
        seed=5,
        data={"kind": "gaussian", "dim": DIM},
        model={"kind": "gaussian", "estimator": estimator, "simulator": simulator},
        metrics={"names": ["trace_cov"], "n_eval": 10},
    )
    exp = resolve(raw)[0]
    assert exp.simulator == simulator and exp.model.estimator == estimator
    trace = np.stack([m["trace_cov"] for _, m in run_block(exp, range(reps))], axis=1)
    return trace / trace[:, :1]


def interval(x: np.ndarray) -> tuple[float, float]:
    """Student-t interval of the mean of ``x`` at LEVEL."""
    half = stats.t.ppf(0.5 + LEVEL / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def test_mle_divides_the_scatter_by_n():
    data = np.random.default_rng(0).normal(size=(3, 7, 4))
    mle = GaussianModel("mle").fit(data, rng=[])
    unbiased = GaussianModel().fit(data, rng=[])
    for r in range(3):
        np.testing.assert_allclose(mle.cov[r], np.cov(data[r].T, bias=True), atol=1e-12)
        np.testing.assert_allclose(unbiased.cov[r], np.cov(data[r].T), atol=1e-12)
    np.testing.assert_allclose(mle.mean, unbiased.mean)


def test_exact_fit_applies_the_estimator_to_the_statistics(gaussian3):
    data = np.random.default_rng(1).normal(size=(2, 9, 3))
    mean = data.mean(axis=1)
    centred = data - mean[:, None]
    stats_ = GroupStats(np.array([9, 9]), mean, np.swapaxes(centred, 1, 2) @ centred)
    for estimator in ("unbiased", "mle"):
        exact = ExactGaussianSimulator(gaussian3, GaussianModel(estimator)).fit(stats_, [], None)
        np.testing.assert_allclose(exact.cov, GaussianModel(estimator).fit(data, rng=[]).cov, atol=1e-12)


@pytest.mark.parametrize(
    "simulator, reps", [("exact", 1200), pytest.param("samples", 800, marks=pytest.mark.slow)]
)  # the sample path: slow (18 s); the exact simulator checks the same closed form
def test_mle_trace_contracts_by_n_minus_1_over_n_per_refit(simulator, reps):
    """Done-when of issue 17: MLE ratio ((n - 1)/n)^t at t = 10 and 50; unbiased stays 1."""
    mle = trace_ratios("mle", simulator, reps)
    unbiased = trace_ratios("unbiased", simulator, reps)
    for t in (10, 50):
        expected = ((N - 1) / N) ** t
        low, high = interval(mle[:, t])
        assert low <= expected <= high, (t, low, high, expected)
        assert high < 1.0  # negative control: the MLE ratio is not the unbiased one
        low, high = interval(unbiased[:, t])
        assert low <= 1.0 <= high, (t, low, high)
        assert low > expected  # negative control: the unbiased ratio is not the MLE's


def test_estimator_is_validated():
    raw = base_config()
    raw["model"] = {"kind": "gaussian", "estimator": "biased"}
    with pytest.raises(ConfigError, match=r"model\.estimator"):
        resolve(raw)
