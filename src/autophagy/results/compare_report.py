"""The HTML page of a comparison (:mod:`autophagy.results.compare`): folders, final values,
paired differences, curves per metric, each folder's config.

Built from the same pieces as a run's report (:mod:`autophagy.results.report`): the same
final-value table (one column per metric, mean [t-interval]), the same figures (one colour per
folder unless ``hue`` names a swept key), no scripts, every user string escaped.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from autophagy.core.errors import ConfigError
from autophagy.results.plots import band_label, distinct_values, facets, plot_metric, summary_keys
from autophagy.results.report import STYLE, final_table, img, png

if TYPE_CHECKING:
    import pandas as pd

Comparison = Any  # an autophagy.results.compare.Comparison (not imported: compare imports this module)


def _folders(comparison: Comparison) -> str:
    names = ("folder", "path", "what", "model.kind", "loop.family", "state")
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    rows = []
    for run, label in zip(comparison.runs, comparison.labels, strict=True):
        config = run.cells[0]["config"]
        what = f"sweep of {len(run.cells)} runs over {', '.join(run.swept)}" if run.is_sweep else "run"
        done, planned = run.replicates_done()
        state = "complete" if done == planned else f"incomplete: {done} of {planned} replicates"
        cells = [
            label,
            str(run.path),
            what,
            str((config.get("model") or {}).get("kind", "")),
            str((config.get("loop") or {}).get("family", "")),
            state,
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _figures(summary: pd.DataFrame, metrics: list[str], hue: str, ci: float) -> list[str]:
    parts = []
    for metric in metrics:
        fig = plot_metric(summary, metric, hue=hue, title="comparison", ci=ci)
        caption = f"{metric}: mean line, {band_label(summary[summary['metric'] == metric], ci)}"
        parts.append(
            f"<figure>{img(png(fig), metric)}<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return parts


def _configs(comparison: Comparison) -> str:
    parts = []
    for run, label in zip(comparison.runs, comparison.labels, strict=True):
        text = html.escape(json.dumps(run.config, indent=2))
        parts.append(f"<details><summary>{html.escape(label)}</summary><pre>{text}</pre></details>")
    return "".join(parts)


def render_comparison(
    comparison: Comparison, summary: pd.DataFrame, paired: pd.DataFrame, *, hue: str | None, ci: float
) -> str:
    """The page as HTML text. ``hue`` (default ``folder``) must be a key of ``summary``
    (raises :class:`ConfigError` naming ``hue`` before anything is drawn)."""
    hue = hue or "folder"
    if hue not in summary_keys(summary):
        known = ", ".join(summary_keys(summary))
        raise ConfigError("hue", f"{hue!r} is not a key of this comparison (keys: {known})")
    metrics = comparison.metrics or tuple(_ordered_metrics(comparison, summary))
    if not summary.empty:
        facets(summary, hue=hue)
    figures = _figures(summary, list(metrics), hue, ci) if not summary.empty else []
    title = html.escape(f"comparison: {', '.join(comparison.labels)}")
    sections = [
        f"<h1>{title}</h1>",
        f"<h2>Folders</h2>{_folders(comparison)}",
        f"<h2>Final generation</h2>{final_table(summary, ci, order=list(metrics))}",
    ]
    if len(paired):
        what = (
            f"paired replicates (same seed and replicate): the difference folder minus baseline "
            f"({html.escape(comparison.labels[0])})"
        )
        table = final_table(paired, ci, order=list(metrics), what=what, directions=False)
        sections.append(f"<h2>Paired differences</h2>{table}")
    elif len(comparison.runs) > 1:
        sections.append(
            "<h2>Paired differences</h2><p>No folder shares a seed and replicate with the baseline "
            f"({html.escape(comparison.labels[0])}), so no paired differences.</p>"
        )
    sections.append(f"<h2>Metrics by generation</h2>{''.join(figures) or '<p>No rows stored yet.</p>'}")
    sections.append(f"<h2>Configurations</h2>{_configs(comparison)}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def _ordered_metrics(comparison: Comparison, summary: pd.DataFrame) -> list[str]:
    """The metrics of ``summary`` in the folders' config order (then any others)."""
    stored = distinct_values(summary["metric"]) if len(summary) else []
    order: dict[str, None] = {}
    for run in comparison.runs:
        names = (run.cells[0]["config"].get("metrics") or {}).get("names") or []
        order.update((m, None) for m in names if m in stored)
    order.update((m, None) for m in stored)
    return list(order)


__all__ = ["render_comparison"]
