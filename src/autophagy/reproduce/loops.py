"""Recipes G8, T5 and T6 (spec §4): the regression, categorical and text loops.

Their loops are ``configs/G8.toml`` (the ``linear_regression`` data and ``ols`` model, a sweep
over the loop family: replace = ``fully_synthetic`` and ``accumulate``), ``configs/T5.toml``
and ``configs/T6.toml`` (fully synthetic, T6 a sweep over the temperature). G8 is judged
against the closed forms of :func:`autophagy.models.ols.closed_form_errors`, T5 against the
exact Gini-Simpson identity, T6 comparing lexical diversity across generations and
temperatures with paired replicate intervals.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from autophagy.core import stats
from autophagy.models.ols import closed_form_errors
from autophagy.reproduce import checks
from autophagy.reproduce.checks import controlled, equals, flip_controlled, matches_everywhere
from autophagy.reproduce.design import margin
from autophagy.reproduce.recipe import Recipe, declare, finish_figure, save_figure
from autophagy.reproduce.verdict import Check, Fact, Note
from autophagy.results.pictures import data_source
from autophagy.results.run import Run

# --- G8: linear regression, replace versus accumulate ------------------------------------


MODES = {"replace": "fully_synthetic", "accumulate": "accumulate"}


@dataclass(frozen=True)
class G8Data:
    """Test errors ``{mode: (R, G)}`` of both loops (same design per replicate) and
    their closed forms ``{mode: (G,)}``."""

    samples: int
    dim: int
    noise: float
    errors: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]


def g8_read(runs: dict[str, Run]) -> G8Data:
    """Test errors per mode (one sweep cell per loop family) and their closed forms."""
    sweep = runs["G8"]
    config = sweep.cells[0]["config"]
    family = {c["values"]["loop.family"]: sweep.arrays(i)["test_error"] for i, c in enumerate(sweep.cells)}
    errors = {mode: family[name] for mode, name in MODES.items()}
    data = config["data"]
    expected = closed_form_errors(data["samples"], data["dim"], data["noise"], config["generations"])
    return G8Data(data["samples"], data["dim"], data["noise"], errors, expected)


def g8_judge(m: G8Data) -> list[Check | Note]:
    """The closed forms at every generation and the two growth laws as equivalences (margins, as
    fractions of the generation-1 error, in ``designs/G8.toml``; controls: each loop's errors
    against the other loop's closed form), the accumulate bound and replace ending above
    accumulate (controls: signs flipped)."""
    replace, accumulate = m.errors["replace"], m.errors["accumulate"]
    first = m.expected["replace"][0]  # sigma^2 d / (T - d - 1)
    n = replace.shape[1]
    half = n // 2
    tail = first * float(np.sum(1.0 / np.arange(half + 1, n + 1) ** 2))  # sum_(n/2 < i <= n) 1/i^2
    bound = math.pi**2 / 6
    width, why = margin("G8", "closed_form")
    slope_width, slope_why = margin("G8", "replace_slope")
    growth_width, growth_why = margin("G8", "accumulate_growth")
    other = "against the other loop's closed form"
    under = accumulate[:, -1] - bound * accumulate[:, 0]
    ends = replace[:, -1] - accumulate[:, -1]
    return [
        controlled(
            matches_everywhere(
                "replace: mean error = sigma^2 d n / (T - d - 1) at every n",
                replace,
                m.expected["replace"],
                width,
                why,
            ),
            matches_everywhere("", accumulate, m.expected["replace"], width, why),
            "accumulate's errors " + other,
        ),
        controlled(
            matches_everywhere(
                "accumulate: mean error = sigma^2 d / (T - d - 1) sum_(i<=n) 1/i^2 at every n",
                accumulate,
                m.expected["accumulate"],
                width,
                why,
            ),
            matches_everywhere("", replace, m.expected["accumulate"], width, why),
            "replace's errors " + other,
        ),
        controlled(
            equals(
                "replace grows linearly: least-squares slope over all n = sigma^2 d / (T - d - 1)",
                stats.trend(replace),
                first,
                slope_width * first,
                slope_why,
            ),
            equals("", stats.trend(accumulate), first, slope_width * first, slope_why),
            "accumulate's slope against replace's",
        ),
        controlled(
            equals(  # tight: the growth left after n/2 is about first / n, not a pi^2/6 ceiling
                f"accumulate flattens: growth from n = {half} to {n} = sigma^2 d / (T - d - 1) "
                f"sum_({half}<i<={n}) 1/i^2",
                stats.paired(accumulate[:, -1], accumulate[:, half - 1]),
                tail,
                growth_width * first,
                growth_why,
            ),
            equals(
                "", stats.paired(replace[:, -1], replace[:, half - 1]), tail, growth_width * first, growth_why
            ),
            "replace's growth over the same generations",
        ),
        flip_controlled(
            "below",
            f"accumulate at n = {n} below pi^2/6 x the generation-1 error (margin ~ 1/n of it)",
            under,
            "G8 bound",
        ),
        flip_controlled("above", f"replace ends above accumulate (n = {n})", ends, "G8 ends"),
    ]


def g8_draw(m: G8Data, path: Path) -> None:
    """Test error versus generation for both loops: replicate mean with a 95 % interval of the
    mean, the closed forms (dashed) and the accumulate bound pi^2/6 times generation 1 (dotted)."""
    gens = np.arange(1, m.errors["replace"].shape[1] + 1)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for mode, e in m.errors.items():
        mean, se = e.mean(axis=0), e.std(axis=0, ddof=1) / np.sqrt(len(e))
        (line,) = ax.plot(gens, mean, "o-", ms=3, label=f"{mode} (autophagy run)")
        ax.fill_between(gens, mean - 1.96 * se, mean + 1.96 * se, color=line.get_color(), alpha=0.2, lw=0)
        ax.plot(gens, m.expected[mode], "--", color=line.get_color(), label=f"{mode} (closed form)")
    ax.axhline(np.pi**2 / 6 * m.expected["replace"][0], color="k", ls=":", lw=1, label="pi^2/6 x gen. 1")
    ax.set_xlabel("generation n")
    ax.set_ylabel("test error |w_n - w*|^2")
    ax.set_title(f"G8: linear regression loop, T = {m.samples}, d = {m.dim}, sigma = {m.noise:g}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path, dpi=110)


# --- T5: categorical replace loop ----------------------------------------------------------


@dataclass(frozen=True)
class T5Data:
    """Gini-Simpson index and surviving outcomes ``(R, T)``; the truth's index ``1 - sum p0^2``."""

    n: int
    n_categories: int
    gini0: float
    gini: np.ndarray
    surviving: np.ndarray


def t5_read(runs: dict[str, Run]) -> T5Data:
    """The Gini-Simpson index and surviving outcomes of the one loop, and the truth's index."""
    sweep = runs["T5"]
    config = sweep.cells[0]["config"]
    p0 = data_source(config).probabilities
    values = sweep.arrays(0)
    n, n_categories = config["loop"]["n_synthetic"], config["data"]["n_categories"]
    return T5Data(n, n_categories, float(1 - (p0**2).sum()), values["gini_simpson"], values["surviving"])


def t5_expected(m: T5Data) -> np.ndarray:
    """E[1 - sum p_t^2] = (1 - 1/n)^t (1 - sum p0^2), t = 1..T (generation 1 fits real data)."""
    return (1 - 1 / m.n) ** np.arange(1, m.gini.shape[1] + 1) * m.gini0


def t5_judge(m: T5Data) -> list[Check | Fact | Note]:
    """The Gini-Simpson closed form at every generation (relative margin in ``designs/T5.toml``;
    control: the index shifted one generation, i.e. compared with the next generation's
    expectation) and the decline of surviving outcomes (control: signs flipped). That a lost
    outcome never returns is a property of the code (a category of probability 0 is never
    drawn): a fact."""
    increases = int((np.diff(m.surviving, axis=1) > 0).sum())
    width, why = margin("T5", "closed_form")
    expected = t5_expected(m)
    slopes = stats.replicate_slopes(m.surviving)
    t = m.gini.shape[1]
    return [
        controlled(
            matches_everywhere(
                "E[1 - sum p_t^2] = (1 - 1/n)^t (1 - sum p0^2) at every t", m.gini, expected, width, why
            ),
            matches_everywhere("", m.gini[:, :1], expected[-1:], width, why),
            f"generation 1's index against generation {t}'s expectation",
        ),
        checks.fact(
            "a lost outcome never returns (surviving never increases)",
            increases == 0,
            f"{increases} increases in {m.surviving.shape[0]} replicates",
        ),
        flip_controlled(
            "below",
            f"outcomes die out: surviving outcomes fall over generations 1-{t} (slope)",
            slopes,
            "T5 slopes",
        ),
    ]


def t5_draw(m: T5Data, path: Path) -> None:
    gens = np.arange(1, m.gini.shape[1] + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    mean, se = m.gini.mean(axis=0), m.gini.std(axis=0, ddof=1) / math.sqrt(len(m.gini))
    axes[0].errorbar(gens, mean, yerr=1.96 * se, fmt="o", ms=3, capsize=2, label="simulated (95 % interval)")
    axes[0].plot(gens, t5_expected(m), "k-", lw=1, label="(1 - 1/n)^t (1 - sum p0^2)")
    axes[0].set_ylabel("Gini-Simpson 1 - sum p_t^2")
    axes[1].plot(gens, m.surviving.mean(axis=0), "o-", ms=3, label="mean")
    low, high = np.quantile(m.surviving, [0.1, 0.9], axis=0)
    axes[1].fill_between(gens, low, high, alpha=0.2, linewidth=0, label="10-90 %")
    axes[1].set_ylabel("surviving outcomes")
    title = f"T5: categorical replace loop, {m.n_categories} Zipf outcomes, n = {m.n}"
    finish_figure(fig, axes, title, path, xlabel="generation t")


# --- T6: n-gram language model trained on its own text ------------------------------------

T6_METRICS = ("distinct_2", "unigram_entropy", "tail_mass")


@dataclass(frozen=True)
class T6Data:
    """Per temperature (hottest first): every diversity metric ``(R, T)``, plus exact cross-entropy."""

    temperatures: tuple[float, ...]
    values: dict[float, dict[str, np.ndarray]]


def t6_read(runs: dict[str, Run]) -> T6Data:
    """Every metric per temperature (``loop.sampling_bias``), one sweep cell each."""
    sweep = runs["T6"]
    values = {cell["values"]["loop.sampling_bias"]: sweep.arrays(i) for i, cell in enumerate(sweep.cells)}
    return T6Data(tuple(sorted(values, reverse=True)), values)


def t6_judge(m: T6Data) -> list[Check | Note]:
    """Trends over all generations (per-replicate least-squares slopes). Every temperature runs
    with the same seed, so "faster" compares slopes of the share of generation 1's value kept,
    paired per replicate."""
    items: list[Check | Note] = []
    for temperature in m.temperatures:
        for name in T6_METRICS:
            v = m.values[temperature][name]
            claim = f"temperature {temperature:g}: {name} falls over generations (slope)"
            if temperature < 1 or name != "tail_mass":
                slopes = stats.replicate_slopes(v)
                flipped = checks.sign_flipped(slopes, f"T6 {temperature} {name}")
                items.append(
                    controlled(
                        checks.below(claim, stats.mean(slopes)),
                        checks.below("", stats.mean(flipped)),
                        "signs flipped",
                    )
                )
            else:
                # at temperature 1 the loop is unbiased: token frequencies only drift, so the
                # share of tail tokens need not fall within a few generations
                items.append(Note(f"{claim} (reported, not judged)", f"slope {stats.trend(v).value:.4g}"))
    for hot, cold in itertools.pairwise(m.temperatures):
        for name in T6_METRICS:
            h, c = m.values[hot][name], m.values[cold][name]
            faster = stats.replicate_slopes(c / c[:, :1]) - stats.replicate_slopes(h / h[:, :1])
            items.append(
                flip_controlled(
                    "below",
                    f"{name} falls faster at temperature {cold:g} than {hot:g} (slope of the share kept)",
                    faster,
                    f"T6 {hot} {cold} {name}",
                )
            )
    return items


def t6_draw(m: T6Data, path: Path) -> None:
    names = (*T6_METRICS, "cross_entropy_true")
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    for ax, name in zip(axes.flat, names, strict=True):
        for temperature in m.temperatures:
            v = m.values[temperature][name]
            gens = np.arange(1, v.shape[1] + 1)
            (line,) = ax.plot(gens, v.mean(axis=0), "o-", ms=3, label=f"temperature {temperature:g}")
            low, high = np.quantile(v, [0.1, 0.9], axis=0)
            ax.fill_between(gens, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_title(name)
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("T6: bigram model trained recursively on its own text (built-in language)")
    save_figure(fig, path, dpi=64)


RECIPES: dict[str, Recipe] = {
    "G8": declare("G8", g8_judge, g8_draw, read=g8_read),
    "T5": declare("T5", t5_judge, t5_draw, read=t5_read),
    "T6": declare("T6", t6_judge, t6_draw, read=t6_read),
}
