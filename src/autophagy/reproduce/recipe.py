"""What a recipe is: its loops as configs (data), and the code that reads, judges and draws them.

A recipe's loops are TOML configs under ``reproduce/configs/`` in the format ``autophagy run``
reads (a ``[sweep]`` makes one config several loops), at the full profile's sizes; a
profile is a set of overrides of them (dotted keys, ``"NAME/key"`` for one config only).
:meth:`Recipe.measure` runs every config through the one driver, :func:`autophagy.api.run`,
into ``folder/runs/NAME`` (resumable, openable with ``autophagy.open_run``), and ``read``
turns the finished :class:`~autophagy.results.run.Run` objects into the measurement that
``judge`` and ``draw`` take. Recipes whose loops are maps of the effective sample size
(G3-G5) give a ``measure_fn`` instead, which runs them through :mod:`autophagy.admissible`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from autophagy.api import load_config, run
from autophagy.core.rng import role_key
from autophagy.reproduce.design import design
from autophagy.reproduce.verdict import ALPHA, Check, Fact, Note, Report, verdict
from autophagy.results.run import Run
from autophagy.running.executors import make_executor

matplotlib.use("Agg")  # recipes draw files, never windows
CONFIGS = resources.files("autophagy.reproduce") / "configs"
CATALOGUE = resources.files("autophagy.reproduce") / "recipes.toml"


def config_path(name: str) -> Path:
    """The package TOML of the loop config ``name`` (``reproduce/configs/NAME.toml``)."""
    return Path(str(CONFIGS / f"{name}.toml"))


@dataclass(frozen=True)
class Recipe:
    """One reproducible result: its loops (``configs``, overridden per profile), how to read
    them (``read``: runs by config name -> measurement), judge and draw.

    ``judge`` returns the :class:`~autophagy.reproduce.verdict.Check` and
    :class:`~autophagy.reproduce.verdict.Note` items; :meth:`verdict` judges them at the
    recipe-level error ``alpha``. A recipe without configs gives ``measure_fn`` (keyword
    settings per profile, plus ``seed``, ``replicates``, ``folder`` and ``workers``)."""

    id: str
    title: str
    expected: str  # the paper's claim, in a line
    profiles: dict[str, dict[str, Any]]
    measure_fn: Callable[..., Any] | None
    judge: Callable[[Any], list[Check | Fact | Note]]
    draw: Callable[[Any, Path], None]
    alpha: float = ALPHA
    read: Callable[[dict[str, Run]], Any] | None = None
    configs: tuple[str, ...] = ()
    task_seconds: float = 60.0  # a task commits at least this often: a killed recipe resumes there

    def verdict(self, measurement: Any, profile: str = "full") -> Report:
        return verdict(self.judge(measurement), self.alpha, profile)

    def settings(self, profile: str) -> dict[str, Any]:
        """The overrides of ``profile``: R and any declared grid from the recipe's design file
        (``reproduce/designs/ID.toml``), then the profile's own settings."""
        found = design(self.id)
        r = found.replicates(profile) if found is not None else None
        grid = found.grid(profile) if found is not None else {}
        return ({"replicates": r} if r is not None else {}) | grid | dict(self.profiles[profile])

    def loop_configs(self, profile: str, seed: int = 0, replicates: int | None = None) -> dict[str, dict]:
        """The raw configs of this recipe at ``profile``, by name (each validated when it runs)."""
        overrides = self.settings(profile)
        out = {}
        for name in self.configs:
            mine = {
                key.split("/", 1)[-1]: value
                for key, value in overrides.items()
                if "/" not in key or key.startswith(f"{name}/")
            }
            raw = load_config(  # validated when it runs
                config_path(name), {k: copy.deepcopy(v) for k, v in mine.items()}, validate=False
            )
            raw["seed"] = seed
            if replicates is not None:
                raw["replicates"] = replicates
            out[name] = raw
        return out

    def measure(
        self,
        profile: str,
        seed: int = 0,
        replicates: int | None = None,
        folder: Path | None = None,
        workers: int = 1,
        progress: bool = False,
    ) -> Any:
        """Run the recipe's loops at ``profile`` (into ``folder/runs``, or a temporary folder)
        and read them, on one thread per process (:func:`one_thread`). ``workers`` processes
        share each loop's blocks of replicates; the numbers do not depend on how many.
        ``progress``: one bar per loop with its ETA (the runner's, as ``autophagy run`` shows)."""
        if self.measure_fn is not None:
            settings = self.settings(profile) | {"seed": seed}
            if replicates is not None:
                settings["replicates"] = replicates
            return self.measure_fn(**settings, folder=folder, workers=workers)
        configs = self.loop_configs(profile, seed, replicates)
        with tempfile.TemporaryDirectory() as tmp, one_thread():
            root = Path(folder) / "runs" if folder is not None else Path(tmp)
            pool = make_executor("local", workers=workers)
            try:
                runs = {
                    name: run(
                        raw,
                        root / name,
                        executor=pool,
                        progress=False,
                        plots=False,
                        task_seconds=self.task_seconds,
                    )
                    for name, raw in configs.items()
                }
                return self.read(runs)
            finally:
                pool.shutdown()


