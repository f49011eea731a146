"""Image metrics on LeNet features: orientation against real and degraded image sets."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.metrics import METRICS, image_metrics

pytest.importorskip("torch")


def test_real_images_against_real_and_degraded_sets(digits_images):
    rng = np.random.default_rng(0)
    rows = digits_images.rows[rng.permutation(digits_images.capacity)]
    real, other = rows[None, :600], rows[None, 600:1200]
    same = image_metrics(real, other, data=digits_images)
    # the classifier was trained on these images and is ~97 % accurate on held-out ones
    assert same["legibility"] > 0.9
    wrong = other.copy()
    wrong[..., -1] = (wrong[..., -1] + 1) % 10  # every label off by one: legibility near 0
    assert image_metrics(real, wrong, data=digits_images)["legibility"] < 0.1
    collapsed = np.repeat(other[:, :1], 600, axis=1)  # one image repeated: high precision, no recall
    mode = image_metrics(real, collapsed, data=digits_images)
    assert mode["recall"] < 0.05 and mode["fid"] > 10 * same["fid"]
    noisy = other.copy()
    noisy[..., :-1] = np.clip(noisy[..., :-1] + rng.normal(scale=0.3, size=noisy[..., :-1].shape), 0, 1)
    blurred = image_metrics(real, noisy, data=digits_images)
    assert blurred["fid"] > same["fid"] and blurred["precision"] < same["precision"]


def test_registered_and_validated(digits_images):
    names = [n for n, m in METRICS.items() if m.needs == "images"]
    assert {"lenet_fid", "lenet_precision", "lenet_recall", "legibility"} <= set(names)
    # one feature pass per generation and family: lenet_* (and legibility) share one function,
    # image_* (the data source's named features) another
    lenet = {id(METRICS[n].fn) for n in names if not n.startswith("image_") and n != "cas"}  # cas: own fit
    named = {id(METRICS[n].fn) for n in names if n.startswith("image_")}
    assert len(lenet) == len(named) == 1 and lenet != named
    rows = digits_images.rows[:40]
    with pytest.raises(ValueError, match="label"):
        image_metrics(rows, np.c_[rows[:, :-1], np.full(40, 11.0)], data=digits_images)
    with pytest.raises(ValueError, match=r"64 pixels \+ 1 label"):
        image_metrics(rows[:, 1:], rows[:, 1:], data=digits_images)
