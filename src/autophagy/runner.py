"""Run folders: validate, write the resolved config, drive the engine, store, resume, plot.

A run folder holds ``config.json`` (the resolved config), ``results.sqlite`` (the store)
and ``plots/``. Starting a run on a folder that already holds the same config resumes
each block of replicates from its last committed generation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autophagy.config import RunConfig, resolve
from autophagy.data import DATA
from autophagy.engine import Experiment, run_block
from autophagy.plots import plot_run, plot_samples
from autophagy.protocols import DataSource
from autophagy.rng import stream, streams
from autophagy.schedule import ConfigError
from autophagy.store import RunStore

CONFIG_FILE = "config.json"
STORE_FILE = "results.sqlite"


@dataclass(frozen=True)
class RunPlan:
    """A validated run, ready to execute into ``out``."""

    experiment: Experiment
    config: RunConfig
    resolved: dict[str, Any]
    out: Path

    def blocks(self) -> list[range]:
        """Replicates grouped into blocks that share the leading array axis."""
        n, size = self.config.replicates, self.config.block_size
        return [range(start, min(start + size, n)) for start in range(0, n, size)]


def plan_run(raw: dict[str, Any], out: Path | None = None) -> RunPlan:
    """Validate a raw config and its output folder; writes nothing."""
    experiment, config, resolved = resolve(raw)
    out = Path(out) if out is not None else Path("runs") / config.name
    existing = out / CONFIG_FILE
    if existing.is_file() and json.loads(existing.read_text()) != resolved:
        raise ConfigError("--out", f"{out} holds a run with a different config; choose another folder")
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{out} exists and is not a folder")
    return RunPlan(experiment, config, resolved, out)


def execute(plan: RunPlan, *, progress: bool = True, plots: bool = True) -> Path:
    """Run (or resume) every block, committing each generation; returns the run folder."""
    plan.out.mkdir(parents=True, exist_ok=True)
    (plan.out / CONFIG_FILE).write_text(json.dumps(plan.resolved, indent=2) + "\n")
    exp = plan.experiment
    with (
        RunStore(plan.out / STORE_FILE) as store,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("generations"),
            TimeElapsedColumn(),
            disable=not progress,
            transient=False,
        ) as bar,
    ):
        blocks = plan.blocks()
        task = bar.add_task(plan.config.name, total=len(blocks) * exp.generations)
        for block in blocks:
            resume_from = store.checkpoint(block[0], exp.model)
            bar.advance(task, 0 if resume_from is None else resume_from.generation)
            for state, metrics in run_block(exp, block, resume_from):
                store.commit_generation(block, state, metrics, _snapshot(plan, block, state))
                bar.advance(task)
        rows = store.rows()
        snapshots = store.snapshots(0)
    if plots:
        plot_run(rows, plan.out / "plots", title=plan.config.name)
        if snapshots:
            plot_snapshots(plan, snapshots)
    return plan.out


def _snapshot(plan: RunPlan, block: range, state: Any) -> Any:
    """Samples ``(R, n, d)`` of the generation just finished when it is one of ``[plots] generations``,
    drawn (with the evaluation's sampling bias) from their own stream; None otherwise."""
    options, exp = plan.config.plots, plan.experiment
    if state.generation not in options.generations:
        return None
    bias = 1.0 if exp.unbiased_eval else exp.schedule.sampling_bias
    rng = streams(exp.seed, block, state.generation, "snapshot")
    return state.models[0].sample(options.n_samples, rng=rng, sampling_bias=bias)


def plot_snapshots(plan: RunPlan, snapshots: dict[int, Any]) -> Path:
    """``plots/samples.png``: the first replicate's stored samples per generation over real ones."""
    return _draw_snapshots(plan.out, plan.resolved, plan.experiment.data, snapshots)


def _draw_snapshots(out: Path, resolved: dict[str, Any], data: DataSource, snapshots: dict[int, Any]) -> Path:
    n = resolved["plots"]["n_samples"]
    real = data.draw(n, rng=stream(resolved["seed"], 0, 0, "snapshot_real"))
    return plot_samples(real, snapshots, Path(out) / "plots" / "samples.png", title=resolved["name"])


def replot(run: Path) -> list[Path]:
    """Redraw every plot of a run folder from its store (and its config, for the sample panels)."""
    run = Path(run)
    paths = plot_run(read_rows(run), run / "plots", title=run.name)
    with RunStore(run / STORE_FILE) as store:
        snapshots = store.snapshots(0)
    if snapshots:
        resolved = json.loads((run / CONFIG_FILE).read_text())
        kind, table = resolved["data"]["kind"], {k: v for k, v in resolved["data"].items() if k != "kind"}
        data = DATA[kind].build(DATA[kind].options.model_validate(table))
        paths.append(_draw_snapshots(run, resolved, data, snapshots))
    return paths


def read_rows(run: Path) -> list[tuple[int, int, str, float]]:
    """All stored rows of a run folder; clear error if it is not one."""
    path = Path(run) / STORE_FILE
    if not path.is_file():
        raise ConfigError("RUN", f"{run} is not a run folder (no {STORE_FILE})")
    with RunStore(path) as store:
        return store.rows()
