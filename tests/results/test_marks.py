"""x-axis marks of scheduled values: a line where a step or period changes a value, a shaded
range over a ramp, one label per place, drawn on every panel; constant configs draw none."""

from __future__ import annotations

import pandas as pd
from matplotlib.lines import Line2D

from autophagy.results.marks import config_marks, schedule_marks
from autophagy.results.plots import plot_metric, value_text

STEPS = [{"from": 1, "value": 100}, {"from": 4, "value": 0}]


def _config(**loop) -> dict:
    return {
        "generations": 8,
        "loop": {"family": "fresh_data", "n_real": 50, **loop},
        "model": {"kind": "gaussian"},
    }


def test_steps_periods_and_ramps_give_lines_and_ranges():
    marks = config_marks(_config(n_synthetic=STEPS))
    assert [(m.start, m.end, m.text) for m in marks] == [(3.5, None, "n_synthetic: 100 -> 0")]
    period = config_marks(_config(n_real={"every": 3, "value": 9, "otherwise": 0}))
    assert [m.start for m in period] == [2.5, 3.5, 5.5, 6.5]
    (ramp,) = config_marks(_config(sampling_bias={"ramp": [[2, 1.0], [20, 0.5]]}))
    assert (ramp.start, ramp.end, ramp.text) == (2, 8, "sampling_bias: ramp 1 -> 0.5")
    assert config_marks(_config()) == [] and config_marks({"loop": {"n_real": STEPS}}) == []


def test_marks_at_one_place_share_a_label_and_cells_are_merged():
    cells = [
        {"config": _config(n_synthetic=STEPS, n_real=[{"from": 1, "value": 0}, {"from": 4, "value": 9}])},
        {"config": _config(n_synthetic=STEPS)},
        {"config": _config()},
    ]
    (mark,) = schedule_marks(cells)
    assert mark.text.splitlines() == ["n_real: 0 -> 9", "n_synthetic: 100 -> 0"]


def test_plot_metric_draws_the_marks_on_every_panel_and_labels_schedules_briefly():
    assert value_text(STEPS) == "100 from 1, 0 from 4"
    rows = [
        {"loop.n_synthetic": s, "generation": g, "metric": "m", "mean": 1.0, "low": 0.9, "high": 1.1, "n": 3}
        for s in (STEPS, 100)
        for g in range(1, 9)
    ]
    summary = pd.DataFrame(rows)
    fig = plot_metric(
        summary, "m", cols="loop.n_synthetic", marks=schedule_marks([{"config": _config(n_synthetic=STEPS)}])
    )
    for ax in fig.axes:
        dotted = [line for line in ax.get_lines() if isinstance(line, Line2D) and line.get_linestyle() == ":"]
        assert [line.get_xdata()[0] for line in dotted] == [3.5]
    assert any("n_synthetic: 100 -> 0" in t.get_text() for t in fig.axes[0].texts)
