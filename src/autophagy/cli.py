"""Command line: ``autophagy run | demo | plot | export | list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from autophagy.config import load_config
from autophagy.schedule import ConfigError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console()
errors = Console(stderr=True)


def _fail(exc: ConfigError | ValueError) -> None:
    errors.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="TOML config file")],
    out: Annotated[Path | None, typer.Option(help="run folder (default runs/NAME)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run a config (or resume it in the same folder)."""
    from autophagy.runner import execute, plan_run

    try:
        plan = plan_run(load_config(config, set_ or []), out)
    except ConfigError as exc:
        _fail(exc)
    folder = execute(plan, progress=not quiet)
    console.print(f"run written to [bold]{folder}[/]")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="demo folder")] = Path("runs/demo"),
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Four loop families on a 10-d Gaussian at lambda 1 and 0.8; prints a summary."""
    from autophagy.demo import SUMMARY_METRICS, run_demo

    summary = run_demo(out, progress=not quiet)
    table = Table(title=f"final generation, mean over replicates ({out})")
    for column in ("family", "lambda", *SUMMARY_METRICS):
        table.add_column(column, justify="left" if column == "family" else "right")
    for row in summary:
        table.add_row(row["family"], f"{row['sampling_bias']:g}", *(f"{row[m]:.3f}" for m in SUMMARY_METRICS))
    console.print(table)
    console.print(f"plots in [bold]{out / 'plots'}[/], one run folder per row in [bold]{out}[/]")


@app.command()
def plot(run: Annotated[Path, typer.Argument(help="run folder")]) -> None:
    """(Re)draw a run's metric-versus-generation plots (and its sample panels, if it kept any)."""
    from autophagy.runner import replot

    try:
        paths = replot(run)
    except ConfigError as exc:
        _fail(exc)
    for path in paths:
        console.print(str(path))


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="run folder")],
    output: Annotated[Path, typer.Option(help="file to write")],
    format: Annotated[str, typer.Option(help="csv or parquet")] = "csv",
) -> None:
    """Write a run's tidy table (replicate, generation, metric, value)."""
    from autophagy.export import FORMATS, export_rows
    from autophagy.runner import read_rows

    if format not in FORMATS:
        _fail(ConfigError("--format", f"must be one of {', '.join(FORMATS)}, got {format!r}"))
    try:
        rows = read_rows(run)
    except ConfigError as exc:
        _fail(exc)
    console.print(f"{len(rows)} rows written to {export_rows(rows, output, format)}")


@app.command("phase-map")
def phase_map(
    kind: Annotated[str, typer.Argument(help="fig10, fig11, fig12, fig30 or fig31")],
    out: Annotated[Path | None, typer.Option(help="folder (default runs/phase/KIND)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override: key=value (see phase_maps.py)")
    ] = None,
) -> None:
    """Fresh-data phase maps with the exact Gaussian simulator: a PNG and a CSV each."""
    from pydantic import ValidationError

    from autophagy.config import pydantic_error
    from autophagy.phase_maps import MAPS, PhaseMapOptions
    from autophagy.phase_maps import phase_map as compute

    if kind not in MAPS:
        _fail(ConfigError("KIND", f"unknown map {kind!r}; choose from {', '.join(MAPS)}"))
    try:
        options = PhaseMapOptions.model_validate(load_config(None, set_ or []))
    except ValidationError as exc:
        _fail(pydantic_error(exc))
    except ConfigError as exc:
        _fail(exc)
    with console.status(f"computing {kind}"):
        path = compute(kind, options, out or Path("runs") / "phase" / kind)
    console.print(f"numbers in [bold]{path}[/], figure in [bold]{path.with_suffix('.png')}[/]")


@app.command("list")
def list_plugins() -> None:
    """The registered loop families, models, data sources and metrics."""
    from autophagy.data import DATA
    from autophagy.metrics import METRICS
    from autophagy.models import MODELS
    from autophagy.schedule import LOOPS

    sections = {
        "loops (loop.family)": {k: v.summary for k, v in LOOPS.items()},
        "models (model.kind)": {k: v.summary for k, v in MODELS.items()},
        "data (data.kind)": {k: v.summary for k, v in DATA.items()},
        "metrics (metrics.names)": {
            k: f"{'higher' if v.higher_is_better else 'lower'} is better; {v.summary}"
            for k, v in METRICS.items()
        },
    }
    for title, entries in sections.items():
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for name, summary in entries.items():
            table.add_row(name, summary)
        console.print(table)
