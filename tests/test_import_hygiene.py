"""The house's import rules, read from the source and checked in fresh
interpreters.

- The core (``hwprobe``) imports neither the face (``tui``), nor the command
  line (``bringup``), nor the simulator, nor Textual or Rich, not even
  lazily; the simulator imports no face, no command line and no Textual.
- The face (``tui``) never imports the simulator.
- The simulator imports nothing of the product but the page map
  (``hwprobe.appliance.pagemap``, the contract).
- Only the composition root (``bringup``) wires them together.
- Inside the core, each room imports only what its ``__init__`` docstring
  says it may (``MAY_IMPORT``, checked against those docstrings): the loose
  modules import no room; ``port`` and ``appliance`` only loose modules;
  ``settings`` loose + ``appliance``; ``procedure`` every room but
  ``runbook``; ``runbook`` loose + ``settings`` + ``appliance``.

The source is read by tests/importscan.py: every import wherever it stands (a
function body, ``if TYPE_CHECKING:``), ``import_module`` and ``__import__``
with a constant name, the module tables a computed ``import_module`` reads,
and relative imports. Each rule is proven by mutation: a copy of the house
with one forbidden import planted breaks exactly that rule, and one allowed
import planted breaks none. As Harlequin's test does, the CLI also builds
every command's parser and prints its ``--help`` in a fresh interpreter.
"""
import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from importscan import (FORMS, PACKAGES, ROOT, copy_of_the_house, imports_of, plant,
                        source_modules)

# package -> what it must never import (at import time or lazily)
FORBIDDEN = {
    "hwprobe": ("tui", "simulator", "bringup", "textual", "rich"),
    "simulator": ("tui", "bringup", "textual", "rich"),
    "tui": ("simulator", "bringup"),
}
# the simulator is the product's peer: of the core it shares only the page
# map, the contract (its password rule, factory values and lockout are its own)
SIMULATOR_SHARES = ("hwprobe.appliance.pagemap",)

# the core's rooms: hwprobe/<room>/, and the loose modules hwprobe/<name>.py
LOOSE = ("errors", "constants", "safetext", "redact", "fsutil", "helptext", "stopping")
ROOMS = ("port", "appliance", "settings", "procedure", "runbook")
# room -> the other rooms it may import (every room may import the loose modules)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "loose": frozenset(),
    "port": frozenset(),
    "appliance": frozenset(),
    "settings": frozenset({"appliance"}),
    "procedure": frozenset({"port", "appliance", "settings"}),
    "runbook": frozenset({"settings", "appliance"}),
}


def room_of(module: str) -> str | None:
    """The core's room a module lives in ("loose" for hwprobe's own
    modules); None outside the core."""
    parts = module.split(".")
    if parts[0] != "hwprobe":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else "loose"


def broken_rules(root: Path = ROOT, packages=PACKAGES) -> list[str]:
    """One line per import, in ``packages``' modules, that breaks a rule:
    ``FILE:LINE: module imports target (how): the rule``."""
    modules = source_modules(PACKAGES, root)
    known = frozenset(modules)
    broken = []
    for name, (path, is_package) in modules.items():
        package = name.split(".")[0]
        if package not in packages:
            continue
        for imp in imports_of(path, name, is_package):
            where = f"{path.relative_to(root)}:{imp.line}: {name} imports"
            for target in imp.targets(known):
                top = target.split(".")[0]
                if top in FORBIDDEN.get(package, ()):
                    broken.append(f"{where} {target} ({imp.how}): {package} never imports {top}")
                elif package == "simulator" and top == "hwprobe" \
                        and target not in SIMULATOR_SHARES:
                    broken.append(f"{where} {target} ({imp.how}): the simulator imports "
                                  f"nothing of the core but {', '.join(SIMULATOR_SHARES)}")
                here, there = room_of(name), room_of(target)
                if here and there and there not in (here, "loose") \
                        and there not in MAY_IMPORT[here]:
                    allowed = ", ".join(["the loose modules", *sorted(MAY_IMPORT[here])])
                    broken.append(f"{where} {target} ({imp.how}): the {here} room may "
                                  f"import only {allowed}")
    return broken


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_forbidden_package_even_lazily(package):
    """Nor, in the core, a room its room may not import."""
    broken = broken_rules(packages=(package,))
    assert not broken, "\n".join(broken)


