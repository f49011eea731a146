"""Folders of the admissible map and the phase maps: the manifest that guards a resumed folder,
tables and figures written atomically, and the admissible folder's offline HTML page.

A map folder holds its run folders (one per cell and stage, one sweep for the real-only
curve: :mod:`autophagy.admissible.effective`), each a normal run folder (``autophagy
report``, ``export`` and :func:`autophagy.open_run` work on it), beside the map's own files.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from autophagy.core.errors import ConfigError
from autophagy.storage.safety import atomic_path, atomic_write_text, refuse_own_file

MANIFEST = "admissible.json"


def claim(out: Path, manifest: dict[str, Any], name: str = MANIFEST, runs: str = "cells") -> None:
    """Refuse (exit 2, before any work) a folder holding a map of another config or options,
    naming the first differing key; a folder with ``runs`` but no manifest is refused too."""
    path = out / name
    if not path.exists():
        if out.exists() and (out / runs).exists():
            raise ConfigError("out", f"{out} holds {runs} without {name}; choose another --out")
        return
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError("out", f"{path} is unreadable; choose another --out") from None
    here = json.loads(json.dumps(manifest))  # tuples as lists, as read back
    if found != here:
        key = next((k for k in ("kind", "metric", "config", "phase") if found.get(k) != here.get(k)), "kind")
        if key == "phase":  # name the first option that differs (set in either manifest)
            old = found.get("phase") or {}
            changed = [k for k in sorted({*here["phase"], *old}) if old.get(k) != here["phase"].get(k)]
            key = f"phase.{changed[0]}" if changed else key
        raise ConfigError(
            "out",
            f"{out} holds a map with another {key}; resume it with the same settings or choose another --out",
        )


def write_manifest(out: Path, manifest: dict[str, Any], name: str = MANIFEST) -> None:
    atomic_write_text(out / name, json.dumps(manifest, indent=1, sort_keys=True))


def write_csv(path: Path, header: list[str], rows: list) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_text(path, buffer.getvalue())


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Dict rows as CSV (the first row's keys are the header), and as Parquet beside it when
    pyarrow is installed and ``path`` is a ``cells.csv``."""
    write_csv(path, list(rows[0]), [list(r.values()) for r in rows])
    if path.name == "cells.csv":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq

            with atomic_path(path.with_suffix(".parquet")) as tmp:
                pq.write_table(pa.Table.from_pylist(rows), tmp)
        except ImportError:
            pass
    return path


def save(fig: plt.Figure, path: Path) -> Path:
    """Lay out, write atomically as PNG, close."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def _ratio_image(ax: plt.Axes, grid: np.ndarray) -> Any:
    bound = max(1.0, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0)
    return ax.imshow(grid, origin="lower", cmap="RdBu", norm=TwoSlopeNorm(0.0, -bound, bound), aspect="auto")


def _axes(ax: plt.Axes, xs: list, ys: list, x: str, y: str) -> None:
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], rotation=45)
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def heatmap(rows: list[dict], x: str, y: str, path: Path, title: str) -> None:
    """log2(n_e / n_r) over two keys of ``rows``, with the contour n_e = n_r."""
    xs, ys = sorted({r[x] for r in rows}), sorted({r[y] for r in rows})
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        grid[ys.index(r[y]), xs.index(r[x])] = np.log2(r["ne_ratio"])
    fig, ax = plt.subplots(figsize=(6.5, 5), dpi=100)
    image = _ratio_image(ax, grid)
    ax.contour(grid, levels=[0.0], colors="k", linewidths=1.5)
    _axes(ax, xs, ys, x, y)
    ax.set_title(f"{title}\nblue: admissible (n_e >= n_r); black line: n_e = n_r")
    fig.colorbar(image, label="log2(n_e / n_r)")
    save(fig, path)


def ratio_by_k(rows: list[dict], path: Path, title: str) -> None:
    """n_e / n_r with its interval versus K (fig30)."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    value = np.array([r["ne_ratio"] for r in rows])
    low, high = np.array([r["ne_ratio_low"] for r in rows]), np.array([r["ne_ratio_high"] for r in rows])
    ax.errorbar(
        [r["from_latest"] for r in rows], value, yerr=[value - low, high - value], marker="o", capsize=3
    )
    ax.set_xlabel("K (models sampled from)")
    ax.set_ylabel("n_e / n_r")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    save(fig, path)


