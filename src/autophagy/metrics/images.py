"""Image metrics on features of an image data source (the paper's MNIST metrics, and RGB sets).

Rows are image rows (``C * H * W`` pixels in [0, 1], then the class label; see
:mod:`autophagy.data.images`). The label column is stripped before features are taken;
legibility compares it with the classifier's prediction.

Two feature choices, registered under two names each: ``lenet_*`` always use the LeNet-style
classifier trained on the real set (``data.classifier()``); ``image_*`` use the extractor the
data source names (``data.feature_extractor()``: the same classifier unless ``[data]`` names a local
TorchScript file or Hugging Face folder, see :mod:`autophagy.metrics.extractors`). Neither is
Inception: values are comparable between runs with the same real set and extractor only,
never with published FID numbers.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.protocols import LabelledImages, image_dims, split_rows
from autophagy.metrics.gaussian import frechet_distance
from autophagy.metrics.inputs import cap_samples, finish, paired
from autophagy.metrics.kid import kid
from autophagy.metrics.knn import prdc


def image_metrics(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    data: LabelledImages,
    k: int = 5,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
    features: str = "classifier",
) -> dict:
    """FID, precision, recall, density, coverage on image features, and legibility.

    ``real`` ``(n, P + 1)`` and ``synthetic`` ``(m, P + 1)`` image rows (P = C * H * W pixels)
    give floats; batched ``(R, n, P + 1)`` give ``(R,)`` arrays. ``features``: ``"classifier"``
    (the LeNet's 84-d features) or ``"data"`` (the extractor ``data.feature_extractor()`` names). Keys:
    ``fid`` (squared Frechet distance of the features, lower is better), ``kid`` (unbiased
    MMD^2 of the features with KID's cubic kernel, on the whole sets; lower is better, 0 in
    expectation when matched), ``precision`` and ``recall`` (k-NN balls, closed), ``density``,
    ``coverage``, and ``legibility``: the share
    of synthetic images the classifier assigns to the class written in their label column (1 =
    every image is recognisably the class it was generated as; 0.1 = chance for 10 balanced
    classes); legibility always uses the classifier.
    """

    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    pixels = int(np.prod(image_dims(data.shape)))
    if real.shape[-1] != pixels + 1:
        raise ValueError(f"image rows must have {pixels} pixels + 1 label column, got {real.shape[-1]}")
    classifier = data.classifier()
    named = getattr(data, "feature_extractor", None)  # sources without one: the classifier's
    extract = classifier.features if features == "classifier" or named is None else named()
    real_pixels, _ = split_rows(real, data.classes)
    synthetic_pixels, synthetic_labels = split_rows(synthetic, data.classes)
    r, n, m = real.shape[0], real.shape[1], synthetic.shape[1]
    real_features = _features(extract, real_pixels.reshape(r * n, pixels)).reshape(r, n, -1)
    synthetic_flat = synthetic_pixels.reshape(r * m, pixels)
    synthetic_features = _features(extract, synthetic_flat).reshape(r, m, -1)
    predicted = classifier.predict(synthetic_flat).reshape(r, m)
    neighbours = prdc(real_features, synthetic_features, k=k, boundary="closed")
    values = {
        "fid": np.asarray(frechet_distance(real_features, synthetic_features), dtype=np.float64),
        "kid": np.asarray(kid(real_features, synthetic_features), dtype=np.float64),
        **neighbours,
        "legibility": (predicted == synthetic_labels).mean(axis=1),
    }
    return finish(values, single)


def data_image_metrics(real: np.ndarray, synthetic: np.ndarray, *, data: LabelledImages, **kw) -> dict:
    """:func:`image_metrics` on the features the data source names (``data.feature_extractor()``)."""
    return image_metrics(real, synthetic, data=data, features="data", **kw)


def _features(extract, pixels: np.ndarray) -> np.ndarray:
    """Features ``(n, f)`` float64 of pixel rows ``(n, P)``, checked: a ``ValueError`` names a bad shape."""
    out = np.asarray(extract(pixels), dtype=np.float64)
    if out.ndim != 2 or len(out) != len(pixels):
        raise ValueError(f"the feature extractor must map (n, pixels) to (n, f), got {out.shape}")
    if not np.isfinite(out).all():
        raise ValueError("the feature extractor returned NaN or infinite features")
    return out
