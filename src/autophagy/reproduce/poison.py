"""Recipe P1 (Bohacek & Farid 2023, "Nepotistically Trained Generative-AI Models Collapse"):
poison, then heal.

The conditional DDPM on the 8 x 8 digits, fine-tuned from the previous generation's weights
(``loop.finetune``, as the paper retrains Stable Diffusion). ``configs/P1.toml`` sweeps two
schedules with the same seed: *poisoned* (generation 1 on real images, then k generations on
the model's own samples only, then real images only: a time-varying ``n_real`` and
``n_synthetic``) and *never poisoned* (real images every generation). ``configs/P1_control.toml``
is the poisoned schedule with k = 0, run at its own seed (:func:`.recipe_seed`): the
never-poisoned loop again with independent draws, the null of the healing claim.

Judged on LeNet-feature FID with the exact paired sign-flip test at R <= 6 (as N1-N6): the
poison takes (FID at the last poisoned generation above the never-poisoned loop's; control:
signs flipped), the loop does not fully heal (mean FID over the healed generations above
the never-poisoned loop's; control: the k = 0 loop against the never-poisoned one), and the
gap is not only missed training (the last FID above the never-poisoned loop's after as many
rounds on real images; control: signs flipped).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, controlled
from autophagy.reproduce.images import read_settings
from autophagy.reproduce.images_draw import LABELS, draw_grids
from autophagy.reproduce.images_judges import IMAGE_METRICS, ImageRuns, _directional
from autophagy.reproduce.recipe import Recipe, declare, recipe_seed, save_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.run import Run

POISONED, NEVER, CONTROL = "poisoned", "never poisoned", "poisoned for 0 generations"


def heal_start(loop: dict[str, Any]) -> int | None:
    """The first generation that trains on real images only (``n_real`` > 0 after generation 1),
    from a loop table whose ``n_real`` is a list of steps; None for a constant ``n_real``."""
    steps = loop["n_real"]
    if not isinstance(steps, list):
        return None
    return min(int(s["from"]) for s in steps if s["value"] > 0 and int(s["from"]) > 1)


def _label(loop: dict[str, Any]) -> str:
    return POISONED if heal_start(loop) is not None else NEVER


@dataclass(frozen=True)
class P1Data:
    """The three loops' metrics (labels ``POISONED``, ``NEVER``, ``CONTROL``) and the first
    healed generation ``heal`` (poisoned: generations 2 .. heal - 1)."""

    runs: ImageRuns
    heal: int

    def fid(self, label: str) -> np.ndarray:
        """FID ``(R, T)`` of loop ``label``."""
        return self.runs.metrics[label]["lenet_fid"]


def p1_read(runs: dict[str, Run]) -> P1Data:
    """Both cells of ``P1`` and the control loop, as one :class:`ImageRuns`."""
    n = runs["P1"].cells[0]["config"]["loop"]["n_ini"]
    main = read_settings(
        runs["P1"], f"P1: DDPM on digits, poisoned then healed, n = {n} a generation", _label
    )
    control = read_settings(runs["P1_control"], "", lambda loop: CONTROL)
    heal = next(
        heal_start(c["config"]["loop"]) for c in runs["P1"].cells if _label(c["config"]["loop"]) == POISONED
    )
    merged = dataclasses.replace(
        main,
        metrics={**main.metrics, **control.metrics},
        snapshots={**main.snapshots, CONTROL: {}},
    )
    return P1Data(merged, heal)


def p1_judge(m: P1Data) -> list[Check | Note]:
    """The poison takes at generation heal - 1; the healed generations' mean FID stays above the
    never-poisoned loop's (paired: both loops share every real image and training draw); and the
    last FID stays above the never-poisoned loop's after as many rounds on real images (k fewer
    generations), so the gap is not only the k rounds of real-data training the poisoned loop
    missed (a DDPM trained a few hundred steps a generation is far from converged)."""
    t, heal = m.runs.generations, m.heal
    if not 2 < heal <= t:
        raise ValueError(f"P1 needs poisoned generations and healed ones: heal at {heal} of {t}")
    last_poisoned = m.fid(POISONED)[:, heal - 2] - m.fid(NEVER)[:, heal - 2]
    healed = slice(heal - 1, t)
    gap = m.fid(POISONED)[:, healed].mean(axis=1) - m.fid(NEVER)[:, healed].mean(axis=1)
    null = m.fid(CONTROL)[:, healed].mean(axis=1) - m.fid(NEVER)[:, healed].mean(axis=1)
    recovered = m.fid(POISONED)[:, -1] - m.fid(POISONED)[:, heal - 2]
    k = heal - 2  # poisoned generations
    # the same number of real-data rounds (1 + t - heal + 1): poisoned at t, never poisoned at t - k
    scar = m.fid(POISONED)[:, -1] - m.fid(NEVER)[:, t - k - 1]

    def recall(label: str) -> np.ndarray:
        return m.runs.metrics[label]["lenet_recall"][:, healed]

    claim = (
        f"healed generations {heal}-{t}: mean FID of the poisoned loop above the never-poisoned "
        "loop's (paired)"
    )
    return [
        _directional(
            "above",
            f"the poison takes: FID at generation {heal - 1} (the last poisoned) above the "
            "never-poisoned loop's",
            last_poisoned,
            True,
        ),
        controlled(
            above(claim, stats.mean(gap), samples=gap, note=f"gap {gap.mean():.3g} FID"),
            above("", stats.mean(null), samples=null),
            "the loop poisoned for 0 generations (own seed) against the never-poisoned loop",
        ),
        _directional(
            "above",
            f"not only missed training: FID at generation {t} above the never-poisoned loop's at "
            f"generation {t - k} (both after {t - k} rounds on real images)",
            scar,
            True,
        ),
        Note(
            "healing (reported, not judged)",
            f"poisoned loop's FID {m.fid(POISONED)[:, heal - 2].mean():.3g} at generation {heal - 1}, "
            f"{m.fid(POISONED)[:, -1].mean():.3g} at {t} (change {recovered.mean():.3g}); never poisoned: "
            f"{m.fid(NEVER)[:, -1].mean():.3g} at {t}; poisoned for 0 generations: "
            f"{m.fid(CONTROL)[:, -1].mean():.3g}",
        ),
        Note(
            "recall over the healed generations, poisoned minus never poisoned (reported, not judged)",
            f"{(recall(POISONED) - recall(NEVER)).mean():.3g}",
        ),
    ]


def p1_draw(m: P1Data, path: Path) -> None:
    """FID, precision and recall per generation of the three loops (mean, band min-max), the
    poisoned generations shaded; ``P1_samples.png``: replicate 0's samples of both P1 loops."""
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
    gens = np.arange(1, m.runs.generations + 1)
    for ax, name in zip(axes, IMAGE_METRICS, strict=True):
        for i, (label, values) in enumerate(m.runs.metrics.items()):
            v = values[name]
            ax.plot(
                gens, v.mean(axis=0), marker="o", ms=3, color=f"C{i}", label=label, ls="-" if i < 2 else ":"
            )
            ax.fill_between(gens, v.min(axis=0), v.max(axis=0), color=f"C{i}", alpha=0.15, lw=0)
        ax.axvspan(1.5, m.heal - 0.5, color="0.85", zorder=0, label="poisoned (synthetic only)")
        ax.set_xlabel("generation")
        ax.set_title(LABELS[name], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    r = m.fid(NEVER).shape[0]
    fig.suptitle(f"{m.runs.title}, {r} replicates (band: min-max)", fontsize=10)
    save_figure(fig, path, dpi=60)
    shown = [label for label in (POISONED, NEVER) if m.runs.snapshots.get(label)]
    if shown:
        draw_grids(m.runs, shown, path.with_name(f"{path.stem}_samples.png"))


@dataclass(frozen=True)
class PoisonRecipe(Recipe):
    """A recipe whose control loop (``P1_control``) runs at its own seed, so that it repeats the
    never-poisoned loop with independent draws (the same seed would repeat it exactly)."""

    def loop_configs(self, profile: str, seed: int = 0, replicates: int | None = None) -> dict[str, dict]:
        configs = super().loop_configs(profile, seed, replicates)
        configs["P1_control"]["seed"] = recipe_seed(self.id, seed, "control")
        return configs


def _schedule(n: int, heal: int) -> dict[str, list]:
    """The poisoned schedule at n images a generation, healed from generation ``heal``."""
    return {
        "loop.n_real": [{"from": 1, "value": 0}, {"from": heal, "value": n}],
        "loop.n_synthetic": [{"from": 1, "value": n}, {"from": heal, "value": 0}],
    }


# The quick profile: a small DDPM (50 diffusion steps, width 64, 300 optimiser steps a
# generation), n = 500 images, 5 generations: poisoned at 2-3, healed at 4-5.
N_QUICK, HEAL_QUICK = 500, 4
QUICK = {
    "model.steps": 50,
    "model.train_steps": 300,
    "model.width": 64,
    "loop.n_ini": N_QUICK,
    "metrics.n_eval": 300,
    "generations": 5,
    "block_size": 3,
    "P1/plots.generations": [1, 3, 4, 5],
    "P1/sweep.zip": {
        key: [value, 0 if key == "loop.n_synthetic" else N_QUICK]
        for key, value in _schedule(N_QUICK, HEAL_QUICK).items()
    },
    **{f"P1_control/{key}": value for key, value in _schedule(N_QUICK, 2).items()},
}

RECIPES: dict[str, Recipe] = {
    "P1": declare("P1", p1_judge, p1_draw, read=p1_read, kind=PoisonRecipe),
}
