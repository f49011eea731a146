"""Precision and recall against the reference ``prdc`` package and a brute-force definition."""

from __future__ import annotations

import numpy as np
import pytest

import autophagy.metrics.knn as knn
from autophagy.metrics import precision_recall


def _brute_force(real: np.ndarray, synthetic: np.ndarray, k: int) -> tuple[float, float]:
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    def share(points, centres, r):
        d = np.linalg.norm(points[:, None] - centres[None], axis=-1)
        return float(np.mean(np.any(d <= r[None], axis=1)))

    return share(synthetic, real, radii(real)), share(real, synthetic, radii(synthetic))


def test_matches_prdc_reference():
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(0)
    real, synthetic = rng.normal(size=(400, 8)), rng.normal(loc=0.3, scale=0.8, size=(350, 8))
    ours = precision_recall(real, synthetic, k=5)
    theirs = prdc.compute_prdc(real_features=real, fake_features=synthetic, nearest_k=5)
    # continuous data: no sample lies exactly on a ball boundary, so "<" and "<=" agree
    assert ours["precision"] == pytest.approx(theirs["precision"], abs=1e-12)
    assert ours["recall"] == pytest.approx(theirs["recall"], abs=1e-12)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_matches_brute_force_and_is_block_size_independent(k, monkeypatch):
    rng = np.random.default_rng(k)
    real, synthetic = rng.normal(size=(3, 60, 4)), rng.normal(scale=1.5, size=(3, 50, 4))
    batched = precision_recall(real, synthetic, k=k)
    monkeypatch.setattr(knn, "_BLOCK_ELEMENTS", 97)
    tiny_blocks = precision_recall(real, synthetic, k=k)
    for r in range(3):
        expected = _brute_force(real[r], synthetic[r], k)
        assert (batched["precision"][r], batched["recall"][r]) == pytest.approx(expected)
        assert (tiny_blocks["precision"][r], tiny_blocks["recall"][r]) == pytest.approx(expected)


def test_known_extremes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    assert precision_recall(x, x.copy()) == {"precision": 1.0, "recall": 1.0}
    far = precision_recall(x, x + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0}
    # samples collapsed onto one real point: all inside (quality kept), recall near 0
    collapsed = precision_recall(x, np.repeat(x[:1], 100, axis=0))
    assert collapsed["precision"] == 1.0 and collapsed["recall"] <= 6 / 100


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="alike"):
        precision_recall(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(np.zeros((5, 2)), np.ones((5, 2)), k=5)
