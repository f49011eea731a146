"""``autophagy report RUN_OR_SWEEP``: one self-contained static HTML page.

The page holds the resolved config (and the sweep table), one metric-versus-generation
figure per metric faceted by the swept keys (columns: the first swept axis, rows: the
second, lines: the rest; seeds pooled as replicates), any sample pictures in the folder
(every picture under ``plots/`` that is not a metric plot, e.g. sample panels), and a table of
final-generation means with 95 % intervals. Images are embedded as base64 PNG; there are
no scripts and no links, so it opens anywhere offline. Every user-provided string is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.plots import curves
from autophagy.run import Run, open_run
from autophagy.sweep import axes as sweep_axes

MAX_PICTURES = 60
MAX_PICTURE_BYTES = 2_000_000

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: .85em; }
table { border-collapse: collapse; font-size: .9em; } td, th { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: .5em; } figcaption { font-size: .85em; color: #555; }
img { max-width: 100%; }
"""


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _dims(folder: Run) -> list[list[str]]:
    """Facet axes: each grid key alone, the zipped keys together; seeds are pooled."""
    zipped = (
        list(sweep_axes(folder.manifest.get("sweep", {}).get("zip", {}), "sweep.zip"))
        if folder.is_sweep
        else []
    )
    dims = [[key] for key in folder.swept if key != "seed" and key not in zipped]
    return dims + ([zipped] if zipped else [])