# -- the rules are the ones the rooms state

def _docstring(path: Path) -> str:
    return " ".join(ast.get_docstring(ast.parse(path.read_text())).split())


def _stated_rule(room: str) -> frozenset[str]:
    """The rooms that hwprobe/<room>/__init__.py says, after "May import:",
    that it may import."""
    said = _docstring(ROOT / "hwprobe" / room / "__init__.py").split("May import:", 1)[1]
    if "every other room but" in said:
        refused = set(re.findall(r"``(\w+)``", said.split(" but ", 1)[1]))
        return frozenset(set(ROOMS) - {room} - refused)
    allowed_words, _, refused_words = said.partition(" Not ")
    allowed = set(re.findall(r"``(\w+)``", allowed_words)) & set(ROOMS)
    refused = set(re.findall(r"``(\w+)``", refused_words)) & set(ROOMS)
    assert "loose modules" in allowed_words, room
    assert not allowed & refused, room
    return frozenset(allowed)


def test_the_rules_are_the_ones_the_packages_and_rooms_state_in_their_docstrings():
    core = ROOT / "hwprobe"
    assert sorted(p.name for p in core.iterdir() if (p / "__init__.py").exists()) \
        == sorted(ROOMS)
    assert sorted(p.stem for p in core.glob("*.py") if p.stem != "__init__") == sorted(LOOSE)
    said = _docstring(core / "__init__.py")
    loose_line = said.split("loose modules:", 1)[1].split(";", 1)[0]
    assert sorted(re.findall(r"``(\w+)``", loose_line)) == sorted(LOOSE)
    assert "imports no face (``tui``), no command line (``bringup``) and no simulator, " \
           "not even lazily" in said
    assert {"tui", "bringup", "simulator"} <= set(FORBIDDEN["hwprobe"])
    assert {room: _stated_rule(room) for room in ROOMS} \
        == {room: MAY_IMPORT[room] for room in ROOMS}
    assert "imports nothing of bringup but the page map (``hwprobe.appliance.pagemap``" \
        in _docstring(ROOT / "simulator" / "__init__.py") and len(SIMULATOR_SHARES) == 1


# -- each rule proven by mutation

def _first_module(modules: dict, prefix: str, nth: int = 0) -> str:
    """The first (``nth``) plain module, not an ``__init__``, named ``prefix``.*."""
    return [name for name, (_, is_package) in sorted(modules.items())
            if name.startswith(prefix + ".") and not is_package][nth]


def _cases(allowed: bool) -> list[tuple[str, str, str]]:
    """(importer, target, form): for every rule, a module that keeps it and
    a module it forbids (``allowed`` False) or allows (True) it to import;
    the ways an import is written take turns."""
    modules = source_modules(PACKAGES)
    absolute = [f for f in FORMS if f != "relative"]    # between packages
    cases = []
    in_room = {room: _first_module(modules, f"hwprobe.{room}") for room in ROOMS}
    next_door = {room: _first_module(modules, f"hwprobe.{room}", 1) for room in ROOMS}
    in_room["loose"], next_door["loose"] = "hwprobe.errors", "hwprobe.constants"
    for here in ("loose", *ROOMS):
        for there in ("loose", *ROOMS):
            if (there in (here, "loose") or there in MAY_IMPORT[here]) == allowed:
                cases.append((in_room[here], (next_door if there == here else in_room)[there]))
    simulator = _first_module(modules, "simulator")
    if allowed:
        cases += [(simulator, shared) for shared in SIMULATOR_SHARES]
    else:
        for package, refused in FORBIDDEN.items():
            importer = _first_module(modules, package)
            for top in refused:
                cases.append((importer, _first_module(modules, top) if top in PACKAGES
                              else f"{top}.app"))
        cases += [(simulator, "hwprobe.errors"), (simulator, in_room["appliance"])]
    planted = []
    for i, (a, b) in enumerate(cases):
        forms = FORMS if a.split(".")[0] == b.split(".")[0] else absolute
        planted.append((a, b, forms[i % len(forms)]))
    return planted


