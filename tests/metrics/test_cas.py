"""Classification accuracy score: equals scikit-learn's ridge classifier on real digits (primal
and dual solves), sits at chance for classifiers trained on noise, and passes the contract."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import RidgeClassifier

import autophagy.models  # noqa: F401  (registers every built-in)
from autophagy.core.registry import METRICS
from autophagy.data import DATA
from autophagy.metrics.cas import CAS_RIDGE, classification_accuracy
from autophagy.testing import check_metric

R = 6


@pytest.fixture(scope="module")
def digits():
    return DATA["digits"].build(DATA["digits"].options())


def _draws(source, n: int, seed: int, r: int = R) -> np.ndarray:
    return np.stack([source.draw(n, rng=g) for g in np.random.default_rng(seed).spawn(r)])


@pytest.mark.parametrize("m", [300, 40])  # 64 pixels: the primal solve, then the dual one (m < P)
def test_cas_on_real_digits_equals_sklearns_ridge_classifier(digits, m):
    train, test = _draws(digits, m, 1), _draws(digits, 400, 2)
    cas = classification_accuracy(test, train, data=digits)
    reference = [
        RidgeClassifier(alpha=CAS_RIDGE)
        .fit(x[:, :-1], x[:, -1].astype(int))
        .score(y[:, :-1], y[:, -1].astype(int))
        for x, y in zip(train, test, strict=True)
    ]
    assert cas.shape == (R,) and np.array_equal(cas, reference)
    assert cas.min() > (0.85 if m == 300 else 0.6)  # a classifier trained on real digits reads digits


def test_cas_of_noise_is_at_chance(digits):
    """Trained on uniform noise with uniform random labels, the classifier's prediction is
    independent of the class: E[CAS] = 1 / C exactly by symmetry (its per-replicate spread is
    not binomial, so a Student-t interval over replicates is used); scored against labels drawn
    at random, the pooled count of hits is exactly Binomial(R n, 1 / C)."""
    rng = np.random.default_rng(7)
    r, m, n, c = 40, 300, 300, digits.classes
    noise = np.concatenate([rng.random((r, m, 64)), rng.integers(0, c, (r, m, 1))], axis=2)
    test = _draws(digits, n, 3, r)
    cas = classification_accuracy(test, noise, data=digits)
    half = stats.t.ppf(0.9995, r - 1) * cas.std(ddof=1) / np.sqrt(r)
    assert abs(cas.mean() - 1 / c) < half, (cas.mean(), half)
    shuffled = test.copy()
    shuffled[..., -1] = rng.integers(0, c, (r, n))
    hits = round(classification_accuracy(shuffled, noise, data=digits).sum() * n)
    low, high = stats.binom.interval(0.999, r * n, 1 / c)
    assert low <= hits <= high
    # a negative control: the same test against the real-trained classifier is far from chance
    assert classification_accuracy(test[:R], _draws(digits, m, 5), data=digits).mean() > 0.85


def test_cas_drops_when_synthetic_labels_are_wrong(digits):
    train, test = _draws(digits, 300, 1), _draws(digits, 300, 2)
    wrong = train.copy()
    wrong[:, :150, -1] = (wrong[:, :150, -1] + 1) % digits.classes  # half the labels off by one
    assert (
        classification_accuracy(test, wrong, data=digits) < classification_accuracy(test, train, data=digits)
    ).all()


def test_cas_passes_the_metric_contract_and_is_registered_higher_is_better(digits):
    assert METRICS["cas"].higher_is_better and METRICS["cas"].needs == "images"
    report = check_metric("cas")
    assert report.passed, str(report)
    assert check_metric("cas", data=digits).passed
