"""Figures: each metric versus generation, and sample panels per chosen generation (real
samples in grey, synthetic in colour).

:func:`plot_metric` draws a run's summary (``Run.summary()``: mean and Student-t interval over
replicates per swept point and generation) as overlaid curves, one colour per value of a
chosen key and one panel per value of two others; it is what ``autophagy plot``,
``autophagy report`` and ``Run.plot`` draw. :func:`plot_comparison`
overlays the raw rows of separate runs (mean and 10-90 % spread of replicates) for the demo
and the mitigation example.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from autophagy.core.errors import ConfigError
from autophagy.core.varying import schedule_of
from autophagy.results.marks import Mark, schedule_marks
from autophagy.storage.safety import atomic_path, make_folder, plain_text, safe_name

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


def _band(
    ax: plt.Axes,
    gens: np.ndarray,
    values: np.ndarray,
    label: str | None = None,
    color: Any = None,
    linestyle: Any = "-",
) -> None:
    mean = np.nanmean(values, axis=0)
    low, high = np.nanquantile(values, [0.1, 0.9], axis=0)
    (line,) = ax.plot(gens, mean, label=label, color=color, linestyle=linestyle)
    ax.fill_between(gens, low, high, color=line.get_color(), alpha=0.15, linewidth=0)


def paired_styles(
    labels: Iterable[str], groups: Mapping[str, str] | None = None
) -> dict[str, tuple[Any, Any]]:
    """``{label: (colour, line style)}``: one colour per group (a family), one line style per
    member within it (its lambdas), so a family's runs read as a pair. ``groups`` maps a label
    to its group (default: the label up to ``-lambda``, as the demo names its runs)."""
    labels = list(labels)
    group_of = {label: (groups or {}).get(label, label.split("-lambda")[0]) for label in labels}
    order = list(dict.fromkeys(group_of.values()))
    palette = plt.get_cmap("tab10")
    seen: dict[str, int] = {}
    styles = {}
    for label in labels:
        group = group_of[label]
        rank = seen.get(group, 0)
        seen[group] = rank + 1
        styles[label] = (palette(order.index(group) % 10), LINESTYLES[rank % len(LINESTYLES)])
    return styles


def save_png(fig: Figure, path: Path, root: Path | None = None, **options: Any) -> Path:
    """Write ``fig`` as PNG at ``path`` atomically through the folder gate of ``root`` (default:
    ``path``'s folder; see :func:`autophagy.storage.safety.gate`), then close it."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    make_folder(root, path.parent)
    try:
        with atomic_path(path, root) as tmp:
            fig.savefig(tmp, format="png", **options)
    finally:
        plt.close(fig)
    return path


def plot_comparison(
    runs: Mapping[str, Iterable[Row]],
    folder: Path,
    *,
    title: str = "",
    groups: Mapping[str, str] | None = None,
) -> list[Path]:
    """One PNG per metric overlaying several labelled runs (mean and 10-90 % band each): one
    colour per group (``groups``: label -> group, default the label before ``-lambda``), one
    line style per run within it, the legend outside the axes."""
    folder = Path(folder)
    make_folder(folder)
    per_run = {label: curves(rows) for label, rows in runs.items()}
    metrics = list(dict.fromkeys(m for c in per_run.values() for m in c))
    styles = paired_styles(per_run, groups)
    paths = []
    for metric in metrics:
        with plain_text():  # metric names and cell labels are data: never mathtext
            fig, ax = plt.subplots(figsize=(8, 4), dpi=100, layout="constrained")
            _draw(ax, per_run, metric, title, styles)
        path = folder / f"{safe_name(metric)}.png"  # a name read from a store cannot leave the folder
        paths.append(save_png(fig, path, folder))
    return paths


def _draw(ax: plt.Axes, per_run: dict, metric: str, title: str, styles: dict | None = None) -> None:
    """One metric's bands, labels and legend (outside, right of the axes) on ``ax``."""
    for label, c in per_run.items():
        if metric in c:
            colour, style = (styles or {}).get(label, (None, "-"))
            _band(ax, *c[metric], label=label or None, color=colour, linestyle=style)
    ax.set_xlabel("generation")
    direction = metric_direction(metric)
    ax.set_ylabel(f"{metric} ({direction})" if direction else metric)
    ax.set_title(f"{title}: {metric}" if title else metric)
    if any(per_run):
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3)


