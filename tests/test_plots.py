"""Overlaid curves from a run's summary: layout defaults and options, what each panel draws, the
band's label, plain-text strings, list-valued keys, and the report's final-value table."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from autophagy.core.errors import ConfigError
from autophagy.results.plots import band_label, facets, plot_metric, plot_metrics

LAMBDAS = [1.0, 0.8, 0.6]
ZIPPED = [(10, 90), (50, 50)]  # loop.n_real, loop.n_synthetic advance together
DIMS = [2, 5]
GENERATIONS = [1, 2, 3]
KEYS = ["loop.sampling_bias", "loop.n_real", "loop.n_synthetic", "data.dim", "model.kind"]


def make_summary(metrics=("wasserstein2", "precision"), n: int = 5, **extra) -> pd.DataFrame:
    """A summary with distinct, predictable means: mean = lambda + n_real / 1000 + dim / 10 + g."""
    rows = []
    for lam, (n_real, n_syn), dim, g, metric in itertools.product(
        LAMBDAS, ZIPPED, DIMS, GENERATIONS, metrics
    ):
        mean = lam + n_real / 1000 + dim / 10 + g + (metric == "precision")
        values = {"loop.sampling_bias": lam, "loop.n_real": n_real, "loop.n_synthetic": n_syn}
        values |= {"data.dim": dim, "model.kind": "gaussian", **extra}
        rows.append(
            {**values, "generation": g, "metric": metric, "mean": mean}
            | {"low": mean - 0.1, "high": mean + 0.2, "n": n}
        )
    return pd.DataFrame(rows)


def test_default_layout_colours_the_first_key_and_facets_by_the_next_with_zipped_keys_together():
    layout = facets(make_summary())
    assert layout.hue == ["loop.sampling_bias"]
    assert layout.cols == ["loop.n_real", "loop.n_synthetic"]  # zipped: one dimension
    assert layout.rows == ["data.dim"]
    assert layout.rest == [] and layout.fixed == {"model.kind": "gaussian"}
    four = make_summary()
    four = pd.concat([four.assign(**{"loop.family": f}) for f in ("a", "b")], ignore_index=True)
    four = four[[*KEYS, "loop.family", "generation", "metric", "mean", "low", "high", "n"]]
    assert facets(four).rest == ["loop.family"]


def test_options_choose_the_layout_and_bring_zipped_partners_along():
    layout = facets(make_summary(), hue="loop.n_synthetic", rows="loop.sampling_bias")
    assert layout.hue == ["loop.n_real", "loop.n_synthetic"]
    assert layout.rows == ["loop.sampling_bias"] and layout.cols == ["data.dim"]
    alone = facets(make_summary(), cols="data.dim")
    assert alone.cols == ["data.dim"] and alone.hue == ["loop.sampling_bias"]
    assert alone.rows == ["loop.n_real", "loop.n_synthetic"]


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"hue": "loop.nope"}, "hue", "'loop.nope' is not a swept key"),
        ({"rows": "seed"}, "rows", "'seed' is pooled"),
        ({"hue": "loop.n_real", "cols": "loop.n_synthetic"}, "cols", "already drawn by hue"),
        ({"cols": "data.dim", "rows": "data.dim"}, "cols", "already drawn by rows"),
    ],
)
def test_a_key_that_is_not_swept_or_is_taken_names_the_option(options, field, words):
    with pytest.raises(ConfigError) as caught:
        plot_metric(make_summary(), "wasserstein2", **options)
    assert caught.value.field == field and words in caught.value.message
    assert "loop.sampling_bias" in caught.value.message or "already" in words


def test_an_unknown_metric_names_the_metric_option():
    with pytest.raises(ConfigError) as caught:
        plot_metric(make_summary(), "fid")
    assert caught.value.field == "metric" and "wasserstein2, precision" in caught.value.message


def _lines(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) and line.get_gid() != "reference"]


def test_each_panel_overlays_one_line_per_hue_value_with_the_summary_means_and_bands():
    summary = make_summary()
    fig = plot_metric(summary, "wasserstein2")
    axes = [ax for ax in fig.axes if ax.get_lines()]
    assert len(axes) == len(DIMS) * len(ZIPPED)  # rows x cols
    colour_of: dict[float, str] = {}
    for ax in axes:
        title = ax.get_title()
        n_real = int(title.split("loop.n_real=")[1].split(",")[0])
        dim = int(title.split("data.dim=")[1])
        lines = _lines(ax)
        assert len(lines) == len(LAMBDAS)
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == len(LAMBDAS)
        for line, band in zip(lines, bands, strict=True):
            gens, means = line.get_xdata(), line.get_ydata()
            assert list(gens) == GENERATIONS
            lam = means[0] - n_real / 1000 - dim / 10 - 1
            assert any(np.isclose(lam, x) for x in LAMBDAS)
            np.testing.assert_allclose(means, lam + n_real / 1000 + dim / 10 + np.array(GENERATIONS))
            ys = band.get_paths()[0].vertices[:, 1]
            assert np.isclose(ys.min(), means.min() - 0.1) and np.isclose(ys.max(), means.max() + 0.2)
            colour = to_hex(line.get_color())
            assert colour_of.setdefault(round(lam, 6), colour) == colour  # one colour per lambda
    assert len(set(colour_of.values())) == len(LAMBDAS)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"loop.sampling_bias={x}" for x in sorted(LAMBDAS)]
    plt.close(fig)


def test_the_band_is_labelled_as_the_summarys_interval_with_its_level_and_count():
    summary = make_summary(n=7)
    fig = plot_metric(summary, "precision", title="my run")
    heading = fig.get_suptitle()
    assert (
        heading.startswith("my run: precision") and "band: 95 % t-interval over n = 7 replicates" in heading
    )
    assert "model.kind=gaussian" in heading  # a key with one value is named in the title
    plt.close(fig)
    summary.attrs["ci"] = 0.9
    summary.loc[0, "n"] = 1
    assert band_label(summary) == "band: 90 % t-interval over n = 1-7 replicates (none where n < 2)"
    assert band_label(summary, 0.99).startswith("band: 99 % t-interval")


def test_user_strings_are_drawn_as_plain_text():
    hostile = r"a $\frac{1$ b"  # mathtext would fail to parse this
    summary = make_summary()
    summary["loop.sampling_bias"] = summary["loop.sampling_bias"].map(lambda x: f"{hostile}{x}")
    fig = plot_metric(summary, "wasserstein2", title=hostile)
    fig.canvas.draw()  # renders every text; raises if any string went through mathtext
    texts = [fig._suptitle, *fig.legends[0].get_texts(), *(ax.title for ax in fig.axes)]
    assert all(not t.get_parse_math() for t in texts)
    assert any(hostile in t.get_text() for t in fig.legends[0].get_texts())
    # negative control: the same string with mathtext on does fail, so the draw above tests something
    fig.legends[0].get_texts()[0].set_parse_math(True)
    with pytest.raises(ValueError):
        fig.canvas.draw()
    plt.close(fig)


def test_plot_metrics_returns_one_figure_per_metric_and_a_single_run_draws_one_panel():
    figures = plot_metrics(make_summary())
    assert list(figures) == ["wasserstein2", "precision"]
    plt.close("all")
    single = make_summary().query("`loop.sampling_bias` == 1.0 and `loop.n_real` == 10 and `data.dim` == 2")
    single = single.drop(columns=KEYS)
    fig = plot_metric(single, "precision")
    assert len(fig.axes) == 1 and len(_lines(fig.axes[0])) == 1 and not fig.legends
    plt.close(fig)


def test_list_valued_keys_are_laid_out_and_tabulated_by_their_json_text():
    from autophagy.results.report import _final_table

    summary = make_summary()
    summary["data.mean"] = summary["loop.sampling_bias"].map(lambda x: [x, -x])  # a swept vector
    summary = summary.drop(columns=["loop.sampling_bias"])
    layout = facets(summary, hue="data.mean")
    assert layout.hue == ["data.mean"]
    fig = plot_metric(summary, "wasserstein2", hue="data.mean")
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {f"data.mean=[{x}, {-x}]" for x in LAMBDAS}
    plt.close(fig)
    table = _final_table(summary, 0.95)
    assert table.count("<tr>") == 1 + len(LAMBDAS) * len(ZIPPED) * len(DIMS)
    assert "<td>[0.8, -0.8]</td>" in table


def test_the_final_table_names_the_generation_of_a_metric_that_stopped_early():
    from autophagy.results.report import _final_table

    summary = make_summary()
    late = (summary["metric"] == "precision") & (summary["generation"] == 3)
    table = _final_table(summary[~late], 0.95)
    assert "at the last stored generation" in table
    assert table.count("(generation 2)") == table.count("(generation 3)") == len(LAMBDAS) * 4
