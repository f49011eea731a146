"""Image recipes (spec §4, N1-N5): the conditional DDPM and the WGAN-GP on the bundled 8 x 8
digits, judged on LeNet-feature FID, precision and recall per generation.

Every setting of a recipe is one loop run by the engine with the same seed, so replicate i of
two settings shares its first training set (and, for the same model, its first fit): checks
compare settings per replicate (:func:`paired`), valid however the two are correlated. The
quick profiles shrink the DDPM (100 diffusion steps, 600 optimiser steps, width 128) so a
recipe runs in a few CPU minutes; the full profiles use the example configs' sizes
(``examples/images/n*_*.toml``). Torch is imported only when a loop fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.config import resolve
from autophagy.engine import run_block
from autophagy.pictures import sample_grid
from autophagy.reproduce.base import Check, Recipe, mean_interval, paired, positive, save_figure
from autophagy.rng import streams

IMAGE_METRICS = ("lenet_fid", "lenet_precision", "lenet_recall")
LABELS = {"lenet_fid": "FID (LeNet features)", "lenet_precision": "precision", "lenet_recall": "recall"}
GRID_PER_CLASS = 8
QUICK_DDPM = {"kind": "ddpm", "steps": 100, "train_steps": 600, "width": 128}
FULL_DDPM = {"kind": "ddpm", "train_steps": 3000}  # the example configs' model (T = 500)
QUICK_WGAN = {"kind": "wgan_gp", "train_steps": 400}
FULL_WGAN = {"kind": "wgan_gp", "train_steps": 1500}


@dataclass(frozen=True)
class ImageRuns:
    """Per setting label: metrics ``{name: (R, T)}`` and replicate 0's last-generation sample
    rows (pixels then class label) for the picture; ``order`` is the legend order."""

    title: str
    metrics: dict[str, dict[str, np.ndarray]]
    samples: dict[str, np.ndarray]
    shape: tuple[int, int]

    def at(self, label: str, name: str, generation: int) -> np.ndarray:
        """Values ``(R,)`` of metric ``name`` for setting ``label`` at ``generation`` (1-based; -1 last)."""
        column = generation - 1 if generation > 0 else generation
        return self.metrics[label][name][:, column]

    @property
    def generations(self) -> int:
        return next(iter(self.metrics.values()))["lenet_fid"].shape[1]


def _loop(
    seed: int,
    replicates: int,
    generations: int,
    model: dict[str, Any],
    loop: dict[str, Any],
    n_eval: int,
    cache_dir: str | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, tuple[int, int]]:
    """One loop on the digits, validated through :func:`autophagy.config.resolve`: metrics
    ``{name: (R, T)}``, replicate 0's last-generation samples and the image shape."""
    data: dict[str, Any] = {"kind": "digits"}
    if cache_dir is not None:
        data["classifier"] = {"cache_dir": cache_dir}
    raw = {
        "name": "reproduce",
        "seed": seed,
        "replicates": replicates,
        "generations": generations,
        "data": data,
        "model": model,
        "loop": loop,
        "metrics": {"names": list(IMAGE_METRICS), "n_eval": n_eval},
    }
    exp = resolve(raw)[0]
    block = list(range(replicates))
    rows = []
    for state, values in run_block(exp, block):
        rows.append(values)
        final = state.models[0]
    bias = float(loop.get("sampling_bias", 1.0))
    draw = final.sample(
        GRID_PER_CLASS * 30, rng=streams(seed, block, generations, "picture"), sampling_bias=bias
    )
    metrics = {name: np.stack([row[name] for row in rows], axis=1) for name in IMAGE_METRICS}
    return metrics, draw[0], exp.data.shape


def _measure(
    title: str,
    settings: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    replicates: int,
    generations: int,
    n_eval: int,
    seed: int,
    cache_dir: str | None,
) -> ImageRuns:
    """Run every ``label: (model, loop)`` setting with the same seed."""
    metrics, samples = {}, {}
    for label, (model, loop) in settings.items():
        metrics[label], samples[label], shape = _loop(
            seed, replicates, generations, model, loop, n_eval, cache_dir
        )
    return ImageRuns(title, metrics, samples, shape)


