"""``autophagy reproduce ID``: recipes that re-run a published result and judge it.

A :class:`Recipe` measures (``measure(settings) -> measurement``), draws its figure, and
judges the measurement against the expected behaviour of spec §4 with statistical checks
(intervals from the replicates, never numbers stored from an earlier run). Each family
lives in its own module with a ``RECIPES`` dict (id -> :class:`Recipe`); adding a family is
one entry in ``FAMILIES`` below.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from pathlib import Path

from autophagy.reproduce import gaussian, gaussian_phase, images, language, loops, lowdim, tails
from autophagy.reproduce.base import Check, Recipe

PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Outcome:
    """What a recipe run found: every check, the figure it wrote and how long it took."""

    id: str
    checks: list[Check]
    figure: Path
    seconds: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def verdict(self) -> str:
        """The last line of ``autophagy reproduce``: ``ID: PASS ...`` or ``ID: FAIL ...``."""
        failed = [c.name for c in self.checks if not c.passed]
        if failed:
            return f"{self.id}: FAIL {len(failed)} of {len(self.checks)} checks failed: {'; '.join(failed)}"
        return f"{self.id}: PASS all {len(self.checks)} checks hold ({self.seconds:.1f} s)"


# G1-G2, G3-G5, G6-G7, G8 T5 T6, T1-T4, N1-N5, T7
FAMILIES = (gaussian, gaussian_phase, lowdim, loops, tails, images, language)

RECIPES: dict[str, Recipe] = dict(
    sorted((rid, r) for family in FAMILIES for rid, r in family.RECIPES.items())
)


def run_recipe(recipe_id: str, profile: str, out: Path) -> Outcome:
    """Measure, draw ``out/ID.png`` and judge one recipe at ``profile``."""
    recipe = RECIPES[recipe_id]
    start = time.perf_counter()
    settings = dict(recipe.profiles[profile])
    if "folder" in inspect.signature(recipe.measure).parameters:  # runs kept there, resumable (T7)
        settings["folder"] = out / profile
    measurement = recipe.measure(**settings)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / f"{recipe_id}.png"
    recipe.draw(measurement, figure)
    return Outcome(recipe_id, recipe.judge(measurement), figure, time.perf_counter() - start)
