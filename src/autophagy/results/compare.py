"""Several run or sweep folders side by side: one table, one report (``autophagy compare``).

:func:`compare` opens folders written by :func:`autophagy.api.run` (a folder that only holds
run folders, such as ``runs/demo``, stands for all of them) and answers in pandas:

- :meth:`Comparison.summary`: every folder's :meth:`~autophagy.results.run.Run.summary` (mean
  and Student-t interval over replicates, seeds pooled) stacked, with a ``folder`` column
  first and one column per key swept in any folder. A folder that does not sweep a key gets
  its resolved config's value (a plain run at lambda 0.8 reads ``loop.sampling_bias = 0.8``),
  so the rows stay comparable.
- :meth:`Comparison.paired`: where a folder shares seeds and replicates with the first one
  (the baseline), the per-replicate differences ``folder - baseline`` matched on (the keys
  swept in either, seed, replicate, generation, metric), with their Student-t interval. Every
  random draw is keyed by (seed, replicate, generation, role), so two loops with the same
  seed start from the same real data and their difference has less noise than the two
  separate intervals suggest.
- :meth:`Comparison.table`: the stacked long-form rows (what ``export`` writes).
- :meth:`Comparison.write`: ``report.html``, ``summary.csv`` and ``paired.csv`` into a folder,
  every file through the folder gate (:func:`autophagy.storage.safety.atomic_write_text`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autophagy.core.errors import ConfigError
from autophagy.core.stats import t_interval
from autophagy.results.run import ROW_COLUMNS, Run, open_run, run_folders
from autophagy.storage.layout import STORE_FILE, read_manifest
from autophagy.storage.safety import atomic_write_text, make_folder, refuse_own_file

if TYPE_CHECKING:
    import pandas as pd

FOLDER = "folder"
BASELINE = "baseline"
STAT_COLUMNS = ("generation", "metric", "mean", "low", "high", "n")


def dotted(config: Any, key: str) -> Any:
    """The value of the dotted ``key`` in a (resolved) config, None where it has none."""
    node = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _label_of(runs: Sequence[Run]) -> list[str]:
    """One label per folder: its name, or its path where two names clash."""
    names = [run.path.name or str(run.path) for run in runs]
    if len(set(names)) == len(names):
        return names
    return [str(run.path) for run in runs]


@dataclass(frozen=True)
class Comparison:
    """Several opened folders (see the module docstring); ``labels[i]`` names ``runs[i]`` in
    every table, figure and legend; ``metrics`` (empty: all) restricts what is compared."""

    runs: tuple[Run, ...]
    labels: tuple[str, ...]
    metrics: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Comparison({', '.join(self.labels)})"

    @property
    def keys(self) -> list[str]:
        """Keys swept in any folder (seeds pooled, so ``seed`` is not one), in first-seen order."""
        keys: dict[str, None] = {}
        for run in self.runs:
            keys.update((k, None) for k in run.swept if k != "seed")
        return list(keys)

    def _fill(self, frame: pd.DataFrame, run: Run, label: str) -> pd.DataFrame:
        """``frame`` with the ``folder`` column first and every key of :attr:`keys` (the run's
        resolved config value where the run does not sweep it), restricted to :attr:`metrics`."""
        if self.metrics:
            frame = frame[frame["metric"].isin(self.metrics)]
        frame = frame.copy()
        config = run.cells[0]["config"]
        for key in self.keys:
            if key not in frame.columns:
                value = dotted(config, key)
                frame[key] = [value] * len(frame)
        frame.insert(0, FOLDER, label)
        rest = [c for c in frame.columns if c not in (FOLDER, *self.keys)]
        return frame[[FOLDER, *self.keys, *rest]]

    def summary(self, ci: float = 0.95) -> pd.DataFrame:
        """Every folder's ``Run.summary(ci)`` stacked: ``folder``, the swept keys, then
        generation, metric, mean, low, high, n."""
        import pandas as pd

        frames = [
            self._fill(run.summary(ci), run, label) for run, label in zip(self.runs, self.labels, strict=True)
        ]
        kept = [f for f in frames if len(f)]
        out = (
            pd.concat(kept, ignore_index=True)
            if kept
            else pd.DataFrame(columns=[FOLDER, *self.keys, *STAT_COLUMNS])
        )
        out.attrs["ci"] = ci
        return out

    def table(self) -> pd.DataFrame:
        """Every folder's ``Run.table()`` stacked: ``folder``, the swept keys (and ``seed``,
        ``point`` where a folder has them), then replicate, generation, metric, value."""
        import pandas as pd

        frames = [
            self._fill(run.table(), run, label) for run, label in zip(self.runs, self.labels, strict=True)
        ]
        out = pd.concat(frames, ignore_index=True)
        front = [FOLDER, *self.keys]
        middle = [c for c in out.columns if c not in (*front, *ROW_COLUMNS)]
        return out[[*front, *middle, *ROW_COLUMNS]]

    def _long(self, index: int) -> pd.DataFrame:
        """One folder's rows with every key of :attr:`keys` and the cell's seed."""
        import pandas as pd

        run = self.runs[index]
        cells = run.cells
        records = []
        for cell, replicate, generation, metric, value in run.rows():
            config = cells[cell]["config"]
            values = cells[cell]["values"]
            keys = [values[k] if k in values else dotted(config, k) for k in self.keys]
            records.append((*map(_text, keys), dotted(config, "seed"), replicate, generation, metric, value))
        frame = pd.DataFrame.from_records(records, columns=[*self.keys, "seed", *ROW_COLUMNS])
        return frame[frame["metric"].isin(self.metrics)] if self.metrics else frame

    def paired(self, ci: float = 0.95) -> pd.DataFrame:
        """Paired differences ``folder - baseline`` (the first folder) per (keys, generation,
        metric): mean and Student-t interval of the per-replicate differences over every
        (seed, replicate) the two folders share, and ``n`` pairs. Folders sharing no seed and
        replicate with the baseline have no rows."""
        import pandas as pd

        columns = [FOLDER, BASELINE, *self.keys, *STAT_COLUMNS]
        if len(self.runs) < 2:
            return pd.DataFrame(columns=columns)
        base = self._long(0)
        on = [*self.keys, "seed", "replicate", "generation", "metric"]
        records = []
        for index in range(1, len(self.runs)):
            other = self._long(index)
            joined = other.merge(base, on=on, suffixes=("", "_base"))
            if joined.empty:
                continue
            joined["difference"] = joined["value"] - joined["value_base"]
            groups = joined.groupby([*self.keys, "generation", "metric"], sort=False)["difference"]
            for key, group in groups:
                key = key if isinstance(key, tuple) else (key,)
                *values, generation, metric = key
                records.append(
                    (
                        self.labels[index],
                        self.labels[0],
                        *map(_untext, values),
                        generation,
                        metric,
                        *t_interval(group.to_numpy(), ci),
                    )
                )
        out = pd.DataFrame.from_records(records, columns=columns)
        out.attrs["ci"] = ci
        return out

    def report(self, output: str | Path, *, hue: str | None = None, ci: float = 0.95) -> Path:
        """Write the comparison's HTML page (only) to the file ``output``; returns its path.
        A folder's own file (``results.sqlite``...) or a folder is refused."""
        from autophagy.results.compare_report import render_comparison

        path = refuse_own_file("--output", Path(output))
        text = render_comparison(self, self.summary(ci), self.paired(ci), hue=hue, ci=ci)
        make_folder(path.parent)
        return atomic_write_text(path, text)

    def write(self, output: str | Path, *, hue: str | None = None, ci: float = 0.95) -> dict[str, Path]:
        """``report.html``, ``summary.csv`` and (where folders pair) ``paired.csv`` in the folder
        ``output`` (created; a run or sweep folder itself is refused, its report is its own).
        Every option is checked, and every figure drawn, before the first file is written."""
        from autophagy.results.compare_report import render_comparison

        out = Path(output)
        if (out / STORE_FILE).exists() or (out.is_dir() and read_manifest(out) is not None):
            raise ConfigError("--output", f"{out} is a run or sweep folder; write the comparison elsewhere")
        summary = self.summary(ci)
        paired = self.paired(ci)
        text = render_comparison(self, summary, paired, hue=hue, ci=ci)
        make_folder(out)
        written = {"report": atomic_write_text(out / "report.html", text)}
        written["summary"] = atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
        if len(paired):
            written["paired"] = atomic_write_text(out / "paired.csv", paired.to_csv(index=False))
        return written


