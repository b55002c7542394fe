"""What the house's modules import, read from their source with ``ast``: the
one reading that the import-circle test (test_import_cycles.py) and the
import-rules test (test_import_hygiene.py) both check.

Every import counts wherever it stands: at the top of a module, inside a
function (a lazy import still runs, only later), under ``if TYPE_CHECKING:``
(it never runs, but a module that names a type of a module that imports it
is still half of a circle), ``importlib.import_module`` and ``__import__``
with a constant name, and, in a module that imports by a computed name
(``import_module(name)``), every string constant that names a module
(``"tui.screens.port"``, ``"tui.screens.port:PortScreen"``): the table such
a call reads. Relative imports are resolved to absolute names.
"""
from __future__ import annotations

import ast
import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bringup", "hwprobe", "tui", "simulator")
_MODULE_TEXT = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+(:[A-Za-z_]\w*)?|[A-Za-z_]\w*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class Import:
    """One import in a source file: the module it names (absolute), the names
    it takes from it (``from module import names``), where and how."""

    line: int
    module: str
    names: tuple[str, ...]
    how: str            # "import", "lazy", "TYPE_CHECKING", "import_module", "table"

    def targets(self, known: frozenset[str] | set[str]) -> list[str]:
        """The modules this import loads: ``from pkg import mod`` loads the
        module ``pkg.mod`` when there is one, else ``pkg`` (its names)."""
        if not self.names:
            return [self.module]
        return list(dict.fromkeys(f"{self.module}.{n}" if f"{self.module}.{n}" in known
                                  else self.module for n in self.names))


def source_modules(packages=PACKAGES, root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    """Module name -> (its file, whether it is a package's ``__init__``)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _absolute(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name a ``from <dots><module> import`` refers to."""
    base = current.split(".") if is_package else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def imports_of(path: Path, module: str, is_package: bool) -> tuple[Import, ...]:
    """Every import in ``path`` (the file of ``module``)."""
    return _imports(path.read_text(), module, is_package)


@functools.lru_cache(maxsize=None)
def _imports(text: str, module: str, is_package: bool) -> tuple[Import, ...]:
    # cached by text: a test's copy of the house parses only the file it changed
    tree = ast.parse(text, module)
    found: list[Import] = []
    computed = False        # an import_module(name) with a computed name
    strings: list[tuple[int, str]] = []
    named: set[int] = set()

    def visit(node: ast.AST, how: str) -> None:
        nonlocal computed
        if isinstance(node, ast.Import):
            found.extend(Import(node.lineno, a.name, (), how) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (_absolute(module, is_package, node.level, node.module) if node.level
                    else node.module or "")
            found.append(Import(node.lineno, base, tuple(a.name for a in node.names), how))
        elif isinstance(node, ast.Call) and _call_name(node) in ("import_module", "__import__"):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(Import(node.lineno, arg.value, (), "import_module"))
                named.add(id(arg))          # not a table's string as well
            else:
                computed = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in named:
            strings.append((node.lineno, node.value))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                and how == "import":
            how = "lazy"
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "TYPE_CHECKING")
            for child in node.orelse:
                visit(child, how)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, how)

    visit(tree, "import")
    if computed:
        for line, text in strings:
            if _MODULE_TEXT.fullmatch(text):
                found.append(Import(line, text.partition(":")[0], (), "table"))
    return tuple(found)


def _call_name(node: ast.Call) -> str:
    fn = node.func
    return fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")


def _is_type_checking(test: ast.AST) -> bool:
    return getattr(test, "id", getattr(test, "attr", "")) == "TYPE_CHECKING"


def import_graph(packages=PACKAGES, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports (one graph over all of
    them, so a circle through two packages shows too). The parent package
    every submodule needs is not counted: it is no choice of the code."""
    modules = source_modules(packages, root)
    known = frozenset(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        for imp in imports_of(path, name, is_package):
            graph[name].update(t for t in imp.targets(known) if t in known and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once, as the list of modules around it
    (strongly connected components of more than one module, shown as one
    concrete circle through them), in the order of their first module."""
    return [circle_through(graph, c) for c in components(graph)]


def components(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted."""
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def circle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
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


# -- planting an import in a copy of the house (to prove a check fails)

FORMS = ("top", "lazy", "TYPE_CHECKING", "import_module", "table", "relative")


def copy_of_the_house(into: Path, root: Path = ROOT) -> Path:
    """The four packages' Python sources, as they are, copied under ``into``."""
    def not_source(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n == "__pycache__"
                or not n.endswith(".py") and not (Path(folder) / n).is_dir()]

    for package in PACKAGES:
        shutil.copytree(root / package, into / package, ignore=not_source)
    return into


def plant(house: Path, importer: str, target: str, form: str) -> None:
    """Add to the plain module ``importer`` of ``house`` an import of
    ``target``, written in one of FORMS: at the top level, in a function,
    under ``if TYPE_CHECKING:``, through ``importlib.import_module``, through
    a table of names read by a computed ``import_module``, or as a relative
    import (``target`` in ``importer``'s package)."""
    if form == "relative":
        code = _relative(importer, target) + "\n"
    else:
        code = _ABSOLUTE_FORMS[form].format(target=target)
    path = house / (importer.replace(".", "/") + ".py")
    path.write_text(path.read_text() + "\n\n" + code)


_ABSOLUTE_FORMS = {     # str.format templates: {target} is the module planted
    "top": "import {target}\n",
    "lazy": "def _planted():\n    from {target} import Planted\n",
    "TYPE_CHECKING": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import {target}\n",
    "import_module": ("def _planted():\n    import importlib\n"
                      "    return importlib.import_module('{target}')\n"),
    "table": ("import importlib\n_PLANTED = {{'x': '{target}:Planted'}}\n\n"
              "def _planted(key):\n    return importlib.import_module(_PLANTED[key])\n"),
}


def _relative(importer: str, target: str) -> str:
    """``from <dots><module> import <name>`` in the plain module ``importer``,
    naming ``target``."""
    here = importer.split(".")[:-1]
    parent, name = target.split(".")[:-1], target.split(".")[-1]
    common = 0
    while common < min(len(here), len(parent)) and here[common] == parent[common]:
        common += 1
    if common == 0:
        raise ValueError(f"{target} is not in {importer}'s package")
    return f"from {'.' * (1 + len(here) - common)}{'.'.join(parent[common:])} import {name}"
