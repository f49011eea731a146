"""Scaling laws of a memorising model on Zipf data, and how synthetic data break them (spec T1-T4).

Items i = 1..N have p(i) ~ i^-beta and fixed answers; the memoriser (Tale of Tails' "Hutter"
model) answers an item correctly iff its training data held it with the right answer, so its
test error is the true mass of the items it got wrong. Each experiment sweeps the training
size T and returns per-replicate errors beside their exact expectation:

- ``clean`` (T1): T clean samples; E = sum_i p_i (1 - p_i)^T ~ T^-(1 - 1/beta).
- ``tail_cut`` (T2): T samples of a generator cut at the top k items (top-k sampling) and/or
  narrowed by a temperature (q ~ p^(1/temperature)); the error plateaus at the mass the
  generator never emits, sum_(i > k) p_i ~ k^-(beta - 1) / ((beta - 1) zeta(beta)).
- ``generations`` (T3): generation 1 learns from ``initial_size`` clean samples; each later
  generation from ``initial_size`` prompts whose answers come from its predecessor (the
  biased generator's prompts, answered wrongly where the predecessor never saw the item);
  the plotted generation n learns from T such samples. An item is right only if every
  generation saw it, so E = 1 - sum_i p_i (1 - (1 - p_i)^T) prod_j (1 - (1 - q_ij)^T0) <=
  T^-c + (n - 1) T0^-c: the scaling law is lost at a level that grows with n (linearly while
  small, Tale of Tails' union bound; more slowly once generations miss the same tail items).
- ``mixing`` (T4): a fraction ``clean_fraction`` of the T samples is clean, the rest comes
  from the tail-cut generator; the error sits on the k^-(beta - 1) plateau until the clean
  part reaches the tail (T ~ k^beta / clean_fraction), then falls again as (pi T)^-c.

Within a replicate the training sets of successive T are nested (one long stream, read in
prefixes), so curves are smooth; replicates are independent streams from ``autophagy.rng``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field, PositiveInt, model_validator
from scipy.special import gamma, zeta

from autophagy.data.discrete import zipf_probabilities
from autophagy.models.discrete import biased_weights
from autophagy.registry import Options
from autophagy.rng import stream


class TailsOptions(Options):
    """One scaling experiment: which (T1-T4), the Zipf law, the sweep over T, the generator."""

    experiment: Literal["clean", "tail_cut", "generations", "mixing"] = "clean"
    beta: float = Field(2.0, gt=1.0)
    n_items: int = Field(100_000, ge=2)
    sizes: list[PositiveInt] = Field(default_factory=lambda: [int(10**e) for e in np.arange(2, 5.01, 0.5)])
    replicates: PositiveInt = 10
    seed: int = Field(0, ge=0)
    top_k: PositiveInt | None = None  # tail cutting of the synthetic generator
    temperature: float = Field(1.0, gt=0.0, le=1.0)  # tail narrowing of the synthetic generator
    generations: list[PositiveInt] = Field(default_factory=lambda: [1, 2, 4, 8])
    initial_size: PositiveInt = 10_000  # T0: samples per earlier generation (generations)
    clean_fraction: float = Field(0.1, gt=0.0, lt=1.0)  # mixing
    fit_from: PositiveInt | None = None  # smallest T in the slope fit (default: the second size)

    @model_validator(mode="after")
    def _consistent(self) -> TailsOptions:
        if sorted(set(self.sizes)) != list(self.sizes) or len(self.sizes) < 2:
            raise ValueError("sizes must be at least two increasing training sizes")
        if self.experiment in ("tail_cut", "mixing") and self.top_k is None and self.temperature == 1.0:
            raise ValueError(f"{self.experiment} needs top_k and/or temperature < 1")
        if self.top_k is not None and self.top_k >= self.n_items:
            raise ValueError(f"top_k must be below n_items = {self.n_items}")
        return self


@dataclass(frozen=True)
class TailsResult:
    """Errors of one experiment: per curve, ``(replicates, len(sizes))`` and its expectation."""

    options: TailsOptions
    sizes: np.ndarray
    errors: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    slopes: dict[str, tuple[float, float]] = field(default_factory=dict)  # mean and standard error
    reference: dict[str, float] = field(default_factory=dict)  # theoretical slope / plateau values

    def table(self) -> list[dict[str, float | str]]:
        """One row per curve: fitted slope with its standard error, final error, expected final."""
        return [
            {
                "curve": label,
                "slope": self.slopes[label][0],
                "slope_se": self.slopes[label][1],
                "final_error": float(self.errors[label][:, -1].mean()),
                "expected_final": float(self.expected[label][-1]),
            }
            for label in self.errors
        ]


def clean_exponent(beta: float) -> float:
    """The clean-data scaling exponent c = 1 - 1/beta (error ~ T^-c)."""
    return 1.0 - 1.0 / beta


def asymptote(probabilities: np.ndarray, beta: float, sizes: np.ndarray) -> np.ndarray:
    """Large-T law of the clean error, Gamma(1 - 1/beta) / (beta Z^(1/beta)) T^-(1 - 1/beta),
    where p_i = i^-beta / Z (integral approximation of sum_i p_i exp(-T p_i))."""
    z = 1.0 / probabilities[0]
    return (
        gamma(1 - 1 / beta)
        / (beta * z ** (1 / beta))
        * np.asarray(sizes, dtype=float) ** -clean_exponent(beta)
    )


def generator(probabilities: np.ndarray, top_k: int | None, temperature: float) -> np.ndarray:
    """The synthetic generator's item distribution: p tempered (q ~ p^(1/temperature)) and cut."""
    order, ranked = biased_weights(probabilities, temperature, top_k)
    q = np.zeros_like(probabilities)
    q[order] = ranked
    return q


