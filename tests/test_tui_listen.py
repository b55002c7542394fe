"""The console's Find step when nothing answers on .1-.4, in a lab, with the
Pilot: "Listening..." with a countdown, then what was heard as rows; Enter on
the switch's row says what to do, moving the cable searches again by itself,
Enter on the device heard at an earlier site's address probes it there and
Enter again logs in; the report says the appliance was not factory-fresh.
Find's help (the Keys panel) covers each case."""
from __future__ import annotations

import asyncio

import pytest

from conftest import require_tool
from simulator import lab as labmod
from test_tui_flow import app_for, lan0_addresses, on_step, screen_text, wait_for, walk_to_find

pytestmark = pytest.mark.lab

EARLIER = "203.0.113.40"


def status(app) -> str:
    """The status line (and what wraps onto the line above it), above the footer."""
    return " ".join(" ".join(screen_text(app).splitlines()[-4:-1]).split())


def heard_rows(app) -> dict:
    return {key: h.kind for key, h in getattr(app.screen, "heard", {}).items()}


def test_find_listens_names_the_switch_then_probes_and_logs_in_at_an_earlier_sites_address(
        make_lab, state_dir):
    require_tool("lldpd", "lldpd")
    lab = make_lab(appliance_address=f"{EARLIER}/24", switch=True)
    before = lan0_addresses(lab)
    app = app_for(lab, "--listen", "3")
    seen: dict = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await wait_for(pilot, lambda: "Listening... " in screen_text(app), "the countdown")
            seen["listening"] = screen_text(app)
            # what the technician sees: the row drawn, not only the screen's record of it
            await wait_for(pilot, lambda: "switch" in heard_rows(app).values()
                           and "a switch, not it" in screen_text(app), "the switch row")
            seen["switch"] = screen_text(app)
            await pilot.press("enter")              # Enter on the switch's row
            await wait_for(pilot, lambda: "this cable reaches a switch" in status(app),
                           "what Enter on the switch says, on the status line")
            seen["enter on switch"] = status(app)
            await pilot.press("question_mark")      # Find's help, whole
            await wait_for(pilot, lambda: "Esc closes" in screen_text(app)
                           and "Nothing answers." in screen_text(app), "the help")
            seen["help"] = app.screen.query_one("#help-text").source
            seen["help shown"] = screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: on_step(app, "find"), "back on Find")
            labmod.plug(lab.name, "nic1")           # the technician moves the cable
            await wait_for(pilot, lambda: "ipv4" in heard_rows(app).values()
                           and "heard: Enter probes" in screen_text(app),
                           "the device heard after the cable moved", timeout=45)
            seen["device"] = screen_text(app)
            await pilot.press("enter")              # probe it there
            await wait_for(pilot, lambda: any(k.startswith("heard:")
                                              for k in app.screen.responders)
                           and "Enter: log in." in screen_text(app), "its answer")
            seen["probed"] = screen_text(app)
            await pilot.press("enter")              # log in
            await wait_for(pilot, lambda: on_step(app, "login"), "login step")
            seen["login"] = screen_text(app)
            await pilot.press("ctrl+x", "y")
            await wait_for(pilot, lambda: app.session.takeover is None, "port given back")
            await pilot.pause(0.5)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    flat = {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in seen.items()}
    assert "what is on this cable?" in flat["listening"]
    assert "core-sw-3.example.net" in flat["switch"] and "a switch, not it" in flat["switch"]
    assert ("this cable reaches a switch (core-sw-3.example.net, port ge-0-0-12, access port "
            "12), not the appliance (LLDP)") in flat["enter on switch"]
    assert EARLIER in flat["device"] and "heard: Enter probes" in flat["device"]
    assert "it may be an appliance holding an earlier site's address" in flat["device"]
    assert (f"{EARLIER} answers (MAC {lab.nic_macs['nic1']}): not a factory address, so this "
            f"appliance was not factory-fresh. Enter: log in.") in flat["probed"]
    assert EARLIER in flat["login"]
    # not a factory address: no factory password offered, the earlier site's asked for
    assert "Not on a factory address, so not factory-fresh: type the password its earlier " \
           "site set" in flat["login"]
    help_text = " ".join(seen["help"].split())
    assert "Find the appliance" in seen["help shown"] and "Esc closes" in seen["help shown"]
    for case in ("A device at an address of its own", "A switch", "DHCP discovers",
                 "IPv6 link-local only", "Nothing speaks on this cable", "No carrier", "^r",
                 "capture (pcap)"):
        assert case in help_text, case
    assert lan0_addresses(lab) == before
    from lab_helpers import reports

    report = reports(state_dir)[-1].read_text()
    assert "factory-fresh: no, it answered on 203.0.113.40" in report