def _fully_synthetic(n: int, bias: float = 1.0) -> dict[str, Any]:
    return {"family": "fully_synthetic", "n_ini": n, "n_synthetic": n, "sampling_bias": bias}


def _drifts(m: ImageRuns, label: str, prefix: str = "") -> list[Check]:
    """FID rises and precision and recall fall from generation 1 to the last (paired per replicate)."""
    t = m.generations
    fid, precision, recall = (m.metrics[label][name] for name in IMAGE_METRICS)
    return [
        paired(f"{prefix}FID rises from generation 1 to {t}", fid[:, -1], fid[:, 0]),
        paired(f"{prefix}precision falls from generation 1 to {t}", precision[:, 0], precision[:, -1]),
        paired(f"{prefix}recall falls from generation 1 to {t}", recall[:, 0], recall[:, -1]),
    ]


def draw_runs(m: ImageRuns, path: Path) -> None:
    """FID, precision and recall per generation for every setting (mean, band min-max), and a
    sample grid of replicate 0's last generation for up to two settings."""
    shown = list(m.samples)[:2]
    fig, axes = plt.subplots(1, 3 + len(shown), figsize=(3.2 * (3 + len(shown)), 3.3))
    gens = np.arange(1, m.generations + 1)
    for ax, name in zip(axes, IMAGE_METRICS, strict=False):
        for label, values in m.metrics.items():
            v = values[name]
            (line,) = ax.plot(gens, v.mean(axis=0), marker="o", markersize=3, label=label)
            ax.fill_between(gens, v.min(axis=0), v.max(axis=0), color=line.get_color(), alpha=0.15, lw=0)
        ax.set_xlabel("generation")
        ax.set_title(LABELS[name], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    for ax, label in zip(axes[3:], shown, strict=True):
        ax.imshow(sample_grid(m.samples[label], m.shape, 10, GRID_PER_CLASS), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{label}, generation {m.generations}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    r = next(iter(m.metrics.values()))["lenet_fid"].shape[0]
    fig.suptitle(f"{m.title}, {r} replicates (band: min-max)", fontsize=10)
    dpi = 60 if len(shown) < 2 else 48 if len(m.metrics) < 3 else 42  # docs figures under 80 KB
    save_figure(fig, path, dpi=dpi)


# --- N1 and N5: fully synthetic, lambda = 1 -------------------------------------------------


def n1_measure(
    replicates: int,
    generations: int,
    n: int,
    model: dict[str, Any],
    n_eval: int = 300,
    seed: int = 0,
    cache_dir: str | None = None,
) -> ImageRuns:
    return _measure(
        f"N1: conditional DDPM on digits, fully synthetic, n = {n}",
        {"lambda = 1": (model, _fully_synthetic(n))},
        replicates,
        generations,
        n_eval,
        seed,
        cache_dir,
    )


def n5_measure(
    replicates: int,
    generations: int,
    n: int,
    model: dict[str, Any],
    n_eval: int = 300,
    seed: int = 0,
    cache_dir: str | None = None,
) -> ImageRuns:
    return _measure(
        f"N5: conditional WGAN-GP on digits, fully synthetic, n = {n}",
        {"lambda = 1": (model, _fully_synthetic(n))},
        replicates,
        generations,
        n_eval,
        seed,
        cache_dir,
    )


def fully_synthetic_judge(m: ImageRuns) -> list[Check]:
    return _drifts(m, next(iter(m.metrics)))


def n5_judge(m: ImageRuns) -> list[Check]:
    """FID up and recall down are checked; precision is reported. The small quick-profile GAN
    starts imprecise (about 0.75), and its precision wanders by +-0.1 between generations."""
    fid, precision, recall = _drifts(m, next(iter(m.metrics)))
    return [fid, recall, Check(f"{precision.name} (reported, not checked)", True, precision.detail)]


# --- N2: guidance (lambda < 1) against lambda = 1 ------------------------------------------


def n2_measure(
    replicates: int,
    generations: int,
    n: int,
    model: dict[str, Any],
    biases: tuple[float, ...] = (1.0, 0.5),
    n_eval: int = 300,
    seed: int = 0,
    cache_dir: str | None = None,
) -> ImageRuns:
    """The N1 loop at each lambda; the same seed gives each replicate the same first fit."""
    return _measure(
        f"N2: conditional DDPM on digits, fully synthetic, guided, n = {n}",
        {f"lambda = {b:g}": (model, _fully_synthetic(n, b)) for b in sorted(biases, reverse=True)},
        replicates,
        generations,
        n_eval,
        seed,
        cache_dir,
    )


def n2_judge(m: ImageRuns) -> list[Check]:
    unbiased, *guided = m.metrics  # sorted by lambda, largest (1) first
    t = m.generations
    checks = []
    for label in guided:
        checks += [
            paired(
                f"{label}: recall at generation {t} below {unbiased}'s",
                m.at(unbiased, "lenet_recall", -1),
                m.at(label, "lenet_recall", -1),
            ),
            paired(  # the mean over generations: one replicate's dip at one generation is noise
                f"{label}: precision over generations 1-{t} above {unbiased}'s",
                m.metrics[label]["lenet_precision"].mean(axis=1),
                m.metrics[unbiased]["lenet_precision"].mean(axis=1),
            ),
            paired(
                f"{label}: recall falls from generation 1 to {t}",
                m.at(label, "lenet_recall", 1),
                m.at(label, "lenet_recall", -1),
            ),
        ]
    return checks


# --- N3: synthetic augmentation, lambda sweep ------------------------------------------------


def n3_measure(
    replicates: int,
    generations: int,
    n: int,
    model: dict[str, Any],
    biases: tuple[float, ...] = (1.0, 0.8, 0.5),
    n_eval: int = 300,
    seed: int = 0,
    cache_dir: str | None = None,
) -> ImageRuns:
    """Fully synthetic (n per generation) against n / 2 fixed real + n / 2 synthetic per lambda."""
    augment = {
        f"augmented, lambda = {b:g}": (
            model,
            {
                "family": "synthetic_augmentation",
                "n_ini": n // 2,
                "n_synthetic": n - n // 2,
                "sampling_bias": b,
            },
        )
        for b in sorted(biases, reverse=True)
    }
    return _measure(
        f"N3: conditional DDPM on digits, synthetic augmentation, n = {n}",
        {"fully synthetic, lambda = 1": (model, _fully_synthetic(n)), **augment},
        replicates,
        generations,
        n_eval,
        seed,
        cache_dir,
    )


def _rise(m: ImageRuns, label: str) -> np.ndarray:
    """FID at the last generation minus at generation 1, per replicate ``(R,)``."""
    return m.at(label, "lenet_fid", -1) - m.at(label, "lenet_fid", 1)


def n3_judge(m: ImageRuns) -> list[Check]:
    synthetic, unbiased, *_ = m.metrics
    t = m.generations
    rises = {label: mean_interval(_rise(m, label)) for label in list(m.metrics)[1:]}
    best = min(rises, key=lambda label: rises[label].value)
    ranking = ", ".join(f"{label.split(', ')[1]}: {rise}" for label, rise in rises.items())
    return [
        positive(f"{unbiased}: FID rises from generation 1 to {t}", rises[unbiased]),
        paired(
            f"{unbiased}: FID rises less than fully synthetic's",
            _rise(m, synthetic),
            _rise(m, unbiased),
        ),
        Check(f"FID rise per lambda (best {best.split(', ')[1]}; reported, not checked)", True, ranking),
    ]


# --- N4: fresh data, several n_ini ----------------------------------------------------------


def n4_measure(
    replicates: int,
    generations: int,
    n: int,
    model: dict[str, Any],
    initial: tuple[int, ...] = (100, 1000),
    n_eval: int = 300,
    seed: int = 0,
    cache_dir: str | None = None,
) -> ImageRuns:
    """Fresh data with n real + n synthetic per generation after a first set of each n_ini."""
    loops = {
        f"n_ini = {k}": (
            model,
            {"family": "fresh_data", "n_ini": k, "n_real": n, "n_synthetic": n, "sampling_bias": 1.0},
        )
        for k in sorted(initial)
    }
    return _measure(
        f"N4: conditional DDPM on digits, fresh data, n_r = n_s = {n}",
        loops,
        replicates,
        generations,
        n_eval,
        seed,
        cache_dir,
    )


SAME_LEVEL = 0.1  # "the same level": last-generation recalls within 0.1 of each other


def n4_judge(m: ImageRuns) -> list[Check]:
    """Judged on recall, which tells the first set's size apart at generation 1 most clearly; at
    the quick size the FIDs are still rising at the last generation, so their gap is reported."""
    small, large = m.metrics  # fewest first images first
    t = m.generations
    gap = {g: m.at(large, "lenet_recall", g) - m.at(small, "lenet_recall", g) for g in (1, -1)}
    last = mean_interval(gap[-1])
    fid_gap = mean_interval(m.at(small, "lenet_fid", -1) - m.at(large, "lenet_fid", -1))
    return [
        positive(f"generation 1: recall at {small} below {large}", mean_interval(gap[1])),
        paired(f"the recall gap shrinks from generation 1 to {t}", np.abs(gap[1]), np.abs(gap[-1])),
        Check(  # an equivalence check: the whole interval lies inside the band
            f"generation {t}: recalls of {small} and {large} within {SAME_LEVEL:g} of each other",
            -SAME_LEVEL < last.low and last.high < SAME_LEVEL,
            f"{large} - {small}: {last} (generation 1: {mean_interval(gap[1])})",
        ),
        Check(f"generation {t}: FID gap {small} - {large} (reported, not checked)", True, str(fid_gap)),
    ]


RECIPES: dict[str, Recipe] = {
    "N1": Recipe(
        "N1",
        "conditional DDPM on the 8 x 8 digits, fully synthetic, lambda = 1",
        "FID rises, precision and recall fall over generations (figs. 4, 5)",
        {
            "quick": {"replicates": 6, "generations": 5, "n": 1000, "model": QUICK_DDPM},
            "full": {"replicates": 3, "generations": 5, "n": 1797, "model": FULL_DDPM, "n_eval": 500},
        },
        n1_measure,
        fully_synthetic_judge,
        draw_runs,
    ),
    "N2": Recipe(
        "N2",
        "conditional DDPM on the 8 x 8 digits, fully synthetic, guidance lambda = 0.5 against lambda = 1",
        "precision holds or rises while recall falls faster than unbiased (figs. 6, 7)",
        {
            "quick": {"replicates": 5, "generations": 4, "n": 1000, "model": QUICK_DDPM},
            "full": {"replicates": 3, "generations": 5, "n": 1797, "model": FULL_DDPM, "n_eval": 500},
        },
        n2_measure,
        n2_judge,
        draw_runs,
    ),
    "N3": Recipe(
        "N3",
        "conditional DDPM on the 8 x 8 digits, synthetic augmentation (half real, fixed), lambda sweep",
        "FID still rises, more slowly than fully synthetic; a lambda near 0.8 does best (fig. 9)",
        {
            "quick": {"replicates": 4, "generations": 4, "n": 1000, "model": QUICK_DDPM},
            "full": {"replicates": 3, "generations": 5, "n": 1797, "model": FULL_DDPM, "n_eval": 500},
        },
        n3_measure,
        n3_judge,
        draw_runs,
    ),
    "N4": Recipe(
        "N4",
        "conditional DDPM on the 8 x 8 digits, fresh data n_r = n_s, small and large first set n_ini",
        "FID converges to a level independent of n_ini (fig. 10 right)",
        {
            "quick": {
                "replicates": 4,
                "generations": 4,
                "n": 500,
                "model": QUICK_DDPM,
                "initial": (20, 1000),
            },
            "full": {
                "replicates": 3,
                "generations": 5,
                "n": 500,
                "model": FULL_DDPM,
                "initial": (100, 1797),
                "n_eval": 500,
            },
        },
        n4_measure,
        n4_judge,
        draw_runs,
    ),
    "N5": Recipe(
        "N5",
        "conditional WGAN-GP on the 8 x 8 digits, fully synthetic, lambda = 1",
        "FID up, precision and recall down over generations (fig. 13)",
        {
            "quick": {"replicates": 4, "generations": 5, "n": 1000, "model": QUICK_WGAN},
            "full": {"replicates": 3, "generations": 8, "n": 1797, "model": FULL_WGAN, "n_eval": 500},
        },
        n5_measure,
        n5_judge,
        draw_runs,
    ),
}
