"""The package's import structure, read statically from the sources: no cycle among the imports
a module runs when it is imported, and the bottom layer (errors, _io, _plotting, _batch, _progress,
_validation) imports nothing of the package but itself."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "pyengine"
BOTTOM = {
    "pyengine.errors",
    "pyengine._io",
    "pyengine._plotting",
    "pyengine._batch",
    "pyengine._validation",
    "pyengine._progress",
}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = list(f.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _import_graph(module_level_only: bool = True) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at import time: statements at module level,
    not those inside functions or under ``if TYPE_CHECKING``)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for mod, f in mods.items():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        base = mod.split(".") if f.name == "__init__.py" else mod.split(".")[:-1]
        deps: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    up = base[: len(base) - (node.level - 1)]
                    target = ".".join(up + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in mods else target)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[mod] = {d for d in deps if d in mods and d != mod}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_at_import_time():
    graph = _import_graph()
    assert len(graph) > 60 and graph["pyengine.predictors._persist"] >= {"pyengine._io", "pyengine.errors"}
    assert _cycles(graph) == []


def test_the_bottom_layer_imports_nothing_above_it():
    graph = _import_graph(module_level_only=False)
    for mod in BOTTOM:
        assert graph[mod] <= BOTTOM, f"{mod} imports {sorted(graph[mod] - BOTTOM)}"
