"""Zipf / memoriser experiments (T1-T4) through the engine: tail-cut, narrowed and mixed sources
match their exact expectations; the example sweeps validate."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from autophagy.api import load_config, run
from autophagy.core.errors import ConfigError
from autophagy.data import DATA, zipf_probabilities
from autophagy.reproduce.recipe import config_path
from autophagy.reproduce.tails import curves
from autophagy.reproduce.tails_judge import cut_law, unseen_mass
from autophagy.running.runner import plan_run

EXAMPLES = sorted((Path(__file__).parents[1] / "examples" / "tails").glob("*.toml"))
SIZES = (100, 300, 1000)
N_ITEMS = 2000


def covers(samples: np.ndarray, expected: np.ndarray, level: float = 1e-3) -> bool:
    """Student-t intervals of the column means cover ``expected`` at every point (Bonferroni)."""
    r, k = samples.shape
    half = student_t.isf(level / (2 * k), r - 1) * samples.std(axis=0, ddof=1) / math.sqrt(r)
    return bool(np.all(np.abs(samples.mean(axis=0) - expected) <= half))


def zipf_sweep(name: str, replicates: int, seed: int, **overrides) -> dict:
    """T1's config (the memoriser on Zipf data, beta = 2) over T in SIZES, N = N_ITEMS, no other axis."""
    zipped = {"loop.n_ini": list(SIZES), "loop.n_synthetic": list(SIZES)}
    settings = {"name": name, "seed": seed, "replicates": replicates, "block_size": replicates}
    settings |= {"data.n_items": N_ITEMS, "sweep.grid": {}, "sweep.zip": zipped}
    return load_config(config_path("T1"), settings | overrides)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """One sweep each: clean, top-20, temperature 0.7, and 30 % clean mixed into top-20."""
    cells = {}
    for name, data in {
        "clean": {},
        "cut": {"data.top_k": 20},
        "narrow": {"data.temperature": 0.7},
        "mixed": {"data.top_k": 20, "data.clean_fraction": 0.3},
    }.items():
        folder = tmp_path_factory.mktemp(name) / "run"
        done = run(zipf_sweep(name, 300, 1, **data), folder, executor="inline", progress=False, plots=False)
        cells[name] = curves(done)[1][None][:, 0]
    return cells


def test_each_source_matches_its_exact_expectation(sources):
    p, s = zipf_probabilities(2.0, N_ITEMS), np.asarray(SIZES)
    q = cut_law(p, 20)
    narrow = p ** (1 / 0.7) / (p ** (1 / 0.7)).sum()
    expected = {
        "clean": unseen_mass(p, p, s),
        "cut": unseen_mass(p, q, s),
        "narrow": unseen_mass(p, narrow, s),
        "mixed": unseen_mass(p, 0.3 * p + 0.7 * q, s),
    }
    for name, errors in sources.items():
        assert covers(errors, expected[name]), name
    # negative control: the cut source is far from the clean expectation at the largest T
    assert not covers(sources["cut"][:, -1:], expected["clean"][-1:])


def test_cut_source_never_emits_the_tail_but_test_error_measures_against_the_truth():
    data = DATA["zipf"].build(DATA["zipf"].options(n_items=50, top_k=5, n_answers=2))
    items = data.draw(2000, rng=np.random.default_rng(0))[:, 0]
    assert items.max() < 5
    np.testing.assert_allclose(data.probabilities, zipf_probabilities(2.0, 50))
    with pytest.raises(ValueError, match="top_k"):
        DATA["zipf"].options(n_items=50, top_k=60)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_sweeps_validate(path, tmp_path):
    plan = plan_run(tomllib.loads(path.read_text()), tmp_path / "out")
    assert len(plan.cells) >= 2 and all(c.config.model["kind"] == "memorizer" for c in plan.cells)


def test_sweep_over_a_bad_cut_names_the_field(tmp_path):
    with pytest.raises(ConfigError) as err:  # refused when the overrides load, before any plan
        plan_run(
            zipf_sweep("bad", 2, 0, **{"sweep.grid": {"data.top_k": [10, N_ITEMS + 1]}}), tmp_path / "bad"
        )
    assert "data.top_k" in err.value.field
