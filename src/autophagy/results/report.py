"""``autophagy report RUN_OR_SWEEP``: one self-contained static HTML page that leads with the answer.

The page opens with a table of final-generation values per swept point and metric (mean
and Student-t interval over replicates, seeds pooled, each metric marked with its
direction), then one figure per metric of overlaid curves (:func:`autophagy.results.plots.plot_metric`:
one colour per value of ``hue``, panels by ``rows`` and ``cols``, bands the same interval),
then any pictures in the folder (every PNG under ``plots/`` that is not a metric plot, e.g.
sample panels), and the configuration last. The layout is chosen here, at report time, from
the stored rows: nothing is rerun. Images are embedded as base64 PNG; there are no scripts
and no links, so it opens anywhere offline. Every user-provided string is HTML-escaped, and
drawn as plain text in the figures.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from autophagy.results.marks import schedule_marks
from autophagy.results.plots import (
    band_label,
    distinct_values,
    facets,
    metric_direction,
    plot_metric,
    summary_keys,
    summary_points,
    value_text,
)
from autophagy.storage.safety import atomic_write_text, inside, refuse_own_file, safe_name
from autophagy.storage.store import refuse_read_only

MAX_PICTURES = 60
MAX_PICTURE_BYTES = 2_000_000

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: .85em; }
table { border-collapse: collapse; font-size: .9em; } td, th { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
th small, td small { color: #666; font-weight: normal; }
figure { display: inline-block; margin: .5em; } figcaption { font-size: .85em; color: #555; }
img { max-width: 100%; } p.warn { background: #fff3cd; padding: .5em 1em; border: 1px solid #e0c36a; }
"""


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _is_sweep(run: Any) -> bool:
    return bool(getattr(run, "is_sweep", None) or ("sweep" in run.manifest and "cells" in run.manifest))


def _number(value: float, decimals: int | None) -> str:
    if value is None or not math.isfinite(value):
        return "&ndash;"
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:.4g}"


def interval_text(mean: float, low: float, high: float) -> str:
    """``mean [low, high]`` with two significant digits of the half-width (4 when there is none)."""
    half = (high - low) / 2 if math.isfinite(low) and math.isfinite(high) else math.nan
    decimals = None
    if math.isfinite(half) and half > 0 and abs(mean) < 1e6:
        decimals = min(max(0, 1 - math.floor(math.log10(half))), 10)
    return f"{_number(mean, decimals)} [{_number(low, decimals)}, {_number(high, decimals)}]"


def final_values(summary: pd.DataFrame) -> pd.DataFrame:
    """Each (swept point, metric)'s row at its last stored generation."""
    keys = summary_keys(summary)
    if summary.empty:
        return summary
    order = summary.sort_values("generation", kind="stable")
    text = order[keys].map(value_text) if keys else pd.DataFrame(index=order.index)
    groups = [text[k] for k in keys] + [order["metric"]]
    return order.groupby(groups, sort=False, dropna=False).tail(1)


def _final_table(summary: pd.DataFrame, ci: float) -> str:
    """Rows: swept points; columns: the keys, then per metric ``mean [low, high]`` at the last
    generation, with the generation and replicate count when they are not the same everywhere."""
    if summary.empty:
        return "<p>No rows stored yet.</p>"
    keys = summary_keys(summary)
    final = final_values(summary)
    metrics = distinct_values(final["metric"])
    points = summary_points(final)
    generations = set(final["generation"])
    counts = set(final["n"])
    by_point: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
    for record in final.to_dict("records"):
        by_point.setdefault(tuple(value_text(record[k]) for k in keys), {})[record["metric"]] = record
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    for metric in metrics:
        direction = metric_direction(metric)
        arrow = {"higher is better": " &uarr;", "lower is better": " &darr;"}.get(direction, "")
        note = f"<br><small>{html.escape(direction)}</small>" if direction else ""
        head += f"<th>{html.escape(metric)}{arrow}{note}</th>"
    body = []
    for point in points:
        cells = "".join(f"<td>{html.escape(value_text(point[k]))}</td>" for k in keys)
        found = by_point.get(tuple(value_text(point[k]) for k in keys), {})
        for metric in metrics:
            row = found.get(metric)
            if row is None:
                cells += "<td></td>"
                continue
            extra = []
            if len(generations) > 1:
                extra.append(f"generation {int(row['generation'])}")
            if len(counts) > 1:
                extra.append(f"n = {int(row['n'])}")
            small = f" <small>({', '.join(extra)})</small>" if extra else ""
            text = interval_text(row["mean"], row["low"], row["high"])
            cells += f'<td class="num">{text}{small}</td>'
        body.append(f"<tr>{cells}</tr>")
    what = f"generation {next(iter(generations))}" if len(generations) == 1 else "the last stored generation"
    caption = (
        f"Mean [{100 * ci:g} % Student-t interval] over "
        + (f"n = {next(iter(counts))}" if len(counts) == 1 else "n")
        + f" replicates (seeds pooled) at {what}."
    )
    return f"<p>{html.escape(caption)}</p><table><tr>{head}</tr>{''.join(body)}</table>"


