"""Practice never touches field state: ``bringup demo`` run twice in a row, as
a technician practises, in tmux at 80x24 on TERM=vt220.

Each demo starts from a factory-fresh appliance with new MACs and a state
directory of its own, so the second reaches Step 5 with the factory password
offered again (no "already changed", no "certificate changed", no lockout try
spent). The second demo's appliance answers only on NIC2: the Find step says
how the demo moves the cable (m), and m does. The field's state directory
(the one BRINGUP_STATE_DIR names) gets no run journal, pin, report, link
journal or "continue where you left off" from either: only the run log's
lines saying that `bringup demo` ran.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tmux_helpers import bringup_command, demo_in_tmux

NEW_PASSWORD = "Demo-Twice-7x!"
FOUND = re.compile(r"169\.254\.1\.3\s+\|?\s*(02:b5:[0-9a-f:]{11})")   # the table row

pytestmark = [pytest.mark.lab, pytest.mark.tmux]


def _demo_to_step_5(tmp_path, field, name: str, run: int, *flags: str) -> dict:
    """One ``bringup demo`` from its first screen to Step 5 (Network), then
    quit; returns what the screens showed."""
    session = f"demo{run}-{name}"
    log = tmp_path / f"demo{run}.log"
    demo = (f"env TERM=vt220 BRINGUP_STATE_DIR={field} {bringup_command()} demo --name {name} "
            + " ".join(flags))
    # started from a folder holding packages named like bringup's own (a
    # checkout of another version, say): the demo runs its own console and lab
    here = tmp_path / f"cwd{run}"
    for package in ("bringup", "simulator"):
        (here / package).mkdir(parents=True)
        (here / package / "__init__.py").write_text("raise SystemExit('a decoy package')\n")
    seen: dict = {}
    with demo_in_tmux(session, name, demo, log, here) as t:
        t.wait("Step 1 of 7")
        t.wait("Sheet loaded")
        t.keys("Enter")
        t.wait("Arrows choose")
        t.keys("Enter")
        if "--answers-on nic2" in " ".join(flags):
            seen["waiting"] = t.wait("Waiting for the cable in NIC2")
            t.keys("m")
        seen["find"] = t.wait("Found the appliance at 169.254.1.3")
        t.keys("Enter")
        seen["login"] = t.wait("Step 4 of 7")
        t.new_password_twice(NEW_PASSWORD)
        t.keys("Enter")
        seen["network"] = t.wait("Step 5 of 7")
        t.keys("C-x")
        t.wait("Quit")
        t.keys("y")
        t.wait("taken down", timeout=60)
    seen["log"] = log.read_text(errors="replace")
    seen["mac"] = FOUND.search(seen["find"]).group(1)
    return seen


def test_two_demos_in_a_row_each_reach_step_5_with_the_factory_password(tmp_path):
    from conftest import require_lab, require_tool

    require_lab()
    require_tool("tmux", "tmux")
    field = tmp_path / "field-state"
    field.mkdir()
    name = f"d{uuid.uuid4().hex[:6]}"
    first = _demo_to_step_5(tmp_path, field, name, 1)
    second = _demo_to_step_5(tmp_path, field, name, 2, "--answers-on nic2", "--production")

    for run in (first, second):
        login = " ".join(run["login"].split())
        assert "The factory credentials are filled in" in login, run["login"]
        assert "already changed" not in login and "certificate changed" not in run["log"]
        assert "tries left" not in run["log"] and "attempts remaining" not in run["log"]
        assert "Step 5 of 7: Network" in run["network"]
        assert NEW_PASSWORD not in run["log"]
    # a new appliance each time: new MACs (the second answered on NIC2)
    assert first["mac"] != second["mac"] and second["mac"].endswith(":02")
    # the waiting screen says how the demo moves the cable
    waiting = " ".join(second["waiting"].split())
    assert "Demo lab: press m to move the cable to NIC2" in waiting, second["waiting"]
    assert "production network" in second["log"]       # --production made one
    # practice never touched the field's state: only the demo's own folder (and
    # the run log's lines saying `bringup demo` ran)
    assert sorted(p.name for p in field.iterdir()) == ["bringup.log", "demo"], \
        list(field.iterdir())
    kept = field / "demo" / name
    runs = list((kept / "runs").glob("*.json"))
    assert len(runs) == 1, runs                          # the second demo's alone: emptied
    assert json.loads(runs[0].read_text())["password_change"]["status"] == "done"
