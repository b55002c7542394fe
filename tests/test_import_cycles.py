"""No import circles: the command line (``bringup``), the core (``hwprobe``),
the console (``tui``) and the simulator each form a tree of imports, so a
module can be read, and imported, without the one that imports it.

The graph is read from the source (tests/importscan.py), over the four
packages at once, counting every import wherever it stands: a lazy one in a
function body (it closes its circle at run time), one under
``if TYPE_CHECKING:`` (it never runs, but the two modules still cannot be
read one without the other), ``importlib.import_module`` with a constant
name, and the module tables a computed ``import_module(name)`` reads.

Each package is also shown to fail the check: a copy of the house with one
import planted (in each of those forms) is reported with exactly the circle
it closes.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from importscan import (FORMS, PACKAGES, ROOT, circle_through, components, copy_of_the_house,
                        cycles, import_graph, plant, source_modules)


def check_no_circle(packages=PACKAGES, root: Path = ROOT) -> None:
    """Raises AssertionError naming each import circle through a module of
    ``packages``, as one concrete circle: ``a -> b -> a``."""
    graph = import_graph(PACKAGES, root)
    shown = [circle_through(graph, c) for c in components(graph)
             if any(m.split(".")[0] in packages for m in c)]
    # raised, not asserted: pytest would add its own lines to an assert's message
    if shown:
        raise AssertionError("import circles:\n" + "\n".join(" -> ".join(c) for c in shown))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_no_import_circle(package):
    check_no_circle((package,))


# -- the check is not vacuous: a planted circle fails it, in every package

def _an_import_inside(package: str) -> tuple[str, str]:
    """A real import ``a -> b`` between two modules of ``package``, ``b`` a
    plain module (not a package's ``__init__``): planting ``b -> a`` closes
    a circle of two."""
    modules = source_modules(PACKAGES)
    graph = import_graph(PACKAGES)
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if a.split(".")[0] == b.split(".")[0] == package and "." in a \
                    and not modules[b][1]:
                return a, b
    raise AssertionError(f"{package}: no import between two of its modules")


@pytest.mark.parametrize("how", FORMS)
@pytest.mark.parametrize("package", PACKAGES)
def test_a_circle_planted_in_a_copy_of_the_package_fails_the_check(package, how, tmp_path):
    house = copy_of_the_house(tmp_path)
    check_no_circle((package,), root=house)         # the copy, as it is, passes
    a, b = _an_import_inside(package)
    plant(house, b, a, how)
    with pytest.raises(AssertionError) as failed:
        check_no_circle((package,), root=house)
    first, second = sorted((a, b))
    assert str(failed.value).splitlines()[:2] == [
        "import circles:", f"{first} -> {second} -> {first}"], str(failed.value)
    assert len(str(failed.value).splitlines()) == 2, str(failed.value)


def test_the_cycle_finder_sees_a_lazy_circle(tmp_path):
    """Two modules importing each other, one of them only inside a function
    and one through a relative import, are reported."""
    pkg = tmp_path / "pkg"
    (pkg / "screens").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "screens" / "__init__.py").write_text("")
    (pkg / "screens" / "paths.py").write_text("def back():\n    from .start import Start\n")
    (pkg / "screens" / "start.py").write_text("from ..screens.paths import back\n")
    (pkg / "app.py").write_text("import importlib\nimportlib.import_module('pkg.screens.start')\n")
    found = cycles(import_graph(("pkg",), root=tmp_path))
    assert found == [["pkg.screens.paths", "pkg.screens.start", "pkg.screens.paths"]]
    assert "pkg.screens.start" in import_graph(("pkg",), root=tmp_path)["pkg.app"]
