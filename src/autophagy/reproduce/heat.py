"""Recipe H1 (Heat Death of Generative Models in Closed-Loop Learning, Marchi et al. 2024): a
model refitted on its own samples drawn at a temperature T != 1 degenerates unless enough
external data enters every generation.

The loop (``configs/H1.toml``) is a categorical model over K outcomes sampled at temperature T
(p^(1/T), renormalised: the ``loop.sampling_bias`` of discrete models). Without external data,
the fit after t generations is about p0^(1/T^t) renormalised: for T < 1 it piles onto the most
probable outcome (entropy -> 0), for T > 1 it flattens to uniform over the outcomes still alive
(entropy -> log K). With a share s of fresh real data the map p -> s q + (1 - s) p^(1/T)/Z has
a fixed point in between (at s = 1/2, K = 20, Zipf(1): entropy 2.20 nats at T = 0.8 and 2.67 at
T = 1.25, against H(q) = 2.53 and log K = 3.00).

Margins declared here, before any run: "to 0" is below ``EDGE`` log K and "to its maximum"
above (1 - ``EDGE``) log K at the last generation; "neither" is inside the band from H(q) / 2 to
(H(q) + log K) / 2 (half-way from the real entropy to either end). Trends are per-replicate
least-squares slopes over all generations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, below, inside
from autophagy.reproduce.recipe import Recipe, finish_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.pictures import data_source

EDGE = 0.05  # "entropy -> 0" means below EDGE log K; "-> max" above (1 - EDGE) log K
CLOSED, FRESH = "fully_synthetic", "fresh_data"


@dataclass(frozen=True)
class H1Data:
    """Entropy and surviving outcomes ``(R, T)`` by (temperature, family); the real entropy
    H(q), K and the real share of the fresh-data loop."""

    entropy: dict[tuple[float, str], np.ndarray]
    surviving: dict[tuple[float, str], np.ndarray]
    real_entropy: float
    n_categories: int
    share: float

    @property
    def max_entropy(self) -> float:
        return float(np.log(self.n_categories))

    @property
    def temperatures(self) -> tuple[float, ...]:
        return tuple(sorted({t for t, _ in self.entropy}))


def h1_read(runs: dict) -> H1Data:
    """Every cell of the (temperature, family) sweep, and the truth's entropy."""
    sweep = runs["H1"]
    config = sweep.cells[0]["config"]
    q = data_source(config).probabilities
    entropy, surviving = {}, {}
    for i, cell in enumerate(sweep.cells):
        key = (cell["values"]["loop.sampling_bias"], cell["values"]["loop.family"])
        values = sweep.arrays(i)
        entropy[key], surviving[key] = values["entropy"], values["surviving"]
        if key[1] == FRESH:
            loop = cell["config"]["loop"]
    share = loop["n_real"] / (loop["n_real"] + loop["n_synthetic"])
    h = float(-(q * np.log(q)).sum())
    return H1Data(entropy, surviving, h, config["data"]["n_categories"], share)


def h1_judge(m: H1Data) -> list[Check | Note]:
    items: list[Check | Note] = []
    top, real = m.max_entropy, m.real_entropy
    band = (real / 2, (real + top) / 2)
    for t in m.temperatures:
        closed, fresh = m.entropy[(t, CLOSED)], m.entropy[(t, FRESH)]
        gens = closed.shape[1]
        last = f"generation {gens}"
        if t < 1:
            items += [
                below(
                    f"T = {t:g}, no external data: entropy falls over generations 1-{gens} (slope)",
                    stats.trend(closed),
                ),
                below(
                    f"T = {t:g}, no external data: entropy at {last} below {EDGE:g} log K (-> 0)",
                    stats.mean(closed[:, -1]),
                    EDGE * top,
                    note=f"{m.surviving[(t, CLOSED)][:, -1].mean():.3g} outcomes left of {m.n_categories}",
                ),
            ]
        elif t > 1:
            items += [
                above(
                    f"T = {t:g}, no external data: entropy rises over generations 1-{gens} (slope)",
                    stats.trend(closed),
                ),
                above(
                    f"T = {t:g}, no external data: entropy at {last} above {1 - EDGE:g} log K (-> max)",
                    stats.mean(closed[:, -1]),
                    (1 - EDGE) * top,
                    note=f"log K = {top:.4g}",
                ),
            ]
        items.append(
            inside(
                f"T = {t:g}, real share {m.share:g}: entropy at {last} stays between H(q)/2 and "
                "(H(q) + log K)/2",
                stats.mean(fresh[:, -1]),
                *band,
                note=f"H(q) = {real:.4g}, log K = {top:.4g}",
            )
        )
    return items


def h1_draw(m: H1Data, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, t in enumerate(m.temperatures):
        for family, style in ((CLOSED, "-"), (FRESH, "--")):
            e = m.entropy[(t, family)]
            gens = np.arange(1, e.shape[1] + 1)
            label = f"T = {t:g}, " + ("no external data" if family == CLOSED else f"real share {m.share:g}")
            ax.plot(gens, e.mean(axis=0), style, color=f"C{i}", label=label)
            low, high = np.quantile(e, [0.1, 0.9], axis=0)
            ax.fill_between(gens, low, high, color=f"C{i}", alpha=0.12, linewidth=0)
    ax.axhline(m.max_entropy, color="0.3", lw=1, ls=":", label="log K (uniform)")
    ax.axhline(m.real_entropy, color="0.6", lw=1, ls=":", label="H(q) (real)")
    ax.set_ylabel("entropy of the fit, nats (band: 10-90 %)")
    title = f"H1: categorical loop, K = {m.n_categories}, sampled at temperature T"
    finish_figure(fig, ax, title, path)


RECIPES: dict[str, Recipe] = {
    "H1": Recipe(
        "H1",
        "categorical loop sampled at temperature T < 1 and > 1, without and with fresh real data "
        "(Heat Death, Marchi et al.)",
        "unless enough external data enters every generation, T != 1 drives the model to a few "
        "outputs (T < 1, entropy -> 0) or to uniform (T > 1, entropy -> log K)",
        {"quick": {"replicates": 100, "generations": 25, "block_size": 100}, "full": {}},
        None,
        h1_judge,
        h1_draw,
        read=h1_read,
        configs=("H1",),
    ),
}
