"""Precision, recall, density and coverage: the prdc reference, expectations, ties and duplicates."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from autophagy.metrics import knn, prdc

KEYS = ("precision", "recall", "density", "coverage")


def _reference(real: np.ndarray, synthetic: np.ndarray, k: int) -> dict:
    reference = pytest.importorskip("prdc")
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
        return reference.compute_prdc(real_features=real, fake_features=synthetic, nearest_k=k)


def _brute_force(real: np.ndarray, synthetic: np.ndarray, k: int, closed: bool) -> dict:
    """The definitions on exact float64 distances, whole matrices at once."""

    def d2(a, b):
        return np.sum((a[:, None] - b[None]) ** 2, axis=-1)

    def radii(x):
        within = d2(x, x)
        np.fill_diagonal(within, np.inf)  # self excluded by index; copies stay at distance 0
        return np.sort(within, axis=1)[:, k - 1]

    cross = d2(real, synthetic)
    inside = np.less_equal if closed else np.less
    in_real = inside(cross, radii(real)[:, None])
    in_fake = inside(cross, radii(synthetic)[None, :])
    return {
        "precision": in_real.any(axis=0).mean(),
        "recall": in_fake.any(axis=1).mean(),
        "density": (1.0 / k) * in_real.sum(axis=0).mean(),
        "coverage": in_real.any(axis=1).mean(),
    }


@pytest.mark.parametrize(
    ("k", "n", "m", "d", "chunk"),
    [
        (1, 50, 70, 2, None),
        (3, 200, 150, 8, None),
        (5, 400, 350, 64, 37),
        (10, 300, 300, 16, 128),
        (5, 1500, 1200, 256, None),
    ],
)
def test_equals_prdc_reference_exactly(k, n, m, d, chunk):
    rng = np.random.default_rng(k * 1000 + n)
    real = rng.normal(size=(n, d))
    synthetic = rng.normal(loc=0.1, scale=rng.uniform(0.6, 1.4), size=(m, d))
    ours = prdc(real, synthetic, k=k, chunk_size=chunk)
    theirs = _reference(real, synthetic, k)
    assert {key: ours[key] for key in KEYS} == {key: float(theirs[key]) for key in KEYS}


@pytest.mark.slow
def test_equals_prdc_reference_at_benchmark_like_sizes():
    rng = np.random.default_rng(13)
    real, synthetic = rng.normal(size=(4000, 1024)), rng.normal(loc=0.02, size=(3500, 1024))
    ours = prdc(real, synthetic, k=5)
    assert ours == {key: float(v) for key, v in _reference(real, synthetic, 5).items()}


def test_equals_prdc_with_ties_and_duplicates_on_a_lattice():
    # small integers: every distance is an exact integer in float64, so prdc itself is exact and
    # many samples sit exactly on ball boundaries or duplicate each other
    rng = np.random.default_rng(7)
    real, synthetic = rng.integers(0, 4, size=(300, 3)).astype(float), rng.integers(0, 4, size=(250, 3)) * 1.0
    for k in (1, 5, 12):
        open_ = prdc(real, synthetic, k=k, chunk_size=64)
        assert open_ == {key: float(v) for key, v in _reference(real, synthetic, k).items()}
        assert open_ == pytest.approx(_brute_force(real, synthetic, k, closed=False), abs=0)
        closed = prdc(real, synthetic, k=k, boundary="closed", chunk_size=64)
        assert closed == pytest.approx(_brute_force(real, synthetic, k, closed=True), abs=0)


def test_float32_inputs_agree_with_their_float64_values():
    rng = np.random.default_rng(3)
    real, synthetic = (
        rng.normal(size=(300, 20)).astype(np.float32),
        rng.normal(size=(280, 20)).astype(np.float32),
    )
    assert prdc(real, synthetic) == prdc(real.astype(float), synthetic.astype(float))


def test_batched_equals_single_and_is_tile_independent():
    rng = np.random.default_rng(4)
    real, synthetic = rng.normal(size=(3, 120, 5)), rng.normal(scale=1.3, size=(3, 90, 5))
    batched = prdc(real, synthetic, k=4)
    tiny = prdc(real, synthetic, k=4, chunk_size=7)
    for r in range(3):
        single = prdc(real[r], synthetic[r], k=4)
        for key in KEYS:
            assert batched[key][r] == single[key] == tiny[key][r]


def test_memorised_copies_and_zero_radius_balls():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(200, 4))
    for boundary in ("open", "closed"):  # a copy of the real set is inside every ball it copies
        copied = prdc(real, real.copy(), k=5, boundary=boundary)
        assert copied["precision"] == copied["recall"] == copied["coverage"] == 1.0
    # k + 1 copies of the origin give it radius 0; the other points form tight far clusters
    k = 3
    clusters = np.repeat([[50.0, 0.0], [0.0, 50.0]], 20, axis=0) + 0.1 * rng.normal(size=(40, 2))
    real = np.vstack([np.zeros((k + 1, 2)), clusters])
    synthetic = np.vstack([np.zeros((1, 2)), clusters[:10] + 0.01])
    open_ = prdc(real, synthetic, k=k, boundary="open")
    closed = prdc(real, synthetic, k=k, boundary="closed")
    assert open_["precision"] == pytest.approx(_brute_force(real, synthetic, k, closed=False)["precision"])
    assert closed["precision"] - open_["precision"] == pytest.approx(
        1 / len(synthetic)
    )  # only the origin copy
    assert knn.knn_radii_squared(real, k)[0, 0] == 0.0


def test_crowded_rows_fall_back_to_float64_then_exact_distances(monkeypatch):
    # two far clusters (centring cannot shrink the norms) and a centre with 300 samples on a
    # sphere around it: all tied in float32, and the centre's still tied in float64
    import autophagy.metrics.balls as balls

    calls = {"float64": 0, "exact": 0}
    for name, key in (("_radii_float64", "float64"), ("_radius_exact", "exact")):
        original = getattr(balls, name)

        def counted(*args, _original=original, _key=key):
            calls[_key] += 1
            return _original(*args)

        monkeypatch.setattr(balls, name, counted)
    rng = np.random.default_rng(6)
    sphere = rng.normal(size=(300, 6))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    x = np.vstack([np.zeros((1, 6)), 1e3 + sphere, sphere])
    diff = x[:, None] - x[None]
    d2 = np.einsum("ijk,ijk->ij", diff, diff)
    np.fill_diagonal(d2, np.inf)
    for k in (1, 7):
        ours = knn.knn_radii_squared(x, k, chunk_size=64)[0]
        np.testing.assert_allclose(ours, np.sort(d2, axis=1)[:, k - 1], rtol=1e-12, atol=0)
    assert calls["float64"] > 0 and calls["exact"] > 0


def test_equals_prdc_on_far_apart_clusters():
    rng = np.random.default_rng(12)
    offset = np.repeat([[0.0], [1e3]], 200, axis=0)
    real, synthetic = offset + rng.normal(size=(400, 8)), offset + rng.normal(scale=1.2, size=(400, 8))
    assert prdc(real, synthetic, k=5, chunk_size=128) == {
        key: float(v) for key, v in _reference(real, synthetic, 5).items()
    }


@pytest.mark.parametrize("shift", [0.5, 40.0])
def test_equals_prdc_whether_or_not_synthetic_shares_the_real_centre(shift):
    # shift^2 * d below / above the synthetic total variance: shared centre / its own centre
    rng = np.random.default_rng(14)
    real, synthetic = rng.normal(size=(300, 16)), shift + rng.normal(scale=0.8, size=(250, 16))
    assert prdc(real, synthetic, k=4, chunk_size=64) == {
        key: float(v) for key, v in _reference(real, synthetic, 4).items()
    }


def test_expected_coverage_and_density_for_identical_distributions():
    # Naeem et al. 2020: E[density] = 1 and E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i)
    rng = np.random.default_rng(8)
    reps, n, m, k = 400, 60, 40, 5
    values = prdc(rng.normal(size=(reps, n, 3)), rng.normal(size=(reps, m, 3)), k=k)
    expected_coverage = 1.0 - np.prod([(n - i) / (n + m - i) for i in range(1, k + 1)])
    for key, expected in (("coverage", expected_coverage), ("density", 1.0)):
        v = values[key]
        assert abs(v.mean() - expected) < 4.0 * v.std(ddof=1) / np.sqrt(reps), key


def test_collapsed_synthetic_has_high_precision_and_low_recall():
    rng = np.random.default_rng(9)
    real = rng.normal(size=(5, 400, 2))
    collapsed = 0.05 * rng.normal(size=(5, 400, 2))
    values = prdc(real, collapsed)
    assert np.all(values["precision"] >= 0.95) and np.all(values["recall"] <= 0.1)
    assert np.all(values["coverage"] <= 0.2)
    spread = prdc(real, 3.0 * rng.normal(size=(5, 400, 2)))  # too diverse: the reverse orientation
    assert np.all(spread["recall"] > spread["precision"])


@pytest.mark.parametrize(
    ("real", "synthetic", "kwargs", "match"),
    [
        (np.zeros((10, 3)), np.zeros((10, 4)), {}, "alike"),
        (np.zeros((2, 10, 3)), np.zeros((3, 10, 3)), {}, "alike"),
        (np.zeros((10, 3)), np.zeros((1, 10, 3)), {}, "alike"),
        (np.zeros(10), np.zeros(10), {}, r"\(n, d\)"),
        (np.zeros((0, 3)), np.zeros((5, 3)), {}, "non-empty"),
        (np.full((10, 3), np.nan), np.zeros((10, 3)), {}, "NaN"),
        (np.zeros((10, 3)), np.full((10, 3), np.inf), {}, "NaN"),
        (np.zeros((10, 3)), np.ones((5, 3)), {"k": 5}, "k must be"),
        (np.zeros((10, 3)), np.ones((10, 3)), {"k": 0}, "k must be"),
        (np.zeros((10, 3)), np.ones((10, 3)), {"boundary": "half"}, "boundary"),
        (np.zeros((10, 3)), np.ones((10, 3)), {"chunk_size": 0}, "chunk_size"),
        (np.zeros((10, 3)), np.ones((10, 3)), {"max_samples": 0}, "max_samples"),
        (np.zeros((10, 3)), np.ones((10, 3)), {"max_samples": 8}, "needs rng"),
    ],
)
def test_bad_inputs_raise(real, synthetic, kwargs, match):
    with pytest.raises(ValueError, match=match):
        prdc(real, synthetic, **kwargs)


def test_sample_cap():
    rng = np.random.default_rng(10)
    real, synthetic = rng.normal(size=(2, 150, 3)), rng.normal(size=(2, 120, 3))
    full = prdc(real, synthetic)
    for cap in (150, 1000):
        capped = prdc(real, synthetic, max_samples=cap, rng=np.random.default_rng(0))
        assert all(np.array_equal(capped[key], full[key]) for key in KEYS)
    first = prdc(real, synthetic, max_samples=50, rng=np.random.default_rng(1))
    again = prdc(real, synthetic, max_samples=50, rng=np.random.default_rng(1))
    assert all(np.array_equal(first[key], again[key]) for key in KEYS)
    draw = np.random.default_rng(1)
    pick_real, pick_synthetic = (
        np.sort(draw.choice(150, 50, replace=False)),
        np.sort(draw.choice(120, 50, replace=False)),
    )
    by_hand = prdc(real[:, pick_real], synthetic[:, pick_synthetic])
    assert all(np.array_equal(first[key], by_hand[key]) for key in KEYS)


def test_precision_recall_delegates_with_the_closed_convention():
    rng = np.random.default_rng(11)
    real, synthetic = rng.integers(0, 3, size=(80, 2)) * 1.0, rng.integers(0, 3, size=(70, 2)) * 1.0
    pr = knn.precision_recall(real, synthetic, k=3)
    closed = prdc(real, synthetic, k=3, boundary="closed")
    assert pr == {"precision": closed["precision"], "recall": closed["recall"]}
