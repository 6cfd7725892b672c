"""The package's imports run one way: every unit (a subpackage or a top-level module) imports
only units of a lower layer, no module takes part in an import cycle, and a function-local
import of the project's own modules says why it is deferred."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workflow" / "teachwhy"

# Lower layers first. A unit may import its own modules and any unit of a lower layer.
LAYERS: list[set[str]] = [
    {"errors", "paths", "seeds", "runtime"},  # core: no project imports at all
    {"io", "schemas"},
    {"records", "provenance", "scenarios", "models"},  # shared by every stage
    {"steps", "generate"},
    {"evaluate"},
    {"train", "claims"},
    {"config", "cluster", "restore"},
    {"cli"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


@dataclass
class Graph:
    """Import edges between the package's modules: (importer, imported, line)."""

    modules: set[str] = field(default_factory=set)
    top: list[tuple[str, str, int]] = field(default_factory=list)
    deferred: list[tuple[str, str, int, bool]] = field(default_factory=list)  # + has a reason


def _module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> Graph:
    """Every import of ``root``'s own modules, split into module-level and deferred ones."""
    graph = Graph()
    files = {_module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    graph.modules = set(files)

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for module, path in files.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        top_level = {id(n) for n in tree.body}
        top_level |= {id(c) for n in tree.body if isinstance(n, (ast.If, ast.Try)) for c in n.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [f"{base}.{a.name}" for a in node.names] or [base]
            else:
                continue
            for name in names:
                target = resolve(name) if name.startswith(root.name) else None
                if target is None or target == module:
                    continue
                if id(node) in top_level:
                    graph.top.append((module, target, node.lineno))
                else:
                    before = lines[node.lineno - 2] if node.lineno > 1 else ""
                    reason = "deferred" in (before + lines[node.lineno - 1]).lower()
                    graph.deferred.append((module, target, node.lineno, reason))
    return graph


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: Graph) -> list[str]:
    """Imports of a unit from the same or a higher layer (other than the unit itself)."""
    bad = []
    for a, b, line in graph.top + [(a, b, line) for a, b, line, _ in graph.deferred]:
        ua, ub = unit(a), unit(b)
        if ub == "" or ua == ub:
            continue  # the package root (teachwhy/__init__) or the unit's own modules
        if ua not in RANK or ub not in RANK:
            bad.append(f"{a}:{line} imports {b}: unit '{ua or ub}' has no layer in LAYERS")
        elif RANK[ub] >= RANK[ua]:
            bad.append(f"{a}:{line} imports {b} (layer {RANK[ub]} from layer {RANK[ua]})")
    return bad


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module, over every import."""
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for a, b, *_ in graph.top + graph.deferred:
        edges[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(PACKAGE)


def test_every_unit_imports_only_lower_layers(graph):
    assert upward_imports(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_every_deferred_project_import_says_why(graph):
    unexplained = [f"{a}:{line} imports {b}" for a, b, line, why in graph.deferred if not why]
    assert unexplained == []
    statements = {(a, line) for a, _, line, _ in graph.deferred}
    print(f"module-level imports: {len(graph.top)}, deferred statements (each with a reason): "
          f"{len(statements)}")  # fmt: skip


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "teachwhy"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checks_catch_a_cycle_an_upward_import_and_a_silent_deferral(tmp_path):
    root = _package(
        tmp_path,
        {
            "train/__init__.py": "",
            "train/a.py": "from teachwhy.train import b\n",
            "train/b.py": "def f():\n    from teachwhy.train import a\n",
            "evaluate/__init__.py": "",
            "evaluate/sample.py": "from teachwhy.train.a import x\n",
            "claims/__init__.py": "",
            "claims/v.py": "def g():\n    # Deferred: heavy.\n    from teachwhy.evaluate import sample\n",
        },
    )
    found = import_graph(root)
    assert cycles(found) == [["teachwhy.train.a", "teachwhy.train.b"]]
    assert upward_imports(found) == [
        "teachwhy.evaluate.sample:1 imports teachwhy.train.a (layer 5 from layer 4)"
    ]
    assert [(a, why) for a, _, _, why in found.deferred] == [
        ("teachwhy.claims.v", True),
        ("teachwhy.train.b", False),
    ]
