"""Recipe T7: the curse of recursion (Shumailov et al.) at CPU size, replace versus accumulate.

A small GPT-2 is trained from scratch (byte-level BPE tokenizer trained locally) on the default
offline corpus, the docstrings of 20 pinned standard-library modules. Each later generation
trains a fresh network (seeded by replicate and generation) on text the previous generation
generated: under ``replace`` (``fully_synthetic``) on that text only, under ``accumulate`` on
every real and synthetic document so far, with the same optimiser steps. Held-out perplexity on
real docstrings is the verdict's measure; every language metric is recorded.

Both loops run as one sweep through the driver (:func:`autophagy.api.run`) into the
recipe's folder, so a killed run resumes from its last committed generation with identical
numbers. Replicate i of both loops uses the same seed, and the loops are compared by the
per-replicate difference of their slopes (a paired test, valid however the two correlate; the
loops draw their generation-1 sets under different stream roles, so the pairing is by seed only).

Checks (one-sided Student-t tests over replicates, Holm-corrected across the two at 5 %):
per-replicate least-squares slopes of log perplexity over all generations are above zero under
replace, and the paired difference of slopes (replace - accumulate) is above zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from autophagy.api import run
from autophagy.core import stats
from autophagy.metrics.language import KEYS as GENERATED_TEXT_METRICS
from autophagy.reproduce.recipe import Recipe, save_figure
from autophagy.reproduce.verdict import Check, Note, above
from autophagy.results.run import Run

LOOPS = {"replace": "fully_synthetic", "accumulate": "accumulate"}
ALPHA = 0.05
T7_METRICS = ("perplexity", *GENERATED_TEXT_METRICS)


@dataclass(frozen=True)
class T7Data:
    """Per loop (``replace``, ``accumulate``): every metric ``(R, T)``."""

    values: dict[str, dict[str, np.ndarray]]
    seconds: float

    def at(self, loop: str, metric: str) -> np.ndarray:
        return self.values[loop][metric]


def t7_config(
    *,
    replicates: int,
    generations: int,
    n: int,
    steps: int,
    layers: int,
    width: int,
    heads: int,
    context: int,
    vocab_size: int,
    max_bytes: int,
    max_new_tokens: int,
    score_samples: int,
    seed: int = 0,
) -> dict[str, Any]:
    """The sweep config of T7: both loops as cells of one run folder."""
    return {
        "name": "T7",
        "seed": seed,
        "replicates": replicates,
        "generations": generations,
        "block_size": 1,
        "data": {"kind": "documents", "format": "stdlib", "max_bytes": max_bytes},
        "model": {
            "kind": "hf_causal_lm",
            "architecture": "gpt2",
            "layers": layers,
            "width": width,
            "heads": heads,
            "context": context,
            "seq_length": context,
            "vocab_size": vocab_size,
            "steps": steps,
            "batch_size": 16,
            "lr": 2e-3,
            "schedule": "cosine",
            "warmup": 0.05,
            "max_new_tokens": max_new_tokens,
            "score_samples": score_samples,
        },
        "loop": {"family": "fully_synthetic", "n_ini": n, "n_synthetic": n},
        "metrics": {"names": list(T7_METRICS), "n_eval": 8, "k": 2},
        "sweep": {"grid": {"loop.family": list(LOOPS.values())}},
    }


def t7_measure(folder: Path | None = None, workers: int | None = None, **sizes: Any) -> T7Data:
    """Run (or resume) the T7 sweep in ``folder`` (default ``runs/reproduce/T7``) and read its rows."""
    start = time.perf_counter()
    out = Path(folder or Path("runs") / "reproduce" / "T7") / "runs"
    done = run(t7_config(**sizes), out, workers=workers, progress=False, plots=False, task_seconds=0.0)
    return read_t7(done, sizes["replicates"], sizes["generations"], time.perf_counter() - start)


def read_t7(sweep: Run, replicates: int, generations: int, seconds: float = 0.0) -> T7Data:
    """The T7 metrics ``(R, T)`` per loop from the sweep the recipe ran."""
    families = {cell["values"]["loop.family"]: i for i, cell in enumerate(sweep.cells)}
    index = {m: j for j, m in enumerate(T7_METRICS)}
    rows = sweep.rows()
    values: dict[str, dict[str, np.ndarray]] = {}
    for loop, family in LOOPS.items():
        table = np.full((len(T7_METRICS), replicates, generations), np.nan)
        for cell, replicate, generation, metric, value in rows:
            if cell == families[family] and metric in index:
                table[index[metric], replicate, generation - 1] = value
        values[loop] = {m: table[j] for m, j in index.items()}
    return T7Data(values, seconds)


def t7_judge(m: T7Data) -> list[Check | Note]:
    """Per-replicate least-squares slopes of log perplexity over all generations; both loops
    share their seed, so the comparison is the paired slope difference (Holm at ``ALPHA``)."""
    replace = stats.replicate_slopes(np.log(m.at("replace", "perplexity")))
    accumulate = stats.replicate_slopes(np.log(m.at("accumulate", "perplexity")))
    return [
        above(
            "replace: held-out log perplexity rises over generations (per-replicate slopes)",
            stats.mean(replace),
        ),
        above(
            "accumulate's rise is smaller than replace's (paired slope difference)",
            stats.paired(replace, accumulate),
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
    for ax in axes:
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("T7: GPT-2 trained from scratch on its own text, replace vs accumulate")
    save_figure(fig, path, dpi=64)


QUICK = {
    "replicates": 3,
    "generations": 5,
    "n": 240,
    "steps": 120,
    "layers": 2,
    "width": 64,
    "heads": 2,
    "context": 96,
    "vocab_size": 1000,
    "max_bytes": 256,
    "max_new_tokens": 95,
    "score_samples": 32,
}
RECIPES: dict[str, Recipe] = {
    "T7": Recipe(
        "T7",
        "GPT-2 (transformers) trained from scratch on its own text, replace vs accumulate (Shumailov et al.)",
        "held-out perplexity rises over generations under replace; accumulate's rise is smaller",
        {
            "quick": QUICK,
            "full": {
                **QUICK,
                "replicates": 5,
                "generations": 10,
                "n": 600,
                "steps": 400,
                "layers": 4,
                "width": 128,
                "heads": 4,
                "context": 128,
                "max_new_tokens": 127,
                "score_samples": 128,
            },
        },
        t7_measure,
        t7_judge,
        t7_draw,
        ALPHA,
    )
}