def _figures(run: Any, summary: pd.DataFrame, ci: float, layout: dict[str, str | None]) -> list[str]:
    parts, marks = [], schedule_marks(run.cells)  # where a scheduled value changes
    for metric in distinct_values(summary["metric"]):
        fig = plot_metric(summary, metric, title=run.name, ci=ci, marks=marks, **layout)
        caption = f"{metric}: mean line, {band_label(summary[summary['metric'] == metric], ci)}"
        if marks:
            caption += "; dotted lines and shading: where a scheduled value changes or ramps"
        parts.append(
            f"<figure>{_img(_png(fig), metric)}<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return parts


def _pictures(path: Path, metrics: set[str]) -> list[str]:
    plots = path / "plots"
    stems = {safe_name(m) for m in metrics}
    paths = [p for p in sorted(plots.glob("**/*.png")) if p.parent != plots or p.stem not in stems]
    paths = [p for p in paths if inside(p, path)]  # regular files inside the folder: no symlinks out
    parts = []
    for picture in paths[:MAX_PICTURES]:
        data = picture.read_bytes()
        if len(data) > MAX_PICTURE_BYTES or not data.startswith(b"\x89PNG"):
            continue
        name = str(picture.relative_to(path))
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f"<figure>{_img(encoded, name)}<figcaption>{html.escape(name)}</figcaption></figure>")
    return parts


def _value(cell: dict[str, Any], key: str) -> str:
    tag = cell.get("tags", {}).get(key)
    return json.dumps(cell["values"][key]) + (f" #{tag}" if tag else "")


def _config_section(run: Any) -> str:
    if not _is_sweep(run):
        return f"<pre>{html.escape(json.dumps(run.manifest, indent=2))}</pre>"
    sweep = html.escape(json.dumps(run.manifest.get("sweep"), indent=2))
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["cell", *run.swept, "ignored"])
    rows = "".join(
        "<tr>"
        + f'<td class="num">{i}</td>'
        + "".join(f"<td>{html.escape(_value(c, k))}</td>" for k in run.swept)
        + f"<td>{html.escape(', '.join(c.get('ignored', [])))}</td></tr>"
        for i, c in enumerate(run.cells)
    )
    first = html.escape(json.dumps(run.cells[0]["config"], indent=2))
    return (
        f"<h3>Sweep</h3><pre>{sweep}</pre><h3>Cells</h3><table><tr>{head}</tr>{rows}</table>"
        f"<h3>Resolved config of cell 0</h3><pre>{first}</pre>"
        "<p>Every cell's resolved config is in <code>sweep.json</code>.</p>"
    )


def render(
    run: Any,
    *,
    hue: str | None = None,
    rows: str | None = None,
    cols: str | None = None,
    ci: float = 0.95,
) -> str:
    """The report page of a :class:`~autophagy.results.run.Run`, as HTML text.

    ``hue``, ``rows`` and ``cols`` choose the figures' layout (see
    :func:`autophagy.results.plots.facets`); a key that is not swept raises
    :class:`~autophagy.core.errors.ConfigError` naming the option, before anything is drawn.
    """
    summary = run.summary(ci=ci)
    layout = {"hue": hue, "rows": rows, "cols": cols}
    if not summary.empty:
        facets(summary, **layout)  # option errors first
    figures = _figures(run, summary, ci, layout) if not summary.empty else []
    pictures = _pictures(Path(run.path), set(summary["metric"]))
    kind = f"sweep of {len(run.cells)} runs" if _is_sweep(run) else "run"
    title = html.escape(f"{run.name}: autophagy report")
    sections = [f"<h1>{title}</h1><p>{html.escape(kind)} in <code>{html.escape(str(run.path))}</code></p>"]
    if not run.complete:
        counts = getattr(run, "replicates_done", None)
        done, planned = counts() if counts is not None else ("?", "?")
        sections.append(
            f'<p class="warn"><strong>incomplete: {done} of {planned} replicates</strong> ran every '
            "generation; the values below are those stored so far. Run the same command again to "
            "finish.</p>"
        )
    sections += [
        f"<h2>Final generation</h2>{_final_table(summary, ci)}",
        f"<h2>Metrics by generation</h2>{''.join(figures) or '<p>No rows stored yet.</p>'}",
    ]
    if pictures:
        sections.append(f"<h2>Pictures</h2>{''.join(pictures)}")
    sections.append(f"<h2>Configuration</h2>{_config_section(run)}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def write_report(
    run: Any,
    output: Path | None = None,
    *,
    hue: str | None = None,
    rows: str | None = None,
    cols: str | None = None,
    ci: float = 0.95,
) -> Path:
    """Write the report of ``run`` (a :class:`~autophagy.results.run.Run`) to ``output``
    (default ``<folder>/report.html``); returns the path. Option errors are raised before writing."""
    if output is None:
        refuse_read_only(Path(run.path), "--output", "FILE to write the report elsewhere")
    text = render(run, hue=hue, rows=rows, cols=cols, ci=ci)
    if output is None:
        return atomic_write_text(Path(run.path) / "report.html", text)
    output = refuse_own_file("--output", Path(output))
    output.parent.mkdir(parents=True, exist_ok=True)  # the user's own place, outside the folder
    atomic_write_text(output, text)
    return output
