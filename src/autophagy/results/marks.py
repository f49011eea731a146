"""Where a scheduled value changes: the x-axis annotations of metric figures.

A run whose config holds time-varying values (:mod:`autophagy.core.varying`: ``loop.n_real =
[{from = 1, value = 0}, {from = 7, value = 100}]``, a ramp of ``loop.sampling_bias``, a ridge
schedule) gets, on every panel of its metric figures, a dotted vertical line between generations
t - 1 and t where a step or period changes a value (labelled ``n_real: 0 -> 100``) and a shaded
range over each ramp (labelled with its end values). The marks are read from the stored
resolved configs, so ``plot`` and ``report`` draw them without rerunning anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from autophagy.core.varying import schedule_of

MAX_MARKS = 40  # a long period would otherwise draw a line per generation change


@dataclass(frozen=True)
class Mark:
    """A change at ``start`` (a line at generation t - 0.5), or a ramp over ``start..end``."""

    start: float
    end: float | None
    text: str


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def config_marks(config: dict[str, Any]) -> list[Mark]:
    """The marks of one resolved config (``config.json``, or a sweep cell's ``config``)."""
    generations = config.get("generations")
    if not isinstance(generations, int) or generations < 1:
        return []
    marks = []
    for section in ("loop", "model"):
        table = config.get(section)
        for key, raw in table.items() if isinstance(table, dict) else ():
            schedule = schedule_of(raw)
            if schedule is None:
                continue
            if schedule.form == "ramp":
                (g0, v0), (g1, v1) = schedule.knots[0], schedule.knots[-1]
                start, end = max(g0, 1), min(g1, generations)
                if start < end:
                    marks.append(Mark(start, end, f"{key}: ramp {_short(v0)} -> {_short(v1)}"))
                continue
            try:
                values = schedule.values(generations)
            except ValueError:  # not a config this package validated: draw nothing for it
                continue
            for t in range(2, generations + 1):
                if values[t - 1] != values[t - 2]:
                    marks.append(
                        Mark(t - 0.5, None, f"{key}: {_short(values[t - 2])} -> {_short(values[t - 1])}")
                    )
    return marks


def schedule_marks(cells: Iterable[dict[str, Any]]) -> list[Mark]:
    """The distinct marks of every cell of a run (``Run.cells``), at most :data:`MAX_MARKS`;
    marks at the same place share one label, a line per change."""
    places: dict[tuple[float, float | None], list[str]] = {}
    for cell in cells:
        config = cell.get("config") if isinstance(cell, dict) else None
        for mark in config_marks(config) if isinstance(config, dict) else ():
            texts = places.setdefault((mark.start, mark.end), [])
            if mark.text not in texts:
                texts.append(mark.text)
    marks = [Mark(start, end, "\n".join(texts)) for (start, end), texts in places.items()]
    return marks[:MAX_MARKS]
