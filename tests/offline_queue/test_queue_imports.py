"""The offline queue's modules import each other in one direction only (issue 8: no circles,
and none hidden behind function-level or TYPE_CHECKING imports)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("offline_queue", "workers")


def _imports(path: Path) -> set[str]:
    """Every offline_queue/workers module this file imports, wherever the import sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in PACKAGES:  # from offline_queue import signing
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif node.module.split(".")[0] in PACKAGES:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in PACKAGES)
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            name = f"{package}.{path.stem}".removesuffix(".__init__")
            graph[name] = _imports(path)
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles_in_the_offline_queue():
    graph = _graph()
    assert "offline_queue.transport" in graph["offline_queue.identity"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_transport_does_not_know_identity():
    assert "offline_queue.identity" not in _graph()["offline_queue.transport"]
