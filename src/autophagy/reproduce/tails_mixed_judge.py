"""Recipes T3 and T4 (Tale of Tails): generations of synthetic data, and clean data mixed into
top-k synthetic data, judged against the exact laws of :mod:`.tails_judge`."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from autophagy.core import stats
from autophagy.reproduce.checks import (
    above,
    all_of,
    below,
    controlled,
    fact,
    flip_controlled,
    sign_flipped,
)
from autophagy.reproduce.tails_judge import (
    TailsResult,
    clean_exponent,
    closed_form,
    draw_results,
    random_points,
    replicate_slopes,
)
from autophagy.reproduce.verdict import Check, Fact, Note


def t3_judge(m: TailsResult) -> list[Check | Fact | Note]:
    """Generation 1's closed form (control: the last generation against it); the error growing
    with every replace generation at every T (control: signs flipped); accumulate_subsample
    forgetting less than replace. Accumulate keeping generation 1's error exactly is a fact
    of the memoriser (it keeps every item it saw)."""
    gens = sorted(int(label.split()[-1]) for label in m.errors if label.startswith("generation"))
    last = gens[-1]
    items: list[Check | Fact | Note] = [
        closed_form(
            "generation 1: mean error = sum_i p_i (1 - p_i)^T at every T",
            "T3",
            m.errors["generation 1"],
            m.expected["generation 1"],
            m.errors[f"generation {last}"],
        )
    ]
    for col, size in enumerate(m.sizes):
        steps = [
            m.errors[f"generation {b}"][:, col] - m.errors[f"generation {a}"][:, col]
            for a, b in itertools.pairwise(gens)
        ]
        pairs = list(itertools.pairwise(gens))
        grows = [
            above(f"generation {a} -> {b}", stats.mean(d)) for (a, b), d in zip(pairs, steps, strict=True)
        ]
        flips = [
            above(f"generation {a} -> {b}", stats.mean(sign_flipped(d, f"T3 {size} {a}")))
            for (a, b), d in zip(pairs, steps, strict=True)
        ]
        items.append(
            controlled(
                all_of(f"replace: error at T = {size} grows with every step in generations", grows),
                all_of("", flips),
                "signs flipped",
            )
        )
    kept, first = m.errors[f"accumulate, generation {last}"], m.errors["accumulate, generation 1"]
    items.append(
        fact(
            f"accumulate: the error at generation {last} is generation 1's at every T (nothing is forgotten)",
            bool(np.array_equal(kept, first)),
            f"largest difference {np.abs(kept - first).max():.3g}",
        )
    )
    gap = m.errors[f"generation {last}"][:, -1] - m.errors[f"accumulate_subsample, generation {last}"][:, -1]
    items.append(
        flip_controlled(
            "above",
            f"accumulate_subsample forgets less than replace (generation {last}, T = {m.sizes[-1]})",
            gap,
            "T3 subsample",
        )
    )
    return items


def t3_draw(m: TailsResult, path: Path) -> None:
    draw_results([m], path, "T3: generations of synthetic data (each of size T)")


def t4_judge(m: TailsResult) -> list[Check | Fact | Note]:
    """The closed form at every T where the mixed error varies (control: the synthetic-only
    errors against it); a delay, then the clean rate resuming (slopes before and after T*;
    controls: each slope test on the other stretch of T); mixing beating synthetic
    only (control: signs flipped). Synthetic only sitting exactly on the plateau is a fact."""
    sizes = m.sizes
    label = f"{m.clean_fraction:g} clean + top-{m.top_k}"
    mixed, delay = m.errors[label], m.reference["delay"]  # k^beta / pi
    synthetic = m.errors["synthetic only"]
    before = (sizes >= delay / 10) & (sizes <= delay)
    after = sizes >= 10 * delay
    half = -clean_exponent(m.beta) / 2
    random = random_points(mixed)
    slope_before = stats.mean(replicate_slopes(sizes[before], mixed[:, before]))
    slope_after = stats.mean(replicate_slopes(sizes[after], mixed[:, after]))
    off = float(np.abs(synthetic[:, -1] - m.reference["plateau"]).max())
    gap = synthetic[:, -1] - mixed[:, -1]
    return [
        closed_form(
            "mean error = sum_i p_i (1 - pi p_i - (1 - pi) q_i)^T at every T where it varies",
            "T4",
            mixed[:, random],
            m.expected[label][random],
            mixed[:, random],
            m.expected["synthetic only"][random],
            "these errors against the synthetic-only closed form",
        ),
        fact(
            "synthetic only: every replicate on the plateau at the largest T",
            off <= 1e-9 * m.reference["plateau"],
            f"largest deviation from the mass beyond k {off:.3g}",
        ),
        controlled(
            above(
                f"a delay: slope over T in [T*/10, T*] shallower than -(1 - 1/beta)/2 "
                f"(T* = k^beta/pi = {delay:g})",
                slope_before,
                half,
            ),
            above("", slope_after, half),
            "the slopes over T >= 10 T* (after the delay)",
        ),
        controlled(
            below(
                f"then scaling resumes: slope over T >= 10 T* steeper than -(1 - 1/beta)/2 "
                f"(-c = {2 * half:g})",
                slope_after,
                half,
            ),
            below("", slope_before, half),
            "the slopes over T in [T*/10, T*] (during the delay)",
        ),
        flip_controlled("above", f"mixing beats synthetic only at T = {sizes[-1]}", gap, "T4 mixing"),
    ]


def t4_draw(m: TailsResult, path: Path) -> None:
    draw_results([m], path, f"T4: {m.clean_fraction:g} clean data mixed into top-{m.top_k} data")
