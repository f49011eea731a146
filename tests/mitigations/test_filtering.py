"""Filtering: a perfect detector with share 0 gives the real-only loop, shares are capped,
and a trained detector's accuracy never beats the Bayes rate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import RecordingModel, base_config

from autophagy.loop.engine import run_block
from autophagy.mitigations.filtering import LogisticDetector
from autophagy.running.config import resolve

Z = 4.5
MARK = 1e6  # value of every synthetic coordinate: synthetic rows are recognisable in training sets


class Marked:
    """A fitted Gaussian whose samples are all MARK: shows which training rows are synthetic."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def sample(self, n, *, rng, sampling_bias):
        return np.full((len(rng), n, self.inner.mean.shape[1]), MARK)

    def moments(self):
        return self.inner.moments()

    def state_dict(self):
        return self.inner.state_dict()


class MarkedModel(RecordingModel):
    def fit(self, data, *, rng, init=None):
        return Marked(super().fit(data, rng=rng, init=init))


LOOPS_WITH_REAL = {
    "synthetic_augmentation": {},
    "fresh_data": {"n_real": 10},
    "accumulate": {"n_real": 5},
    "synthetic_pool": {},
    "real_fraction": {"n_ini": None, "n_synthetic": None, "real_fraction": 0.5, "total_size": 20},
}


def _fits(mitigation, model, generations=4, **loop):
    raw = base_config(**loop)
    raw["generations"] = generations
    raw["metrics"] = {"names": ["wasserstein2"]}
    raw["model"] = {"kind": "gaussian", "simulator": "samples"}
    if mitigation is not None:
        raw["mitigation"] = mitigation
    metrics = [m for _, m in run_block(dataclasses.replace(resolve(raw)[0], model=model), range(3))]
    return [data for data, _ in model.fits], metrics


@pytest.mark.parametrize("family", list(LOOPS_WITH_REAL))
def test_perfect_detector_and_share_zero_train_on_real_data_only(family):
    watermark = {"filter": {"target_share": 0.0, "detector": "watermark"}}
    fits, metrics = _fits(watermark, MarkedModel(), family=family, **LOOPS_WITH_REAL[family])
    assert all(not np.any(data == MARK) for data in fits)
    assert all(np.all(m["detector_accuracy"] == 1.0) for m in metrics[1:])


def test_perfect_detector_and_share_zero_equal_the_real_only_loop():
    """fresh_data filtered to share 0 trains on exactly the fresh real draws: the data environment
    with real fraction 1 (no synthetic data at all) draws the same samples from the same streams."""
    watermark = {"filter": {"target_share": 0.0, "detector": "watermark"}}
    filtered, _ = _fits(watermark, RecordingModel(), family="fresh_data", n_real=20)
    environment = {"n_ini": None, "n_synthetic": None, "real_fraction": 1.0, "total_size": 20}
    real_only, _ = _fits(None, RecordingModel(), family="real_fraction", **environment)
    for a, b in zip(filtered, real_only, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("share", [0.1, 0.3, 0.6])
@pytest.mark.parametrize("family", list(LOOPS_WITH_REAL))
def test_synthetic_share_is_capped_at_the_target(family, share):
    """Share of synthetic rows <= target, and one more synthetic row would break the cap (or all
    n_synthetic new rows are kept)."""
    watermark = {"filter": {"target_share": share, "detector": "watermark"}}
    fits, _ = _fits(watermark, MarkedModel(), generations=5, family=family, **LOOPS_WITH_REAL[family])
    previous_synthetic = 0
    for data in fits[1:]:
        synthetic = int(np.all(data[0] == MARK, axis=1).sum())
        total = data.shape[1]
        assert synthetic <= share * total + 1e-9
        new = synthetic - (previous_synthetic if family in ("accumulate", "synthetic_pool") else 0)
        n_synthetic = 10 if family == "real_fraction" else 20
        assert new == n_synthetic or (synthetic + 1) > share * (total + 1)
        previous_synthetic = synthetic


def _bayes_accuracy(bias: float) -> float:
    """Real N(0, I_2) versus synthetic N(0, bias I_2) with equal priors: |x|^2 is exponential with
    mean 2 (real) or 2 bias (synthetic); the likelihood ratio test thresholds it at
    c = 2 ln(1 / bias) / (1 / bias - 1)."""
    c = 2 * np.log(1 / bias) / (1 / bias - 1)
    return 0.5 * np.exp(-c / 2) + 0.5 * (1 - np.exp(-c / (2 * bias)))


def test_quadratic_detector_accuracy_is_near_but_not_above_the_bayes_rate():
    """Two Gaussians differ by a quadratic log-likelihood ratio, so quadratic logistic regression is
    well specified; fitted on 1000 per class its excess error is O(p / n) ~ 0.005 (we allow 0.02), and
    no detector beats the Bayes rate beyond the sampling error of its test accuracy (Z se)."""
    bias, reps = 0.25, 20
    raw = base_config(family="synthetic_augmentation", n_ini=5000, n_synthetic=10, sampling_bias=bias)
    raw.update(generations=2, data={"kind": "gaussian", "dim": 2})
    raw["metrics"] = {"names": ["wasserstein2"]}
    raw["mitigation"] = {"filter": {"target_share": 0.5, "detector": "quadratic", "n_holdout": 2000}}
    accuracy = [m for _, m in run_block(resolve(raw)[0], range(reps))][1]["detector_accuracy"]
    bayes = _bayes_accuracy(bias)
    se = np.sqrt(bayes * (1 - bayes) / (2000 * reps))
    assert bayes - 0.02 <= accuracy.mean() <= bayes + Z * se


def test_logistic_detector_separates_shifted_gaussians():
    """Means 0 and 3 along one axis: the Bayes rule thresholds at 1.5, accuracy Phi(1.5) = 0.933."""
    rng = np.random.default_rng(0)
    n, shift = 4000, np.array([3.0, 0.0])
    x = np.concatenate([rng.standard_normal((n, 2)), rng.standard_normal((n, 2)) + shift])
    y = np.repeat([0.0, 1.0], n)
    detector = LogisticDetector.fit(x, y, quadratic=False, penalty=1e-4)
    test = np.concatenate([rng.standard_normal((n, 2)), rng.standard_normal((n, 2)) + shift])
    accuracy = np.mean((detector.prob_synthetic(test) > 0.5) == y)
    assert abs(accuracy - 0.9332) <= Z * np.sqrt(0.067 * 0.933 / (2 * n)) + 0.01
    assert abs(detector.prob_synthetic(np.array([[1.5, 0.0]]))[0] - 0.5) < 0.05
