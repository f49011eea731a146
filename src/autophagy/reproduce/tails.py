"""Recipes T1-T4 (spec §4): the memoriser's scaling laws on Zipf data, and how synthetic data break them.

Each recipe is one ``autophagy run`` sweep (``reproduce/configs/T1.toml`` ... ``T4.toml``, at
the full profile's sizes; the profiles below override them) of the ``memorizer`` model on
``zipf`` data over T = ``loop.n_ini`` (and ``loop.n_synthetic``, every later generation's
size), whose cells ``tN_read`` turns into :class:`~.tails_judge.TailsResult` objects:

- T1: clean data of size T, one generation, swept over ``data.beta``;
  E = sum_i p_i (1 - p_i)^T ~ T^-(1 - 1/beta).
- T2: the source cut at the top k items (``data.top_k``, a perfect generator with tail
  cutting; k = n_items is the clean curve): E = sum_i p_i (1 - q_i)^T, plateau
  sum_(i > k) p_i ~ k^-(beta - 1) / ((beta - 1) zeta(beta)).
- T3: generations of synthetic data: the replace loop (``fully_synthetic``; each generation
  learns from T samples of its predecessor), ``accumulate`` and ``accumulate_subsample``
  (``[metrics] generations`` names the generations judged); generation 1 has
  E = sum_i p_i (1 - p_i)^T and the error grows with the generation under replace, never
  under accumulate (the memoriser keeps every item it saw).
- T4: a clean fraction pi mixed into top-k data (``data.clean_fraction``; 0 = synthetic
  only): E = sum_i p_i (1 - pi p_i - (1 - pi) q_i)^T, a plateau until T ~ k^beta / pi, then
  the clean part's (pi T)^-c.

Within a replicate the cells' training sets are nested (the same stream read in prefixes), so
curves are smooth and the cells of a sweep are paired; replicates are independent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import zeta

from autophagy.data.discrete import zipf_probabilities
from autophagy.reproduce.recipe import Recipe, declare
from autophagy.reproduce.tails_judge import (
    TailsResult,
    cut_law,
    t1_draw,
    t1_judge,
    t2_draw,
    t2_judge,
    unseen_mass,
    with_slopes,
)
from autophagy.reproduce.tails_mixed_judge import t3_draw, t3_judge, t4_draw, t4_judge
from autophagy.results.run import Run


def setting(cell: dict[str, Any], key: str) -> Any:
    """The dotted ``key`` of a run cell's resolved config (swept or not)."""
    value = cell["config"]
    for part in key.split("."):
        value = value[part]
    return value


def curves(run: Run, key: str | None = None) -> tuple[np.ndarray, dict[Any, np.ndarray]]:
    """The sizes T (increasing) and, per value of ``key`` (one curve if None), the test errors
    ``(R, generations, len(sizes))`` of the run's cells (NaN at generations not evaluated)."""
    by_label: dict[Any, dict[int, np.ndarray]] = {}
    for index, cell in enumerate(run.cells):
        label = setting(cell, key) if key else None
        by_label.setdefault(label, {})[setting(cell, "loop.n_ini")] = run.arrays(index)["test_error"]
    sizes = np.array(sorted({t for by_size in by_label.values() for t in by_size}))
    return sizes, {label: np.stack([m[t] for t in sizes], axis=-1) for label, m in by_label.items()}


def _source(run: Run) -> tuple[float, int, np.ndarray]:
    """beta, N and the Zipf law p of the run's data (the same in every cell of T2-T4)."""
    data = run.cells[0]["config"]["data"]
    return data["beta"], data["n_items"], zipf_probabilities(data["beta"], data["n_items"])


def t1_read(runs: dict[str, Run]) -> list[TailsResult]:
    """One clean curve per beta, beside sum_i p_i (1 - p_i)^T."""
    run = runs["T1"]
    n_items = run.cells[0]["config"]["data"]["n_items"]
    sizes, by_beta = curves(run, "data.beta")
    results = []
    for beta, errors in by_beta.items():
        p = zipf_probabilities(beta, n_items)
        result = TailsResult(
            "clean", beta, n_items, sizes, {"clean": errors[:, 0]}, {"clean": unseen_mass(p, p, sizes)}
        )
        results.append(with_slopes(result))
    return results


def t2_read(runs: dict[str, Run]) -> list[TailsResult]:
    """One result per cut k, each with the clean curve (the cell with k = n_items) beside it."""
    beta, n_items, p = _source(runs["T2"])
    sizes, by_k = curves(runs["T2"], "data.top_k")
    results = []
    for k in (k for k in by_k if k != n_items):
        errors = {f"top-{k}": by_k[k][:, 0], "clean": by_k[n_items][:, 0]}
        expected = {f"top-{k}": unseen_mass(p, cut_law(p, k), sizes), "clean": unseen_mass(p, p, sizes)}
        reference = {
            "plateau": float(p[k:].sum()),
            "plateau_law": k ** (1 - beta) / ((beta - 1) * zeta(beta)),
        }
        results.append(
            with_slopes(TailsResult("tail_cut", beta, n_items, sizes, errors, expected, {}, reference, k))
        )
    return results


def t3_read(runs: dict[str, Run]) -> TailsResult:
    """Replace's curves at every evaluated generation ("generation n"), accumulate's and
    accumulate_subsample's at the first and last ("FAMILY, generation n")."""
    run = runs["T3"]
    beta, n_items, p = _source(run)
    config = run.cells[0]["config"]
    generations = config["metrics"].get("generations") or list(range(1, config["generations"] + 1))
    sizes, by_family = curves(run, "loop.family")
    errors, expected = {}, {}
    for family, values in by_family.items():
        for n in generations if family == "fully_synthetic" else (generations[0], generations[-1]):
            label = f"generation {n}" if family == "fully_synthetic" else f"{family}, generation {n}"
            errors[label] = values[:, n - 1]
            expected[label] = unseen_mass(p, p, sizes) if n == 1 else np.full(sizes.size, np.nan)
    reference = {"generations": float(generations[-1])}
    return with_slopes(TailsResult("generations", beta, n_items, sizes, errors, expected, {}, reference))


def t4_read(runs: dict[str, Run]) -> TailsResult:
    """The mixed curve (clean fraction pi > 0) beside the synthetic-only one (pi = 0)."""
    run = runs["T4"]
    beta, n_items, p = _source(run)
    top_k = run.cells[0]["config"]["data"]["top_k"]
    sizes, by_share = curves(run, "data.clean_fraction")
    share = next(pi for pi in by_share if pi > 0)
    q = cut_law(p, top_k)
    label = f"{share:g} clean + top-{top_k}"
    errors = {label: by_share[share][:, 0], "synthetic only": by_share[0.0][:, 0]}
    mixed = share * p + (1 - share) * q
    expected = {label: unseen_mass(p, mixed, sizes), "synthetic only": unseen_mass(p, q, sizes)}
    reference = {"plateau": float(p[top_k:].sum()), "delay": float(top_k**beta / share)}
    return with_slopes(
        TailsResult("mixing", beta, n_items, sizes, errors, expected, {}, reference, top_k, share)
    )


RECIPES: dict[str, Recipe] = {
    "T1": declare("T1", t1_judge, t1_draw, read=t1_read),
    "T2": declare("T2", t2_judge, t2_draw, read=t2_read),
    "T3": declare("T3", t3_judge, t3_draw, read=t3_read),
    "T4": declare("T4", t4_judge, t4_draw, read=t4_read),
}
