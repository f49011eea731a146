"""The image recipes' pictures: FID, precision and recall per generation for every setting, the
first settings' sample grids at the pictured generations and, for N1 and N2, a t-SNE map."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.reproduce.images_judges import IMAGE_METRICS, ImageRuns
from autophagy.reproduce.recipe import save_figure
from autophagy.results.pictures import sample_grid

LABELS = {"lenet_fid": "FID (LeNet features)", "lenet_precision": "precision", "lenet_recall": "recall"}
GRID_PER_CLASS = 8  # sample rows per class in a grid (the configs keep 30 per class: n_samples = 240)


def draw_runs(m: ImageRuns, path: Path, tsne: bool = False) -> None:
    """``path``: FID, precision and recall per generation for every setting (mean, band min-max;
    colour by the label's last part, e.g. the lambda, line style by the part before it);
    ``ID_samples.png`` beside it: replicate 0's samples of each setting (rows) at the pictured
    generations (columns), one row of tiles per class; with ``tsne``, ``ID_tsne.png``: t-SNE
    of real (grey) and synthetic (by class) pixels per pictured generation, one joint map."""
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
    gens = np.arange(1, m.generations + 1)
    # one colour per setting's last part ("lambda = 0.8"), one line style per family before it
    keys = list(dict.fromkeys(label.rsplit(", ", 1)[-1] for label in m.metrics))
    families = list(dict.fromkeys(label.rsplit(", ", 1)[0] for label in m.metrics if ", " in label))
    for ax, name in zip(axes, IMAGE_METRICS, strict=True):
        for label, values in m.metrics.items():
            v = values[name]
            colour = f"C{keys.index(label.rsplit(', ', 1)[-1]) % 10}"
            family = label.rsplit(", ", 1)[0] if ", " in label else ""
            style = ("-", "--", ":", "-.")[families.index(family) % 4] if family else "-"
            ax.plot(gens, v.mean(axis=0), marker="o", markersize=3, label=label, color=colour, ls=style)
            ax.fill_between(gens, v.min(axis=0), v.max(axis=0), color=colour, alpha=0.15, lw=0)
        ax.set_xlabel("generation")
        ax.set_title(LABELS[name], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    r = next(iter(m.metrics.values()))["lenet_fid"].shape[0]
    fig.suptitle(f"{m.title}, {r} replicates (band: min-max)", fontsize=10)
    save_figure(fig, path, dpi=60)
    shown = [label for label in m.snapshots if m.snapshots[label]][:3]
    if shown:
        draw_grids(m, shown, path.with_name(f"{path.stem}_samples.png"))
    if tsne and shown and m.real is not None:
        draw_tsne(m, shown[:2], path.with_name(f"{path.stem}_tsne.png"))


def draw_grids(m: ImageRuns, labels: list[str], path: Path) -> None:
    """Sample grids, one row of panels per setting, one column per pictured generation."""
    times = sorted(m.snapshots[labels[0]])
    fig, axes = plt.subplots(
        len(labels), len(times), figsize=(2.8 * len(times), 3.4 * len(labels)), squeeze=False
    )
    for row, label in zip(axes, labels, strict=True):
        for ax, t in zip(row, times, strict=True):
            grid = sample_grid(m.snapshots[label][t], m.shape, 10, GRID_PER_CLASS)
            ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{label}, generation {t}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    save_figure(fig, path, dpi=96)  # about 3.5 screen pixels per image pixel
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:  # grey levels only: a 32-colour palette keeps the file small
        quantized = image.convert("RGB").quantize(colors=32)
    quantized.save(path, optimize=True)


def draw_tsne(m: ImageRuns, labels: list[str], path: Path) -> None:
    """One t-SNE map (scikit-learn, perplexity 30, less for few points; seed 0) of the real rows
    and every pictured generation's samples, drawn panel by panel: modes drifting and merging
    (paper figs. 5, 7)."""
    from sklearn.manifold import TSNE

    times = sorted(m.snapshots[labels[0]])
    blocks = [m.real[:, :-1]] + [m.snapshots[label][t][:, :-1] for label in labels for t in times]
    points = np.concatenate(blocks)
    perplexity = min(30.0, (len(points) - 1) / 3)
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0).fit_transform(points)
    bounds = np.cumsum([0] + [len(b) for b in blocks])
    real = xy[: bounds[1]]
    fig, axes = plt.subplots(
        len(labels), len(times), figsize=(2.2 * len(times), 2.3 * len(labels)), squeeze=False
    )
    k = 1
    for row, label in zip(axes, labels, strict=True):
        for ax, t in zip(row, times, strict=True):
            points, classes = xy[bounds[k] : bounds[k + 1]], m.snapshots[label][t][:, -1]
            ax.scatter(*real.T, s=2, color="0.8", rasterized=True)
            ax.scatter(*points.T, s=2, c=classes, cmap="tab10", vmin=-0.5, vmax=9.5, rasterized=True)
            ax.set_title(f"{label}, generation {t}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
            k += 1
    fig.suptitle("t-SNE of pixels: real (grey) and synthetic (colour = class)", fontsize=9)
    save_figure(fig, path, dpi=72)


def draw_with_tsne(m: ImageRuns, path: Path) -> None:
    draw_runs(m, path, tsne=True)
