"""Quitting the console while a step is at work on the appliance: the work
stops and says where it stopped (the run's report, the run journal) before
the port is given back and before the console says goodbye, and a console
started at the goodbye, while this one still ends, offers to continue.

- Restore, while it applies the sheet (an appliance slow to answer): the
  step at work is read back, the rest are not applied, the report says so.
- Site (with a recovery kit), while the appliance restarts after the site
  software install: the finish stops, the report says where, the run
  journal keeps the restart record (the next run waits for the restart
  instead of installing again), and the offer lands on the Site step.

The console runs in-process (Pilot) in the lab's laptop namespace. What is
on disk is read at the very moment the console says goodbye: a technician
may close the terminal then, and nothing may still be at work.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from bringup.console import make_app
from finish_helpers import FINISH_ENV
from lab_helpers import NEW_PASSWORD, SMTP_PASSWORD
from simulator import control, lab as labmod
from test_tui_flow import found, on_step, screen_text, wait_for

pytestmark = [pytest.mark.lab,
              pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")]


def _at_goodbye(app, monkeypatch, state_dir, group: str) -> dict:
    """Filled when the console says goodbye (its exit), with what is on
    disk and at work then."""
    seen: dict = {}
    exit_app = app.exit

    def goodbye(*args, **kwargs):
        journals = list((state_dir / "runs").glob("*.json"))
        report = app.session.report
        seen.update(
            farewell=app.farewell,
            at_work=[w.name for w in app.workers if w.group == group and not w.is_finished],
            port_held=app.session.takeover is not None,
            journal=json.loads(journals[0].read_text()) if journals else None,
            report=json.loads(report[1].read_text()) if report else None,
            # a console started now (in the same lab), while this one still ends
            offered=subprocess.run(
                [sys.executable, "-c", "from tui.session import load_progress; "
                 f"print((load_progress({app.options.lab!r}) or {{}}).get('step'))"],
                capture_output=True, text=True, timeout=60).stdout.strip())
        exit_app(*args, **kwargs)

    monkeypatch.setattr(app, "exit", goodbye)
    return seen


async def _quit(pilot, app, seen: dict) -> None:
    """^x, y when asked; returns once the console said goodbye."""
    await pilot.press("ctrl+x")
    # mid-work the question is whether to stop after the step in flight
    await wait_for(pilot, lambda: "y  stop after this step" in screen_text(app)
                   or "y  quit" in screen_text(app), "the quit question")
    await pilot.press("y")
    for _ in range(1200):
        if seen:
            return
        await asyncio.sleep(0.05)


def _said_goodbye_with_nothing_at_work(lab, run, seen: dict) -> None:
    """Run ``run`` (the Pilot's walk, then _quit) in the lab's laptop
    namespace; at the goodbye, the work had ended and the port was back."""
    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert seen, "the console never said goodbye"
    assert seen["at_work"] == []
    assert not seen["port_held"]


async def _walk_to_restore(pilot, app, ready: str) -> None:
    """From the start screen to Restore, the factory password changed."""
    await wait_for(pilot, lambda: on_step(app, "start") and ready in screen_text(app),
                   "the sheet loaded")
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "port") and app.screen.ports, "port list")
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "find"), "find step")
    await found(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "login"), "login step")
    await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
    await wait_for(pilot, lambda: on_step(app, "network"), "network step")
    await pilot.press("ctrl+g")
    await wait_for(pilot, lambda: on_step(app, "restore") and app.screen.plan, "the diff",
                   timeout=60)


def test_quitting_while_restore_applies_stops_it_and_reports_it_before_the_goodbye(
        make_lab, state_dir, monkeypatch):
    from test_tui_flow import app_for

    lab = make_lab(appliance_address="169.254.1.3")
    app = app_for(lab)
    seen = _at_goodbye(app, monkeypatch, state_dir, "apply")

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _walk_to_restore(pilot, app, "The sheet will set")
            control.send(lab.control, fault="delay", value=0.4)    # each answer: 0.4 s
            await pilot.press(*SMTP_PASSWORD, "enter")
            await wait_for(pilot, lambda: any(s.status == "verified" for s in app.screen.steps),
                           "the first setting read back", timeout=60)
            await _quit(pilot, app, seen)

    _said_goodbye_with_nothing_at_work(lab, run, seen)
    statuses = {s["key"]: s["status"] for s in seen["report"]["steps"]}
    assert "verified" in statuses.values()
    stopped = [s for s in seen["report"]["steps"]
               if s["message"] == "not applied: the run was stopped before it"]
    assert stopped and all(s["status"] == "skipped" for s in stopped)
    assert "Left undone: Restore" in seen["farewell"]
    assert seen["offered"] == "restore"


@pytest.mark.xdist_group("site-lab")
def test_quitting_in_the_restart_stops_the_finish_and_saves_it_before_the_goodbye(
        make_lab, kit, state_dir, monkeypatch):
    lab = make_lab(appliance_address="169.254.1.3", production=("nic1", "nic2"),
                   smtp_password=SMTP_PASSWORD,
                   sim_args=("--install-seconds", "20", "--login-restart-seconds", "1"))
    for key, value in FINISH_ENV.items():
        if key not in ("BRINGUP_NEW_PASSWORD", "BRINGUP_SMTP_PASSWORD"):
            monkeypatch.setenv(key, value)
    app = make_app(["--console-profile", "--kit", str(kit), "--iface", "lan0"])
    app.options.resume = False
    seen = _at_goodbye(app, monkeypatch, state_dir, "finish")

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _walk_to_restore(pilot, app, "Kit loaded")
            await pilot.press(*SMTP_PASSWORD, "enter")
            await wait_for(pilot, lambda: app.screen.finished, "apply finished", timeout=90)
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "site") and "Enter finishes the site."
                           in screen_text(app), "the Site step")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.waiting_restart, "the restart", timeout=90)
            await _quit(pilot, app, seen)

    _said_goodbye_with_nothing_at_work(lab, run, seen)
    # the next run waits for the restart instead of installing again
    assert seen["journal"]["finish"]["site_software"]["status"] == "restarting"
    assert seen["report"] is not None, "no report when the console said goodbye"
    software = next(s for s in seen["report"]["finish"]["steps"] if s["key"] == "site_software")
    assert software["status"] == "stopped"
    assert "stopped while waiting for the appliance to restart" in software["message"]
    assert "Left undone: Site; not finished: Site software" in seen["farewell"]
    assert app.return_code == 1
    assert seen["offered"] == "site"
