"""Recipe T7: the curse of recursion (Shumailov et al.) at CPU size, replace versus accumulate.

A small GPT-2 is trained from scratch (byte-level BPE tokenizer trained locally) on the default
offline corpus, the docstrings of 20 pinned standard-library modules. Each later generation
trains a fresh network (seeded by replicate and generation) on text the previous generation
generated: under ``replace`` (``fully_synthetic``) on that text only, under ``accumulate`` on
every real and synthetic document so far, with the same optimiser steps. Held-out perplexity on
real docstrings is the verdict's measure; every language metric is recorded.

Both loops are one sweep (``configs/T7.toml``, the full profile's sizes; the quick profile
overrides them) that the recipe runs through the driver (:func:`autophagy.api.run`) into its
folder, so a killed run resumes from its last committed generation with identical
numbers. Replicate i of both loops uses the same seed, and the loops are compared by the
per-replicate difference of their slopes (a paired test, valid however the two correlate; the
loops draw their generation-1 sets under different stream roles, so the pairing is by seed only).

Checks (one-sided Student-t tests over replicates, Holm-corrected across the two at 5 %):
per-replicate least-squares slopes of log perplexity over all generations are above zero under
replace, and the paired difference of slopes (replace - accumulate) is above zero.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.metrics.language import KEYS as GENERATED_TEXT_METRICS
from autophagy.reproduce.checks import flip_controlled
from autophagy.reproduce.recipe import ArmMetrics, Recipe, cell_metrics, declare, finish_figure
from autophagy.reproduce.verdict import Check, Note
from autophagy.results.run import Run

LOOPS = {"replace": "fully_synthetic", "accumulate": "accumulate"}
ALPHA = 0.05
T7_METRICS = ("perplexity", *GENERATED_TEXT_METRICS)


T7Data = ArmMetrics  # arms "replace" and "accumulate" (the sweep's loop families)


def t7_read(runs: dict[str, Run]) -> T7Data:
    """The T7 metrics ``(R, T)`` per loop (``replace``, ``accumulate``) from the sweep's cells."""
    return T7Data(cell_metrics(runs["T7"], "loop.family", LOOPS, T7_METRICS, missing="nan"))


def t7_judge(m: T7Data) -> list[Check | Note]:
    """Per-replicate least-squares slopes of log perplexity over all generations; both loops
    share their seed, so the comparison is the paired slope difference (Holm at ``ALPHA``)."""
    replace = stats.replicate_slopes(np.log(m.at("replace", "perplexity")))
    accumulate = stats.replicate_slopes(np.log(m.at("accumulate", "perplexity")))
    gap = replace - accumulate
    return [
        flip_controlled(
            "above",
            "replace: held-out log perplexity rises over generations (per-replicate slopes)",
            replace,
            "T7 replace",
        ),
        flip_controlled(
            "above", "accumulate's rise is smaller than replace's (paired slope difference)", gap, "T7 gap"
        ),
    ]


def t7_draw(m: T7Data, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for loop, colour in zip(LOOPS, ("tab:red", "tab:blue"), strict=True):
        v = m.at(loop, "perplexity")
        gens = np.arange(1, v.shape[1] + 1)
        for row in v:
            axes[0].plot(gens, row, "-", color=colour, alpha=0.25, lw=1)
        axes[0].plot(gens, v.mean(axis=0), "o-", color=colour, ms=3, label=loop)
        q = [m.at(loop, f"generated_perplexity_q{k}").mean(axis=0) for k in (10, 50, 90)]
        axes[1].fill_between(gens, q[0], q[2], color=colour, alpha=0.2, linewidth=0)
        axes[1].plot(gens, q[1], "o-", color=colour, ms=3, label=f"{loop} (median, 10-90 %)")
        axes[2].plot(gens, m.at(loop, "rare_token_share").mean(axis=0), "o-", color=colour, ms=3, label=loop)
    axes[0].set_ylabel("held-out perplexity (real docstrings)")
    axes[1].set_ylabel("generated text: perplexity (gen. 1)")
    axes[2].set_ylabel("real rare tokens still produced")
    title = "T7: GPT-2 trained from scratch on its own text, replace vs accumulate"
    finish_figure(fig, axes, title, path, dpi=64)


RECIPES: dict[str, Recipe] = {
    "T7": declare("T7", t7_judge, t7_draw, read=t7_read),
}
