"""Command line: ``autophagy run | demo | plot | export | report | reproduce | phase-map | admissible |
list``."""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autophagy import __version__
from autophagy.core.errors import ConfigError, Interrupted, did_you_mean
from autophagy.running.config import load_config
from autophagy.running.failures import GuardedGroup
from autophagy.storage.safety import refuse_own_file

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=__doc__,
    cls=GuardedGroup,  # every failure ends as one plain `error: ...` line with a documented status
    rich_markup_mode=None,  # help texts are plain: "[sweep]" is not a markup tag
    pretty_exceptions_show_locals=False,
)
console = Console()


def _fail(exc: ConfigError) -> None:
    raise exc  # GuardedGroup prints it as one plain line, exit status 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"autophagy {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Simulate and measure self-consuming generative-model loops. Exit status: 0 done, 1 a
    reproduced result FAILed, 2 bad input, 3 environment (disk, permissions, locked or damaged
    folder, interrupt; the same command resumes), 4 a reproduced result INCONCLUSIVE, 5 a
    reproduced result INVALID (a negative control came out supported), 70 internal error (a bug)."""


PLUGIN_HELP = (
    "module to import before validating (repeatable); importing RUNS its code, so name only "
    "modules you trust. Same as the config's top-level plugins = [...]"
)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="TOML config file (a [sweep] table makes it a sweep)")],
    out: Annotated[Path | None, typer.Option(help="run or sweep folder (default runs/NAME)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
    plugin: Annotated[list[str] | None, typer.Option("--plugin", help=PLUGIN_HELP)] = None,
    executor: Annotated[str, typer.Option(help="local (all cores), inline or ray")] = "local",
    workers: Annotated[int | None, typer.Option(help="worker processes (default: every core)")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to join (with --executor ray)")] = None,
    task_seconds: Annotated[
        float, typer.Option(help="a task commits and hands its block on after this long")
    ] = 2.0,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    force_data: Annotated[
        bool, typer.Option(help="resume although an input file changed (recorded in the manifest)")
    ] = False,
) -> None:
    """Run a config or sweep (or resume it in the same folder).

    Plug-in modules named by --plugin or the config's plugins list are imported, which
    executes their code.
    """
    from autophagy.api import run as run_loops

    try:
        raw = load_config(config, set_ or [], plugin or [])
        done = run_loops(
            raw,
            out,
            executor=executor,
            workers=workers,
            address=address,
            progress=not quiet,
            task_seconds=task_seconds,
            note=lambda line: console.print(f"note: {line}", highlight=False, markup=False),
            force_data=force_data,
        )
    except ConfigError as exc:
        _fail(exc)
    except Interrupted as exc:
        resume = shlex.join(["autophagy", "run", str(config), "--out", exc.where])
        resume += "".join(f" --set {shlex.quote(s)}" for s in set_ or [])
        resume += "".join(f" --plugin {shlex.quote(p)}" for p in plugin or [])
        raise Interrupted(exc.where, f"{exc.message}; resume with: {resume}") from None
    folder = done.path
    what = f"sweep of {len(done.cells)} runs" if done.is_sweep else "run"
    console.print(f"{what} written to [bold]{escape(str(folder))}[/]", soft_wrap=True)


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
    console.print(f"plots in {out / 'plots'}, one run folder per row in {out}", markup=False)


HUE_HELP = "swept key drawn as one colour per value (default: the first swept key)"
ROWS_HELP = "swept key drawn as one row of panels per value (default: the third)"
COLS_HELP = "swept key drawn as one column of panels per value (default: the second)"


def _layout_error(exc: ConfigError) -> ConfigError:
    """Name the CLI option (``--hue``) rather than the Python argument (``hue``)."""
    if exc.field in ("hue", "rows", "cols", "metric"):
        return ConfigError(f"--{exc.field}", exc.message)
    return exc


@app.command()
def plot(
    run: Annotated[Path, typer.Argument(help="run or sweep folder")],
    metric: Annotated[
        list[str] | None, typer.Option(help="metric to draw (repeatable; default: every metric)")
    ] = None,
    hue: Annotated[str | None, typer.Option(help=HUE_HELP)] = None,
    rows: Annotated[str | None, typer.Option(help=ROWS_HELP)] = None,
    cols: Annotated[str | None, typer.Option(help=COLS_HELP)] = None,
    output: Annotated[
        Path | None, typer.Option(help="folder for the PNGs (default RUN/plots; needed on a read-only RUN)")
    ] = None,
) -> None:
    """(Re)draw plots/METRIC.png from the stored rows: mean curves with 95 % t-interval bands,
    one colour per value of --hue, panels by --rows and --cols. Nothing is rerun."""
    from autophagy.results.run import open_run

    try:
        paths = open_run(run).write_plots(metrics=metric, output=output, hue=hue, rows=rows, cols=cols)
    except ConfigError as exc:
        _fail(_layout_error(exc))
    for path in paths:
        console.print(str(path), markup=False, highlight=False)


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="run or sweep folder")],
    output: Annotated[Path, typer.Option(help="file to write")],
    format: Annotated[str, typer.Option(help="csv or parquet")] = "csv",
    salvage: Annotated[
        bool, typer.Option(help="from a damaged results.sqlite, write the rows that can still be read")
    ] = False,
) -> None:
    """Write the tidy table: one column per swept key, then replicate, generation, metric, value."""
    from autophagy.results.export import FORMATS
    from autophagy.results.run import open_run

    if format not in FORMATS:
        _fail(ConfigError("--format", f"must be one of {', '.join(FORMATS)}, got {format!r}"))
    refuse_own_file("--output", output)  # not a folder, not a run folder's own file (exit 2)
    if salvage:
        from autophagy.results.salvage import salvage_export

        count, lost, path = salvage_export(run, output, format)
        console.print(f"{count} rows saved to {path}; {lost} unreadable rows skipped", markup=False)
        return
    try:
        path, count, done, planned = open_run(run).export_snapshot(output, format)
    except ConfigError as exc:
        _fail(exc)
    console.print(f"{count} rows written to {path}", markup=False, highlight=False)
    if done < planned:
        typer.echo(
            f"warning: incomplete: {done} of {planned} replicates ran every generation "
            "(see the complete column); run the same command again to finish",
            err=True,
        )


@app.command()
def report(
    run: Annotated[Path, typer.Argument(help="run or sweep folder")],
    output: Annotated[Path | None, typer.Option(help="HTML file (default RUN/report.html)")] = None,
    hue: Annotated[str | None, typer.Option(help=HUE_HELP)] = None,
    rows: Annotated[str | None, typer.Option(help=ROWS_HELP)] = None,
    cols: Annotated[str | None, typer.Option(help=COLS_HELP)] = None,
) -> None:
    """One static HTML page: final values with intervals, overlaid curves per metric, pictures, config.

    The layout (--hue, --rows, --cols) is chosen now, from the stored rows; nothing is rerun."""
    from autophagy.admissible.folders import is_admissible_folder, write_admissible_report
    from autophagy.results.report import write_report
    from autophagy.results.run import open_run

    try:
        if is_admissible_folder(run):
            path = write_admissible_report(run, output)
        else:
            path = write_report(open_run(run), output, hue=hue, rows=rows, cols=cols)
    except ConfigError as exc:
        _fail(_layout_error(exc))
    console.print(f"report written to {path}", markup=False)


@app.command()
def reproduce(
    recipe: Annotated[str | None, typer.Argument(help="result id, e.g. G1 (see --list)")] = None,
    profile: Annotated[str, typer.Option(help="quick (2 CPU cores) or full (the paper's sizes)")] = "quick",
    seed: Annotated[int, typer.Option(help="seed of every random stream")] = 0,
    replicates: Annotated[
        int | None, typer.Option(help="independent replicates (default: the profile's)")
    ] = None,
    json_: Annotated[
        Path | None, typer.Option("--json", help="write every check's numbers, settings and versions here")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="run every recipe")] = False,
    out: Annotated[
        Path | None, typer.Option(help="folder for the figures (default runs/reproduce/ID)")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the ids and what each expects")] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="processes for the image recipes' loops (default: every core); same numbers"),
    ] = None,
) -> None:
    """Re-run a published result, write its figure and judge it: exit 0 on PASS, 1 on FAIL, 4 when
    INCONCLUSIVE, 5 when INVALID (with --all: the worst outcome, INVALID > FAIL > INCONCLUSIVE)."""
    from rich.markup import escape

    from autophagy.reproduce import EXIT_STATUS, PROFILES, RECIPES, SEVERITY, run_recipe, write_json

    if list_:
        table = Table(show_header=True)
        for column in ("id", "setting", "expected behaviour"):
            table.add_column(column)
        for rid, entry in RECIPES.items():
            table.add_row(rid, escape(entry.title), escape(entry.expected))
        console.print(table)
        return
    if all_ and recipe is not None:
        _fail(ConfigError("ID", "give a result id or --all, not both"))
    if recipe is None and not all_:
        _fail(ConfigError("ID", f"give a result id ({', '.join(RECIPES)}), --all or --list"))
    if recipe is not None and recipe not in RECIPES:
        hint = did_you_mean(recipe, RECIPES)
        _fail(ConfigError("ID", f"unknown id {recipe!r}{hint}; choose from {', '.join(RECIPES)}"))
    if profile not in PROFILES:
        _fail(ConfigError("--profile", f"must be one of {', '.join(PROFILES)}, got {profile!r}"))
    if replicates is not None and replicates < 2:
        _fail(ConfigError("--replicates", f"must be at least 2 (intervals need a spread), got {replicates}"))
    if seed < 0:
        _fail(ConfigError("--seed", f"must be non-negative, got {seed}"))
    if workers is not None and workers < 1:
        _fail(ConfigError("--workers", f"must be at least 1, got {workers}"))
    outcomes = []
    chosen = list(RECIPES) if all_ else [recipe]
    for rid in chosen:
        entry = RECIPES[rid]
        console.print(
            f"[bold]{rid}[/]: {escape(entry.title)}\nexpected: {escape(entry.expected)}", highlight=False
        )
        folder = (out / rid if all_ else out) if out is not None else Path("runs") / "reproduce" / rid
        bars = entry.measure_fn is None  # its loops show one progress bar each, with an ETA
        with contextlib.nullcontext() if bars else console.status(f"running {rid} ({profile})"):
            outcome = run_recipe(
                rid, profile, folder, seed=seed, replicates=replicates, workers=workers, progress=bars
            )
        marks = {"SUPPORTED": "[green]SUPPORTED[/]   ", "CONTRADICTED": "[red]CONTRADICTED[/]"}
        for check in outcome.checks:
            mark = marks.get(check.outcome, "[yellow]INCONCLUSIVE[/]")
            console.print(f"  {mark} {escape(check.name)}: {escape(check.detail)}", highlight=False)
            if check.control is not None:
                c = check.control
                console.print(f"      {escape(c.name)}: {c.outcome}; {escape(c.detail)}", highlight=False)
        if outcome.facts:
            console.print("  facts (exact, not judged):", highlight=False)
            for f in outcome.facts:
                state = "holds" if f.holds else "[red]DOES NOT HOLD[/]"
                console.print(f"    {escape(f.name)}: {state}; {escape(f.note)}", highlight=False)
        if outcome.notes:
            console.print("  reported, not judged:", highlight=False)
            for note in outcome.notes:
                console.print(f"    {escape(note.name)}: {escape(note.detail)}", highlight=False)
        console.print(f"figure: {outcome.figure}", highlight=False, markup=False)
        print(outcome.verdict)
        outcomes.append(outcome)
        if json_ is not None and all_:  # after every recipe: a long --all run keeps what it judged
            write_json(outcomes, json_, many=True, total=len(chosen))
    if json_ is not None:
        written = write_json(outcomes, json_, many=all_, total=len(chosen))
        console.print(f"verdict written to {written}", highlight=False)
    found = {o.outcome for o in outcomes}
    if all_:
        counts = ", ".join(f"{sum(o.outcome == s for o in outcomes)} {s}" for s in reversed(SEVERITY))
        passed = sum(o.passed for o in outcomes)
        print(f"all: {passed} of {len(outcomes)} recipes pass ({counts})")
    raise typer.Exit(EXIT_STATUS[next(s for s in SEVERITY if s in found | {"PASS"})])


@app.command("phase-map")
def phase_map(
    kind: Annotated[str, typer.Argument(help="fig10, fig11, fig12, fig30 or fig31")],
    out: Annotated[Path | None, typer.Option(help="folder (default runs/phase/KIND)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override: key=value (see admissible/maps.py)")
    ] = None,
) -> None:
    """Fresh-data phase maps with the exact Gaussian simulator: a PNG and a CSV each."""
    from pydantic import ValidationError

    from autophagy.admissible.maps import MAPS, PhaseMapOptions
    from autophagy.admissible.maps import phase_map as compute
    from autophagy.running.config import pydantic_error

    if kind not in MAPS:
        hint = did_you_mean(kind, MAPS)
        _fail(ConfigError("KIND", f"unknown map {kind!r}{hint}; choose from {', '.join(MAPS)}"))
    try:
        options = PhaseMapOptions.model_validate(load_config(None, set_ or []))
    except ValidationError as exc:
        _fail(pydantic_error(exc))
    except ConfigError as exc:
        _fail(exc)
    with console.status(f"computing {kind}"):
        path = compute(kind, options, out or Path("runs") / "phase" / kind)
    console.print(f"numbers in {path}, figure in {path.with_suffix('.png')}", markup=False)


@app.command()
def admissible(
    config: Annotated[
        Path, typer.Argument(help="TOML config of a fresh_data loop (a [phase] table optional)")
    ],
    x: Annotated[
        str | None, typer.Option(help="key=values: loop.n_synthetic=50,200,800 or =log:50:6400:8")
    ] = None,
    y: Annotated[str | None, typer.Option(help="key=values for the rows (e.g. loop.n_real=...)")] = None,
    metric: Annotated[
        str | None, typer.Option(help="a distance or likelihood (default: first in metrics.names)")
    ] = None,
    search: Annotated[str | None, typer.Option(help="grid (every cell) or bisect (boundary per row)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder (default runs/NAME-admissible)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
    workers: Annotated[int | None, typer.Option(help="processes (default: every core)")] = None,
) -> None:
    """Effective sample size n_e of a fresh-data loop over two swept keys, and where n_e >= n_r."""
    from autophagy.admissible.boundary import admissible_map, options_from

    try:
        raw = load_config(config, set_ or [])
        options = options_from(raw, {"x": x, "y": y, "metric": metric, "search": search, "workers": workers})
        folder = out or Path("runs") / f"{raw.get('name', 'run')}-admissible"
        with console.status("computing the admissible map"):
            path = admissible_map(raw, options, folder)
    except ConfigError as exc:
        _fail(exc)
    console.print(f"cells in [bold]{path}[/], map in [bold]{path.parent / 'admissible.png'}[/]")


@app.command("list")
def list_plugins(
    plugin: Annotated[list[str] | None, typer.Option("--plugin", help=PLUGIN_HELP)] = None,
) -> None:
    """The registered loop families, models, data sources and metrics, with the package that
    provides each (installed plug-ins are found through their entry points)."""
    from rich.markup import escape

    import autophagy.running.config  # noqa: F401  (registers the built-ins)
    from autophagy.core.registry import DATA, METRICS, MODELS, load_entry_points, load_plugins
    from autophagy.core.schedule import LOOPS

    try:
        load_entry_points()
        load_plugins(plugin or [])
    except ConfigError as exc:
        _fail(exc)
    sections = {
        "loops (loop.family)": {k: ("autophagy", v.summary) for k, v in LOOPS.items()},
        "models (model.kind)": {k: (v.provider, v.summary) for k, v in MODELS.items()},
        "data (data.kind)": {k: (v.provider, v.summary) for k, v in DATA.items()},
        "metrics (metrics.names)": {
            k: (v.provider, f"{'higher' if v.higher_is_better else 'lower'} is better; {v.summary}")
            for k, v in METRICS.items()
        },
    }
    for title, entries in sections.items():
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(style="dim")
        table.add_column()
        for name, (provider, summary) in entries.items():
            table.add_row(escape(name), escape(provider), escape(summary))
        console.print(table)


@app.command("check-model")
def check_model_command(
    name: Annotated[str, typer.Argument(help="registered model kind, e.g. gmm or a plug-in's name")],
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="module to import first (this runs its code); repeatable"),
    ] = None,
) -> None:
    """Fit a model on small data and check its contract: exit 0 if every item passes, 1 if not."""
    from autophagy.testing import check_model

    try:
        report = check_model(name, plugins=plugin or [])
    except ConfigError as exc:
        _fail(exc)
    console.print(f"contract of model {name!r}", markup=False, highlight=False)
    for item in report.items:
        console.print(
            f"  {'ok  ' if item.passed else 'FAIL'} {item.name}: {item.detail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    failed = len(report.failures())
    console.print(f"{len(report.items) - failed} passed, {failed} failed", markup=False, highlight=False)
    raise typer.Exit(0 if report.passed else 1)
