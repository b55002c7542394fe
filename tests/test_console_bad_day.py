"""The bad day on the console, walked with the Pilot at 80x24 in a lab
(issue 26, items 2, 4 and 6):

- a hostile appliance: what it prints on its local console shows escaped
  (``\\x1b``) in the Find step's serial pane, and what its pages hold shows
  escaped in the Restore cells, before and after Apply, and on Done; nothing
  is left for the console's control filter to drop, and no case change
  touches it (its NIC name stays as it sent it);
- one failed save (HTTP 500 on the e-mail page): Done's headline says NOT
  READY and which change failed, never that the cables may move;
- Ctrl-C during Apply: the same question as ^x, "stop after the step in
  flight, or go on"; y stops there, the console leaves with 130 and the
  report lists the password change, the steps done, in flight and left,
  and says that running again resumes.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hwprobe.safetext import shown
from lab_helpers import reports
from simulator import control
from simulator import lab as labmod
from simulator.hostile import SPOOF
from test_tui_flow import (NEW_PASSWORD, SMTP_PASSWORD, app_for, ctrl_c_then_stop, found, on_step,
                           screen_text, wait_for, walk_to_find, walk_to_restore)

pytestmark = pytest.mark.lab


async def _apply_and_wait(pilot, app) -> None:
    await pilot.press(*SMTP_PASSWORD, "enter")
    await wait_for(pilot, lambda: app.screen.finished, "apply finished", timeout=90)


def test_hostile_text_shows_escaped_in_the_find_and_restore_cells(make_lab, state_dir):
    lab = make_lab()
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, {})
            await found(pilot, app)
            # the appliance's local console, spoofing every line it prints,
            # opened by hand in the Find step's serial pane (^t)
            control.send(lab.control, fault="hostile", value="escapes")
            await pilot.press("ctrl+t")
            pane = app.screen.query_one("#serial")
            await wait_for(pilot, lambda: pane.has_class("-open"), "serial pane")
            pane.query_one("#serial-device").value = lab.console
            pane.open_device()
            await pilot.pause(0.5)
            pane.send_line("")
            await wait_for(pilot, lambda: "owned" in pane.text, "the console's answer")
            seen["find pane"] = pane.text
            seen["find"] = screen_text(app)
            await pilot.press("ctrl+t")
            control.send(lab.control, fault="hostile", value="")
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "login"), "login step")
            await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
            await wait_for(pilot, lambda: on_step(app, "network"), "network step")
            # the pages' table cells carry the spoof (the factory address left alone)...
            control.send(lab.control, fault="hostile", value="escapes")
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "restore") and app.screen.plan, "diff")
            seen["restore"] = screen_text(app)
            seen["extras"] = str(app.screen.query_one("#extras").render())
            # ...then the form values, read back after each save
            control.send(lab.control, fault="hostile", value="value_escapes")
            await _apply_and_wait(pilot, app)
            seen["applied"] = screen_text(app)
            table = app.screen.query_one("#steps")
            seen["held"] = "\n".join(str(table.get_cell(key, "held")) for key in table.rows)
            seen["titles"] = "\n".join(str(table.get_cell(key, "title")) for key in table.rows)
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "done"), "done")
            await pilot.pause(0.5)
            seen["done"] = screen_text(app)
            seen["done all"] = "\n".join(str(w.render()) for w in app.screen.query("Static"))
            control.send(lab.control, fault="hostile", value="")
            await pilot.press("enter")

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    escaped = shown(SPOOF)
    # the console's lines in the Find step's pane: escaped, never dropped
    assert escaped[:40] in seen["find pane"], seen["find pane"][-600:]
    assert "\\x1b]0;owned" in seen["find"]
    # the Restore step: the appliance's text escaped where it shows, before
    # Apply (the addresses it holds) and after it (the values read back)
    assert "\\x1b]0;owned" in seen["restore"], seen["restore"]
    assert f"support.example.net{escaped}" in seen["held"], seen["held"][:800]
    assert "\\x1b]0;owned" in seen["applied"]
    # the left-alone line: the factory address and its NIC exactly as sent (no
    # case change of the appliance's text), escaped
    assert f"on nic1{escaped}"[:40] in seen["extras"].replace("\n", ""), seen["extras"]
    assert "NIC1\\X1B" not in seen["extras"] and "OWNED" not in seen["extras"]
    assert "\\x1b]0;owned" in seen["done all"]
    assert "NOT READY" in seen["done"] and "ready for its cables" not in seen["done"]
    # no screen relied on the control filter: nothing was dropped anywhere
    assert app.control_filter.dropped == set(), app.control_filter.dropped


def test_one_failed_save_makes_done_say_not_ready_and_what_failed(make_lab, state_dir):
    lab = make_lab()
    control.send(lab.control, fault="http500", value="/appliance/security/email/save")
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_restore(pilot, app)
            await _apply_and_wait(pilot, app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "done"), "done")
            await pilot.pause(0.5)
            seen["done"] = screen_text(app)
            seen["hint"] = str(app.screen.query_one("#hint").render())
            await pilot.press("enter")

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    hint = seen["hint"]
    assert hint.startswith("NOT READY: 1 of 9 change(s) NOT applied (E-mail: relay "
                           "mail.example.net:587"), hint
    assert "leave the cables where they are" in hint
    assert "production settings" not in seen["done"] and "ready for its cables" not in hint
    assert "NOT READY" in seen["done"].splitlines()[1]
    first = Path(app.session.report[0]).read_text().splitlines()[0]
    assert first.startswith("# NOT READY: 1 of 9"), first
    assert app.return_code == 1


def test_ctrl_c_during_apply_asks_to_stop_after_the_step_in_flight_and_the_report_says_so(
        make_lab, state_dir):
    lab = make_lab()
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_restore(pilot, app)
            control.send(lab.control, fault="delay", value=0.3)
            await pilot.press(*SMTP_PASSWORD, "enter")
            await wait_for(pilot, lambda: control.send(lab.control, get="stats")["saved"].get(
                "POST /appliance/networking/routes/add"), "a route sent", timeout=60)
            seen["question"] = await ctrl_c_then_stop(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert "Applying: stop after the step in flight, or go on?" in seen["question"]
    assert "y  stop after this step   n  go on" in seen["question"]
    assert app.return_code == 130
    text = reports(state_dir)[-1].read_text()
    head = text.split("## Steps")[0]
    assert head.startswith("# STOPPED while applying (asked to stop after the step in flight)")
    assert "- Done: the first-login password change; Address: NIC1" in head, head
    assert "- Left: " in head and "E-mail" in head.split("- Left: ")[1], head
    assert "running again resumes" in head
    # the saves after the step in flight were not sent
    assert not control.send(lab.control, get="stats")["saved"].get(
        "POST /appliance/security/email/save")
