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

Margins declared before any run, in ``designs/H1.toml``: "to 0" is more than a share
``collapsed_share`` of the replicates below ``edge`` log K at the last generation (the collapse
is absorbing: entropy exactly 0, so a mean would have no spread), "to its maximum" more than
that share above (1 - ``edge``) log K; "neither" is inside the band
from H(q) - ``band`` H(q) to H(q) + ``band`` (log K - H(q)) (half-way from the real entropy to
either end). Trends are per-replicate least-squares slopes over all generations. Every check
carries a negative control judged inside the verdict, the same test at the same R and seed on a
loop where the claim is false: a closed loop's direction against the other temperature's closed
loop, its level against the fresh-data loop at that temperature, the fresh-data band against the
closed loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import above, below, controlled, inside, proportion_above
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import Recipe, declare, finish_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.pictures import data_source

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
    """Direction and level of the closed loops, the band of the fresh-data loops, each with its
    control (see the module)."""
    edge, _ = margin("H1", "edge")
    half, band_why = margin("H1", "band")
    share, _ = margin("H1", "collapsed_share")
    items: list[Check | Note] = []
    top, real = m.max_entropy, m.real_entropy
    band = (real - half * real, real + half * (top - real))
    for t in m.temperatures:
        closed, fresh = m.entropy[(t, CLOSED)], m.entropy[(t, FRESH)]
        other = next(u for u in m.temperatures if u != t)
        swapped = m.entropy[(other, CLOSED)]
        gens = closed.shape[1]
        last = f"generation {gens}"
        if t < 1:
            direction = below(
                f"T = {t:g}, no external data: entropy falls over generations 1-{gens} (slope)",
                stats.trend(closed),
            )
            control_direction = below("", stats.trend(swapped))
            # the collapse is absorbing (one outcome left: entropy exactly 0 in every replicate), so
            # the level is judged as the share of replicates below the edge, not as a mean
            low = edge * top
            level = proportion_above(
                f"T = {t:g}, no external data: share of replicates with entropy at {last} below "
                f"{edge:g} log K (-> 0) above {share:g}",
                int((closed[:, -1] < low).sum()),
                len(closed),
                share,
                note=f"{m.surviving[(t, CLOSED)][:, -1].mean():.3g} of {m.n_categories} outcomes left (mean)",
            )
            control_level = proportion_above("", int((fresh[:, -1] < low).sum()), len(fresh), share)
        else:
            direction = above(
                f"T = {t:g}, no external data: entropy rises over generations 1-{gens} (slope)",
                stats.trend(closed),
            )
            control_direction = above("", stats.trend(swapped))
            high = (1 - edge) * top
            level = proportion_above(
                f"T = {t:g}, no external data: share of replicates with entropy at {last} above "
                f"{1 - edge:g} log K (-> max) above {share:g}",
                int((closed[:, -1] > high).sum()),
                len(closed),
                share,
                note=f"mean entropy {closed[:, -1].mean():.4g}, log K = {top:.4g}",
            )
            control_level = proportion_above("", int((fresh[:, -1] > high).sum()), len(fresh), share)
        items += [
            controlled(direction, control_direction, f"the same test on T = {other:g}'s closed loop"),
            controlled(level, control_level, f"the same test on T = {t:g}'s fresh-data loop"),
        ]
        stays = inside(
            f"T = {t:g}, real share {m.share:g}: entropy at {last} stays between H(q)/2 and (H(q) + log K)/2",
            stats.mean(fresh[:, -1]),
            *band,
            note=f"H(q) = {real:.4g}, log K = {top:.4g}",
            margin=band_why,
        )
        # the closed loop at T; where it has collapsed in every replicate (entropy exactly 0, no
        # spread to test) the other temperature's closed loop, outside the band on the other side
        null, at = (closed, t) if np.ptp(closed[:, -1]) > 0 else (swapped, other)
        control = inside("", stats.mean(null[:, -1]), *band)
        items.append(controlled(stays, control, f"the same test on T = {at:g}'s closed loop"))
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
    "H1": declare("H1", h1_judge, h1_draw, read=h1_read),
}
