"""Every fenced ``python`` and ``toml`` block of ``docs/guide/*.md`` runs as a test.

Python blocks of one page run in order in one namespace (a page builds a program piece by
piece), in a temporary working folder holding a copy of ``examples/`` and with the example
plug-in package on the path; a ``test_*`` function a block defines is called. TOML blocks are
validated as ``autophagy run`` would: a whole config as it stands, a fragment (no ``[data]``)
merged into a small base config. A block preceded by ``<!-- snippet: partial ... -->`` is
intentionally incomplete (an excerpt of another file, a reference of keys): it is only parsed.
``<!-- snippet: slow ... -->`` runs it only in the slow suite.
"""

from __future__ import annotations

import copy
import re
import shutil
import sys
import tomllib
import types
from pathlib import Path

import pytest

from autophagy.core.registry import MODELS
from autophagy.running.config import split_tracking
from autophagy.running.sweep import plan_cells

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide"
BLOCK = re.compile(
    r"(?:<!-- snippet: (?P<mark>\w+)[^>]*-->\n)?^```(?P<lang>python|toml)\n(?P<code>.*?)^```", re.S | re.M
)
BASE = {
    "name": "snippet",
    "replicates": 2,
    "generations": 2,
    "data": {"kind": "gaussian", "dim": 2},
    "loop": {"family": "fresh_data", "n_ini": 40, "n_real": 40, "n_synthetic": 40, "sampling_bias": 0.9},
    "metrics": {"names": ["wasserstein2"], "n_eval": 50},
}


def blocks(page: Path) -> list[tuple[str, str, str | None, int]]:
    text = page.read_text(encoding="utf-8")
    return [
        (m["lang"], m["code"], m["mark"], text.count("\n", 0, m.start("code")) + 1)
        for m in BLOCK.finditer(text)
    ]


PAGES = sorted(p for p in GUIDE.glob("*.md") if blocks(p))


def _merge(base: dict, fragment: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in fragment.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _check_toml(code: str, mark: str | None, where: str) -> None:
    raw = tomllib.loads(code)
    if mark == "partial":
        return
    if "data" not in raw:  # a fragment: validated inside a small config
        raw = _merge(BASE, raw)
    else:  # a config of its own: the small config's tables it lacks (e.g. [loop])
        raw = {**{k: v for k, v in BASE.items() if k not in ("data", "metrics")}, **raw}
    if raw.get("model", {}).get("kind") == "hf_causal_lm":
        pytest.importorskip("transformers")
    raw, _trackers = split_tracking(raw)  # [tracking]: validated apart, as the runner does
    plan_cells(raw)  # raises ConfigError naming the field


def test_every_guide_page_with_code_is_collected():
    assert {p.name for p in PAGES} >= {"getting-started.md", "bring-your-own-model.md", "hugging-face.md"}


CASES = [pytest.param(p, False, id=p.stem) for p in PAGES] + [
    pytest.param(p, True, id=f"{p.stem}-all", marks=pytest.mark.slow)
    for p in PAGES
    if any(mark == "slow" for *_, mark, _ in blocks(p))
]


@pytest.mark.parametrize(("page", "slow"), CASES)
def test_guide_snippets_run(page, slow, tmp_path, monkeypatch):
    """Every block of ``page`` (those marked slow only in the ``-all`` case, marked slow)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "plugins" / "sklearn_gmm"))
    module = types.ModuleType(f"guide_{page.stem.replace('-', '_')}")  # pydantic resolves names here
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    before = set(MODELS)
    try:
        for lang, code, mark, line in blocks(page):
            where = f"{page.name}:{line}"
            if mark == "slow" and not slow:
                continue
            if lang == "toml":
                _check_toml(code, mark, where)
                continue
            compiled = compile(code, where, "exec")
            if mark == "partial":
                continue
            defined = set(namespace)
            exec(compiled, namespace)
            for name in sorted(set(namespace) - defined):
                if name.startswith("test_") and callable(namespace[name]):
                    namespace[name]()
    finally:
        for name in set(MODELS) - before:
            MODELS.pop(name)
        MODELS.pop("sklearn_gmm", None)
        sys.modules.pop("autophagy_sklearn_gmm", None)


def test_markers_are_known():
    for page in GUIDE.glob("*.md"):
        for _, _, mark, line in blocks(page):
            assert mark in (None, "partial", "slow"), f"{page.name}:{line}: unknown snippet marker {mark!r}"