def _label(values: dict[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{k}={values[k]}" for k in keys)


def _groups(folder: Run) -> dict[tuple[str, str, str], list[tuple[int, int, str, float]]]:
    """Rows per (facet row, facet column, line), replicate ids made unique across cells."""
    dims = _dims(folder)
    cols, rows, lines = (dims[:1], dims[1:2], dims[2:]) if len(dims) >= 2 else ([], [], dims)
    keys = [k for dim in lines for k in dim]
    groups: dict[tuple[str, str, str], list] = defaultdict(list)
    for run, replicate, generation, metric, value in folder.rows():
        values = folder.cells[run]["values"]
        key = (
            _label(values, rows[0]) if rows else "",
            _label(values, cols[0]) if cols else "",
            _label(values, keys),
        )
        groups[key].append((run * 1_000_000 + replicate, generation, metric, value))
    return groups


def _figures(folder: Run, groups: dict[tuple[str, str, str], list]) -> list[str]:
    per_group = {key: curves(rows) for key, rows in groups.items()}
    metrics = sorted({m for c in per_group.values() for m in c})
    row_labels = sorted({k[0] for k in groups}, key=str)
    col_labels = sorted({k[1] for k in groups}, key=str)
    parts = []
    for metric in metrics:
        fig, axes = plt.subplots(
            len(row_labels),
            len(col_labels),
            figsize=(3.6 * len(col_labels) + 1.5, 2.8 * len(row_labels) + 0.6),
            sharey=True,
            squeeze=False,
        )
        for (row, col, line), c in sorted(per_group.items()):
            if metric not in c:
                continue
            ax = axes[row_labels.index(row)][col_labels.index(col)]
            gens, values = c[metric]
            mean = np.nanmean(values, axis=0)
            low, high = np.nanquantile(values, [0.1, 0.9], axis=0)
            (drawn,) = ax.plot(gens, mean, label=line or None)
            ax.fill_between(gens, low, high, color=drawn.get_color(), alpha=0.2, linewidth=0)
        for i, row in enumerate(row_labels):
            for j, col in enumerate(col_labels):
                ax = axes[i][j]
                ax.set_title("\n".join(x for x in (col, row) if x), fontsize=8)
                ax.grid(alpha=0.3)
                ax.set_xlabel("generation", fontsize=8)
                if ax.get_legend_handles_labels()[1]:
                    ax.legend(fontsize=7)
            axes[i][0].set_ylabel(metric)
        fig.suptitle(f"{metric} (mean, 10-90 % band over replicates)", fontsize=10)
        fig.tight_layout()
        parts.append(
            f"<figure>{_img(_png(fig), metric)}<figcaption>{html.escape(metric)}</figcaption></figure>"
        )
    return parts


def _final_table(groups: dict[tuple[str, str, str], list]) -> str:
    per_group = {key: curves(rows) for key, rows in sorted(groups.items())}
    metrics = sorted({m for c in per_group.values() for m in c})
    head = "".join(f"<th>{html.escape(m)}</th>" for m in ["run", "replicates", *metrics])
    body = []
    for key, c in per_group.items():
        label = "; ".join(x for x in key if x) or "all"
        cells = [f"<td>{html.escape(label)}</td>"]
        n = max(v.shape[0] for _, v in c.values())
        cells.append(f'<td class="num">{n}</td>')
        for metric in metrics:
            if metric not in c:
                cells.append("<td></td>")
                continue
            final = c[metric][1][:, -1]
            final = final[np.isfinite(final)]
            half = 1.96 * final.std(ddof=1) / math.sqrt(final.size) if final.size > 1 else float("nan")
            cells.append(f'<td class="num">{final.mean():.4g} &plusmn; {half:.2g}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _pictures(folder: Run, metrics: set[str]) -> list[str]:
    plots = folder.path / "plots"
    paths = [p for p in sorted(plots.glob("**/*.png")) if p.parent != plots or p.stem not in metrics]
    parts = []
    for path in paths[:MAX_PICTURES]:
        data = path.read_bytes()
        if len(data) > MAX_PICTURE_BYTES or not data.startswith(b"\x89PNG"):
            continue
        name = str(path.relative_to(folder.path))
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f"<figure>{_img(encoded, name)}<figcaption>{html.escape(name)}</figcaption></figure>")
    return parts


def _config_section(folder: Run) -> str:
    if not folder.is_sweep:
        return f"<pre>{html.escape(json.dumps(folder.manifest, indent=2))}</pre>"
    sweep = html.escape(json.dumps(folder.manifest.get("sweep"), indent=2))
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["cell", *folder.swept, "ignored"])
    rows = "".join(
        "<tr>"
        + f'<td class="num">{i}</td>'
        + "".join(f"<td>{html.escape(json.dumps(c['values'][k]))}</td>" for k in folder.swept)
        + f"<td>{html.escape(', '.join(c.get('ignored', [])))}</td></tr>"
        for i, c in enumerate(folder.cells)
    )
    first = html.escape(json.dumps(folder.cells[0]["config"], indent=2))
    return (
        f"<h3>Sweep</h3><pre>{sweep}</pre><h3>Cells</h3><table><tr>{head}</tr>{rows}</table>"
        f"<h3>Resolved config of cell 0</h3><pre>{first}</pre>"
        "<p>Every cell's resolved config is in <code>sweep.json</code>.</p>"
    )


def render(folder: Run | Path) -> str:
    """The report page of a run or sweep folder, as HTML text."""
    folder = folder if isinstance(folder, Run) else open_run(folder)
    groups = _groups(folder)
    figures = _figures(folder, groups)
    metrics = {m for rows in groups.values() for _, _, m, _ in rows}
    pictures = _pictures(folder, metrics)
    kind = f"sweep of {len(folder.cells)} runs" if folder.is_sweep else "run"
    title = html.escape(f"{folder.name}: autophagy report")
    sections = [
        f"<h1>{title}</h1><p>{html.escape(kind)} in <code>{html.escape(str(folder.path))}</code></p>",
        f"<h2>Configuration</h2>{_config_section(folder)}",
        f"<h2>Metrics by generation</h2>{''.join(figures) or '<p>No rows stored yet.</p>'}",
        f"<h2>Final generation (mean &plusmn; 95 % interval)</h2>{_final_table(groups)}",
    ]
    if pictures:
        sections.append(f"<h2>Pictures</h2>{''.join(pictures)}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def write_report(run: Run | Path, output: Path | None = None) -> Path:
    """Write the report of a run (or folder) to ``output`` (default ``report.html`` in the
    folder); returns it."""
    run = run if isinstance(run, Run) else open_run(run)
    output = Path(output) if output is not None else run.path / "report.html"
    text = render(run)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return output
