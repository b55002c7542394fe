"""What only the web interface can do is a type (hwprobe/appliance/webonly.py):
verify and survey take a WebOnlyDriver and use nothing of their driver
beyond it; the web driver is one, the console driver is not."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

from hwprobe.appliance.base import ApplianceDriver
from hwprobe.appliance.console import ConsoleDriver
from hwprobe.appliance.web import WebDriver
from hwprobe.appliance.webonly import WebOnlyDriver

ROOT = Path(__file__).resolve().parent.parent
USERS = ("hwprobe/procedure/verify.py", "hwprobe/appliance/survey.py")


def _own_methods(protocol) -> set[str]:
    return {n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")}


def _members(protocol) -> set[str]:
    """Every attribute and method a driver of ``protocol`` has (its bases' too)."""
    found: set[str] = set()
    for cls in (protocol, *(c for c in protocol.__mro__ if c is ApplianceDriver)):
        found |= set(getattr(cls, "__annotations__", {})) | _own_methods(cls)
    return found


def _driver_uses(path: str) -> dict[str, tuple[str | None, set[str]]]:
    """Per function taking a ``driver``: its annotation and the attributes it
    (or a function inside it) reads of ``driver``."""
    tree = ast.parse((ROOT / path).read_text())
    out = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        arg = next((a for a in fn.args.args if a.arg == "driver"), None)
        if arg is None:
            continue
        used = {n.attr for n in ast.walk(fn) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name) and n.value.id == "driver"}
        out[fn.name] = (ast.unparse(arg.annotation) if arg.annotation else None, used)
    return out


def test_verify_and_survey_reach_the_appliance_only_through_the_web_only_interface():
    members = _members(WebOnlyDriver)
    seen = {}
    for path in USERS:
        for name, (annotation, used) in _driver_uses(path).items():
            assert annotation == "WebOnlyDriver", f"{path}: {name}() takes an untyped driver"
            assert used <= members, f"{path}: {name}() uses {sorted(used - members)} of its driver"
            seen[name] = used
    assert set(seen) == {"verify", "_ntp", "own_addresses", "run_survey"}
    assert {"utility", "check_health", "send_test_email", "ntp_status"} <= seen["verify"] | seen["_ntp"]
    assert {"read_page", "know_profile", "names"} <= seen["run_survey"]


def test_the_web_driver_is_a_web_only_driver_and_the_console_driver_is_not():
    web = WebDriver("198.51.100.20", use_journal=False)
    assert isinstance(web, WebOnlyDriver)
    for name in _own_methods(WebOnlyDriver):
        want = inspect.signature(getattr(WebOnlyDriver, name))
        got = inspect.signature(getattr(WebDriver, name))
        assert [(p.name, p.kind) for p in got.parameters.values()] == [
            (p.name, p.kind) for p in want.parameters.values()], name
    console = ConsoleDriver("/dev/ttyUSB0")         # not opened
    assert isinstance(console, ApplianceDriver) and not isinstance(console, WebOnlyDriver)
