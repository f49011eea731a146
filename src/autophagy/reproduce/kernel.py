"""Recipe F1 (Fu et al., ICML 2024, "Towards Theoretical Understandings of Self-Consuming
Generative Models"): as the synthetic data keeps expanding, the total variation distance to
the real distribution first rises, then declines past a threshold point, provided the real
data are large enough.

The loop (``configs/F1.toml``) is a 1-D Gaussian kernel density estimate trained on every real
and synthetic sample so far (``accumulate``): n_ini real samples at generation 1, then each
generation adds n_s samples of the previous KDE (the expanding synthetic data) and n_r fresh
real ones. Sampling a KDE adds its bandwidth to the variance, so the first synthetic batch,
drawn from a fit on n_ini points with a wide bandwidth, inflates the pool; later batches come
from fits on a large pool with a small bandwidth, and the growing real part pulls the fit back.
Swept over n_r: a real share of every new batch (n_r / (n_r + n_s)) and none (n_r = 0: the
distance keeps rising).

The sizes, R and the split generation ``peak`` are declared in ``designs/F1.toml`` (from a numpy
pilot at a seed no recipe run uses, before the engine ran at seeds 0 and 1): the rise is the
per-replicate least-squares slope over generations 1..peak (at peak = 2, the paired change from
generation 1 to 2), the fall the slope over peak..T, and for n_r = 0 the slope over peak..T
(keeps rising). Never first against last. Controls judged inside the verdict: the rise against
its per-replicate values with balanced random signs (the permutation null), the fall against
the same slope on the n_r = 0 loop, the no-real-data rise against the same slope on the
real-share loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, below, controlled, flip_controlled
from autophagy.reproduce.design import design
from autophagy.reproduce.recipe import Recipe, declare, finish_figure
from autophagy.reproduce.verdict import Check, Note


def peak() -> int:
    """The declared split generation (``designs/F1.toml``, ``split.peak``)."""
    return int(design("F1").data["split"]["peak"])


@dataclass(frozen=True)
class F1Data:
    """The TV distance to P_r ``(R, T)`` by fresh real samples per generation n_r, and the sizes."""

    tv: dict[int, np.ndarray]
    n_ini: int
    n_synthetic: int

    def share(self, n_real: int) -> float:
        """The real share of every batch added after generation 1."""
        return n_real / (n_real + self.n_synthetic)


def f1_read(runs: dict) -> F1Data:
    """The distance of each sweep cell (one per n_r)."""
    sweep = runs["F1"]
    loop = sweep.cells[0]["config"]["loop"]
    tv = {c["values"]["loop.n_real"]: sweep.arrays(i)["density_tv"] for i, c in enumerate(sweep.cells)}
    return F1Data(tv, loop["n_ini"], loop["n_synthetic"])


def f1_judge(m: F1Data) -> list[Check | Note]:
    """Rise over 1..peak and fall over peak..T for the real-share loop, rise over peak..T
    without real data; each with its control (see the module)."""
    split = peak()
    slopes = {n: stats.replicate_slopes(tv[:, :split]) for n, tv in m.tv.items()}
    late = {n: stats.trend(tv[:, split - 1 :]) for n, tv in m.tv.items()}
    shared = min(m.tv)  # n_r = 0: no real data after generation 1
    items: list[Check | Note] = []
    for n_real, tv in sorted(m.tv.items()):
        t = tv.shape[1]
        other = max(m.tv) if n_real == shared else shared
        path = f"TV {tv[:, 0].mean():.4g} at generation 1, {tv[:, split - 1].mean():.4g} at {split}, "
        path += f"{tv[:, -1].mean():.4g} at {t}"
        if n_real == shared:
            items.append(
                controlled(
                    above(
                        f"no real data after generation 1: TV keeps rising, generations {split}-{t} (slope)",
                        late[n_real],
                        note=path,
                    ),
                    above("", late[other]),
                    f"the same slope on the n_r = {other} loop",
                )
            )
            continue
        share = f"real share {m.share(n_real):.2g} (n_r = {n_real})"
        rise = slopes[n_real]
        items += [
            flip_controlled(
                "above",
                f"{share}: TV first rises, over generations 1-{split} (slope)",
                rise,
                f"F1 rise {n_real}",
                path,
            ),
            controlled(
                below(f"{share}: then falls, over generations {split}-{t} (slope)", late[n_real]),
                below("", late[other]),
                f"the same slope on the n_r = {other} loop",
            ),
        ]
    return items


def f1_draw(m: F1Data, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for n_real, tv in sorted(m.tv.items()):
        gens = np.arange(1, tv.shape[1] + 1)
        mean, se = tv.mean(axis=0), tv.std(axis=0, ddof=1) / np.sqrt(len(tv))
        label = f"n_r = {n_real} (real share {m.share(n_real):.2g})"
        (line,) = ax.plot(gens, mean, "o-", ms=3, label=label)
        ax.fill_between(gens, mean - 1.96 * se, mean + 1.96 * se, color=line.get_color(), alpha=0.2, lw=0)
    ax.axvline(peak(), color="0.5", ls=":", lw=1, label=f"declared split (generation {peak()})")
    ax.set_ylabel("TV to P_r (mean, 95 % interval)")
    title = f"F1: KDE accumulate loop, n_ini = {m.n_ini}, + n_s = {m.n_synthetic} synthetic a generation"
    finish_figure(fig, ax, title, path)


RECIPES: dict[str, Recipe] = {
    "F1": declare("F1", f1_judge, f1_draw, read=f1_read),
}
