"""Reference lines in the figures (the true value, generation 1) and the demo's comparison
plots (a family's lambdas share a colour, the legend sits outside the axes)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from autophagy.results.plots import paired_styles, plot_comparison, plot_metric, true_values


def test_true_values_are_the_real_covariance_trace_and_diagonal():
    assert true_values({"data": {"kind": "gaussian", "dim": 4}}) == {
        "trace_cov": 4.0,
        **{f"variance_{k}": 1.0 for k in range(4)},
    }
    assert (
        true_values({"data": {"kind": "gaussian", "dim": 2, "covariance": [[2.0, 0.5], [0.5, 3.0]]}})[
            "trace_cov"
        ]
        == 5.0
    )
    assert (
        true_values({"data": {"kind": "gaussian", "dim": 2, "covariance": [1.0, 4.0]}})["variance_1"] == 4.0
    )
    assert true_values({"data": {"kind": "mode_grid"}}) == {}


def _summary():
    rows = [
        (lam, g, "trace_cov", 10 * lam**g, 10 * lam**g - 1, 10 * lam**g + 1, 5)
        for lam in (1.0, 0.8)
        for g in (1, 2, 3)
    ]
    return pd.DataFrame(
        rows, columns=["loop.sampling_bias", "generation", "metric", "mean", "low", "high", "n"]
    )


def test_plot_metric_draws_the_truth_and_each_curves_start():
    fig = plot_metric(_summary(), "trace_cov", truth=10.0)
    ax = fig.axes[0]
    flat = sorted({float(line.get_ydata()[0]) for line in ax.lines if len(set(line.get_ydata())) == 1})
    assert flat == [8.0, 10.0]  # generation-1 means (10, 8) and the truth (10)
    assert (
        "grey: true value 10" in fig._suptitle.get_text()
        and "dotted: generation 1" in fig._suptitle.get_text()
    )
    plt.close(fig)


def test_a_familys_lambdas_share_a_colour_and_differ_in_style(tmp_path):
    labels = ["fresh_data-lambda1", "fresh_data-lambda0.8", "accumulate-lambda1", "accumulate-lambda0.8"]
    styles = paired_styles(labels)
    assert styles[labels[0]][0] == styles[labels[1]][0] != styles[labels[2]][0] == styles[labels[3]][0]
    assert styles[labels[0]][1] != styles[labels[1]][1] and styles[labels[0]][1] == styles[labels[2]][1]
    rows = {label: [(r, g, "w2", float(r + g)) for r in range(3) for g in (1, 2)] for label in labels}
    (path,) = plot_comparison(rows, tmp_path, title="demo")
    assert path.name == "w2.png" and path.stat().st_size > 0
    assert np.all(np.isfinite([s[0] for s in styles.values()]))
