"""``autophagy report``: a static page that leads with final values, lays figures out at report
time without rerunning, renders in headless Chromium with every image loaded and no errors,
user strings escaped."""

from __future__ import annotations

import html
import json
import re
import shutil
import sqlite3
import subprocess

import pytest
from conftest import base_config
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.core.errors import ConfigError
from autophagy.results.report import column_decimals, interval_text, render
from autophagy.results.run import open_run
from autophagy.running.runner import execute, plan_run

runner = CliRunner()
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
]
# records resource and script errors, then on load counts images that failed to decode
PROBE = """<script>
window.__errors = [];
window.addEventListener("error",
  e => window.__errors.push(String(e.message || (e.target && e.target.tagName))), true);
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({images: images.length, broken: broken, errors: window.__errors,
                                    widths: images.map(i => i.naturalWidth)});
  document.body.appendChild(out);
});
</script>"""


HOSTILE = "<img src=x onerror=alert(1)>&.png"  # unescaped, this file name would add a broken image


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sweep"
    raw = base_config(family="fresh_data", n_real=10)
    raw["metrics"]["names"] = ["wasserstein2", "precision"]
    raw["sweep"] = {
        "grid": {"loop.sampling_bias": [1.0, 0.8]},
        "zip": {"loop.n_real": [10, 20], "loop.n_synthetic": [20, 40]},
        "seeds": [0, 1],
    }
    execute(plan_run(raw, out), executor="inline", progress=False)
    (out / "plots" / "samples").mkdir()
    shutil.copy(out / "plots" / "precision.png", out / "plots" / "samples" / HOSTILE)
    return out


def test_page_is_self_contained_and_escapes_user_strings(sweep_folder):
    page = render(open_run(sweep_folder))
    assert HOSTILE not in page and html.escape(f"plots/samples/{HOSTILE}") in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 2 + 1  # one overlaid figure per metric, one sample picture
    assert all(s.startswith("data:image/png;base64,") for s in sources)


def test_page_leads_with_final_values_then_curves_pictures_and_config_last(sweep_folder):
    page = render(open_run(sweep_folder))
    order = [
        page.index(h) for h in ("Final generation", "Metrics by generation", "Pictures", "Configuration")
    ]
    assert order == sorted(order)
    summary = open_run(sweep_folder).summary()
    final = summary[summary["generation"] == summary["generation"].max()]
    assert len(final) == 2 * 2 * 2  # lambda x zipped pair x metric; seeds pooled
    table = page[order[0] : order[1]]
    for row in final.itertuples():  # one number format per metric column
        column = final[final["metric"] == row.metric].to_dict("records")
        assert interval_text(row.mean, row.low, row.high, column_decimals(column)) in table
    assert table.index("wasserstein2") < table.index("precision")  # the config's order, not alphabetical
    assert "over n = 12 replicates (seeds pooled) at generation 4" in table  # 6 replicates x 2 seeds
    assert "wasserstein2 &darr;" in table and "precision &uarr;" in table
    assert "band: 95 % t-interval over n = 12 replicates" in page[order[1] : order[2]]


def test_interval_text_keeps_two_significant_digits_of_the_half_width():
    assert interval_text(0.98504, 0.96692, 1.00316) == "0.985 [0.967, 1.003]"
    assert interval_text(12.345, 2.3, 22.4) == "12 [2, 22]"
    assert interval_text(0.5, float("nan"), float("nan")) == "0.5 [&ndash;, &ndash;]"


def test_layout_is_chosen_at_report_time_without_rerunning(sweep_folder, tmp_path):
    store = (sweep_folder / "results.sqlite").read_bytes()
    default = render(open_run(sweep_folder))
    swapped = render(open_run(sweep_folder), hue="loop.n_synthetic", cols="loop.sampling_bias")
    images = [re.findall(r'<img src="([^"]+)"', page)[:2] for page in (default, swapped)]
    assert images[0] != images[1]  # the figures changed ...
    final = [page[: page.index("Metrics by generation")] for page in (default, swapped)]
    assert final[0] == final[1]  # ... the numbers did not
    assert (sweep_folder / "results.sqlite").read_bytes() == store
    output = tmp_path / "bad.html"
    result = runner.invoke(app, ["report", str(sweep_folder), "--hue", "loop.nope", "--output", str(output)])
    assert result.exit_code == 2 and "--hue: 'loop.nope' is not a swept key" in result.output
    assert not output.exists()
    with pytest.raises(ConfigError) as caught:
        render(open_run(sweep_folder), rows="loop.n_real", cols="loop.n_synthetic")
    assert caught.value.field == "cols"


def test_cli_plot_draws_the_chosen_layout_and_names_a_bad_option(sweep_folder):
    result = runner.invoke(
        app, ["plot", str(sweep_folder), "--metric", "precision", "--hue", "loop.n_real", "--rows", "seed"]
    )
    assert result.exit_code == 2 and "--rows: 'seed' is pooled" in result.output
    before = (sweep_folder / "plots" / "precision.png").read_bytes()
    result = runner.invoke(app, ["plot", str(sweep_folder), "--metric", "precision", "--hue", "loop.n_real"])
    assert result.exit_code == 0, result.output
    assert (sweep_folder / "plots" / "precision.png").read_bytes() != before
    result = runner.invoke(app, ["plot", str(sweep_folder), "--metric", "fid"])
    assert result.exit_code == 2 and "--metric: 'fid' has no rows" in result.output


def test_cli_plot_redraws_a_runs_sample_pictures(tmp_path):
    from test_sample_panels import _config

    raw = _config(generations=2, plots={"generations": [2], "n_samples": 100})
    run = execute(plan_run(raw, tmp_path / "panels"), executor="inline", progress=False)
    (run / "plots" / "samples.png").unlink()
    result = runner.invoke(app, ["plot", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "plots" / "samples.png").is_file() and (run / "plots" / "modes_covered.png").is_file()


def test_an_incomplete_run_says_so_and_shows_the_generation_it_reached(tmp_path):
    run = tmp_path / "run"
    execute(plan_run(base_config(), run), executor="inline", progress=False)
    assert "incomplete:" not in render(open_run(run))
    with sqlite3.connect(run / "results.sqlite") as db:  # as if stopped after generation 3
        db.execute("DELETE FROM results WHERE generation = 4")
        db.execute("UPDATE checkpoints SET generation = 3")
    page = render(open_run(run))
    assert "incomplete: 0 of 6 replicates" in page  # base_config: 6 replicates, none at generation 4
    table = page[page.index("Final generation") : page.index("Metrics by generation")]
    assert "at generation 3." in table


def test_cli_report_on_a_run_and_a_sweep(sweep_folder, tmp_path):
    result = runner.invoke(app, ["report", str(sweep_folder)])
    assert result.exit_code == 0, result.output
    assert (sweep_folder / "report.html").is_file()
    run = tmp_path / "run"
    execute(plan_run(base_config(), run), executor="inline", progress=False)
    result = runner.invoke(app, ["report", str(run), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 0 and "wasserstein2" in (tmp_path / "r.html").read_text()
    result = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a run or sweep folder" in result.output


def _browser() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_report_renders_in_headless_chromium(sweep_folder, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = render(open_run(sweep_folder)).replace("<head>", "<head>" + PROBE, 1)
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(page, encoding="utf-8")
    cmd = [
        browser,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        probe_page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["images"] == 3 and probe["broken"] == 0, probe
    assert all(width > 100 for width in probe["widths"]), probe
    assert probe["errors"] == []
    assert "Uncaught" not in done.stderr
