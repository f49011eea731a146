"""A run or sweep folder, read: the one home of everything that opens a finished or partial run.

A folder holds ``config.json`` (a run's resolved config) or ``sweep.json`` (the sweep table,
the swept keys and every cell's values and resolved config), ``results.sqlite`` (rows and
per-block checkpoints, see :mod:`autophagy.storage.store`) and ``plots/``. :class:`Run` reads them
and answers in pandas: :meth:`Run.table` (long form), :meth:`Run.summary` (means with
Student-t intervals over replicates), :attr:`Run.complete`; it draws plots and writes
exports and the report. The runner writes folders; nothing else reads them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autophagy.core.errors import ConfigError
from autophagy.core.stats import t_interval
from autophagy.results.report import write_report
from autophagy.storage.layout import CONFIG_FILE, STORE_FILE, SWEEP_FILE, read_manifest
from autophagy.storage.safety import make_folder
from autophagy.storage.store import Row, RunStore, refuse_read_only

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

ROW_COLUMNS = ("replicate", "generation", "metric", "value")
CellRow = tuple[int, int, int, str, float]


def cell_label(values: dict[str, Any], skip: tuple[str, ...] = (), tags: dict[str, int] | None = None) -> str:
    """``key=value, ...`` for a cell, leaving out ``skip`` keys; the k-th repeat of a value on
    its sweep axis (``tags``, see :mod:`autophagy.running.sweep`) reads ``key=value #k``."""
    tags = tags or {}
    return ", ".join(
        f"{k}={v}" + (f" #{tags[k]}" if k in tags else "") for k, v in values.items() if k not in skip
    )


