"""Pictures of a run's sample snapshots: what the synthetic data looked like, generation by generation.

A run keeps samples of its first replicate at the generations of ``[plots] generations``
(drawn in the worker from their own ``snapshot`` stream and committed with the task's rows,
so pictures never change the numbers and survive a resume). At the end, and on
``autophagy plot``, they are drawn here over real samples from a fixed ``snapshot_real`` stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from autophagy.data import DATA
from autophagy.plots import plot_samples
from autophagy.protocols import DataSource
from autophagy.rng import stream


def data_source(resolved: dict[str, Any]) -> DataSource:
    """Rebuild a run's real-data source from its resolved config."""
    table = dict(resolved["data"])
    plugin = DATA[table.pop("kind")]
    return plugin.build(plugin.options.model_validate(table))


def draw_snapshots(resolved: dict[str, Any], snapshots: dict[int, np.ndarray], folder: Path) -> list[Path]:
    """``folder/samples.png``: a scatter panel per snapshot generation (first two coordinates),
    real samples in grey and synthetic in colour, as the paper's figs. 14 and 17."""
    data = data_source(resolved)
    n = len(next(iter(snapshots.values())))
    real = data.draw(n, rng=stream(resolved["seed"], 0, 0, "snapshot_real"))
    return [plot_samples(real, snapshots, Path(folder) / "samples.png", title=resolved["name"])]