@functools.cache
def catalogue() -> dict[str, dict[str, Any]]:
    """``reproduce/recipes.toml`` by recipe id: title, claim, configs, quick time and profiles."""
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def declare(
    recipe_id: str,
    judge: Callable[[Any], list[Check | Fact | Note]],
    draw: Callable[[Any, Path], None],
    *,
    read: Callable[[dict[str, Run]], Any] | None = None,
    measure_fn: Callable[..., Any] | None = None,
    kind: type[Recipe] = Recipe,
) -> Recipe:
    """The recipe ``recipe_id`` from its data (``recipes.toml``: title, claim, configs, profiles;
    ``designs/ID.toml``: its level) and its code (``read`` or ``measure_fn``, ``judge``, ``draw``)."""
    entry = catalogue()[recipe_id]
    found = design(recipe_id)
    return kind(
        recipe_id,
        entry["title"],
        entry["expected"],
        copy.deepcopy(entry["profiles"]),
        measure_fn,
        judge,
        draw,
        float(found.data["alpha"]) if found is not None else ALPHA,
        read,
        tuple(entry.get("configs", ())),
        float(entry.get("task_seconds", 60.0)),
    )


@dataclass(frozen=True)
class ArmMetrics:
    """A recipe's measurement by arm (one loop: a sweep cell or a run): every metric ``(R, T)``."""

    values: dict[str, dict[str, np.ndarray]]

    def at(self, arm: str, metric: str) -> np.ndarray:
        return self.values[arm][metric]


def cell_metrics(
    sweep: Run, key: str, arms: dict[str, Any], metrics: tuple[str, ...], missing: str = "raise"
) -> dict[str, dict[str, np.ndarray]]:
    """Per arm name: ``metrics`` ``(R, T)`` of the sweep cell whose ``key`` takes the arm's value;
    ``missing = "nan"`` fills a metric the cell did not record with NaN (else a KeyError)."""
    cells = {cell["values"][key]: i for i, cell in enumerate(sweep.cells)}
    out: dict[str, dict[str, np.ndarray]] = {}
    for arm, value in arms.items():
        arrays = sweep.arrays(cells[value])
        if missing == "nan":
            blank = np.full_like(next(iter(arrays.values())), np.nan)
            out[arm] = {m: arrays.get(m, blank.copy()) for m in metrics}
        else:
            out[arm] = {m: arrays[m] for m in metrics}
    return out


def recipe_seed(recipe_id: str, seed: int, role: str, cell: int = 0) -> int:
    """The seed of one loop of a recipe, from ``SeedSequence(seed, spawn_key=(recipe, role,
    cell))``: loops of one recipe, of different recipes and of seeds S and S + 1 draw from
    independent streams (``seed + i`` would make seed S's loop i + 1 seed S + 1's loop i). A
    non-negative 62-bit integer (a run's ``seed``)."""
    seq = np.random.SeedSequence(seed, spawn_key=(role_key(recipe_id), role_key(role), cell))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(2))


def finish_figure(
    fig: Any, axes: Any, title: str, path: Path, xlabel: str = "generation", dpi: int = 80
) -> None:
    """Label every panel's x axis, grid and legend them, title the figure and save it."""
    for ax in np.ravel(axes):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    save_figure(fig, path, dpi)


def save_figure(fig: Any, path: Path, dpi: int = 80) -> None:
    """Lay out, write and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Recipes measure on one thread (BLAS, OpenMP, torch): their networks are small, so a second
    thread gains little on an idle machine and costs 10x or more on a busy one (G7 at the
    quick size: 88 s against 6.6 s per two flow fits with another job running), and the numbers
    do not depend on the machine's core count. Torch reads ``OMP_NUM_THREADS`` when first
    imported; if it is loaded already its pool is set directly. Restored on exit."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = os.environ.get("OMP_NUM_THREADS")
    threads = torch.get_num_threads() if torch is not None else None
    os.environ["OMP_NUM_THREADS"] = "1"
    if torch is not None:
        torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before
        if threads is not None:
            torch.set_num_threads(threads)