@dataclass(frozen=True)
class Run:
    """An opened run or sweep folder (see the module docstring). Open with :func:`open_run`."""

    path: Path
    manifest: dict[str, Any]
    is_sweep: bool

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.path.name)

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config of a run; for a sweep, the sweep manifest (table, swept keys,
        every cell's values and resolved config)."""
        return self.manifest

    @property
    def swept(self) -> list[str]:
        """The swept keys (dotted config keys), in sweep order; empty for a run."""
        return list(self.manifest.get("swept", [])) if self.is_sweep else []

    @property
    def cells(self) -> list[dict[str, Any]]:
        """One ``{"values": {key: value}, "config": resolved}`` per cell (one for a run); a
        repeated sweep value also has ``"tags": {key: k}`` (its k-th repeat, k >= 2)."""
        if self.is_sweep:
            return self.manifest["cells"]
        return [{"values": {}, "config": self.manifest}]

    @cached_property
    def _points(self) -> list[int] | None:
        """Per cell, the position of its sweep point (cells differing only by seed share one),
        when the sweep repeats a value; None otherwise (the swept values tell points apart)."""
        if not any(c.get("tags") for c in self.cells):
            return None
        labels = [cell_label(c["values"], skip=("seed",), tags=c.get("tags")) for c in self.cells]
        ordinal = {label: i for i, label in enumerate(dict.fromkeys(labels))}
        return [ordinal[label] for label in labels]

    def _columns(self) -> list[str]:
        """The swept keys, then ``point`` when the sweep repeats a value."""
        return [*self.swept, *(["point"] if self._points is not None else [])]

    def _records(self) -> list[tuple]:
        points = self._points
        values = [
            [c["values"][k] for k in self.swept] + ([points[i]] if points is not None else [])
            for i, c in enumerate(self.cells)
        ]
        return [(*values[run], r, g, m, v) for run, r, g, m, v in self._rows]

    def store(self) -> RunStore:
        """The folder's result store (close it, or use it in a ``with`` block)."""
        return RunStore(self.path / STORE_FILE)

    @cached_property
    def _rows(self) -> list[tuple[int, int, int, str, float]]:
        with self.store() as store:
            return self._checked(store.all_rows())

    def _checked(self, rows: list[CellRow]) -> list[CellRow]:
        for run, *_ in rows[:1] + rows[-1:]:
            if not 0 <= run < len(self.cells):
                raise ConfigError(
                    "RUN", f"{self.path}: results hold rows of cell {run}, which is not planned"
                )
        return rows

    def rows(self, cell: int | None = None) -> list[Row] | list[tuple[int, int, int, str, float]]:
        """Stored rows: ``(replicate, generation, metric, value)`` of one cell, or, without
        ``cell``, ``(cell, replicate, generation, metric, value)`` of all, sorted by those keys."""
        if cell is None:
            return list(self._rows)
        return [row[1:] for row in self._rows if row[0] == cell]

    def table(self) -> pd.DataFrame:
        """Long form: one column per swept key (and ``point``, the sweep point's position, when a
        value repeats), then replicate, generation, metric, value."""
        import pandas as pd

        return pd.DataFrame.from_records(self._records(), columns=[*self._columns(), *ROW_COLUMNS])

    def summary(self, ci: float = 0.95) -> pd.DataFrame:
        """Per sweep point (seeds pooled), generation and metric: the mean over replicates, its
        two-sided Student-t interval at level ``ci`` (columns ``low``, ``high``) and ``n``."""
        import pandas as pd

        if not 0 < ci < 1:
            raise ValueError(f"ci must be in (0, 1), got {ci}")
        keys = [k for k in self._columns() if k != "seed"]
        columns = [*keys, "generation", "metric", "mean", "low", "high", "n"]
        if not self._rows:
            return pd.DataFrame(columns=columns)
        # a point is its values as JSON text: list-valued keys (a swept mean) cannot group
        points = self._points
        labels = [
            json.dumps([c["values"][k] for k in keys if k != "point"] + ([points[i]] if points else []))
            for i, c in enumerate(self.cells)
        ]
        values = {label: json.loads(label) for label in labels}
        frame = pd.DataFrame.from_records(
            [(labels[run], g, m, v) for run, _, g, m, v in self._rows],
            columns=["point", "generation", "metric", "value"],
        )
        groups = frame.groupby(["point", "generation", "metric"], sort=False)["value"]
        records = [
            (*values[point], generation, metric, *t_interval(group.to_numpy(), ci))
            for (point, generation, metric), group in groups
        ]
        out = pd.DataFrame.from_records(records, columns=columns)
        out.attrs["ci"] = ci  # the level, for plot labels
        return out

    def arrays(self, cell: int = 0) -> dict[str, np.ndarray]:
        """Every metric of ``cell`` as an array ``(replicates, generations)`` in float64: the
        shape the manifest plans, NaN where a generation was not evaluated or has not run."""
        size = self._sizes()[cell]
        rows = self.rows(cell)
        if size is None:  # an old manifest without sizes: the extent of the rows
            size = (1 + max((r for r, *_ in rows), default=-1), max((g for _, g, *_ in rows), default=0), 0)
        out: dict[str, np.ndarray] = {}
        for replicate, generation, metric, value in rows:
            if metric not in out:
                out[metric] = np.full(size[:2], np.nan)
            out[metric][replicate, generation - 1] = value
        return out

    def _sizes(self) -> list[tuple[int, int, int] | None]:
        """(replicates, generations, block_size) per cell; None where the manifest lacks them."""
        sizes = []
        for cell in self.cells:
            config = cell.get("config") if isinstance(cell, dict) else None
            config = config if isinstance(config, dict) else {}
            values = (config.get("replicates"), config.get("generations"), config.get("block_size", 64))
            ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
            sizes.append(values if ok else None)
        return sizes

    def finished(self, store: RunStore | None = None) -> set[tuple[int, int]]:
        """``(cell, replicate)`` of every replicate whose block has run its last generation
        (read from ``store`` when given, e.g. inside a read transaction)."""
        done: set[tuple[int, int]] = set()
        with self.store() if store is None else _borrowed(store) as store:
            for index, size in enumerate(self._sizes()):
                if size is None:
                    continue
                replicates, generations, block = size
                for first in range(0, replicates, block):
                    saved = store.checkpoint(index, first)
                    if saved is not None and saved[0] >= generations:
                        done.update((index, r) for r in range(first, min(first + block, replicates)))
        return done

    def replicates_done(self) -> tuple[int, int]:
        """(replicates that ran every generation, replicates planned), over all cells."""
        planned = sum(size[0] for size in self._sizes() if size is not None)
        return len(self.finished()), planned

    @property
    def title(self) -> str:
        """The name, with ``(incomplete: k of n replicates)`` while replicates are missing."""
        done, planned = self.replicates_done()
        return self.name if done == planned else f"{self.name} (incomplete: {done} of {planned} replicates)"

    def progress(self) -> tuple[int, int]:
        """(done, planned) work units: replicate x generation, from the blocks' checkpoints."""
        with self.store() as store:
            done = planned = 0
            for index, size in enumerate(self._sizes()):
                if size is None:
                    continue
                replicates, generations, block = size
                planned += replicates * generations
                for first in range(0, replicates, block):
                    saved = store.checkpoint(index, first)
                    done += min(block, replicates - first) * (saved[0] if saved else 0)
        return done, planned

    @property
    def complete(self) -> bool:
        """Whether every planned block of every cell has run its last generation."""
        done, planned = self.progress()
        return done == planned

    def plot(self, metric: str, **layout: Any) -> Figure:
        """One metric versus generation: mean curves with the :meth:`summary` interval as bands,
        one colour per value of ``hue``, panels by ``rows`` and ``cols`` (swept keys; see
        :func:`autophagy.results.plots.plot_metric`)."""
        from autophagy.results.marks import schedule_marks
        from autophagy.results.plots import plot_metric

        layout.setdefault("marks", schedule_marks(self.cells))  # where a scheduled value changes
        return plot_metric(self.summary(), metric, title=self.name, **layout)

    def write_plots(
        self, metrics: list[str] | None = None, output: Path | None = None, **layout: Any
    ) -> list[Path]:
        """``plots/<metric>.png`` for every metric (or those in ``metrics``), as :meth:`plot` draws
        them (``layout``: ``hue``, ``rows``, ``cols``), and a run's pictures of its sample
        snapshots; into ``output`` (a folder outside the run) when given, which a run on a
        read-only mount needs. Every option is checked before the first file is written."""
        from autophagy.results.plots import save_metric_plots

        if output is None:
            refuse_read_only(self.path, "--output", "DIR to draw the plots elsewhere")
            target = self.path / "plots"
        else:
            target = Path(output)
            if target.exists() and not target.is_dir():
                raise ConfigError("--output", f"{output} is a file; give a folder for the plots")
        paths = save_metric_plots(self, metrics=metrics, output=output, **layout)  # through the folder gate
        if not self.is_sweep:
            snapshots = self.snapshots(0)
            if snapshots:
                from autophagy.results.pictures import draw_snapshots

                make_folder(target if output is not None else self.path, target)  # refuses a plots/ link
                paths += draw_snapshots(self.manifest, snapshots, target)
        return paths

    def snapshots(self, cell: int = 0) -> dict[int, np.ndarray]:
        """The samples ``(n, d)`` of replicate 0 kept at the ``[plots] generations`` of ``cell``,
        by generation (empty when the config keeps none)."""
        with self.store() as store:
            return store.snapshots(cell)

    def export(self, output: Path, format: str = "csv") -> tuple[Path, int]:
        """Write :meth:`table` as CSV or Parquet; returns the path and the row count."""
        path, count, _, _ = self.export_snapshot(output, format)
        return path, count

    def export_snapshot(self, output: Path, format: str = "csv") -> tuple[Path, int, int, int]:
        """:meth:`export`, and (replicates done, planned) read in the SAME read transaction as
        the rows, so an "incomplete" warning can never disagree with the rows written; returns
        (path, rows, done, planned)."""
        from autophagy.results.export import export_table

        with self.store() as store:
            store.conn.execute("BEGIN")  # one snapshot of rows and checkpoints (WAL readers)
            try:
                rows = store.all_rows()
                finished = self.finished(store)  # complete: the row's replicate ran every generation
            finally:
                store.conn.execute("COMMIT")
        self.__dict__["_rows"] = self._checked(rows)  # the cached rows are this snapshot's
        records = [
            (*record, (run, record[-4]) in finished)
            for record, (run, *_) in zip(self._records(), self._rows, strict=True)
        ]
        columns = [*self._columns(), *ROW_COLUMNS, "complete"]
        planned = sum(size[0] for size in self._sizes() if size is not None)
        return export_table(columns, records, output, format), len(records), len(finished), planned

    def report(self, output: Path | None = None, **layout: Any) -> Path:
        """Write the static HTML report (default ``report.html`` in the folder)."""
        return write_report(self, output, **layout)


@contextlib.contextmanager
def _borrowed(store: RunStore) -> Iterator[RunStore]:
    yield store  # a store the caller opened (and closes)


def open_run(folder: str | Path) -> Run:
    """Open a run or sweep folder written by :func:`autophagy.api.run` or ``autophagy run``."""
    path = Path(folder)
    if not (path / STORE_FILE).is_file():
        raise ConfigError("RUN", f"{path} is not a run or sweep folder (no {STORE_FILE})")
    found = read_manifest(path)
    name, manifest = found if found is not None else (CONFIG_FILE, {})
    return Run(path, manifest, name == SWEEP_FILE)
