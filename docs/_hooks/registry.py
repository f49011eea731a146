"""MkDocs hook: fill ``<!-- autophagy:TABLE -->`` markers with tables read from the registries.

Tables: ``loops`` (``LOOPS``), ``models`` (``MODELS``), ``data`` (``DATA``) and ``metrics``
(``METRICS``, with each metric's direction and inputs), so the pages list exactly what
``autophagy list`` shows. The package is imported from ``src/`` next to ``mkdocs.yml``.
A marker naming an unknown table fails the build.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"<!--\s*autophagy:(\w+)\s*-->")


def on_config(config, **kwargs):
    src = Path(config.config_file_path).parent / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    return config


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _options(options) -> str:
    """``name (default)`` per field of a plug-in's options model (short, set defaults only)."""
    parts = []
    for name, field in options.model_fields.items():
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        try:
            shown = json.dumps(default) if default is not None else ""
        except TypeError:
            shown = ""
        parts.append(f"`{name}` ({shown})" if shown and len(shown) <= 16 else f"`{name}`")
    return ", ".join(parts) or "none"


def _tables() -> dict[str, str]:
    from autophagy.core.schedule import LOOPS
    from autophagy.data import DATA
    from autophagy.metrics import METRICS
    from autophagy.models import MODELS

    def plugin(registry):
        rows = [[f"`{name}`", _options(entry.options), entry.summary] for name, entry in registry.items()]
        return _table(["kind", "options (default)", "what it is"], rows)

    return {
        "loops": _table(
            ["`loop.family`", "training set at t >= 2"],
            [[f"`{name}`", entry.summary] for name, entry in LOOPS.items()],
        ),
        "models": plugin(MODELS),
        "data": plugin(DATA),
        "metrics": _table(
            ["name", "better", "needs", "what it measures"],
            [
                [f"`{name}`", "higher" if m.higher_is_better else "lower", m.needs, m.summary]
                for name, m in METRICS.items()
            ],
        ),
    }


def on_page_markdown(markdown, page, config, files, **kwargs):
    if "autophagy:" not in markdown:
        return markdown
    tables = _tables()

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in tables:
            known = ", ".join(tables)
            raise PluginError(f"{page.file.src_path}: unknown table marker autophagy:{name} (known: {known})")
        return tables[name]

    return MARKER.sub(fill, markdown)
