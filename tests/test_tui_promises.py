"""The bring-up session's promises, kept on the console's path too, in a lab:
the console walks the same ``hwprobe.procedure.session.BringupSession`` as ``bringup
apply``, so a refused login or a changed certificate still ends with the
laptop port exactly as before and a report saying where it stopped, and a
re-run after the password was changed knows it from the run journal."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from lab_helpers import NEW_PASSWORD, SECRETS, own_address, port_state, reports, run_bringup
from simulator import control
from simulator import lab as labmod
from test_tui_flow import (app_for, found, on_step, screen_text, wait_for, walk_to_find,
                           walk_to_restore)

pytestmark = pytest.mark.lab
ADDR = "169.254.1.3"


async def walk_to_login(pilot, app) -> None:
    await walk_to_find(pilot, app, {})
    await found(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "login"), "login step")


async def quit_console(pilot, app) -> None:
    await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
    await wait_for(pilot, lambda: app.session.takeover is None, "port given back")
    await pilot.pause(0.5)


def first_login_headless(lab, state_dir) -> None:
    """A headless run changes the factory password (and pins the certificate)."""
    r = run_bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--force",
                    "--out", str(Path(state_dir) / "first.toml"), state_dir=state_dir,
                    env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD})
    assert r.returncode == 0, r.stderr


def assert_stopped_report(state_dir, stage: str) -> None:
    found = reports(state_dir)
    assert found, "leaving the console wrote no report"
    text = found[-1].read_text()
    assert f"STOPPED while {stage}" in text, text[:600]
    assert not any(secret in text for secret in SECRETS)


def test_console_refused_login_then_quit_gives_the_port_back_exactly_with_a_report(
        make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    before = own_address(lab)                 # the port has an address of its own
    app = app_for(lab)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            app.screen.query_one("#password").value = "Wrong-Guess#1"
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: "tries left" in screen_text(app), "tries left")
            await quit_console(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert port_state(lab.laptop_ns) == before
    assert not list((Path(state_dir) / "links").glob("*.json")), "link journal left behind"
    assert_stopped_report(state_dir, "logging in")


def test_console_after_a_password_change_asks_for_the_new_one_not_the_factory_one(
        make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login_headless(lab, state_dir)
    logins = control.send(lab.control, get="stats")["requests"].get("POST /appliance/login")
    app = app_for(lab)
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            await pilot.pause(0.2)
            seen["login"] = screen_text(app)
            seen["password"] = app.screen.query_one("#password").value
            app.screen.query_one("#password").value = NEW_PASSWORD
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "network"), "network step")
            await quit_console(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert seen["password"] == ""             # the factory password is not offered
    assert "An earlier run changed this appliance's password" in seen["login"], seen["login"]
    said = " ".join(seen["login"].split())
    assert "factory password was already changed" in said
    assert re.search(r"password at \d{4}-\d\d-\d\dT\d\d:", said)     # the time as written
    stats = control.send(lab.control, get="stats")
    assert stats["requests"].get("POST /appliance/login") == logins + 1   # none refused
    assert stats["changes"] == {"change_password": 1}


def test_console_changed_certificate_stops_at_login_and_gives_the_port_back(make_lab,
                                                                          state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login_headless(lab, state_dir)      # pins this box's certificate
    control.send(lab.control, fault="new_certificate")
    before = own_address(lab)
    app = app_for(lab)
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            app.screen.query_one("#password").value = NEW_PASSWORD
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: "certificate" in screen_text(app).lower(),
                           "the certificate refused")
            seen["login"] = screen_text(app)
            await quit_console(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert "Step 4 of 7: Log in" in seen["login"]          # no step went on
    assert port_state(lab.laptop_ns) == before
    assert_stopped_report(state_dir, "connecting")
    assert control.send(lab.control, get="stats")["changes"] == {"change_password": 1}


def test_console_trusts_a_changed_certificate_only_when_asked_with_ctrl_n(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login_headless(lab, state_dir)
    pins = Path(state_dir) / "pins.json"
    [(key, old)] = json.loads(pins.read_text()).items()
    control.send(lab.control, fault="new_certificate")
    app = app_for(lab)
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            seen["offered before"] = "^n" in screen_text(app)
            app.screen.query_one("#password").value = NEW_PASSWORD
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: "^n trusts the new one" in " ".join(screen_text(app).split()),
                           "the changed certificate explained")
            seen["refused"] = " ".join(screen_text(app).split())
            await pilot.press("ctrl+n")
            await pilot.pause(0.2)
            seen["trusted"] = " ".join(screen_text(app).split())
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: on_step(app, "network"), "logged in", timeout=60)
            await quit_console(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert seen["offered before"] is False          # only after a changed certificate
    assert "Trust new certificate" in seen["refused"] and "nothing was sent" in seen["refused"]
    assert f"was {old['sha256'][:16]}" in seen["refused"]
    assert "--trust-new-certificate" not in seen["refused"]       # a key here, not a flag
    assert "will be trusted" in seen["trusted"]
    new = json.loads(pins.read_text())[key]
    assert new["sha256"] != old["sha256"]           # pinned again, for this appliance
    assert control.send(lab.control, get="stats")["changes"] == {"change_password": 1}


def test_console_runs_the_wire_check_a_silent_new_address_fails_its_step(make_lab, state_dir):
    """As with ``bringup apply --iface``: an address just added must answer ARP
    from its NIC's MAC on the laptop port. The appliance here answers ARP on
    NIC1 only for askers in the target's own subnet (arp_ignore=2), so the
    factory address still answers the laptop and the new 198.51.100.x one
    does not: the console's run must say so instead of ticking it."""
    from test_tui_flow import SMTP_PASSWORD

    lab = make_lab(appliance_address=ADDR)
    labmod.netns_exec(lab.appliance_ns, ["sysctl", "-qw", "net.ipv4.conf.nic1.arp_ignore=2"])
    app = app_for(lab)
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_restore(pilot, app, password=NEW_PASSWORD)
            await pilot.press(*SMTP_PASSWORD, "enter")
            # finished, and drawn: the table scrolls to the first failed row
            # only after the run's last step, so the frame may lag behind
            await wait_for(pilot, lambda: app.screen.finished and "FAILED" in screen_text(app),
                           "apply finished, the failed row in view", timeout=90)
            seen["applied"] = screen_text(app)
            table = app.screen.query_one("#steps")
            seen["held"] = {str(k.value): str(table.get_cell(k, "held")) for k in table.rows}
            await quit_console(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    failed = {s.title: s.message for s in app.session.result.steps if s.status == "failed"}
    assert any("does not answer ARP on the laptop port" in (m or "") for m in failed.values()), \
        failed
    assert "FAILED" in seen["applied"]
    # the Read back column says what the appliance holds, not what the sheet
    # asked: the gateway was not sent (its address failed), so none
    held = control.send(lab.control, get="state")["state"]
    assert held["default_gateway"] == "" and seen["held"]["gateway"] == "none"
    assert seen["held"]["hostname"] == held["hostname"] == "support.example.net"
    assert app.return_code == 1
