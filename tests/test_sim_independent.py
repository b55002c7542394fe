"""The simulator is bringup's peer, not its echo: it shares the page map (the
contract: paths, field names, limits, the console's words) and nothing else.
Its password rule, factory credentials and lockout are its own
(simulator/factory.py), so a mistake in bringup's rule is caught by the lab
the way an appliance in the field would catch it.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwprobe.appliance.pagemap import PAGES
from lab_helpers import EXAMPLE, SMTP_PASSWORD, run_bringup
from simulator import control

ROOT = Path(__file__).resolve().parent.parent
# what importing the page map loads of the product: the page map and its two
# packages (whose __init__ are docstrings)
PAGE_MAP = {"hwprobe", "hwprobe.appliance", "hwprobe.appliance.pagemap"}
PRODUCT = ("hwprobe", "bringup", "tui")
ADDR = "169.254.1.3"
# 8 characters, upper and lower case and a digit, no symbol: bringup's rule
# with its symbol part dropped takes it, the appliance's refuses it
NO_SYMBOL = "Bringup1"
# bringup's rule made wrong where it is written, for every process that
# imports it (bringup's and, if it still took bringup's rule, the simulator's)
WRONG_RULE = """\
import hwprobe.appliance.password_rule as rule

rule.RULES = tuple(part for part in rule.RULES if part[0] != "a symbol")
"""


def _product_imports(path: Path) -> list[tuple[int, str]]:
    """Every module of bringup, hwprobe or tui the file imports, wherever the
    import stands (a function body, ``if TYPE_CHECKING:`` included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names
                                     if node.module in ("hwprobe", "hwprobe.appliance")]
        found += [(node.lineno, n) for n in names if n.split(".")[0] in PRODUCT]
    return found


def test_the_simulator_source_imports_nothing_of_bringup_but_the_page_map():
    offenders = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
                 for path in sorted((ROOT / "simulator").rglob("*.py"))
                 for line, name in _product_imports(path)
                 if name not in PAGE_MAP]
    assert not offenders, "\n".join(offenders)


def test_the_source_scan_sees_a_lazy_product_import(tmp_path):
    """The scan above is not vacuous: the imports the simulator used to make
    (lazily or not) are each found; the page map's is allowed."""
    f = tmp_path / "m.py"
    f.write_text("from hwprobe.appliance.pagemap import PAGES\n"
                 "from hwprobe.appliance import password_rule\n"
                 "def later():\n    from hwprobe.constants import NICS\n"
                 "    import hwprobe.settings.validate as v\n")
    found = [name for _, name in _product_imports(f) if name not in PAGE_MAP]
    assert found == ["hwprobe.appliance.password_rule", "hwprobe.constants",
                     "hwprobe.settings.validate"]


def test_a_fresh_interpreter_running_the_simulator_loads_only_the_page_map_of_bringup():
    """Every simulator module imported, then one appliance built and made to
    check a password and a login: of bringup's packages only the page map
    is in sys.modules."""
    code = (
        "import importlib, json, pkgutil, sys, tempfile\n"
        "import simulator\n"
        "for m in pkgutil.walk_packages(simulator.__path__, 'simulator.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "from simulator.appliance import Appliance, Refused\n"
        "a = Appliance(tempfile.mkdtemp() + '/state.json')\n"
        "a.login('admin', 'password')\n"
        "try:\n    a.change_password('admin', 'password', 'short')\nexcept Refused:\n    pass\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {PRODUCT!r})))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-800:]
    assert set(json.loads(r.stdout)) == PAGE_MAP


@pytest.mark.lab
def test_a_bringup_rule_that_accepts_a_password_the_appliance_refuses_is_caught_by_the_lab(
        make_lab, state_dir, tmp_path, monkeypatch):
    # bringup's own rule, right, refuses the password before it contacts anything
    env = {"BRINGUP_NEW_PASSWORD": NO_SYMBOL, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
    args = ("apply", "--sheet", str(EXAMPLE), "--address", ADDR, "--iface", "lan0")
    wrong = tmp_path / "wrong-rule"
    wrong.mkdir()
    (wrong / "sitecustomize.py").write_text(WRONG_RULE)
    monkeypatch.setenv("PYTHONPATH", str(wrong))      # the lab's simulator gets it too
    lab = make_lab(appliance_address=ADDR)
    right = run_bringup(lab, *args, state_dir=state_dir, env_extra=env)
    assert right.returncode == 2, right.stderr
    assert "must contain a symbol" in right.stderr and "nothing was sent" in right.stderr
    assert control.send(lab.control, get="stats")["requests"] == {}

    # bringup with the wrong rule sends it: the appliance refuses, bringup says so
    r = run_bringup(lab, *args, state_dir=state_dir,
                    env_extra={**env, "PYTHONPATH": f"{wrong}{os.pathsep}{ROOT}"})
    assert r.returncode == 2, r.stdout + r.stderr
    assert ("the appliance refused the new password: Password refused: must contain a symbol"
            in r.stderr), r.stderr
    assert "Traceback" not in r.stderr
    stats = control.send(lab.control, get="stats")
    assert stats["requests"].get(f"POST {PAGES['change_password']['path']}") == 1
    state = control.send(lab.control, get="state")["state"]
    assert state["users"] == [{"name": "admin", "must_change": True}]
    assert state["hostname"] == "" and state["dns_servers"] == []


def _bringup_lab(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bringup", "lab", *args], capture_output=True,
                          text=True, cwd=ROOT, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "BRINGUP_LAB_DIR": str(tmp_path / "labs"),
                               "BRINGUP_STATE_DIR": str(tmp_path / "state")})


def test_a_bad_lab_name_is_bad_input_as_bringup_says_it(tmp_path):
    """The lab's errors are its own; bringup lab says them as its own (exit
    status 2 for bad input), never as a traceback."""
    r = _bringup_lab("up", "--name", "no spaces!", tmp_path=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "bringup: lab name 'no spaces!': use 1-20 letters, digits, '-' or '_'")


@pytest.mark.lab
def test_moving_the_cable_of_a_lab_that_is_not_up_fails_in_words(tmp_path):
    r = _bringup_lab("plug", "nic2", "--name", "nosuchlab", tmp_path=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "bringup: no lab named 'nosuchlab' is up (bringup lab up --name nosuchlab)")