def plot_samples(
    real: np.ndarray, synthetic: Mapping[int, np.ndarray], path: Path, *, title: str = ""
) -> Path:
    """One scatter panel per generation of ``synthetic`` ``{generation: (n, d)}`` over ``real``
    ``(n, d)`` in grey (first two coordinates), on common axes as in the paper's figs. 14 and 17."""
    path = Path(path)
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
    return save_png(fig, path)


# --- overlaid curves from a run's summary -----------------------------------------------------

SUMMARY_COLUMNS = ("generation", "metric", "mean", "low", "high", "n")
"""The columns of ``Run.summary()`` after the swept keys (one row per key values, generation, metric)."""

LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))


@dataclass(frozen=True)
class Facets:
    """How a summary's keys map onto a figure. Each entry is a group of keys that move together
    (zipped sweep axes: one value of the first fixes the others), so ``hue`` may hold two keys."""

    hue: list[str]  # one colour per value
    rows: list[str]  # one row of panels per value
    cols: list[str]  # one column of panels per value
    rest: list[str]  # further multi-valued keys: one line style per value, named in the legend
    fixed: dict[str, Any]  # keys with a single value: named in the title


def summary_keys(summary: pd.DataFrame) -> list[str]:
    """The key columns of a summary (the swept keys it kept), in their order."""
    return [c for c in summary.columns if c not in SUMMARY_COLUMNS]


def summary_points(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """The distinct swept points of a summary (``{key: value}``), in order of first appearance.
    Values may be lists (a swept vector): points are told apart by their JSON text."""
    keys = summary_keys(summary)
    if not keys:
        return [{}]
    distinct: dict[tuple[str, ...], dict[str, Any]] = {}
    for record in summary[keys].to_dict("records"):
        distinct.setdefault(tuple(value_text(record[k]) for k in keys), record)
    return list(distinct.values())


def value_text(value: Any) -> str:
    """A value as a label: strings as they are, a schedule as its short text (``100 from 1, 0
    from 7``; :meth:`autophagy.core.varying.Varying.text`), everything else as JSON (``0.8``,
    ``[1, 2]``)."""
    if isinstance(value, str):
        return value
    schedule = schedule_of(value)
    if schedule is not None:
        return schedule.text()
    if isinstance(value, np.generic):
        value = value.item()
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def _label(values: Mapping[str, Any], keys: Iterable[str]) -> str:
    return ", ".join(f"{k}={value_text(values[k])}" for k in keys)


def _levels(records: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """The distinct labels of ``keys`` over ``records``, sorted by value when every key holds
    numbers (so lambda 0.6, 0.8, 1.0), else in order of first appearance."""
    distinct: dict[str, tuple] = {}
    for record in records:
        distinct.setdefault(_label(record, keys), tuple(record[k] for k in keys))
    numeric = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool)
        for values in distinct.values()
        for v in values
    )
    return sorted(distinct, key=distinct.__getitem__) if numeric else list(distinct)


def distinct_values(values: Iterable[Any]) -> list[Any]:
    """Distinct values: sorted when all are numbers, else in order of first appearance."""
    distinct: dict[str, Any] = {}
    for value in values:
        distinct.setdefault(value_text(value), value)
    out = list(distinct.values())
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in out):
        out.sort()
    return out


