"""Image recipes (spec §4, N1-N6): the conditional DDPM and the WGAN-GP on the bundled 8 x 8
digits, judged on LeNet-feature FID, precision and recall per generation.

Each recipe's loops are a package config (``configs/N1.toml`` ... ``N6.toml``, at the full
profile's sizes, the example configs' models); the quick profiles override them (the DDPM
shrunk to 100 diffusion steps, 600 optimiser steps and width 128) so a recipe runs in a few CPU
minutes. Every setting of a recipe is one cell of its sweep with the same seed, so replicate i of
two settings of the same loop family shares its first training set (and, for the same model,
its first fit); the checks (:mod:`.images_judges`) compare settings per replicate, valid however
the two are correlated (also across families, whose first sets are drawn from different
streams). Here: how the finished runs read as an :class:`ImageRuns`, and the recipes. Torch is
imported only when a loop fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autophagy.core.rng import stream
from autophagy.data import DATA
from autophagy.reproduce.images_draw import GRID_PER_CLASS, draw_runs, draw_with_tsne
from autophagy.reproduce.images_judges import (
    IMAGE_METRICS,
    MODE_METRIC,
    ImageRuns,
    fully_synthetic_judge,
    n1_judge,
    n2_judge,
    n3_judge,
    n4_judge,
    n6_judge,
)
from autophagy.reproduce.recipe import Recipe, declare
from autophagy.results.run import Run

ALPHA = 0.05  # recipe-level error of the neural recipes (3-6 replicates; Holm across checks)
FULLY_SYNTHETIC = {"ddpm": "N1: conditional DDPM", "wgan_gp": "N5: conditional WGAN-GP"}  # by model kind
FAMILIES = {
    "fully_synthetic": "fully synthetic",
    "synthetic_augmentation": "augmented",
    "synthetic_pool": "growing pool",
}


def read_settings(run: Run, title: str, label: Callable[[dict[str, Any]], str]) -> ImageRuns:
    """Every cell of ``run`` as one setting named ``label(its config)``, in cell order (the
    legend's); ``title`` with ``{n}`` the synthetic images a generation. The real digits drawn
    for the pictures come from their own stream of the run's seed."""
    metrics: dict[str, dict[str, np.ndarray]] = {}
    snapshots: dict[str, dict[int, np.ndarray]] = {}
    for index, cell in enumerate(run.cells):
        name = label(cell["config"])
        arrays = run.arrays(index)
        shape = (cell["config"]["replicates"], cell["config"]["generations"])
        metrics[name] = {m: arrays.get(m, np.full(shape, np.nan)) for m in IMAGE_METRICS}
        if MODE_METRIC in arrays:
            metrics[name][MODE_METRIC] = arrays[MODE_METRIC]
        snapshots[name] = run.snapshots(index)
    config = run.cells[0]["config"]
    options = dict(config["data"])
    entry = DATA[options.pop("kind")]
    data = entry.build(entry.options.model_validate(options))
    real = data.draw(GRID_PER_CLASS * 30, rng=stream(config["seed"], 0, 0, "picture_real"))
    return ImageRuns(title.format(n=config["loop"]["n_synthetic"]), metrics, snapshots, data.shape, real)


def lambda_label(config: dict[str, Any]) -> str:
    return f"lambda = {config['loop']['sampling_bias']:g}"


def family_label(config: dict[str, Any]) -> str:
    return f"{FAMILIES[config['loop']['family']]}, {lambda_label(config)}"


def fully_synthetic_read(runs: dict[str, Run]) -> ImageRuns:
    """N1 (DDPM) and N5 (WGAN-GP): one model fully synthetic at lambda = 1, n images a generation."""
    (run,) = runs.values()
    kind = run.cells[0]["config"]["model"]["kind"]
    return read_settings(run, f"{FULLY_SYNTHETIC[kind]} on digits, fully synthetic, n = {{n}}", lambda_label)


def n2_read(runs: dict[str, Run]) -> ImageRuns:
    """The N1 loop at each lambda, largest (the reference) first."""
    return read_settings(
        runs["N2"], "N2: conditional DDPM on digits, fully synthetic, guided, n = {n}", lambda_label
    )


def n3_read(runs: dict[str, Run]) -> ImageRuns:
    """Fully synthetic and augmented at every lambda, in the config's legend order."""
    return read_settings(
        runs["N3"], "N3: conditional DDPM on digits, synthetic augmentation, n = {n}", family_label
    )


def n4_read(runs: dict[str, Run]) -> ImageRuns:
    """Fresh data after a first set of each n_ini, fewest first."""
    return read_settings(
        runs["N4"],
        "N4: conditional DDPM on digits, fresh data, n_r = n_s = {n}",
        lambda config: f"n_ini = {config['loop']['n_ini']}",
    )


def n6_read(runs: dict[str, Run]) -> ImageRuns:
    """Fully synthetic against the fixed real images plus the growing synthetic pool."""
    return read_settings(
        runs["N6"], "N6: conditional DDPM on digits, growing synthetic pool, n = {n}", family_label
    )


# Profiles override the configs (written at the full profile's sizes, so "full" overrides
# nothing). block_size: half the quick profile's replicates, so 2 workers share a loop; one
# replicate a task at full (block size never changes the numbers). The pictured generations
# are the first, the last and evenly between (5 at most).
QUICK_DDPM = {"model.steps": 100, "model.train_steps": 600, "model.width": 128}
N1000 = {"loop.n_ini": 1000, "loop.n_synthetic": 1000, "metrics.n_eval": 300}
FIVE = {"generations": 5, "plots.generations": [1, 2, 3, 4, 5]}
IMAGES = {"alpha": ALPHA, "task_seconds": 0.0}  # commit every generation: a killed recipe resumes there


RECIPES: dict[str, Recipe] = {
    "N1": declare("N1", n1_judge, draw_with_tsne, read=fully_synthetic_read),
    "N2": declare("N2", n2_judge, draw_with_tsne, read=n2_read),
    "N3": declare("N3", n3_judge, draw_runs, read=n3_read),
    "N4": declare("N4", n4_judge, draw_runs, read=n4_read),
    "N5": declare("N5", fully_synthetic_judge, draw_runs, read=fully_synthetic_read),
    "N6": declare("N6", n6_judge, draw_runs, read=n6_read),
}
