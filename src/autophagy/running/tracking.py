"""Experiment trackers, driven by the parent at commit time (never by a worker).

A run asks for trackers with ``[tracking] loggers = [...]`` or ``--log NAME`` (see
:func:`autophagy.running.config.resolve_tracking`); each is a registered
:class:`~autophagy.core.registry.Logger` (``autophagy.loggers`` entry points; MLflow,
TensorBoard and W&B built in, :mod:`autophagy.trackers`). After the runner commits a task,
:meth:`TrackingSession.committed` sends every (cell, generation) whose replicates are now all
committed (every block's checkpoint has reached it): the mean and Student-t interval of each
metric over the cell's replicates (``metric``, ``metric/low``, ``metric/high``, as
:meth:`~autophagy.results.run.Run.summary` computes them) and the training summary
(``training/loss``: mean over replicates of the last reported loss, ``training/steps``,
``training/seconds``).

Exactly once: before a step is sent, the store records it with a fixed timestamp (``logged``
table, ``done = 0``); after, it marks it sent. A step confirmed sent is never sent again; one
sent but not confirmed (a kill in between) is sent again with the same timestamp and values,
which MLflow stores once (its metric key includes the timestamp) and W&B drops (a step not
after its last). A run resumed (or started without trackers, then resumed with ``--log``)
first sends the committed steps it has not sent.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autophagy.core.errors import ConfigError, EnvironmentFault, PluginError
from autophagy.core.stats import t_interval
from autophagy.core.telemetry import TrackedCell, TrackedRun, flatten
from autophagy.results.run import cell_label
from autophagy.storage.safety import gate
from autophagy.storage.store import RunStore

TRACKER_PLACES = ("tensorboard", "wandb", "mlartifacts", "mlflow.db")  # the built-ins' defaults


def gate_tracker_places(folder: Path) -> None:
    """Pass the places the built-in trackers' libraries write in the run folder through the
    folder gate before they open them: a planted link there (``tensorboard/``, ``wandb/``,
    ``mlartifacts/``, ``mlflow.db``) is refused (exit 2), never followed out of the folder."""
    for name in TRACKER_PLACES:
        gate(folder, folder / name)


def step_values(store: RunStore, cell: int, generation: int, ci: float = 0.95) -> dict[str, float]:
    """What a tracker gets for one (cell, generation): metric means and interval bounds over
    replicates, and the training summary; NaN bounds (one replicate) are left out."""
    by_metric: dict[str, list[float]] = {}
    for metric, value in store.generation_rows(cell, generation):
        by_metric.setdefault(metric, []).append(value)
    values: dict[str, float] = {}
    for metric, found in by_metric.items():
        mean, low, high, _ = t_interval(np.asarray(found, dtype=np.float64), ci)
        values.update({metric: mean, f"{metric}/low": low, f"{metric}/high": high})
    last: dict[int, tuple[int, float, float]] = {}
    for replicate, step, loss, seconds in store.generation_training(cell, generation):
        last[replicate] = (step, loss, seconds)  # sorted by step: the last report wins
    if last:
        steps, losses, seconds = (
            np.asarray(column, dtype=np.float64) for column in zip(*last.values(), strict=True)
        )
        values.update(
            {
                "training/loss": float(np.mean(losses)),
                "training/steps": float(np.mean(steps)),
                "training/seconds": float(np.mean(seconds)),
            }
        )
    return {k: v for k, v in values.items() if not math.isnan(v) or "/" not in k}


def guarded(name: str, call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` of logger ``name``: a config error stays one; an unreachable server or a
    full disk is an :class:`EnvironmentFault` (exit 3; the same command resumes and sends what
    is missing); anything else is the logger's :class:`PluginError` (exit 2)."""
    try:
        return call(*args)
    except ConfigError:
        raise
    except (OSError, ConnectionError) as exc:
        raise EnvironmentFault(f"tracker {name}", f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        if any(word in text for word in ("Connection", "retries", "unreachable", "timed out")):
            raise EnvironmentFault(f"tracker {name}", text) from None
        raise PluginError(f"logger {name}", text) from None


class TrackingSession:
    """The trackers of one execution: ``start`` (opens them, sends what is committed but not
    sent), ``committed(cell)`` after each commit, ``finish`` at the end (artifacts, close)."""

    def __init__(self, loggers: list[tuple[str, Any, Any]], store: RunStore) -> None:
        self.loggers = loggers  # (name, registry entry, validated options)
        self.store = store
        self.trackers: dict[str, Any] = {}
        self.sent: dict[str, dict[tuple[int, int], tuple[int, bool]]] = {}
        self.generations: list[int] = []
        self.blocks: list[list[int]] = []

    def start(self, name: str, folder: Path, swept: list[str], cells: list[Any]) -> None:
        """Open every tracker on ``cells`` (the runner's :class:`~autophagy.running.sweep.Cell`)."""
        tracked = [
            TrackedCell(
                c.index,
                cell_label(c.values, tags=c.tags) or name,
                flatten(c.resolved),
                dict(c.values),
                c.config.generations,
            )
            for c in cells
        ]
        run = TrackedRun(name, Path(folder), list(swept), tracked, self.store.meta("run_id") or "")
        gate_tracker_places(Path(folder))
        self.generations = [c.config.generations for c in cells]
        self.blocks = [list(range(0, c.config.replicates, c.config.block_size)) for c in cells]
        for logger, entry, options in self.loggers:
            tracker = guarded(logger, entry.build, options)
            state = json.loads(self.store.meta(f"tracker:{logger}") or "{}")
            kept = guarded(logger, tracker.start, run, state)
            self.store.set_meta(f"tracker:{logger}", json.dumps(kept or {}, sort_keys=True))
            self.trackers[logger] = tracker
            self.sent[logger] = self.store.logged(logger)
        for cell in range(len(cells)):
            self.committed(cell)

    def reached(self, cell: int) -> int:
        """The last generation every block of ``cell`` has committed."""
        saved = [self.store.checkpoint(cell, first) for first in self.blocks[cell]]
        return min((s[0] if s is not None else 0) for s in saved) if saved else 0

    def committed(self, cell: int) -> None:
        """Send every generation of ``cell`` that is now complete and not yet sent, in order."""
        reached = self.reached(cell)
        for logger, tracker in self.trackers.items():
            sent = self.sent[logger]
            for generation in range(1, reached + 1):
                stamp, done = sent.get((cell, generation), (0, False))
                if done:
                    continue
                if not stamp:
                    stamp = int(time.time() * 1000)
                    self.store.mark_logged(logger, cell, generation, stamp, False)
                values = step_values(self.store, cell, generation)
                guarded(logger, tracker.log, cell, generation, values, stamp)
                self.store.mark_logged(logger, cell, generation, stamp, True)
                sent[(cell, generation)] = (stamp, True)

    def finish(self, artifacts: list[Path], complete: bool) -> None:
        """Hand the plots and the report to every tracker, then close them."""
        for logger, tracker in self.trackers.items():
            if artifacts:
                guarded(logger, tracker.artifacts, artifacts, None)
            guarded(logger, tracker.close, complete)
        self.trackers.clear()

    def abandon(self) -> None:
        """Close every tracker after a failure or a stop (what was sent stays sent)."""
        for tracker in self.trackers.values():
            try:
                tracker.close(False)
            except Exception:  # already failing: the first error is the one reported
                pass
        self.trackers.clear()
