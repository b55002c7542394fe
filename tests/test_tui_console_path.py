"""The console's other ways through: the basic settings over the appliance's
local console when its web interface does not answer, every address of the
Network step, and Esc back a step without losing what was typed.

The lab tests run the app built by ``make_app`` inside the lab's laptop
namespace against the simulated appliance (its console is a real pty); the
Network tests need no lab (nothing leaves the screen before ^g).
"""
from __future__ import annotations

import asyncio

import pytest

from hwprobe.settings.sheet import load_sheet
from simulator import lab as labmod
from simulator.control import send
from test_tui_flow import (NEW_PASSWORD, SHEET, app_for, lan0_addresses, on_step, screen_text,
                           wait_for, walk_to_find)
from bringup.console import make_app


async def type_into(pilot, field, text: str) -> None:
    """Replace ``field``'s value by ``text`` as typed: the last key goes
    through the keyboard (so the check-as-typed runs), the rest is pasted."""
    field.focus()
    await pilot.pause()
    field.value = text[:-1]
    field.action_end()
    await pilot.press(text[-1])


def offline_app():
    app = make_app(["--console-profile", "--sheet", SHEET])
    app.options.resume = False
    return app


# --- the basic settings over the local console --------------------------------------

@pytest.mark.lab
def test_web_interface_silent_sets_the_basics_over_the_local_console(make_lab, state_dir):
    # a console at 9600 with hardware flow control, set in the login step's console row
    lab = make_lab(appliance_address="169.254.1.1",
                   sim_args=["--https-port", "-1", "--fault", "console_baud=9600"])
    before = lan0_addresses(lab)
    app = app_for(lab)
    seen: dict[str, str] = {}
    held: dict[str, str] = {}           # the Read back column after the run

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await wait_for(pilot, lambda: app.screen.responders and not app.screen._probing
                           and "^o Local console" in screen_text(app), "the console offered")
            seen["find"] = screen_text(app)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: on_step(app, "login")
                           and "^o Web interface" in screen_text(app)
                           and "Baud" in screen_text(app), "login over the console, drawn")
            seen["login"] = screen_text(app)
            seen["device"] = app.screen.query_one("#device").value
            app.screen.query_one("#serial-baud").value = "9600"
            app.screen.query_one("#serial-flow").value = "rtscts"
            app.screen.query_one("#new").focus()
            await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
            await wait_for(pilot, lambda: on_step(app, "network"), "network step", timeout=60)
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "restore") and app.screen.plan
                           and "[-] web only" in screen_text(app),
                           "the diff over the console, drawn", timeout=60)
            seen["restore"] = screen_text(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.finished, "apply over the console",
                           timeout=90)
            seen["applied"] = screen_text(app)
            table = app.screen.query_one("#steps")
            held.update({str(k.value): str(table.get_cell(k, "held")) for k in table.rows})
            await pilot.press("ctrl+t")
            await pilot.pause(0.2)
            seen["transcript"] = screen_text(app)
            seen["pane"] = app.screen.query_one("#serial").text
            await pilot.press("ctrl+t", "enter")
            await wait_for(pilot, lambda: on_step(app, "done") and app.session.takeover is None
                           and not [w for w in app.workers if w.is_running],
                           "done, logged out, port back")
            seen["done"] = screen_text(app)
            await pilot.press("enter")
            await pilot.pause(0.2)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())

    for step in ("find", "login", "restore", "applied", "transcript", "done"):
        assert seen[step].isascii() and len(seen[step].splitlines()) == 24, step
    assert not app.ascii_filter.folded          # ASCII by design, not by the filter
    seen = {step: " ".join(text.split()) for step, text in seen.items()}
    assert "not HTTPS" in seen["find"] and "^o Local console" in seen["find"]
    assert seen["device"] == lab.console
    assert "Console" in seen["login"] and "^o Web interface" in seen["login"]
    assert "Baud 115200 Flow none" in seen["login"]
    assert send(lab.control, get="stats")["console_line"] == {"baud": 9600, "flow": "rtscts"}
    assert "[-] web only" in seen["restore"], seen["restore"]
    assert "set it on the web interface" in seen["restore"]
    assert "FAILED" not in seen["applied"] and "read back" in seen["applied"]
    assert "left for the web interface" in seen["applied"]
    # the console shows no syslog or e-mail: not read, rather than "none"
    assert held["syslog"] == held["smtp"] == "not read: web only"
    assert held["hostname"] == "support.example.net"
    assert "login: admin" in seen["pane"] and "Hostname: support.example.net" in seen["pane"]
    assert "Set on the web interface when it answers" in seen["done"]
    for text in seen.values():
        assert NEW_PASSWORD not in text

    sheet = load_sheet(SHEET)
    state = send(lab.control, get="state")["state"]
    ips = {(ip["nic"], ip["address"], ip["netmask"], ip["vlan"]) for ip in state["ips"]}
    for ip in sheet.ips:
        assert (ip.nic, ip.address, ip.netmask, ip.vlan) in ips
    assert state["hostname"] == sheet.hostname
    assert state["default_gateway"] == sheet.default_gateway
    assert state["dns_servers"] == sheet.dns_servers
    assert state["ntp_servers"] != sheet.ntp_servers          # web only: left for later
    assert [u["must_change"] for u in state["users"] if u["name"] == "admin"] == [False]
    skipped = {step.area: step.message for step in app.session.result.steps
               if step.status == "skipped"}
    assert set(skipped) == {"routes", "ntp", "syslog", "smtp"}
    assert all("set it on the web interface" in m for m in skipped.values())
    assert lan0_addresses(lab) == before
    assert app.return_code == 1, "settings left for the web interface: not done"
    assert "Not applied" in app.farewell
    transcripts = list((state_dir / "transcripts").glob("console-*.log"))
    assert transcripts and all(NEW_PASSWORD not in t.read_text() for t in transcripts)


