"""One procedure for every face: the find-and-login policy, the search and
the preview live in the core's bring-up session (hwprobe/procedure/), and
the commands and the console's screens call it instead of deciding again.

- no command borrows another command's private helpers (the policy it
  would borrow belongs in the session);
- no face runs a search of its own: ``bringup probe``, ``apply`` and the
  console's Find all search through ``BringupSession.probe``;
- the console's preview checks the sheet against the appliance's firmware,
  as the run does, before anything is sent;
- on a terminal, ``bringup apply`` asks its questions in the order it
  always has, the Prompter being the only way the procedure asks.
"""
from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from lab_helpers import bringup_argv, bringup_env, on_a_pty

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted((ROOT / "bringup" / "commands").glob("*.py"))
FACES = sorted([*(ROOT / "bringup").rglob("*.py"), *(ROOT / "tui").rglob("*.py")])


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _private_imports_from_commands(path: Path) -> list[str]:
    """``file:line: name`` for each private name ``path`` imports from a
    command module (``from .apply import _find``, ``from bringup.commands.x
    import _y``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        from_a_command = (node.level == 1 and module) or module.startswith("bringup.commands.")
        if not from_a_command:
            continue
        for alias in node.names:
            if alias.name.startswith("_"):
                found.append(f"{_where(path)}:{node.lineno}: {module}.{alias.name}")
    return found


def test_no_command_imports_another_commands_private_names():
    found = [x for path in COMMANDS for x in _private_imports_from_commands(path)]
    assert not found, "shared policy belongs in the core's session:\n" + "\n".join(found)


def test_the_private_import_scan_sees_one(tmp_path):
    """The scan above is not vacuous."""
    f = tmp_path / "verify.py"
    f.write_text("def run():\n    from .apply import _find, target_of\n")
    assert [x.split(": ")[1] for x in _private_imports_from_commands(f)] == ["apply._find"]


def _own_searches(path: Path) -> list[str]:
    """``file:line`` for each call of the probe itself (``probe.probe(...)``,
    ``probe(...)`` imported from hwprobe.port.probe) in a face's file."""
    tree = ast.parse(path.read_text(), str(path))
    direct = {alias.asname or alias.name for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module == "hwprobe.port.probe"
              for alias in node.names if alias.name == "probe"}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if (isinstance(fn, ast.Attribute) and fn.attr == "probe"
                and isinstance(fn.value, ast.Name) and fn.value.id == "probe") or (
                isinstance(fn, ast.Name) and fn.id in direct):
            found.append(f"{_where(path)}:{node.lineno}")
    return found


def test_no_face_searches_for_the_appliance_by_itself():
    found = [x for path in FACES for x in _own_searches(path)]
    assert not found, ("every face searches through BringupSession.probe (the one "
                       "hwprobe.port.search.Search):\n" + "\n".join(found))


