"""The console's verify step, with the Pilot, against a lab with the production
network: after the Done screen gives the port back and the laptop joins the
production network, v then Enter has the appliance test each service, and each
is shown reached, in the appliance's words."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from simulator import lab as labmod
from simulator import production
from bringup.console import make_app
from test_tui_flow import on_step, screen_text, wait_for as flow_wait_for

SHEET = str(Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml")
NEW_PASSWORD = "Rack-42-Verify!"
SMTP_PASSWORD = "relay-Pass1"
pytestmark = pytest.mark.lab


async def wait_for(pilot, condition, what: str, timeout: float = 60.0) -> None:
    """The flow tests' wait, with room for the production network's services."""
    await flow_wait_for(pilot, condition, what, timeout)


def test_done_screen_verifies_every_service_from_the_production_network(make_lab, state_dir):
    lab = make_lab(production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD)
    app = make_app(["--console-profile", "--sheet", SHEET, "--iface", "lan0", "--lab", lab.name])
    app.options.resume = False
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: on_step(app, "start") and app.session.settings, "sheet")
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "port") and app.screen.ports, "ports")
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "find") and app.screen.responders
                           and not app.screen._probing, "an answer")
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "login"), "login step")
            await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD)
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "network"), "network step")
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "restore") and app.screen.plan, "the diff")
            await pilot.press(*SMTP_PASSWORD, "enter")
            await wait_for(pilot, lambda: app.screen.finished, "apply finished")
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "done") and app.session.takeover is None,
                           "done, port given back")
            seen["done"] = screen_text(app)
            # the technician moves the cables and the laptop: in a demo lab with a
            # production network, the lab moves the laptop when verify starts
            await pilot.press("v")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "VerifyScreen", "verify")
            seen["verify"] = screen_text(app)
            # an emptied address field is refused before anything is sent
            field = app.screen.query_one("#address")
            field.value = ""
            await pilot.press("enter")
            await wait_for(pilot, lambda: "is not an IPv4 address" in screen_text(app),
                           "the empty address refused")
            seen["empty"] = " ".join(screen_text(app).split())
            assert not app.screen.running and app.screen.lines == []
            field.value = "198.51.100.20"
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.result is not None, "verify finished")
            seen["verified"] = screen_text(app)
            seen["lines"] = "\n".join(app.screen.lines)
            await pilot.press("escape")
            await wait_for(pilot, lambda: on_step(app, "done"), "back on Done")
            await pilot.press("enter")
            await pilot.pause(0.2)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())

    assert "Verify after the cables move" in seen["done"]
    assert "needs a production network" not in seen["done"]
    assert seen["lines"].startswith("Demo lab: the laptop joined the production network as "
                                    "198.51.100.250.")
    assert "198.51.100.20" in seen["verify"]
    assert ("Address: empty is not an IPv4 address: type the appliance's production address"
            in seen["empty"]), seen["empty"]
    assert "Every service reached" in seen["verified"], seen["verified"]
    assert "NOT REACHED" not in seen["lines"]
    for words in ("Test email sent to noc@example.net via mail.example.net:587 (STARTTLS",
                  "ntp.example.net: has address 203.0.113.200", "synchronized with 198.51.100.123",
                  "syslog 198.51.100.5: sent over TCP 514"):
        assert words in seen["lines"], words
    assert all(line.isascii() for line in seen["verified"].splitlines())
    assert [m["rcpt_tos"] for m in production.received_mail(lab)] == [["noc@example.net"]]
    assert NEW_PASSWORD not in seen["lines"] and SMTP_PASSWORD not in seen["lines"]
    run_md = Path(app.session.report[0]).read_text()
    assert "## Verify on 198.51.100.20: every service reached" in run_md
    assert NEW_PASSWORD not in run_md and SMTP_PASSWORD not in run_md
