"""The linear-regression loop (spec G8) against the closed forms of Gerstgrasser et al."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from autophagy.regression import RegressionOptions, closed_forms, run_regression

Z = 4.5  # normal quantile per generation and mode: a false alarm below 1e-5 per check


@pytest.fixture(scope="module")
def result():
    return run_regression(RegressionOptions(samples=20, dim=4, noise=0.7, generations=12, replicates=4000))


@pytest.mark.parametrize("mode", ["replace", "accumulate"])
def test_mean_error_matches_the_closed_form_each_generation(result, mode):
    errors = result.errors[mode]
    se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    assert np.all(np.abs(errors.mean(axis=0) - result.expected[mode]) <= Z * se)


def test_replace_grows_linearly_and_accumulate_stays_bounded(result):
    replace, accumulate = result.errors["replace"], result.errors["accumulate"]
    first = result.expected["replace"][0]  # sigma^2 d / (T - d - 1)
    # replace: the least-squares slope of the mean error on n is the first-generation error
    gens = np.arange(1, replace.shape[1] + 1)
    slopes = np.polyfit(gens, replace.T, 1)[0]
    assert abs(slopes.mean() - first) <= Z * slopes.std(ddof=1) / np.sqrt(slopes.size)
    # accumulate: below pi^2/6 times generation 1 at every generation, up to the interval
    se = accumulate.std(axis=0, ddof=1) / np.sqrt(len(accumulate))
    assert np.all(accumulate.mean(axis=0) <= np.pi**2 / 6 * first + Z * se)
    assert np.all(result.expected["accumulate"] < np.pi**2 / 6 * first)
    # and far below replace by the last generation (paired replicates share designs and noise)
    gap = replace[:, -1] - accumulate[:, -1]
    assert gap.mean() > Z * gap.std(ddof=1) / np.sqrt(gap.size)


def test_closed_forms_and_validation():
    forms = closed_forms(RegressionOptions(samples=11, dim=4, noise=2.0, generations=3))
    np.testing.assert_allclose(forms["replace"], 4 * 4 / 6 * np.array([1, 2, 3]))
    np.testing.assert_allclose(forms["accumulate"], 4 * 4 / 6 * np.array([1, 1.25, 1.25 + 1 / 9]))
    with pytest.raises(ValidationError, match="dim \\+ 2"):
        RegressionOptions(samples=5, dim=4)
    with pytest.raises(ValidationError, match="noise"):
        RegressionOptions(noise=-1.0)
