"""Pictures of a run's sample snapshots: what the synthetic data looked like, generation by generation.

A run keeps samples of its first replicate at the generations ``[plots]`` chooses (drawn in
the worker from their own ``snapshot`` stream and committed with the task's rows, so pictures
never change the numbers and survive a resume). At the end, and on ``autophagy plot``, they
are drawn here over real samples from a fixed ``snapshot_real`` stream:

- image data (the paper's figs. 5 and 7): per generation, a grid of ten samples per class
  (``plots/samples/generation_NNN.png``) and a PCA map of LeNet features, real in grey versus
  synthetic by class, on axes fitted to the real set (``plots/embedding/generation_NNN.png``);
- other data (figs. 14 and 17): one scatter panel per generation of the first two
  coordinates, real in grey and synthetic in colour (``plots/samples.png``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.core.protocols import DataSource, LabelledImages, image_dims
from autophagy.core.rng import stream
from autophagy.data import DATA
from autophagy.results.plots import plot_samples, save_png


def data_source(resolved: dict[str, Any]) -> DataSource:
    """Rebuild a run's real-data source from its resolved config."""
    table = dict(resolved["data"])
    plugin = DATA[table.pop("kind")]
    return plugin.build(plugin.options.model_validate(table))


def draw_snapshots(resolved: dict[str, Any], snapshots: dict[int, np.ndarray], folder: Path) -> list[Path]:
    """Draw every snapshot ``{generation: samples (n, d)}`` of a run into ``folder``; returns the files."""
    data = data_source(resolved)
    n = len(next(iter(snapshots.values())))
    if data.capacity is not None:
        n = min(n, data.capacity)
    real = data.draw(n, rng=stream(resolved["seed"], 0, 0, "snapshot_real"))
    folder = Path(folder)
    if isinstance(data, LabelledImages):
        return image_pictures(data, real, snapshots, folder)
    return [plot_samples(real, snapshots, folder / "samples.png", title=resolved["name"])]


def _save(fig: plt.Figure, path: Path) -> Path:
    return save_png(fig, path, path.parent.parent)  # plots/samples/...: gated by plots/


def sample_grid(rows: np.ndarray, shape: tuple[int, ...], classes: int, per_class: int = 10) -> np.ndarray:
    """A mosaic with one row of tiles per class: the first ``per_class`` images labelled c (blank
    if fewer), tiles ``shape`` apart by one blank pixel. Grey ``shape`` ``(H, W)`` gives a 2-d
    grid; ``(C, H, W)`` gives ``(rows, columns, C)`` (channels last, as ``imshow`` reads them)."""
    channels, h, w = image_dims(shape)
    grid = np.zeros((classes * (h + 1) - 1, per_class * (w + 1) - 1, channels))
    for c in range(classes):
        images = rows[np.rint(rows[:, -1]) == c, :-1][:per_class]
        for j, image in enumerate(images):
            tile = image.reshape(channels, h, w).transpose(1, 2, 0)
            grid[c * (h + 1) : c * (h + 1) + h, j * (w + 1) : j * (w + 1) + w] = tile
    return grid[:, :, 0] if len(shape) == 2 else grid


def _show(ax: Any, grid: np.ndarray) -> None:
    """Grey grids dark on light (the digits' look), RGB(A) in their colours, other counts as the
    mean over channels."""
    if grid.ndim == 3 and grid.shape[2] not in (3, 4):
        grid = grid.mean(axis=2)
    if grid.ndim == 2:
        ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(grid, 0, 1), interpolation="nearest")


def image_pictures(
    data: LabelledImages, real: np.ndarray, snapshots: dict[int, np.ndarray], folder: Path
) -> list[Path]:
    """Sample grid and real-versus-synthetic LeNet feature map of each snapshot generation."""
    from sklearn.decomposition import PCA

    classifier = data.classifier()
    real_features = classifier.features(real[:, :-1])
    pca = PCA(n_components=2, random_state=0).fit(real_features)
    a = pca.transform(real_features)
    paths = []
    for t, synthetic in sorted(snapshots.items()):
        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
        _show(ax, sample_grid(synthetic, data.shape, data.classes))
        ax.set_axis_off()
        ax.set_title(f"samples by class, generation {t}")
        paths.append(_save(fig, folder / "samples" / f"generation_{t:03d}.png"))

        b = pca.transform(classifier.features(synthetic[:, :-1]))
        fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
        ax.scatter(a[:, 0], a[:, 1], s=6, c="lightgray", label="real")
        points = ax.scatter(b[:, 0], b[:, 1], s=6, c=synthetic[:, -1], cmap="tab10", vmin=-0.5, vmax=9.5)
        fig.colorbar(points, ax=ax, label="generated class")
        ax.set_xlabel("PC 1 of real LeNet features")
        ax.set_ylabel("PC 2")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(f"LeNet features, generation {t}")
        fig.tight_layout()
        paths.append(_save(fig, folder / "embedding" / f"generation_{t:03d}.png"))
    return paths
