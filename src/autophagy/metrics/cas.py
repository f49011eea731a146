"""Classification accuracy score (CAS; Ravuri & Vinyals 2019): train on synthetic, test on real.

A small classifier is trained on each generation's synthetic images and their labels, and its
accuracy is measured on real images: a downstream check of quality and diversity at once (a
model that drops a class, or draws images that do not look like their class, scores lower).

**Labels.** Image rows end with their class label (:mod:`autophagy.data.images`); every image
model here is class-conditional and writes the class it generated there, so the synthetic
labels are the conditioning classes, not a classifier's guesses. Rows whose label column is not
an integer class raise ``ValueError`` (use an image model).

**Classifier.** A one-vs-all ridge classifier on the raw pixels, solved in closed form: fast,
deterministic (no random initialisation, no iterations) and batched over replicates as one
linear solve each. With synthetic pixels X ``(m, P)``, one-hot labels Y ``(m, C)``, their
means x̄ and Ȳ and ``alpha`` = :data:`CAS_RIDGE` (pixels in [0, 1]):

    W = argmin |(X - x̄) W - (Y - Ȳ)|^2 + alpha |W|^2,   b = Ȳ - x̄ W,
    CAS = (1 / n) sum_i 1[argmax_c (x_i W + b)_c = y_i]   over the n real test rows (x_i, y_i).

W is solved in the primal ((P, P) system) when P <= m, else in the dual (``(X - x̄)^T ((X -
x̄)(X - x̄)^T + alpha I)^-1 (Y - Ȳ)``, an ``(m, m)`` system), which is the same solution and
keeps 32 x 32 RGB images cheap. This is scikit-learn's ``RidgeClassifier(alpha)`` (same argmax),
without scikit-learn in the loop. The test rows are the engine's evaluation draw of real data
(``metrics.n_eval`` rows per replicate, fresh per generation; held out from training when the
source keeps a held-out split). Higher is better; chance is the test set's largest class share
for a constant classifier and 1 / C for one that ignores the pixels (balanced classes).
"""

from __future__ import annotations

import numpy as np

from autophagy.core.protocols import LabelledImages, split_rows
from autophagy.metrics.inputs import cap_samples, finish, paired

CAS_RIDGE = 1.0
"""alpha of the ridge classifier (pixel units: pixels lie in [0, 1]); scikit-learn's default."""


def ridge_classifier(
    pixels: np.ndarray, labels: np.ndarray, classes: int, alpha: float = CAS_RIDGE
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(R, P, C)`` and intercepts ``(R, C)`` of the ridge classifier of ``pixels``
    ``(R, m, P)`` on integer ``labels`` ``(R, m)`` (one problem per replicate; formula above)."""
    x = np.asarray(pixels, dtype=np.float64)
    r, m, p = x.shape
    y = np.zeros((r, m, classes))
    np.put_along_axis(y, labels[..., None], 1.0, axis=2)
    x_mean, y_mean = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    xc, yc = x - x_mean, y - y_mean
    if p <= m:
        gram = np.einsum("rmi,rmj->rij", xc, xc) + alpha * np.eye(p)
        weights = np.linalg.solve(gram, np.einsum("rmi,rmc->ric", xc, yc))
    else:
        kernel = np.einsum("rai,rbi->rab", xc, xc) + alpha * np.eye(m)
        weights = np.einsum("rmi,rmc->ric", xc, np.linalg.solve(kernel, yc))
    intercepts = y_mean[:, 0] - np.einsum("ri,ric->rc", x_mean[:, 0], weights)
    return weights, intercepts


def classification_accuracy(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    data: LabelledImages,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray | float:
    """CAS: accuracy on ``real`` image rows ``(R, n, P + 1)`` of the ridge classifier trained on
    ``synthetic`` rows ``(R, m, P + 1)`` (pixels then label; unbatched ``(n, P + 1)`` give a
    float). Values in [0, 1], ``(R,)``; see the module docstring for the formula."""
    real, synthetic, single = paired(real, synthetic)
    real = cap_samples(real, max_samples, rng, "real")
    synthetic = cap_samples(synthetic, max_samples, rng, "synthetic")
    pixels = int(np.prod(data.shape))
    if real.shape[-1] != pixels + 1:
        raise ValueError(f"image rows must have {pixels} pixels + 1 label column, got {real.shape[-1]}")
    train_pixels, train_labels = split_rows(synthetic, data.classes)
    test_pixels, test_labels = split_rows(real, data.classes)
    weights, intercepts = ridge_classifier(train_pixels, train_labels, data.classes)
    scores = np.einsum("rni,ric->rnc", np.asarray(test_pixels, dtype=np.float64), weights)
    predicted = np.argmax(scores + intercepts[:, None, :], axis=2)
    return finish({"cas": (predicted == test_labels).mean(axis=1)}, single)["cas"]
