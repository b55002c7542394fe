"""The console's "continue where you left off" is offered only where the run
stopped: on the same laptop port (name and MAC), in the same demo lab or in
the field; never a run of another lab, of a lab made again, or of a demo.
Nor while the console that stopped it still runs; but it is offered as soon
as that console has ended, even not yet reaped (an orphan, when its terminal
closed under it, waits seconds for init here), and when its pid has gone to
another process since."""
from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from bringup.console import make_app
from lab_helpers import ended_not_reaped
from simulator import lab as labmod
from test_tui_flow import screen_text, wait_for

SHEET = str(Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml")


def _offered(ns, *argv) -> str:
    """The console's first screen, started in network namespace ``ns`` (a
    lab's, or its name) with ``argv``: the resume offer when one shows."""
    app = make_app(["--console-profile", *argv])

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "Step 1 of 7" in screen_text(app), "first step")
            await pilot.pause(1.0)       # the offer is pushed at mount, if at all
            return screen_text(app)

    with labmod.in_netns(getattr(ns, "laptop_ns", ns)):
        return asyncio.run(run())


@pytest.mark.lab
def test_a_resume_offer_never_names_an_appliance_of_another_lab_or_of_the_demo(make_lab,
                                                                               state_dir):
    """A run stopped in one lab (or in a demo) is not offered in another lab, in
    the field, nor in the same lab made again: each has its own laptop port
    (another MAC), or another lab name. Offered only where it ran."""
    from hwprobe.procedure.session import BringupSession, Target
    from tui.screens.base import Session, save_progress

    first, other = make_lab(), make_lab()
    progress = state_dir / "console-progress.json"

    def stopped_in(lab, name):
        with labmod.in_netns(lab.laptop_ns):
            bringup = BringupSession(Target(iface="lan0", address="169.254.1.1"))
            save_progress(Session(sheet_path=SHEET, bringup=bringup, done={"start", "port"},
                                  lab=name), "login")
        progress.write_text(progress.read_text().replace('"pid": ', '"pid": 999999999, "x": '))

    offer = "continue from there"
    stopped_in(first, None)             # `ip netns exec FIRST-laptop bringup`, no demo
    assert offer in _offered(first)     # where it ran: offered
    assert offer not in _offered(other)             # another lab's lan0
    assert offer not in _offered(other.patch_ns)    # "the field": no lan0 there
    assert offer not in _offered(first, "--lab", first.name)    # as a demo lab
    stopped_in(first, first.name)       # a demo's run (its lab named)
    assert offer not in _offered(first)
    assert offer not in _offered(other, "--lab", first.name)
    labmod.down(first.name)             # the lab made again: a new lan0
    again = make_lab(name=first.name)
    assert offer not in _offered(again, "--lab", first.name)


def _left_by(pid: int, start: str | None = None) -> str | None:
    """The step offered to continue from (None: no offer) when a run stopped
    on the Site step by the console of ``pid`` (``start``: its start time
    then; None: as recorded)."""
    from hwprobe.port.journal import process_start
    from tui.screens.base import Session, load_progress, progress_path, save_progress

    save_progress(Session(sheet_path=SHEET, done={"start", "port", "find"}), "site")
    data = json.loads(progress_path().read_text())
    data["pid"], data["pid_start"] = pid, process_start(pid) if start is None else start
    progress_path().write_text(json.dumps(data))
    return (load_progress() or {}).get("step")


def test_the_offer_waits_for_the_console_that_stopped_the_run_to_end_not_to_be_reaped(
        state_dir):
    console = subprocess.Popen(["sleep", "30"])
    try:
        assert _left_by(console.pid) is None            # it still runs: not offered
        # the pid went to another process since (a restart of the laptop)
        assert _left_by(console.pid, start="1") == "site"
    finally:
        console.kill()
    with ended_not_reaped() as pid:
        assert _left_by(pid) == "site"