def test_the_search_scan_sees_a_probe_of_its_own(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("from hwprobe.port import probe\n\ndef run():\n"
                 "    return probe.probe('lan0', '0.0.0.0', ('169.254.1.1',))\n")
    g = tmp_path / "find.py"
    g.write_text("from hwprobe.port.probe import probe as arp\n\ndef run():\n    arp('lan0')\n")
    assert _own_searches(f) and _own_searches(g)


# --- the console's preview: the firmware fit check, as the run makes it ----------------

@pytest.mark.lab
def test_console_restore_step_refuses_a_sheet_the_firmware_cannot_hold_before_sending_it(
        make_lab, state_dir, tmp_path):
    from bringup.console import make_app
    from simulator import control
    from simulator import lab as labmod
    from test_apply_lab import ten_syslog_sheet
    from test_tui_flow import screen_text, wait_for, walk_to_restore

    lab = make_lab(appliance_address="169.254.1.3", sim_args=["--firmware", "current"])
    app = make_app(["--console-profile", "--sheet", str(ten_syslog_sheet(tmp_path)),
                    "--iface", "lan0", "--lab", lab.name])
    app.options.resume = False
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_restore(pilot, app, lambda: app.screen.plan or app.screen.unread)
            await pilot.pause(0.2)
            seen["preview"] = " ".join(screen_text(app).split())
            seen["plan"] = app.screen.plan
            await pilot.press("enter")          # Apply: must not send the sheet
            await pilot.pause(0.5)
            seen["after enter"] = " ".join(screen_text(app).split())
            seen["running"] = app.screen.running
            await pilot.press("ctrl+x", "y")
            await wait_for(pilot, lambda: app.session.takeover is None, "port given back")

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert seen["plan"] is None and seen["running"] is False
    for text in (seen["preview"], seen["after enter"]):
        assert "this appliance takes 3 syslog servers; the sheet has 10" in text, text
    assert "Still reading" not in seen["after enter"]
    # the forced password change at login is the only change the appliance made
    assert control.send(lab.control, get="stats")["changes"] == {"change_password": 1}


# --- on a terminal: the questions, in their order ------------------------------------------

def _apply_on_a_pty(lab, state_dir, answers: list[tuple[str, str]]) -> tuple[int, str, list[str]]:
    """``bringup apply`` on a real pty, answering each question of
    ``answers`` (its text, what to type) as it comes. Returns (exit status,
    everything written, the questions seen in order)."""
    from test_apply_lab import ADDR, EXAMPLE

    asked, pending, seen = [], list(answers), [0]

    def answer(out: bytes) -> bytes | None:
        new = out[seen[0]:].decode(errors="replace")
        if pending and new.rstrip(" ").endswith(pending[0][0].rstrip(" ")):
            question, typed = pending.pop(0)
            asked.append(question)
            seen[0] = len(out)
            return typed.encode() + b"\r"
        return None

    argv = bringup_argv(lab, "apply", "--sheet", str(EXAMPLE), "--address", ADDR,
                        "--iface", "lan0")
    # a session of its own (size given): the questions come on this pty only
    status, out = on_a_pty(argv, bringup_env(state_dir), size=(24, 80), react=answer)
    return status, out.decode(errors="replace"), asked


@pytest.mark.lab
def test_apply_on_a_terminal_asks_smtp_the_password_in_force_then_a_new_one_when_asked(
        make_lab, state_dir):
    from simulator import control
    from test_apply_lab import ADDR, NEW_PASSWORD, SMTP_PASSWORD

    lab = make_lab(appliance_address=ADDR)
    # the new password is asked once the appliance, found and logged in to, asks for it
    first = [("SMTP password for bt-alerts: ", SMTP_PASSWORD),
             ("Appliance password for admin (Enter: the factory password): ", ""),
             ("New appliance password (if the appliance asks for one): ", NEW_PASSWORD),
             ("New appliance password again: ", NEW_PASSWORD)]
    status, out, asked = _apply_on_a_pty(lab, state_dir, first)
    assert asked == [q for q, _ in first], out
    assert status == 0, out
    assert "appliance password changed at first login: store the new one safely" in out
    assert NEW_PASSWORD not in out and SMTP_PASSWORD not in out

    # again, the password changed by the run above: the run journal says so,
    # and the question for the password in force names it (no factory offer);
    # the appliance asks for no new password, and neither does bringup
    again = [("SMTP password for bt-alerts: ", SMTP_PASSWORD),
             ("Appliance password for admin: ", NEW_PASSWORD)]
    logins = control.send(lab.control, get="stats")["requests"].get("POST /appliance/login")
    status, out, asked = _apply_on_a_pty(lab, state_dir, again)
    assert asked == [q for q, _ in again], out
    assert status == 0, out
    assert "An earlier run changed this appliance's password at " in out
    assert "Enter: the factory password" not in out and "New appliance password" not in out
    assert "nothing to change: the appliance already matches the sheet" in out
    stats = control.send(lab.control, get="stats")
    assert stats["requests"].get("POST /appliance/login") == logins + 1     # none refused
