"""Per-generation pictures in a run folder's ``plots/``, drawn as each generation is committed.

``GENERATION_PICTURES`` lists functions ``(experiment, replicates, state, folder) -> paths``;
each draws what suits the run (nothing when it does not apply) and takes its randomness from
its own ``pictures`` stream, so pictures never change the run's numbers. For image data
(the analogue of the paper's figs. 5 and 7), replicate 0 gets a grid of samples, ten per
class, and a 2-D PCA map of LeNet features of real versus synthetic images; the PCA axes are
fitted on a fixed real set, so maps of successive generations share their axes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.engine import Experiment, LoopState
from autophagy.protocols import LabelledImages
from autophagy.rng import stream, streams

PICTURE_SAMPLES = 500  # synthetic (and real) images per picture


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def sample_grid(rows: np.ndarray, shape: tuple[int, int], classes: int, per_class: int = 10) -> np.ndarray:
    """A mosaic of image rows: row c holds the first ``per_class`` images labelled c, tiles
    separated by one blank (0) pixel, missing images blank; shape ``(classes (H + 1) - 1,
    per_class (W + 1) - 1)``."""
    h, w = shape
    grid = np.zeros((classes * (h + 1) - 1, per_class * (w + 1) - 1))
    for c in range(classes):
        images = rows[np.rint(rows[:, -1]) == c, :-1][:per_class]
        for j, image in enumerate(images):
            grid[c * (h + 1) : c * (h + 1) + h, j * (w + 1) : j * (w + 1) + w] = image.reshape(shape)
    return grid


def image_pictures(exp: Experiment, replicates: Sequence[int], state: LoopState, folder: Path) -> list[Path]:
    """Sample grid and real-versus-synthetic feature map of replicate 0 at this generation."""
    data = exp.data
    if not isinstance(data, LabelledImages) or 0 not in replicates or not state.models:
        return []
    from sklearn.decomposition import PCA

    t, first = state.generation, list(replicates).index(0)
    bias = 1.0 if exp.unbiased_eval else exp.schedule.sampling_bias
    n = min(PICTURE_SAMPLES, data.capacity)
    synthetic = state.models[0].sample(
        n, rng=streams(exp.seed, replicates, t, "pictures"), sampling_bias=bias
    )
    synthetic = synthetic[first]
    real = data.draw(n, rng=stream(exp.seed, 0, 0, "pictures"))  # the same real set every generation
    title = f"generation {t}, lambda = {bias:g}"

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.imshow(
        sample_grid(synthetic, data.shape, data.classes),
        cmap="gray_r",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_axis_off()
    ax.set_title(f"samples by class, {title}")
    paths = [_save(fig, folder / "samples" / f"generation_{t:03d}.png")]

    classifier = data.classifier()
    real_features, synthetic_features = (
        classifier.features(real[:, :-1]),
        classifier.features(synthetic[:, :-1]),
    )
    pca = PCA(n_components=2, random_state=0).fit(real_features)
    a, b = pca.transform(real_features), pca.transform(synthetic_features)
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    ax.scatter(a[:, 0], a[:, 1], s=6, c="lightgray", label="real")
    points = ax.scatter(b[:, 0], b[:, 1], s=6, c=synthetic[:, -1], cmap="tab10", vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=ax, label="generated class")
    ax.set_xlabel("PC 1 of real LeNet features")
    ax.set_ylabel("PC 2")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"LeNet features, {title}")
    fig.tight_layout()
    paths.append(_save(fig, folder / "embedding" / f"generation_{t:03d}.png"))
    return paths


GenerationPicture = Callable[[Experiment, Sequence[int], LoopState, Path], list[Path]]
GENERATION_PICTURES: list[GenerationPicture] = [image_pictures]


def draw_generation(exp: Experiment, replicates: Sequence[int], state: LoopState, folder: Path) -> list[Path]:
    """Every applicable picture of the generation just finished, written under ``folder``."""
    return [path for picture in GENERATION_PICTURES for path in picture(exp, replicates, state, folder)]
