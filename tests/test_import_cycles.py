"""No import circles inside a package: the console (``tui``) and the core
(``hwprobe``) each form a tree of imports, so a module can be read, and
imported, without the one that imports it.

The graph is built from the source with ``ast``, counting every import
statement wherever it stands (a function body included: a lazy import that
closes a circle is still a circle, it only hides it until run time) and
``importlib.import_module`` calls with a constant name. Imports under
``if TYPE_CHECKING:`` never run and are left out: they are how a module
names a type of a module that imports it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name a ``from <dots><module> import`` refers to."""
    base = current.split(".") if is_package else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def import_graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports. ``from pkg import
    name`` counts as an import of the module ``pkg.name`` when there is one,
    else of ``pkg`` (its ``__init__``); the parent package every submodule
    needs is not counted, as it is no choice of the code."""
    files = sorted((root / package).rglob("*.py"))
    names = {}
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        names[path] = (".".join(parts[:-1] if is_package else parts), is_package)
    known = {name for name, _ in names.values()}
    graph: dict[str, set[str]] = {name: set() for name in known}
    for path, (current, is_package) in names.items():
        tree = ast.parse(path.read_text(), str(path))
        type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                     and getattr(block.test, "id", getattr(block.test, "attr", "")) == "TYPE_CHECKING"
                     for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (_resolve(current, is_package, node.level, node.module)
                        if node.level else node.module or "")
                # ``from pkg import mod`` imports the module mod, not pkg's names
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                           for alias in node.names]
            elif isinstance(node, ast.Call):
                fn = node.func
                fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                if (fname == "import_module" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    targets = [node.args[0].value]
            for target in targets:
                if target in known and target != current:
                    graph[current].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once, as the list of modules around it
    (strongly connected components of more than one module, shown as one
    concrete circle through them)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:       # Tarjan; the packages are small enough to recurse
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(_circle_through(graph, sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _circle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle from the component's first module back to itself."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & inside):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


@pytest.mark.parametrize("package", ["tui", "hwprobe"])
def test_package_has_no_import_circle(package):
    found = cycles(import_graph(package))
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_sees_a_lazy_circle(tmp_path):
    """Not vacuous: two modules importing each other, one of them only inside
    a function and one through a relative import, are reported."""
    pkg = tmp_path / "pkg"
    (pkg / "screens").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "screens" / "__init__.py").write_text("")
    (pkg / "screens" / "paths.py").write_text("def back():\n    from .start import Start\n")
    (pkg / "screens" / "start.py").write_text("from ..screens.paths import back\n")
    (pkg / "app.py").write_text("import importlib\nimportlib.import_module('pkg.screens.start')\n")
    found = cycles(import_graph("pkg", root=tmp_path))
    assert found == [["pkg.screens.paths", "pkg.screens.start", "pkg.screens.paths"]]
    assert "pkg.screens.start" in import_graph("pkg", root=tmp_path)["pkg.app"]