def curves(
    panels: list[list[tuple[str, list, list]]], path: Path, x: str, y: str, title: str, log: bool
) -> None:
    """Side-by-side panels of (label, xs, ys) lines (fig10, fig31)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 4), dpi=100, sharey=True)
    for ax, lines in zip(axes, panels, strict=True):
        for label, xs, ys in lines:
            (ax.loglog if log else ax.plot)(xs, ys, marker="o" if log else None, label=label)
        ax.set_xlabel(x)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both" if log else "major")
    axes[0].set_ylabel(y)
    fig.suptitle(title)
    save(fig, path)


def draw_admissible(path: Path, metric: str, o: Any, cells: list, bounds: dict) -> None:
    """log2(n_e / n_r) per cell (grey: not evaluated; dots: undecided), the boundary between the
    last admissible and first inadmissible x of each row, and the band between them."""
    xs, ys = list(o.x_values), list(o.y_values)
    grid = np.full((len(ys), len(xs)), np.nan)
    for c in cells:
        grid[ys.index(c.y), xs.index(c.x)] = math.log2(max(c.ratio, 1e-9))
    fig, ax = plt.subplots(figsize=(6.5, 5), dpi=90)
    ax.set_facecolor("0.85")
    image = _ratio_image(ax, grid)
    undecided = [(xs.index(c.x), ys.index(c.y)) for c in cells if c.decided == "undecided"]
    if undecided:
        ax.scatter(*zip(*undecided, strict=True), marker="o", s=18, c="k", label="undecided")
    safe = np.array([xs.index(b[0]) + 0.5 if b[0] is not None else -0.5 for b in bounds.values()])
    unsafe = np.array([xs.index(b[1]) - 0.5 if b[1] is not None else len(xs) - 0.5 for b in bounds.values()])
    for row, (a, b) in enumerate(zip(safe, unsafe, strict=True)):
        ax.fill_betweenx([row - 0.5, row + 0.5], a, b, color="k", alpha=0.15, linewidth=0)
    edges = np.arange(len(ys) + 1) - 0.5
    ax.stairs(safe, edges, orientation="horizontal", baseline=None, color="k", linewidth=1.5)
    ax.plot([], [], color="k", label="boundary (last admissible)")
    ax.fill_between([], [], color="k", alpha=0.15, label="uncertainty band")
    _axes(ax, xs, ys, o.x, o.y)
    ax.set_title(f"effective sample size from {metric}\nblue: admissible (n_e >= n_r)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(image, label="log2(n_e / n_r)")
    save(fig, path)


def render_report(folder: Path) -> str:
    """The static offline HTML page of an admissible folder: the map (embedded PNG), the
    boundary per row with its band, and every cell."""
    from autophagy.results.report import STYLE

    def table(path: Path) -> str:
        rows = list(csv.reader(path.open()))
        head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td class='num'>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows[1:]
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    image = base64.b64encode((folder / "admissible.png").read_bytes()).decode("ascii")
    title = html.escape(f"{folder.name}: admissible map")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>"
        "<h2>Effective sample size</h2><p>n_e: the real-only training size whose expected metric equals "
        "the loop's stationary limit; admissible where n_e / n_r >= 1 (whole 95 % interval above 1), "
        "undecided where the interval straddles 1.</p>"
        f'<img src="data:image/png;base64,{image}" alt="admissible map">'
        f"<h2>Boundary</h2>{table(folder / 'boundary.csv')}"
        f"<h2>Cells</h2>{table(folder / 'cells.csv')}"
        f"<h2>Real-only baseline</h2>{table(folder / 'baseline.csv')}\n</body></html>\n"
    )


def is_admissible_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by ``autophagy admissible`` (its map and boundary table)."""
    return (Path(folder) / "boundary.csv").is_file() and (Path(folder) / "admissible.png").is_file()


def write_admissible_report(folder: Path, output: Path | None = None) -> Path:
    """Write the admissible folder's HTML page to ``output`` (default ``<folder>/report.html``)."""
    output = refuse_own_file("--output", Path(output)) if output is not None else Path(folder) / "report.html"
    atomic_write_text(output, render_report(Path(folder)))
    return output
