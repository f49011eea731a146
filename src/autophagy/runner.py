"""Run folders: validate, write the resolved config, drive the engine, store, resume, plot.

A run folder holds ``config.json`` (the resolved config), ``results.sqlite`` (the store)
and ``plots/`` (metric curves; per-generation pictures from :mod:`autophagy.pictures`).
Starting a run on a folder that already holds the same config resumes each block of
replicates from its last committed generation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autophagy.config import RunConfig, resolve
from autophagy.engine import Experiment, run_block
from autophagy.pictures import draw_generation
from autophagy.plots import plot_run
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
                store.commit_generation(block, state, metrics)
                if plots:
                    draw_generation(exp, block, state, plan.out / "plots")
                bar.advance(task)
        rows = store.rows()
    if plots:
        plot_run(rows, plan.out / "plots", title=plan.config.name)
    return plan.out


def read_rows(run: Path) -> list[tuple[int, int, str, float]]:
    """All stored rows of a run folder; clear error if it is not one."""
    path = Path(run) / STORE_FILE
    if not path.is_file():
        raise ConfigError("RUN", f"{run} is not a run folder (no {STORE_FILE})")
    with RunStore(path) as store:
        return store.rows()