def _groups(cells: list[dict[str, Any]], keys: list[str]) -> list[list[str]]:
    """Keys grouped into dimensions: two keys share one when each one's value fixes the other's
    across the cells (``zip`` axes); otherwise every key is its own dimension."""
    text = [{k: value_text(c[k]) for k in keys} for c in cells]
    dims: list[list[str]] = []
    for key in keys:
        for dim in dims:
            lead = dim[0]
            pairs = {(t[lead], t[key]) for t in text}
            if len(pairs) == len({t[lead] for t in text}) == len({t[key] for t in text}):
                dim.append(key)
                break
        else:
            dims.append([key])
    return dims


def facets(
    summary: pd.DataFrame, *, hue: str | None = None, rows: str | None = None, cols: str | None = None
) -> Facets:
    """Assign a summary's keys to colour, panel rows and panel columns.

    Unset options take the multi-valued key groups in order: ``hue`` the first, ``cols`` the
    second, ``rows`` the third; the rest become line styles. A key zipped with a chosen one
    follows it. Raises :class:`~autophagy.core.errors.ConfigError` naming the option (``hue``,
    ``rows`` or ``cols``) when a key is not among the summary's keys or is chosen twice.
    """
    keys = summary_keys(summary)
    cells = summary_points(summary)
    dims = _groups(cells, keys)
    chosen: dict[str, list[str]] = {}
    for option, key in (("hue", hue), ("rows", rows), ("cols", cols)):
        if key is None:
            continue
        if key not in keys:
            known = ", ".join(keys) if keys else "none: this run sweeps nothing"
            why = "is pooled: seeds count as replicates" if key == "seed" else "is not a swept key"
            raise ConfigError(option, f"{key!r} {why} (keys to draw: {known})")
        dim = next(d for d in dims if key in d)
        taken = next((o for o, d in chosen.items() if d is dim), None)
        if taken is not None:
            raise ConfigError(option, f"{key!r} is already drawn by {taken} ({', '.join(dim)} move together)")
        chosen[option] = dim
    free = [d for d in dims if all(d is not c for c in chosen.values())]
    varied = [d for d in free if len({value_text(c[d[0]]) for c in cells}) > 1]
    fixed = {k: cells[0][k] for d in free if d not in varied for k in d}
    for option in ("hue", "cols", "rows"):
        if option not in chosen and varied:
            chosen[option] = varied.pop(0)
    return Facets(
        hue=chosen.get("hue", []),
        rows=chosen.get("rows", []),
        cols=chosen.get("cols", []),
        rest=[k for d in varied for k in d],
        fixed=fixed,
    )


TRUTH_TARGETED = frozenset({"trace_cov"})
"""Metrics whose best value is the real distribution's own (``trace_cov``: the true total
variance), not the highest or the lowest."""


def metric_direction(metric: str) -> str:
    """``"higher is better"`` / ``"lower is better"`` for a registered metric, ``"closer to the
    true value"`` for one whose target is the real distribution's value (:data:`TRUTH_TARGETED`),
    else ``""``."""
    from autophagy.metrics import METRICS

    entry = METRICS.get(metric)
    if entry is None:
        return ""
    if metric in TRUTH_TARGETED:
        return "closer to the true value"
    return "higher is better" if entry.higher_is_better else "lower is better"


def true_values(config: Mapping[str, Any]) -> dict[str, float]:
    """Reference values of metrics whose target is the real distribution's own value, read
    from a resolved config: for ``data.kind = "gaussian"``, ``trace_cov`` = tr(Sigma_r) and
    ``variance_K`` = (Sigma_r)_KK. Empty where the config does not give them in closed form."""
    data = config.get("data") if isinstance(config, Mapping) else None
    if not isinstance(data, Mapping) or data.get("kind") != "gaussian":
        return {}
    try:
        dim = int(data.get("dim", 1))
        c = np.asarray(data.get("covariance", 1.0), dtype=np.float64)
        diagonal = np.full(dim, float(c)) if c.ndim == 0 else (c if c.ndim == 1 else np.diag(c))
    except (TypeError, ValueError):
        return {}
    if diagonal.shape != (dim,) or not np.all(np.isfinite(diagonal)):
        return {}
    out = {"trace_cov": float(diagonal.sum())}
    out |= {f"variance_{k}": float(v) for k, v in enumerate(diagonal)}
    return out