def _text(value: Any) -> Any:
    """A key's value as something a merge can match (lists and tables as JSON text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def _untext(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def expand_folders(folders: Iterable[str | Path]) -> list[Path]:
    """Run or sweep folders from ``folders``: a folder that is not one itself but holds run
    folders (``runs/demo``) stands for all of them, in name order."""
    found: list[Path] = []
    for folder in folders:
        path = Path(folder)
        if (path / STORE_FILE).is_file():
            found.append(path)
            continue
        inner = run_folders(path)
        if not inner:
            raise ConfigError(
                "RUN", f"{path} is not a run or sweep folder, nor a folder of them (no {STORE_FILE})"
            )
        found.extend(inner)
    return found


def compare(
    folders: str | Path | Iterable[str | Path], *, metrics: str | Iterable[str] | None = None
) -> Comparison:
    """Open several run or sweep folders for comparison (see the module docstring).

    ``folders``: paths (a folder of run folders counts as all of them); the first one is the
    baseline of :meth:`Comparison.paired`. ``metrics``: the metrics to compare (default: every
    metric any folder stores); a metric no folder stores raises :class:`ConfigError` naming it.
    """
    if isinstance(folders, str | Path):
        folders = [folders]
    paths = expand_folders(folders)
    if not paths:
        raise ConfigError("RUN", "name at least one run or sweep folder")
    runs = tuple(open_run(p) for p in paths)
    chosen: tuple[str, ...] = ()
    if metrics is not None:
        chosen = (metrics,) if isinstance(metrics, str) else tuple(dict.fromkeys(metrics))
        stored: dict[str, None] = {}
        for run in runs:
            stored.update((m, None) for m in _metric_names(run))
        for metric in chosen:
            if metric not in stored:
                known = ", ".join(stored) or "none: no rows stored yet"
                raise ConfigError("metric", f"{metric!r} has no rows in these folders (metrics: {known})")
    return Comparison(runs, tuple(_label_of(runs)), chosen)


def _metric_names(run: Run) -> list[str]:
    """The metrics a folder's rows hold, in the config's order first."""
    stored = dict.fromkeys(row[3] for row in run.rows())
    configured = dotted(run.cells[0]["config"], "metrics.names") or []
    return [m for m in configured if m in stored] + [m for m in stored if m not in configured]