def _case_id(case) -> str:
    importer, target, form = case
    return f"{importer}->{target}[{form}]"


@pytest.mark.parametrize("case", _cases(allowed=False), ids=_case_id)
def test_a_planted_forbidden_import_breaks_its_rule(case, tmp_path):
    importer, target, form = case
    house = copy_of_the_house(tmp_path)
    assert broken_rules(house) == []              # the copy, as it is, keeps every rule
    plant(house, importer, target, form)
    broken = broken_rules(house)
    assert len(broken) == 1, broken
    how = "import" if form in ("top", "relative") else form
    assert f": {importer} imports {target} ({how})" in broken[0], broken
    here, top = room_of(importer), target.split(".")[0]
    if room_of(target) is None:
        assert broken[0].endswith(f"{importer.split('.')[0]} never imports {top}"), broken
    elif here is None:
        assert broken[0].endswith("the simulator imports nothing of the core but "
                                  "hwprobe.appliance.pagemap"), broken
    else:
        assert f"the {here} room may import only the loose modules" in broken[0], broken


@pytest.mark.parametrize("case", _cases(allowed=True), ids=_case_id)
def test_a_planted_allowed_import_breaks_no_rule(case, tmp_path):
    importer, target, form = case
    house = copy_of_the_house(tmp_path)
    plant(house, importer, target, form)
    assert broken_rules(house) == []


# -- the same rules in fresh interpreters: what importing a module loads

def _modules(package: str) -> list[str]:
    path = ROOT / package
    names = [package]
    for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def _loaded_check(names) -> str:
    return ("bad = sorted({m.split('.')[0] for m in sys.modules} & set(%r)); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)" % (tuple(names),))


@pytest.mark.parametrize("module", _modules("hwprobe") + _modules("simulator"))
def test_core_module_imports_no_face_or_simulator(module):
    package = module.split(".")[0]
    code = f"import sys, importlib; importlib.import_module({module!r}); " + _loaded_check(
        FORBIDDEN[package])
    r = _run(code)
    assert r.returncode == 0, f"{module} pulled in {r.stdout.strip()} {r.stderr[-500:]}"


def test_the_source_scan_sees_a_lazy_import(tmp_path):
    """The scan above is not vacuous: a lazy import inside a function is found."""
    f = tmp_path / "m.py"
    f.write_text("def later():\n    from tui.app import make_app\n"
                 "    import importlib\n    importlib.import_module('simulator.lab')\n")
    assert [i.module for i in imports_of(f, "m", False)] == ["tui.app", "importlib",
                                                              "simulator.lab"]


def test_bringup_help_does_not_load_textual_or_scapy():
    code = (
        "import sys; from bringup import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('textual', 'scapy') if m in sys.modules]\n"
        "sys.exit(1 if bad else 0)"
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr[-800:]


def _command_words() -> list[list[str]]:
    code = "from bringup import cli; print('\\n'.join(sorted(cli.COMMAND_OF)))"
    r = _run(code)
    assert r.returncode == 0, r.stderr
    return [[w] for w in r.stdout.split()] + [["failover", "status"], ["lab", "up"]]


@pytest.mark.parametrize("words", _command_words(), ids=" ".join)
def test_each_commands_help_leaves_the_core_clean(words):
    """Build the parser for one command and print its --help: the core's
    modules that were loaded on the way must still not have pulled in the
    face or the simulator (and no command's help loads Textual)."""
    code = (
        "import sys\nfrom bringup import cli\n"
        f"try:\n    cli.main({words + ['--help']!r})\nexcept SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        "bad = [m for m in ('textual', 'rich', 'scapy') if m in sys.modules]\n"
        "print('loaded', ','.join(bad))\n"
        "sys.exit(1 if bad else 0)"
    )
    r = _run(code)
    assert r.returncode == 0, f"{words}: {r.stdout[-300:]} {r.stderr[-800:]}"
    assert "usage:" in r.stdout
