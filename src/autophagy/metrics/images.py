"""Image metrics on features of the locally trained LeNet (the paper's MNIST metrics).

Rows are image rows (pixels in [0, 1], then the class label; see :mod:`autophagy.data.images`).
The label column is stripped before features are taken; legibility compares it with the
classifier's prediction.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.protocols import LabelledImages, split_rows
from autophagy.metrics.gaussian import frechet_distance
from autophagy.metrics.inputs import cap_samples, finish, paired
from autophagy.metrics.knn import prdc


def image_metrics(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    data: LabelledImages,
    k: int = 5,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict:
    """FID, precision, recall, density, coverage on LeNet features, and legibility.

    ``real`` ``(n, P + 1)`` and ``synthetic`` ``(m, P + 1)`` image rows give floats; batched
    ``(R, n, P + 1)`` give ``(R,)`` arrays. Keys: ``fid`` (squared Frechet distance of the
    84-d features, lower is better), ``precision`` and ``recall`` (k-NN balls, closed),
    ``density``, ``coverage``, and ``legibility``: the share of synthetic images the
    classifier assigns to the class written in their label column (1 = every image is
    recognisably the digit it was generated as; 0.1 = chance for 10 balanced classes).
    """

    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    pixels = np.prod(data.shape)
    if real.shape[-1] != pixels + 1:
        raise ValueError(f"image rows must have {pixels} pixels + 1 label column, got {real.shape[-1]}")
    classifier = data.classifier()
    real_pixels, _ = split_rows(real, data.classes)
    synthetic_pixels, synthetic_labels = split_rows(synthetic, data.classes)
    r, n, m = real.shape[0], real.shape[1], synthetic.shape[1]
    real_features = classifier.features(real_pixels.reshape(r * n, pixels)).reshape(r, n, -1)
    synthetic_flat = synthetic_pixels.reshape(r * m, pixels)
    synthetic_features = classifier.features(synthetic_flat).reshape(r, m, -1)
    predicted = classifier.predict(synthetic_flat).reshape(r, m)
    neighbours = prdc(real_features, synthetic_features, k=k, boundary="closed")
    values = {
        "fid": np.asarray(frechet_distance(real_features, synthetic_features), dtype=np.float64),
        **neighbours,
        "legibility": (predicted == synthetic_labels).mean(axis=1),
    }
    return finish(values, single)
