"""Interim stand-in for ``autophagy.run.Run`` while it is written (issue 14, item 1).

:func:`open_run_like` returns ``autophagy.run.open_run(path)`` when that exists, else a
:class:`FolderRun` over :func:`autophagy.runner.open_folder` with the same duck-typed
surface the report and plots use: ``path``, ``name``, ``swept``, ``cells``, ``manifest``,
``complete``, ``table()``, ``summary(ci)`` and ``write_plots(metrics, **layout)``. Delete this module once
``Run`` lands and point its callers (``report.render``/``write_report`` and the CLI's ``plot``)
at ``Run``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from autophagy.pictures import draw_snapshots
from autophagy.runner import STORE_FILE, open_folder
from autophagy.store import RunStore


def summarize(table: pd.DataFrame, keys: list[str], ci: float = 0.95) -> pd.DataFrame:
    """Mean and Student-t interval over replicates per (keys except ``seed``, generation, metric).

    Seeds are pooled: each (seed, replicate) pair is one replicate. ``n`` counts the finite
    values; ``low`` and ``high`` are NaN where ``n < 2``. Non-scalar key values (lists) are
    grouped by their JSON text.
    """
    keys = [k for k in keys if k != "seed"]
    frame = table.copy()
    for key in keys:
        if frame[key].map(lambda v: isinstance(v, list | dict)).any():
            frame[key] = frame[key].map(lambda v: json.dumps(v, sort_keys=True))
    frame = frame[np.isfinite(frame["value"].astype(float))]
    grouped = frame.groupby([*keys, "generation", "metric"], sort=False, dropna=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    t = stats.t.ppf(0.5 + ci / 2, np.maximum(out["n"] - 1, 1))
    half = np.where(out["n"] > 1, t * out["sd"] / np.sqrt(out["n"]), np.nan)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    out = out[[*keys, "generation", "metric", "mean", "low", "high", "n"]]
    out = out.sort_values([*keys, "metric", "generation"], kind="stable").reset_index(drop=True)
    out.attrs["ci"] = ci
    return out


class FolderRun:
    """A run or sweep folder read through :mod:`autophagy.runner` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        folder = open_folder(path)
        self._folder = folder
        self.path: Path = folder.path
        self.name: str = folder.name
        self.swept: list[str] = list(folder.swept)
        self.cells: list[dict[str, Any]] = folder.cells
        self.manifest: dict[str, Any] = folder.manifest

    def table(self) -> pd.DataFrame:
        columns, rows = self._folder.table()
        return pd.DataFrame(rows, columns=columns)

    def summary(self, ci: float = 0.95) -> pd.DataFrame:
        return summarize(self.table(), self.swept, ci)

    def write_plots(self, metrics: list[str] | None = None, **layout: Any) -> list[Path]:
        """``plots/<metric>.png`` drawn by :func:`autophagy.plots.save_metric_plots` (``layout``:
        ``hue``, ``rows``, ``cols``), then a run's sample snapshots as pictures."""
        from autophagy.plots import save_metric_plots

        paths = save_metric_plots(self, metrics=metrics, **layout)
        if self._folder.is_sweep:
            return paths
        with RunStore(self.path / STORE_FILE) as store:
            snapshots = store.snapshots(0)
        return paths + (draw_snapshots(self.manifest, snapshots, self.path / "plots") if snapshots else [])

    @property
    def complete(self) -> bool:
        """Every planned (cell, replicate, generation, configured metric) row is stored."""
        with RunStore(self.path / STORE_FILE) as store:
            present = {(run, r, g, m) for run, r, g, m, _ in store.all_rows()}
        return all(
            (i, r, g, m) in present
            for i, cell in enumerate(self.cells)
            for r in range(cell["config"]["replicates"])
            for g in range(1, cell["config"]["generations"] + 1)
            for m in cell["config"]["metrics"]["names"]
        )


def open_run_like(path: Path) -> Any:
    """``autophagy.run.open_run(path)`` once it exists, else a :class:`FolderRun`."""
    try:
        from autophagy.run import open_run  # type: ignore[import-not-found]
    except ImportError:
        return FolderRun(Path(path))
    return open_run(path)
