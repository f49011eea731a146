"""Frechet distance closed forms, FID on features, and the feature extractors."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import (
    EXTRACTORS,
    FeatureExtractor,
    Identity,
    RandomProjection,
    TorchFeatures,
    fid,
    frechet_distance,
    wasserstein2_squared,
)


def test_w2_diagonal_closed_form():
    # diagonal covariances: W2^2 = |m1 - m2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2
    rng = np.random.default_rng(0)
    m1, m2, a, b = rng.normal(size=5), rng.normal(size=5), rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert wasserstein2_squared(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_w2_full_commuting_closed_form_and_singular():
    # covariances sharing eigenvectors Q: W2^2 = |m1 - m2|^2 + |S1^1/2 - S2^1/2|_F^2
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a, b = rng.uniform(0.1, 3, 6), np.r_[rng.uniform(0.1, 3, 4), 0.0, 0.0]  # S2 singular
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    expected = 1.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    # zero eigenvalues come back as +-1e-16, whose square roots put ~1e-8 errors on the trace term
    assert wasserstein2_squared(np.zeros(6), s1, np.eye(6)[0], s2) == pytest.approx(expected, rel=1e-6)


def test_fid_of_a_sample_with_itself_is_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 200, 8)) @ rng.normal(size=(8, 8))
    assert np.all(np.abs(fid(x, x)) < 1e-9)
    assert abs(fid(x[0], x[0].copy(), extractor=RandomProjection(4))) < 1e-9
    few = rng.normal(size=(5, 8))  # singular sample covariance (5 samples in 8 dimensions)
    assert abs(fid(few, few)) < 1e-9 and np.isfinite(fid(few, rng.normal(size=(6, 8))))


def test_fid_is_the_frechet_distance_of_the_features():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 10)), rng.normal(loc=0.3, size=(250, 10))
    assert fid(x, y) == pytest.approx(frechet_distance(x, y), rel=1e-12)
    proj = RandomProjection(out_dim=3, seed=7)
    assert fid(x, y, extractor=proj) == pytest.approx(frechet_distance(proj(x), proj(y)), rel=1e-12)
    assert fid(x, y, max_samples=300, rng=rng) == fid(x, y)
    capped = fid(x, y, max_samples=100, rng=np.random.default_rng(4))
    assert capped == fid(x, y, max_samples=100, rng=np.random.default_rng(4))


def test_fid_validates_inputs_and_extractor_output():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match="alike"):
        fid(x, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="NaN"):
        fid(x, np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="2 or more"):
        fid(x[:1], x)
    with pytest.raises(ValueError, match=r"\(n, f\)"):
        fid(x, x, extractor=lambda rows: rows[:3])


def test_extractors_are_fixed_and_registered():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 20))
    proj = EXTRACTORS["random_projection"](out_dim=8, seed=1)
    assert proj(x).shape == (50, 8) and np.array_equal(proj(x), RandomProjection(8, seed=1)(x))
    assert not np.allclose(proj(x), RandomProjection(8, seed=2)(x))
    assert np.array_equal(EXTRACTORS["identity"]()(x), x)
    for extractor in (Identity(), proj, TorchFeatures(module=None)):
        assert isinstance(extractor, FeatureExtractor)
    # Johnson-Lindenstrauss: squared norms are preserved in expectation
    wide = RandomProjection(out_dim=2000, seed=0)(x[:5])
    np.testing.assert_allclose(np.sum(wide**2, axis=1), np.sum(x[:5] ** 2, axis=1), rtol=0.25)


def test_torch_module_extractor():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 5))
    extractor = TorchFeatures(net, input_shape=(1, 6, 6), batch_size=7)
    x = np.random.default_rng(6).normal(size=(20, 36))
    features = extractor(x)
    assert features.shape == (20, 5) and features.dtype == np.float64
    assert np.array_equal(features, extractor(x))
    assert np.isfinite(fid(x, x[::-1], extractor=extractor))
