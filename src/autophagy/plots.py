"""Figures: each metric versus generation, mean line and 10-90 % band over replicates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

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
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for label, c in per_run.items():
            if metric in c:
                _band(ax, *c[metric], label=label or None)
        ax.set_xlabel("generation")
        ax.set_ylabel(metric)
        ax.set_title(f"{title}: {metric}" if title else metric)
        if any(per_run):
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = folder / f"{metric}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
