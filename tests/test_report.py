"""``autophagy report``: a static page that renders in headless Chromium with every image
loaded and no errors, user strings escaped."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
from conftest import base_config
from typer.testing import CliRunner

from autophagy.cli import app
from autophagy.report import render
from autophagy.runner import execute, plan_run

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
    page = render(sweep_folder)
    assert HOSTILE not in page and html.escape(f"plots/samples/{HOSTILE}") in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 2 + 1  # one faceted figure per metric, one sample picture
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "loop.sampling_bias=0.8" in page and "loop.n_real=20, loop.n_synthetic=40" in page


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
    page = render(sweep_folder).replace("<head>", "<head>" + PROBE, 1)
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
