"""The house's import rules, checked in fresh interpreters.

- The core (``hwprobe``) imports neither the face (``tui``) nor the simulator,
  nor Textual or Rich; the simulator imports no face and no Textual.
- The face (``tui``) never imports the simulator.
- Only the composition root (``bringup``) wires them together.

Import-time checks alone miss lazy imports (``from tui import x`` inside a
function, ``importlib.import_module``). So, as Harlequin's test does, the CLI
also builds every command's parser and prints its ``--help`` in a fresh
interpreter; and every source file of the core is read for an import of the
forbidden packages wherever it stands, a function body included.
"""
import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> what it must never import (at import time or lazily)
FORBIDDEN = {
    "hwprobe": ("tui", "simulator", "bringup", "textual", "rich"),
    "simulator": ("tui", "bringup", "textual", "rich"),
    "tui": ("simulator", "bringup"),
}


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


def _imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module name a file imports, wherever the import statement stands,
    plus string arguments of importlib.import_module / __import__."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((node.lineno, arg.value))
    return found


def _source_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_forbidden_package_even_lazily(package):
    offenders = []
    for path in _source_files(package):
        for line, name in _imported_names(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_source_scan_sees_a_lazy_import(tmp_path):
    """The scan above is not vacuous: a lazy import inside a function is found."""
    f = tmp_path / "m.py"
    f.write_text("def later():\n    from tui.app import make_app\n"
                 "    import importlib\n    importlib.import_module('simulator.lab')\n")
    assert [n for _, n in _imported_names(f)] == ["tui.app", "importlib", "simulator.lab"]


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
