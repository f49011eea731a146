"""``autophagy reproduce ID``: recipes that re-run a published result and judge it.

A :class:`Recipe` is data plus a judge: its title, claim, loop configs and profiles in
``recipes.toml`` (the configs themselves in ``configs/``, its design in ``designs/ID.toml``),
and the code that reads its finished runs, judges them against the paper's claim with
statistical checks (intervals from the replicates, never stored numbers) and draws its figure.
Each family's module declares its recipes (``RECIPES``, id -> :class:`Recipe`, via
:func:`~autophagy.reproduce.recipe.declare`); adding a family is one entry in ``FAMILIES`` below.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from autophagy.reproduce import (
    briesch,
    demystified,
    gaussian,
    gaussian_phase,
    heat,
    images,
    kernel,
    language,
    loops,
    lowdim,
    poison,
    stability,
    tails,
)
from autophagy.reproduce.design import design
from autophagy.reproduce.recipe import Recipe, catalogue, one_thread
from autophagy.reproduce.verdict import FAIL, INCONCLUSIVE, INVALID, PASS, Check, Fact, Note, Report
from autophagy.running.executors import cpu_count
from autophagy.storage.safety import atomic_write_text

PROFILES = ("quick", "full")
EXIT_STATUS = {PASS: 0, FAIL: 1, INCONCLUSIVE: 4, INVALID: 5}  # 2, 3 and 70: see the CLI
SEVERITY = (INVALID, FAIL, INCONCLUSIVE, PASS)  # --all exits with the first of these any recipe has

QUICK_TIMES: dict[str, str] = {rid: entry["quick_time"] for rid, entry in catalogue().items()}
"""Wall time of each recipe's quick profile as measured on a 2-core machine, one process unless
said (``quick_time`` in ``recipes.toml``; docs/reproduce/index.md has the measurements and their
load); shown by ``--list``."""


@dataclass(frozen=True)
class Outcome:
    """What a recipe run found: the judged report, the settings it ran with (the profile's
    overrides, R included), the path of its figure, and its wall time in seconds (measuring,
    judging and drawing) with the worker processes it used."""

    id: str
    profile: str
    seed: int
    settings: dict[str, Any]
    report: Report
    figure: Path
    seconds: float
    workers: int = 1

    @property
    def checks(self) -> list[Check]:
        return self.report.checks

    @property
    def notes(self) -> list[Note]:
        return self.report.notes

    @property
    def facts(self) -> list[Fact]:
        return self.report.facts

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def outcome(self) -> str:
        """PASS, FAIL, INCONCLUSIVE or INVALID (see :mod:`.verdict`)."""
        return self.report.outcome

    @property
    def verdict(self) -> str:
        """The last line of ``autophagy reproduce``: ``ID: PASS|FAIL|INCONCLUSIVE|INVALID ...``,
        naming the checks behind the outcome and the claims left to the full profile."""
        level = f"recipe-level error {self.report.alpha:g}, Holm"
        n = len(self.checks)
        outcome = self.outcome
        if outcome == INVALID:
            text = f"{self.id}: INVALID ({level}): {'; '.join(self.report.invalid_reasons())}"
        elif outcome == FAIL:
            bad = [c.name for c in self.checks if c.outcome == "CONTRADICTED"]
            text = f"{self.id}: FAIL {len(bad)} of {n} checks contradicted ({level}): {'; '.join(bad)}"
        elif outcome == INCONCLUSIVE:
            open_ = [c.name for c in self.checks if c.outcome != "SUPPORTED"]
            text = (
                f"{self.id}: INCONCLUSIVE {len(open_)} of {n} checks neither supported nor contradicted "
                f"({level}): {'; '.join(open_)}"
                if n
                else f"{self.id}: INCONCLUSIVE no judged checks"
            )
        else:
            text = f"{self.id}: PASS all {n} checks supported ({level}; {self.seconds:.1f} s)"
        deferred = self.report.deferred
        if outcome == PASS or deferred:
            text += "; left to the full profile: " + ("; ".join(deferred) if deferred else "none")
        return text

    def as_dict(self) -> dict[str, Any]:
        """The JSON verdict: every check with its numbers, the notes, settings and versions."""
        recipe = RECIPES[self.id]
        return {
            "id": self.id,
            "title": recipe.title,
            "expected": recipe.expected,
            "profile": self.profile,
            "seed": self.seed,
            "settings": _jsonable(self.settings),
            "alpha": self.report.alpha,
            "outcome": self.outcome,
            "passed": self.passed,
            "invalid_because": self.report.invalid_reasons(),
            "design": None if design(self.id) is None else design(self.id).as_dict(),
            "checks": [c.as_dict() for c in self.checks],
            "facts": [f.as_dict() for f in self.facts],
            "left_to_full_profile": list(self.report.deferred),
            "reported_not_judged": [n.as_dict() for n in self.notes],
            "figure": str(self.figure),
            "wall_seconds": self.seconds,
            "workers": self.workers,
            "versions": versions(),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a verdict depends on (those installed)."""
    out = {"python": platform.python_version()}
    for name in ("autophagy", "numpy", "scipy", "scikit-learn", "torch", "transformers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


# G1-G2, G3-G5, G6-G7, G8 T5 T6, T1-T4, N1-N6, T7, B1, H1, F1, D1, P1, L1
FAMILIES = (
    gaussian,
    gaussian_phase,
    lowdim,
    loops,
    tails,
    images,
    language,
    stability,
    heat,
    kernel,
    demystified,
    poison,
    briesch,
)

RECIPES: dict[str, Recipe] = dict(
    sorted((rid, r) for family in FAMILIES for rid, r in family.RECIPES.items())
)


def run_recipe(
    recipe_id: str,
    profile: str,
    out: Path,
    seed: int = 0,
    replicates: int | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Outcome:
    """Measure, draw ``out/ID.png`` and judge one recipe at ``profile`` (``seed`` and
    ``replicates`` override the profile's settings). Recipes whose ``measure`` takes ``workers``
    (the image recipes) spread their loops over that many processes (default: every core),
    each on one thread; the numbers do not depend on it."""
    recipe = RECIPES[recipe_id]
    settings = recipe.settings(profile) | {"seed": seed}
    if replicates is not None:
        settings["replicates"] = replicates
    start = time.perf_counter()
    workers = workers if workers is not None else cpu_count()
    custom = seed != 0 or replicates is not None  # another config: its own resumable folder
    suffix = f"-seed{seed}" + (f"-r{replicates}" if replicates is not None else "") if custom else ""
    folder = out / f"{profile}{suffix}"
    with one_thread():
        if recipe.measure_fn is None:  # loops run by the driver: per-loop bars with an ETA
            measurement = recipe.measure(profile, seed, replicates, folder, workers, progress=progress)
        else:
            measurement = recipe.measure(profile, seed, replicates, folder, workers)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / f"{recipe_id}.png"
    recipe.draw(measurement, figure)
    report = recipe.verdict(measurement, profile)
    seconds = time.perf_counter() - start
    return Outcome(recipe_id, profile, seed, settings, report, figure, seconds, workers)


def write_json(
    outcomes: list[Outcome], path: Path, many: bool | None = None, total: int | None = None
) -> Path:
    """One recipe's verdict as an object, several (or ``many``, as ``--all`` asks even for one)
    as ``{"passed": ..., "complete": ..., "recipes": [...]}``: ``complete`` is false while fewer
    than ``total`` recipes are judged, and ``passed`` needs it. Written atomically, so
    ``--all`` rewrites it after every recipe and a stopped run keeps what it judged."""
    if not (len(outcomes) > 1 if many is None else many):
        body = outcomes[0].as_dict()
    else:
        complete = total is None or len(outcomes) >= total
        worst = next(s for s in SEVERITY if s in {o.outcome for o in outcomes} | {PASS})
        body = {
            "outcome": worst if complete or worst != PASS else INCONCLUSIVE,
            "passed": complete and all(o.passed for o in outcomes),
            "complete": complete,
            "recipes": [o.as_dict() for o in outcomes],
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps(body, indent=2, allow_nan=False) + "\n")


__all__ = [
    "EXIT_STATUS",
    "PROFILES",
    "QUICK_TIMES",
    "RECIPES",
    "SEVERITY",
    "Outcome",
    "run_recipe",
    "versions",
    "write_json",
]