def first_seen(q: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Position of each item's first occurrence in ``size`` draws from ``q`` (``size`` if never)."""
    draws = rng.choice(q.size, size=size, p=q)
    items, first = np.unique(draws, return_index=True)
    out = np.full(q.size, size)
    out[items] = first
    return out


def replicate_slopes(sizes: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Least-squares slope of log error on log T, one per replicate row of ``errors`` (R, K) -> (R,)."""
    return np.polyfit(np.log(sizes), np.log(np.maximum(errors, 1e-300)).T, 1)[0]


def fitted_slope(sizes: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of log error on log T per replicate: mean and standard error."""
    slopes = replicate_slopes(sizes, errors)
    se = slopes.std(ddof=1) / np.sqrt(slopes.size) if slopes.size > 1 else 0.0
    return float(slopes.mean()), float(se)


def run_tails(options: TailsOptions) -> TailsResult:
    """Run the experiment over ``options.sizes``; see the module docstring for each kind."""
    o = options
    p = zipf_probabilities(o.beta, o.n_items)
    q = generator(p, o.top_k, o.temperature)
    sizes = np.asarray(o.sizes)
    big = int(sizes[-1])
    reps = range(o.replicates)
    rng = [stream(o.seed, r, 0, "tails") for r in reps]
    errors: dict[str, np.ndarray] = {}
    expected: dict[str, np.ndarray] = {}
    reference = {"clean_slope": -clean_exponent(o.beta)}

    def unseen(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return first[None, :] >= counts[:, None]  # (len(sizes), N)

    if o.experiment in ("clean", "tail_cut"):
        train = p if o.experiment == "clean" else q
        label = "clean" if o.experiment == "clean" else _cut_label(o)
        errors[label] = np.stack([unseen(first_seen(train, big, g), sizes) @ p for g in rng])
        expected[label] = np.array([(p * (1 - train) ** t).sum() for t in sizes])
        if o.experiment == "tail_cut":
            errors["clean"] = np.stack([unseen(first_seen(p, big, g), sizes) @ p for g in rng])
            expected["clean"] = np.array([(p * (1 - p) ** t).sum() for t in sizes])
            reference["plateau"] = float(p[q == 0].sum()) if o.top_k else float("nan")
            if o.top_k:  # sum_(i > k) i^-beta / zeta(beta), the integral approximation
                reference["plateau_law"] = o.top_k ** (1 - o.beta) / ((o.beta - 1) * zeta(o.beta))
            if o.temperature < 1:  # a narrowed generator q ~ i^-(beta / temperature)
                reference["narrowed_slope"] = -(o.beta - 1) * o.temperature / o.beta
    elif o.experiment == "generations":
        for n in o.generations:
            earlier = [p] + [q] * (n - 2) if n > 1 else []  # generation 1 learns from clean data
            correct_before = np.stack([_learned_all(o.n_items, earlier, o.initial_size, g) for g in rng])
            last = q if n > 1 else p
            seen_last = np.stack([~unseen(first_seen(last, big, g), sizes) for g in rng])
            errors[f"generation {n}"] = 1.0 - (seen_last & correct_before[:, None, :]) @ p
            keep = np.prod([1 - (1 - qq) ** o.initial_size for qq in earlier], axis=0) if earlier else 1.0
            expected[f"generation {n}"] = np.array(
                [1 - (p * keep * (1 - (1 - last) ** t)).sum() for t in sizes]
            )
        reference["per_generation"] = float((p * (1 - q) ** o.initial_size).sum())
    else:
        n_clean = np.rint(o.clean_fraction * sizes).astype(int)
        n_synthetic = sizes - n_clean
        mixed = []
        for g in rng:
            clean_first, synthetic_first = (
                first_seen(p, int(n_clean[-1]), g),
                first_seen(q, int(n_synthetic[-1]), g),
            )
            mixed.append((unseen(clean_first, n_clean) & unseen(synthetic_first, n_synthetic)) @ p)
        label = f"{o.clean_fraction:g} clean + {_cut_label(o)}"
        errors[label] = np.stack(mixed)
        expected[label] = np.array(
            [(p * (1 - p) ** a * (1 - q) ** b).sum() for a, b in zip(n_clean, n_synthetic, strict=True)]
        )
        errors["synthetic only"] = np.stack([unseen(first_seen(q, big, g), sizes) @ p for g in rng])
        expected["synthetic only"] = np.array([(p * (1 - q) ** t).sum() for t in sizes])
        reference["plateau"] = float(p[q == 0].sum()) if o.top_k else float("nan")
        if o.top_k:
            reference["delay"] = float(o.top_k**o.beta / o.clean_fraction)
    start = np.searchsorted(sizes, o.fit_from if o.fit_from else sizes[1])
    slopes = {label: fitted_slope(sizes[start:], e[:, start:]) for label, e in errors.items()}
    return TailsResult(o, sizes, errors, expected, slopes, reference)


def _learned_all(n_items: int, earlier: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """Items learned correctly by generation len(earlier) (seen in every one of its ancestors)."""
    correct = np.ones(n_items, dtype=bool)
    for train in earlier:
        correct &= first_seen(train, size, rng) < size
    return correct


def _cut_label(o: TailsOptions) -> str:
    parts = ([f"top-{o.top_k}"] if o.top_k else []) + (
        [f"temperature {o.temperature:g}"] if o.temperature < 1 else []
    )
    return " ".join(parts)


def plot_tails(result: TailsResult, path: str) -> None:
    """Save :func:`draw_tails` of ``result`` to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=110)
    draw_tails(result, ax)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def draw_tails(result: TailsResult, ax) -> None:
    """Log-log error versus T on a matplotlib ``ax``: replicate mean (points, 10-90 % band), exact
    expectation (solid), the clean asymptote C T^-(1 - 1/beta) (dashed) and any plateau (dotted);
    slopes in the legend."""
    o, sizes = result.options, result.sizes
    for label, e in result.errors.items():
        slope, se = result.slopes[label]
        (line,) = ax.plot(sizes, e.mean(axis=0), "o", ms=4, label=f"{label}: slope {slope:.3f} ± {se:.3f}")
        low, high = np.quantile(e, [0.1, 0.9], axis=0)
        ax.fill_between(sizes, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.plot(sizes, result.expected[label], "-", color=line.get_color(), lw=1)
    p = zipf_probabilities(o.beta, o.n_items)
    ax.plot(
        sizes, asymptote(p, o.beta, sizes), "k--", lw=1, label=f"T^-{clean_exponent(o.beta):.3f} (theory)"
    )
    if o.experiment == "mixing":
        clean_law = asymptote(p, o.beta, o.clean_fraction * sizes)
        ax.plot(sizes, clean_law, "k-.", lw=1, label="(pi T)^-c: the clean part alone")
        if "delay" in result.reference:
            ax.axvline(result.reference["delay"], color="grey", ls=":", lw=1, label="k^beta / pi")
    if np.isfinite(result.reference.get("plateau", np.nan)):
        ax.axhline(
            result.reference["plateau"], color="k", ls=":", lw=1, label=f"tail mass beyond k={o.top_k}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training size T")
    ax.set_ylabel("test error")
    ax.set_title(f"{o.experiment}, beta = {o.beta:g}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
