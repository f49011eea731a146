"""Figures: each metric versus generation (mean line and 10-90 % band over replicates), and
sample panels per chosen generation (real samples in grey, synthetic in colour)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.safety import plain_text, safe_name

Row = tuple[int, int, str, float]


def curves(rows: Iterable[Row]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per metric: generations ``(G,)`` and values ``(replicates, G)`` (NaN where missing)."""
    table: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
    for replicate, generation, metric, value in rows:
        table[metric][(replicate, generation)] = value
    out = {}
    for metric, cells in table.items():
        reps = sorted({r for r, _ in cells})
        gens = sorted({g for _, g in cells})
        values = np.full((len(reps), len(gens)), np.nan)
        r_index = {r: i for i, r in enumerate(reps)}
        g_index = {g: i for i, g in enumerate(gens)}
        for (r, g), v in cells.items():
            values[r_index[r], g_index[g]] = v
        out[metric] = (np.asarray(gens), values)
    return out


def _band(ax: plt.Axes, gens: np.ndarray, values: np.ndarray, label: str | None = None) -> None:
    mean = np.nanmean(values, axis=0)
    low, high = np.nanquantile(values, [0.1, 0.9], axis=0)
    (line,) = ax.plot(gens, mean, label=label)
    ax.fill_between(gens, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def plot_run(rows: Iterable[Row], folder: Path, *, title: str = "") -> list[Path]:
    """One PNG per metric in ``folder``: mean and 10-90 % band over replicates."""
    return plot_comparison({"": rows}, folder, title=title)


def plot_comparison(runs: Mapping[str, Iterable[Row]], folder: Path, *, title: str = "") -> list[Path]:
    """One PNG per metric overlaying several labelled runs (mean and 10-90 % band each)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    per_run = {label: curves(rows) for label, rows in runs.items()}
    metrics = sorted({m for c in per_run.values() for m in c})
    paths = []
    for metric in metrics:
        with plain_text():  # metric names and cell labels are data: never mathtext
            fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
            _draw(ax, per_run, metric, title)
        fig.tight_layout()
        path = folder / f"{safe_name(metric)}.png"  # a name read from a store cannot leave the folder
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def _draw(ax: plt.Axes, per_run: dict, metric: str, title: str) -> None:
    """One metric's bands, labels and legend on ``ax``."""
    for label, c in per_run.items():
        if metric in c:
            _band(ax, *c[metric], label=label or None)
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)
    ax.set_title(f"{title}: {metric}" if title else metric)
    if any(per_run):
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def plot_samples(
    real: np.ndarray, synthetic: Mapping[int, np.ndarray], path: Path, *, title: str = ""
) -> Path:
    """One scatter panel per generation of ``synthetic`` ``{generation: (n, d)}`` over ``real``
    ``(n, d)`` in grey (first two coordinates), on common axes as in the paper's figs. 14 and 17."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generations = sorted(synthetic)
    everything = np.concatenate([real[:, :2], *(synthetic[g][:, :2] for g in generations)])
    low, high = np.quantile(everything, [0.001, 0.999], axis=0)
    pad = 0.05 * (high - low) + 1e-9
    fig, axes = plt.subplots(
        1, len(generations), figsize=(3.2 * len(generations), 3.4), dpi=100, squeeze=False
    )
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, len(generations)))
    for ax, g, colour in zip(axes[0], generations, colours, strict=True):
        ax.scatter(real[:, 0], real[:, 1], s=2, color="0.7", alpha=0.5, linewidths=0, label="real")
        ax.scatter(*synthetic[g][:, :2].T, s=2, color=colour, alpha=0.6, linewidths=0, label="synthetic")
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        ax.set_title(f"generation {g}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
