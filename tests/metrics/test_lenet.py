"""The locally trained LeNet: accurate on held-out digits, trained once, then loaded from disk."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import lenet
from autophagy.metrics.lenet import LeNetOptions, cache_dir, trained_lenet

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_cached_classifier_is_accurate_on_held_out_digits(digits_images):
    classifier = digits_images.classifier()
    # 180 held-out images: at a true accuracy of 0.95 the binomial s.d. is 0.016, so 0.9 is 3 s.d. below
    assert classifier.accuracy > 0.9
    assert classifier.features(digits_images.pixels[:7]).shape == (7, 84)
    assert digits_images.classifier() is classifier  # one load per process


def test_second_construction_loads_the_cache_instead_of_training(tmp_path, digits_images):
    pixels, labels = digits_images.pixels[:300], digits_images.labels[:300]
    options = LeNetOptions(epochs=2, cache_dir=tmp_path)
    first = trained_lenet(pixels, labels, (8, 8), 10, options)
    assert not first.from_cache and first.path.parent == tmp_path
    stamp = first.path.stat().st_mtime_ns
    lenet._LOADED.clear()  # a new process: nothing in memory
    second = trained_lenet(pixels, labels, (8, 8), 10, options)
    assert second.from_cache and second.path == first.path and first.path.stat().st_mtime_ns == stamp
    assert list(tmp_path.iterdir()) == [first.path]
    np.testing.assert_array_equal(second.features(pixels), first.features(pixels))
    assert second.accuracy == first.accuracy
    # the key covers the data and every training option: another seed or image set trains anew
    other = trained_lenet(pixels, labels, (8, 8), 10, LeNetOptions(epochs=2, seed=1, cache_dir=tmp_path))
    fewer = trained_lenet(pixels[:200], labels[:200], (8, 8), 10, options)
    assert not other.from_cache and not fewer.from_cache and len(list(tmp_path.iterdir())) == 3


def test_training_is_seeded(tmp_path, digits_images):
    pixels, labels = digits_images.pixels[:200], digits_images.labels[:200]
    a = trained_lenet(pixels, labels, (8, 8), 10, LeNetOptions(epochs=1, cache_dir=tmp_path / "a"))
    b = trained_lenet(pixels, labels, (8, 8), 10, LeNetOptions(epochs=1, cache_dir=tmp_path / "b"))
    assert not b.from_cache
    np.testing.assert_array_equal(a.features(pixels), b.features(pixels))


def test_cache_folder_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "env"))
    assert cache_dir(LeNetOptions()) == tmp_path / "env"
    assert cache_dir(LeNetOptions(cache_dir=tmp_path / "opt")) == tmp_path / "opt"
    monkeypatch.delenv("AUTOPHAGY_CACHE")
    assert cache_dir(LeNetOptions()).name == "autophagy"


def test_registered_extractor_plugs_into_fid(digits_images):
    from autophagy.metrics import EXTRACTORS, FeatureExtractor, fid

    extractor = EXTRACTORS["lenet"](digits_images)
    assert isinstance(extractor, FeatureExtractor)
    rows = digits_images.rows[:300]
    features = extractor(rows)  # the label column is dropped
    np.testing.assert_array_equal(features, extractor(rows[:, :-1]))
    np.testing.assert_array_equal(features, digits_images.classifier().features(rows[:, :-1]))
    assert abs(fid(rows, rows, extractor=extractor)) < 1e-9
    with pytest.raises(ValueError, match="64 pixels"):
        extractor(rows[:, :10])
