"""Summaries of a run's rows: numbers per replicate computed after the run, not per generation.

:func:`generations_to_collapse` takes the tidy table ``autophagy export`` writes (a pandas
DataFrame, or any iterable of ``(replicate, generation, metric, value)`` tuples or mappings
with those keys, sweeps adding their swept columns) and returns, per replicate (and per cell
of a sweep), the first generation at which a metric crosses a threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autophagy.core.registry import METRICS

KEYS = ("replicate", "generation", "metric", "value")


def _records(rows: Any) -> tuple[list[dict[str, Any]], bool]:
    """Rows as dicts, and whether they came as a DataFrame."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records"), True
    out = []
    for row in rows:
        out.append(dict(row) if isinstance(row, Mapping) else dict(zip(KEYS, row, strict=True)))
    return out, False


def generations_to_collapse(
    rows: Iterable[Any] | Any,
    metric: str,
    threshold: float,
    *,
    relative: bool = False,
    falling: bool | None = None,
    by: Sequence[str] = (),
) -> Any:
    """First generation at which ``metric`` crosses ``threshold``, per replicate (NaN if never).

    ``falling`` says which way collapse moves the metric: True (default for metrics registered
    ``higher_is_better``, e.g. recall, trace_cov's variance, surviving outcomes) means the
    first generation with value <= threshold; False (lower-is-better metrics, e.g. wasserstein2)
    the first with value >= threshold. With ``relative=True`` the threshold is a multiple of the
    replicate's generation-1 value (``0.5``: half of it). ``by`` names further key columns (the
    swept keys of a sweep export). Returns a DataFrame with ``by``, ``replicate`` and
    ``generations_to_collapse`` columns when given one, else a list of such dicts.
    """
    records, frame = _records(rows)
    if falling is None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}: say which way it collapses with falling=")
        falling = METRICS[metric].higher_is_better
    series: dict[tuple, list[tuple[int, float]]] = {}
    for row in records:
        if row["metric"] == metric:
            key = (*(row[k] for k in by), int(row["replicate"]))
            series.setdefault(key, []).append((int(row["generation"]), float(row["value"])))
    if not series:
        raise ValueError(f"no rows for metric {metric!r}")
    out = []
    for key, values in series.items():
        values.sort()
        limit = threshold * values[0][1] if relative else threshold
        first = next(
            (g for g, v in values if (v <= limit if falling else v >= limit)),
            math.nan,
        )
        out.append(
            {**dict(zip(by, key[:-1], strict=True)), "replicate": key[-1], "generations_to_collapse": first}
        )
    if frame:
        import pandas as pd

        return pd.DataFrame(out)
    return out