def run_truth(run: Any, metric: str) -> float | None:
    """:func:`true_values` of ``metric`` when every cell of ``run`` has the same one, else None."""
    found = {true_values(c.get("config") or {}).get(metric) for c in run.cells}
    return found.pop() if len(found) == 1 else None


def band_label(summary: pd.DataFrame, ci: float | None = None) -> str:
    """What a band means, e.g. ``"band: 95 % t-interval over n = 8 replicates"``."""
    level = ci if ci is not None else summary.attrs.get("ci", 0.95)
    counts = summary["n"].dropna().astype(int) if len(summary) else pd.Series([], dtype=int)
    low, high = (int(counts.min()), int(counts.max())) if len(counts) else (0, 0)
    n = f"n = {low}" if low == high else f"n = {low}-{high}"
    note = " (none where n < 2)" if low < 2 and high > 0 else ""
    return f"band: {100 * level:g} % t-interval over {n} replicates{note}"


def _panel(count: int, size: float, most: float) -> float:
    """Inches for ``count`` panels of ``size`` each, shrunk to fit ``most`` (never below half size)."""
    return count * max(min(size, most / max(count, 1)), size / 2)


def plot_metric(
    summary: pd.DataFrame,
    metric: str,
    *,
    hue: str | None = None,
    rows: str | None = None,
    cols: str | None = None,
    title: str = "",
    ci: float | None = None,
    marks: Sequence[Mark] = (),
    truth: float | None = None,
) -> Figure:
    """One figure of ``metric`` versus generation from a run's summary (``Run.summary()``).

    Reference lines: ``truth`` (the real distribution's value, e.g. from :func:`true_values`)
    as a solid grey line, and, where a panel has at most four curves, each curve's generation-1
    mean as a dotted line of its colour (where the loop started).

    ``summary`` has one row per (swept keys..., generation, metric) with ``mean``, ``low``,
    ``high`` and ``n``. Lines are the means, one colour per value of ``hue``, panels one per
    value of ``rows`` x ``cols`` (see :func:`facets` for the defaults), further swept keys as
    line styles; bands are the summary's interval, labelled with its level (``ci``, default
    ``summary.attrs["ci"]`` or 0.95) and replicate count. Every string is drawn as plain text
    (no mathtext). ``marks`` (:func:`autophagy.results.marks.schedule_marks`) annotate the x axis
    of every panel where a scheduled value changes. Raises
    :class:`~autophagy.core.errors.ConfigError` naming ``metric``, ``hue``,
    ``rows`` or ``cols`` when it is not in the summary. The figure is returned, not shown or saved.
    """
    metrics = distinct_values(summary["metric"])
    if metric not in metrics:
        known = ", ".join(map(str, metrics)) if metrics else "none: no rows stored yet"
        raise ConfigError("metric", f"{metric!r} has no rows (metrics: {known})")
    layout = facets(summary, hue=hue, rows=rows, cols=cols)
    data = summary[summary["metric"] == metric]
    records = data.to_dict("records")
    row_values, col_values, hue_values, rest_values = (
        _levels(records, keys) for keys in (layout.rows, layout.cols, layout.hue, layout.rest)
    )
    palette = plt.get_cmap("tab10" if len(hue_values) <= 10 else "viridis")
    colours = {
        h: palette(i if len(hue_values) <= 10 else i / max(len(hue_values) - 1, 1))
        for i, h in enumerate(hue_values)
    }
    styles = {r: LINESTYLES[i % len(LINESTYLES)] for i, r in enumerate(rest_values)}
    fig, axes = plt.subplots(
        len(row_values),
        len(col_values),
        figsize=(_panel(len(col_values), 4.2, 20) + 2.8, _panel(len(row_values), 3.0, 16) + 1.0),
        sharex=True,
        sharey=True,
        squeeze=False,
        dpi=100,
        layout="constrained",
    )
    lines: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for record in records:
        where = tuple(_label(record, k) for k in (layout.rows, layout.cols, layout.hue, layout.rest))
        lines.setdefault(where, []).append(record)
    handles: dict[str, Any] = {}
    dotted = False
    for (row, col, colour, style), points in lines.items():
        points.sort(key=lambda r: r["generation"])
        gens = np.array([p["generation"] for p in points], dtype=float)
        mean, low, high = (np.array([p[c] for p in points], dtype=float) for c in ("mean", "low", "high"))
        ax = axes[row_values.index(row)][col_values.index(col)]
        label = "; ".join(x for x in (colour, style) if x) or metric
        (drawn,) = ax.plot(gens, mean, color=colours[colour], linestyle=styles[style], linewidth=1.5)
        ax.fill_between(gens, low, high, color=colours[colour], alpha=0.18, linewidth=0)
        handles.setdefault(label, drawn)
        per_panel = sum(1 for w in lines if w[:2] == (row, col))
        if per_panel <= 4 and len(gens) > 1 and gens[0] == 1 and np.isfinite(mean[0]):
            ax.axhline(
                mean[0], color=colours[colour], linestyle=":", linewidth=0.9, alpha=0.7, gid="reference"
            )
            dotted = True
    if truth is not None and np.isfinite(truth):
        for ax in np.ravel(axes):
            ax.axhline(truth, color="0.35", linestyle="-", linewidth=1.0, alpha=0.8, gid="reference")
    for i, row in enumerate(row_values):
        for j, col in enumerate(col_values):
            ax = axes[i][j]
            ax.grid(alpha=0.3)
            panel = "\n".join(x for x in (col, row) if x)
            if panel:
                ax.set_title(panel, fontsize=8, parse_math=False)
            if i == len(row_values) - 1:
                ax.set_xlabel("generation", fontsize=9)
            _draw_marks(ax, marks, labelled=i == 0)
        direction = metric_direction(metric)
        axes[i][0].set_ylabel(
            f"{metric} ({direction})" if direction else metric, fontsize=9, parse_math=False
        )
    heading = f"{title}: {metric}" if title else metric
    reference = "dotted: generation 1" if dotted else ""
    if truth is not None and np.isfinite(truth):
        reference = f"grey: true value {truth:.4g}" + (f", {reference}" if reference else "")
    details = "; ".join(x for x in (band_label(data, ci), reference, _label(layout.fixed, layout.fixed)) if x)
    fig.suptitle(f"{heading}\nmean line, {details}", fontsize=10, parse_math=False)
    if len(handles) > 1 or layout.hue or layout.rest:
        order = {
            f"{h}; {r}" if h and r else h or r: i
            for i, (h, r) in enumerate(itertools.product(hue_values, rest_values))
        }
        labels = sorted(handles, key=lambda label: order.get(label, len(order)))
        legend = fig.legend(
            [handles[label] for label in labels],
            labels,
            loc="outside right center",
            fontsize=8,
            frameon=False,
        )
        for text in legend.get_texts():
            text.set_parse_math(False)
    axes[0][0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _draw_marks(ax: plt.Axes, marks: Sequence[Mark], labelled: bool) -> None:
    """Dotted lines at changes and shaded ramps; their labels on the top row of panels only."""
    for mark in marks:
        if mark.end is None:
            ax.axvline(mark.start, color="0.35", linestyle=":", linewidth=1.0, zorder=0)
        else:
            ax.axvspan(mark.start, mark.end, color="0.5", alpha=0.1, linewidth=0, zorder=0)
        if labelled:
            ax.text(
                mark.start,
                0.98,
                f" {mark.text}",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                va="top",
                ha="right" if mark.end is None else "left",  # a line's label before it, a ramp's inside
                fontsize=7,
                color="0.3",
                parse_math=False,
            )


def plot_metrics(summary: pd.DataFrame, **options: Any) -> dict[str, Figure]:
    """:func:`plot_metric` for every metric in ``summary``, with its keyword ``options`` (``hue``,
    ``rows``, ``cols``, ``title``, ``ci``, ``marks``): ``{metric: Figure}``."""
    return {m: plot_metric(summary, m, **options) for m in distinct_values(summary["metric"])}


def save_figures(figures: Mapping[str, Figure], folder: Path, root: Path | None = None) -> list[Path]:
    """Write each figure as ``folder/<name>.png`` and close it, through the folder gate of
    ``root`` (default ``folder``: a ``plots/`` that is a link is refused); returns the paths."""
    folder = Path(folder)
    root = Path(root) if root is not None else folder
    make_folder(root, folder)
    paths = []
    for name, fig in figures.items():
        path = folder / f"{safe_name(name)}.png"  # a metric name read from a store stays in the folder
        paths.append(save_png(fig, path, root, bbox_inches="tight"))
    return paths


def save_metric_plots(
    run: Any,
    *,
    metrics: Iterable[str] | None = None,
    hue: str | None = None,
    rows: str | None = None,
    cols: str | None = None,
    ci: float = 0.95,
    output: Path | None = None,
) -> list[Path]:
    """Draw ``run``'s metrics (default: all) with :func:`plot_metric` into ``<run.path>/plots/
    <metric>.png`` (or ``output/<metric>.png``, a folder of the user's choosing). ``run`` is a
    ``Run`` (anything with ``summary(ci)``, ``name`` and ``path``). Every option is checked, and
    every figure drawn, before the first file is written."""
    summary = run.summary(ci=ci)
    title = getattr(run, "title", run.name)  # says "incomplete: k of n replicates" when it is
    names = list(dict.fromkeys(metrics)) if metrics else distinct_values(summary["metric"])
    marks = schedule_marks(getattr(run, "cells", ()))  # where a scheduled value changes
    figures = {
        m: plot_metric(
            summary,
            m,
            hue=hue,
            rows=rows,
            cols=cols,
            title=title,
            ci=ci,
            marks=marks,
            truth=run_truth(run, m),
        )
        for m in names
    }
    if output is not None:
        return save_figures(figures, Path(output))
    return save_figures(figures, Path(run.path) / "plots", Path(run.path))


TRAINING_KEYS = ("replicate", "generation", "step", "loss", "seconds")


def plot_training(training: pd.DataFrame, *, title: str = "") -> Figure:
    """The models' training loss along the loop (``Run.training()``): x is the generation plus
    the fraction of that generation's fit done (generation g's curve spans [g - 1, g]), y the
    mean loss over replicates (seeds pooled) at each report, one colour per swept point."""
    keys = [c for c in training.columns if c not in TRAINING_KEYS and c not in ("seed", "point")]
    frame = training.assign(
        point=[_label(r, keys) for r in training[keys].to_dict("records")] if keys else ""
    )
    last = frame.groupby(["point", "generation"])["step"].transform("max").clip(lower=1)
    frame = frame.assign(x=frame["generation"] - 1 + frame["step"] / last)
    with plain_text():  # labels are drawn as typed
        return _draw_training(frame, title)


def _draw_training(frame: pd.DataFrame, title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4))
    colours = itertools.cycle(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for point, group in frame.groupby("point", sort=False):
        mean = group.groupby(["generation", "step"], sort=True).agg(x=("x", "mean"), loss=("loss", "mean"))
        colour = next(colours)
        for _, curve in mean.groupby(level="generation"):  # one segment per generation's fit
            ax.plot(curve["x"], curve["loss"], color=colour, lw=1.2, label=point or None)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if len(unique) > 1 or (unique and next(iter(unique))):
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xlabel("generation (each fit from its first to its last optimiser step)")
    ax.set_ylabel("training loss (mean over replicates)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title or "training loss")
    fig.tight_layout()
    return fig
