"""The layering rule of docs/guide/architecture.md, checked on the source's own imports.

Every import of an ``autophagy`` module, at module level or inside a function, is an arrow.
A package may import from its own floor or a lower one, never from a higher one, and no set
of modules may import each other in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"

FLOORS = [  # lowest first; a module may import its own floor and those below
    {"core"},
    {"metrics"},
    {"data"},
    {"models", "mitigations"},
    {"loop"},
    {"storage"},
    {"results"},
    {"running"},
    {"api"},  # the one door to running loops: every caller above goes through it
    {"admissible", "reproduce", "demo", "testing"},  # users of the API, as a notebook is
    {"cli", "__main__", ""},  # the command line and the package's face
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "autophagy").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str:
    """The nearest module that ``name`` (a module or a name inside one) belongs to."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports_of(module: str) -> set[str]:
    """Every autophagy module that ``module`` imports anywhere in its text."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # ``from package import module`` is an arrow to the module (the package's face
            # runs first, but that is Python's doing, not a dependency of this module)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found |= {_owner(t) for t in targets if t == "autophagy" or t.startswith("autophagy.")}
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def floor(module: str) -> int:
    room = module.split(".")[1] if "." in module else ""
    for level, rooms in enumerate(FLOORS):
        if room in rooms:
            return level
    raise AssertionError(f"{module} sits on no floor: add its package to FLOORS and the architecture page")


def test_every_module_sits_on_a_floor():
    for module in MODULES:
        floor(module)


def test_no_import_climbs_a_floor():
    upward = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets if floor(t) > floor(m))
    assert upward == []


def test_no_circles():
    """Tarjan's strongly connected components: every component must be a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert circles == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [({"a": {"b"}, "b": {"a"}}, True), ({"a": {"b"}, "b": set()}, False)],
)
def test_the_circle_finder_finds_a_planted_circle(graph, expected, monkeypatch):
    """Negative control: a two-module circle planted in a toy graph is found."""
    monkeypatch.setitem(globals(), "GRAPH", graph)
    try:
        test_no_circles()
    except AssertionError:
        found = True
    else:
        found = False
    assert found is expected


def test_package_docstrings_say_what_lives_there():
    for module, path in MODULES.items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc and len(doc) > 40, f"{module}: say what lives here and what it imports"
