"""The README's notebook lines run as printed and give the long DataFrame they promise."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_notebook_lines_give_a_dataframe(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"From a notebook.*?```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in block.splitlines() if line.strip()]) == 3
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    table = scope["run"].table()
    assert list(table.columns[-4:]) == ["replicate", "generation", "metric", "value"]
    run = scope["run"]
    assert run.is_sweep and run.complete
    planned = sum(
        c["config"]["replicates"] * c["config"]["generations"] * len(c["config"]["metrics"]["names"])
        for c in run.cells
    )
    assert len(table) == planned and len(run.cells) == 6
