"""Real-data sources: file readers on small generated files, Gaussian draws and options."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from autophagy.data import FileData, GaussianData, read_array
from autophagy.data.files import FileDataOptions
from autophagy.data.gaussian import GaussianDataOptions


@pytest.fixture
def table() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(30, 3))


def test_npy_round_trip(tmp_path, table):
    np.save(tmp_path / "x.npy", table)
    np.testing.assert_array_equal(read_array(tmp_path / "x.npy"), table)


@pytest.mark.parametrize("header", [True, False])
def test_csv_round_trip_with_or_without_header(tmp_path, table, header):
    path = tmp_path / "x.csv"
    np.savetxt(path, table, delimiter=",", header="a,b,c" if header else "", comments="")
    if not header:  # savetxt writes an empty first line for an empty header
        path.write_text(path.read_text().lstrip("\n"))
    np.testing.assert_allclose(read_array(path), table, rtol=1e-15)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nan.csv", "1,2\n3,nan\n", "NaN"),
        ("ragged.csv", "1,2\n3\n", "cannot read"),
        ("one.csv", "1,2\n", "at least 2 rows"),
        ("x.txt", "1,2\n3,4\n", "unsupported file type"),
        ("bad.npy", "not numpy", "cannot read"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_array(path)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        read_array(tmp_path / "nope.npy")


def test_file_draws_are_distinct_rows(table):
    source = FileData(table)
    rows = source.draw(30, rng=np.random.default_rng(1))
    assert sorted(map(tuple, rows)) == sorted(map(tuple, table))
    with pytest.raises(ValueError, match="rows"):
        source.draw(31, rng=np.random.default_rng(1))
    _mean, cov = source.moments()
    np.testing.assert_allclose(cov, np.cov(table, rowvar=False))


def test_gaussian_draws_match_moments(gaussian3):
    n = 100_000
    x = gaussian3.draw(n, rng=np.random.default_rng(2))
    se = np.sqrt(np.diag(gaussian3.cov) / n)
    assert np.all(np.abs(x.mean(axis=0) - gaussian3.mean) <= 4.5 * se)


def test_gaussian_options():
    options = GaussianDataOptions(dim=3, mean=[1, 2, 3], covariance=[1, 2, 3])
    data = GaussianData.from_options(options)
    np.testing.assert_array_equal(data.cov, np.diag([1.0, 2.0, 3.0]))
    with pytest.raises(ValidationError, match="mean has 2 entries"):
        GaussianDataOptions(dim=3, mean=[1, 2])
    with pytest.raises(ValidationError, match="positive semi-definite"):
        GaussianDataOptions(dim=2, covariance=[[1, 2], [2, 1]])
    with pytest.raises(ValidationError, match="at least 1"):
        GaussianDataOptions(dim=0)


def test_held_out_rows_are_a_reproducible_disjoint_split(tmp_path):
    rows = np.column_stack([np.arange(200.0), np.random.default_rng(2).normal(size=200)])
    np.save(tmp_path / "ids.npy", rows)
    for held_out, expected in ((0.2, 40), (25, 25)):
        options = FileDataOptions(path=tmp_path / "ids.npy", held_out=held_out)
        data = FileData.from_options(options)
        train, reference = set(data.rows[:, 0]), set(data.held_out()[:, 0])
        assert len(reference) == expected and not train & reference and train | reference == set(range(200))
        again = FileData.from_options(options)
        np.testing.assert_array_equal(again.held_out(), data.held_out())
        mean, cov = data.moments()
        np.testing.assert_allclose(cov, np.cov(data.held_out(), rowvar=False))
        np.testing.assert_allclose(mean, data.held_out().mean(axis=0))
        assert data.capacity == 200 - expected
        picked = data.draw_reference(500, rng=np.random.default_rng(0))
        assert picked.shape == (expected, 2) and set(picked[:, 0]) == reference
    with pytest.raises(ValidationError, match="held_out"):
        FileDataOptions(path=tmp_path / "ids.npy", held_out=199)


def test_sample_metrics_compare_against_held_out_rows_only(tmp_path):
    """The real side of every sample metric comes from rows the loop never trained on."""
    import autophagy as ap
    from autophagy.core.registry import METRICS

    rows = np.column_stack([np.arange(300.0), np.random.default_rng(3).normal(size=300)])
    np.save(tmp_path / "ids.npy", rows)
    seen: list[np.ndarray] = []

    def reference_ids(real, synthetic):
        seen.append(real[..., 0].copy())
        return np.zeros(real.shape[0])

    ap.register_metric("probe_reference_ids", reference_ids, higher_is_better=True)
    try:
        config = {
            "replicates": 3,
            "generations": 2,
            "data": {"kind": "file", "path": str(tmp_path / "ids.npy")},
            "loop": {"family": "fully_synthetic", "n_ini": 100, "n_synthetic": 100},
            "metrics": {"names": ["probe_reference_ids"], "n_eval": 50},
        }
        ap.run(config, out=tmp_path / "run", executor="inline", progress=False, plots=False)
    finally:
        METRICS.pop("probe_reference_ids")
    held = set(FileData.from_options(FileDataOptions(path=tmp_path / "ids.npy")).held_out()[:, 0])
    assert len(seen) == 2 and all(set(ids.ravel()) <= held for ids in seen)
    assert all(ids.shape == (3, 50) for ids in seen)