# --- Network: every address, checked as typed ---------------------------------------

async def _at_network(pilot, app):
    await pilot.pause(0.1)
    app.goto("network")
    await wait_for(pilot, lambda: on_step(app, "network"), "network step")


def test_network_step_shows_every_address_of_the_sheet_and_applies_edits_to_each(state_dir):
    app = offline_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _at_network(pilot, app)
            first = screen_text(app)
            await type_into(pilot, app.screen.query_one("#address-2"), "203.0.113.30")
            await type_into(pilot, app.screen.query_one("#vlan-2"), "21")
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "restore"), "restore step")
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked

    asyncio.run(run())
    ips = [(ip.nic, ip.address, ip.netmask, ip.vlan) for ip in app.session.settings.ips]
    assert ips == [("nic1", "198.51.100.20", "255.255.255.0", None),
                   ("nic2", "203.0.113.30", "255.255.255.128", 21)]


def test_network_step_flags_a_bad_second_address_as_typed_and_keeps_the_step(state_dir):
    app = offline_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _at_network(pilot, app)
            await type_into(pilot, app.screen.query_one("#netmask-2"), "255.0.255.0")
            # the second row's address, typed into the first
            await type_into(pilot, app.screen.query_one("#address-1"), "203.0.113.20")
            shown = screen_text(app)
            await pilot.press("ctrl+g")
            await pilot.pause(0.1)
            return shown, app.screen.STEP, app.screen.focused.id

    shown, step, focused = asyncio.run(run())
    assert "not a contiguous netmask" in shown
    assert "203.0.113.20 is listed twice" in shown
    assert step == "network" and focused == "address-2"
    assert all(len(line) <= 80 for line in shown.splitlines())


def test_network_step_adds_and_removes_addresses_by_key_within_80x24(state_dir):
    app = offline_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _at_network(pilot, app)
            for _ in range(3):
                await pilot.press("ctrl+n")
                await pilot.pause(0.05)
            await type_into(pilot, app.screen.focused, "198.51.100.21")
            full = screen_text(app)
            fields = [w.id for w in app.screen.query(".ip-cell.address")]
            app.screen.query_one(f"#{fields[2]}").focus()
            await pilot.press("ctrl+r")
            await pilot.pause(0.1)
            remaining = [w.value for w in app.screen.query(".ip-cell.address")]
            labels = [str(w.render()) for w in app.screen.query(".ip-row .label")]
            return full, remaining, labels

    full, remaining, labels = asyncio.run(run())
    assert "Address 5" in full and "is empty" in full
    assert len(full.splitlines()) == 24 and "^n Add address" in full
    assert remaining == ["198.51.100.20", "203.0.113.20", "", "198.51.100.21"]
    assert labels == ["Address 1", "Address 2", "Address 3", "Address 4"]


# --- Esc goes back a step, what was typed stays ----------------------------------------

def test_escape_goes_back_a_step_and_what_was_typed_is_still_there_coming_forward(state_dir):
    app = offline_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await _at_network(pilot, app)
            await type_into(pilot, app.screen.query_one("#hostname"), "edge.example.net")
            await type_into(pilot, app.screen.query_one("#address-2"), "203.0.113.40")
            await pilot.press("escape")
            await wait_for(pilot, lambda: on_step(app, "login"), "back at login")
            login_text = screen_text(app)
            await type_into(pilot, app.screen.query_one("#new"), "Rack-42-Gr")
            app.goto("network")                 # as a successful login does
            await wait_for(pilot, lambda: on_step(app, "network"), "network again")
            values = (app.screen.query_one("#hostname").value,
                      app.screen.query_one("#address-2").value)
            await pilot.press("escape")
            await wait_for(pilot, lambda: on_step(app, "login"), "back at login again")
            typed = app.screen.query_one("#new").value
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            return login_text, typed, values

    login_text, typed, values = asyncio.run(run())
    assert "Step 4 of 7: Log in" in login_text
    assert typed == "Rack-42-Gr"
    assert values == ("edge.example.net", "203.0.113.40")
