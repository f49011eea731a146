"""The linear-regression loop of Gerstgrasser et al. (2024), spec G8, batched over replicates.

A fixed design X (T x d, rows N(0, I), one per replicate) and a true weight w*. Generation 1
fits ordinary least squares to labels y_1 = X w* + noise; generation n >= 2 redraws labels
from the previous fit, y_n = X w_(n-1) + noise (noise N(0, sigma^2 I)), and fits either on
them alone (``replace``) or on every label set so far (``accumulate``; the design is the
same, so that is least squares on the mean label vector). The test error of w_n is
E_x[(x . (w_n - w*))^2] = |w_n - w*|^2 for x ~ N(0, I), with closed-form expectations

    replace:     sigma^2 d n / (T - d - 1)
    accumulate:  sigma^2 d / (T - d - 1) * sum_(i <= n) 1 / i^2   (< pi^2 / 6 times generation 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, PositiveInt, model_validator

from autophagy.registry import Options
from autophagy.rng import stream

MODES = ("replace", "accumulate")


class RegressionOptions(Options):
    """Design size T x d, noise level sigma, generations, replicates and seed."""

    samples: PositiveInt = 64  # T, rows of the design
    dim: PositiveInt = 8  # d
    noise: float = Field(1.0, gt=0.0)  # sigma
    generations: PositiveInt = 20
    replicates: PositiveInt = 500
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _enough_rows(self) -> RegressionOptions:
        if self.samples < self.dim + 2:
            raise ValueError(f"samples must be at least dim + 2 = {self.dim + 2} for a finite expected error")
        return self


@dataclass(frozen=True)
class RegressionResult:
    """Test errors ``{mode: (replicates, generations)}`` and their closed forms ``{mode: (G,)}``."""

    options: RegressionOptions
    errors: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]

    def table(self) -> list[dict[str, float]]:
        """Per generation: mean error and standard error of each mode, beside its closed form."""
        rows = []
        for g in range(self.options.generations):
            row: dict[str, float] = {"generation": g + 1}
            for mode in MODES:
                e = self.errors[mode][:, g]
                row[mode] = float(e.mean())
                row[f"{mode}_se"] = float(e.std(ddof=1) / np.sqrt(e.size)) if e.size > 1 else 0.0
                row[f"{mode}_theory"] = float(self.expected[mode][g])
            rows.append(row)
        return rows


def closed_forms(options: RegressionOptions) -> dict[str, np.ndarray]:
    """Expected test error per generation n = 1..G for both modes (Gerstgrasser et al. 2024)."""
    n = np.arange(1, options.generations + 1)
    first = options.noise**2 * options.dim / (options.samples - options.dim - 1)
    return {"replace": first * n, "accumulate": first * np.cumsum(1.0 / n**2)}


def run_regression(options: RegressionOptions) -> RegressionResult:
    """Simulate both modes on the same designs and noise draws; errors ``(R, G)`` per mode."""
    o = options
    rngs = [stream(o.seed, r, 0, "regression") for r in range(o.replicates)]
    design = np.stack([g.standard_normal((o.samples, o.dim)) for g in rngs])  # (R, T, d)
    truth = np.stack([g.standard_normal(o.dim) for g in rngs])  # (R, d)
    noise = o.noise * np.stack([g.standard_normal((o.generations, o.samples)) for g in rngs])  # (R, G, T)
    # least-squares operator (X^T X)^-1 X^T, (R, d, T)
    solve = np.linalg.solve(np.einsum("rti,rtj->rij", design, design), design.transpose(0, 2, 1))

    def fit(labels: np.ndarray) -> np.ndarray:
        return np.einsum("rdt,rt->rd", solve, labels)

    errors = {mode: np.empty((o.replicates, o.generations)) for mode in MODES}
    for mode in MODES:
        weights, label_sum = truth, np.zeros((o.replicates, o.samples))
        for g in range(o.generations):
            labels = np.einsum("rtd,rd->rt", design, weights) + noise[:, g]
            label_sum += labels
            weights = fit(labels if mode == "replace" else label_sum / (g + 1))
            errors[mode][:, g] = ((weights - truth) ** 2).sum(axis=1)
    return RegressionResult(o, errors, closed_forms(o))


def plot_regression(result: RegressionResult, path: str) -> None:
    """Test error versus generation for both modes: replicate mean with a 95 % interval of the
    mean, and the closed forms (dashed); the accumulate bound pi^2/6 times generation 1 (dotted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    o = result.options
    gens = np.arange(1, o.generations + 1)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for mode in MODES:
        e = result.errors[mode]
        mean, se = e.mean(axis=0), e.std(axis=0, ddof=1) / np.sqrt(len(e))
        (line,) = ax.plot(gens, mean, "o-", ms=3, label=f"{mode} (simulated)")
        ax.fill_between(gens, mean - 1.96 * se, mean + 1.96 * se, color=line.get_color(), alpha=0.2, lw=0)
        ax.plot(gens, result.expected[mode], "--", color=line.get_color(), label=f"{mode} (closed form)")
    ax.axhline(np.pi**2 / 6 * result.expected["replace"][0], color="k", ls=":", lw=1, label="pi^2/6 x gen. 1")
    ax.set_xlabel("generation n")
    ax.set_ylabel("test error |w_n - w*|^2")
    ax.set_title(f"linear regression loop, T = {o.samples}, d = {o.dim}, sigma = {o.noise:g}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
