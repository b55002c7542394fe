"""The console walked with the Pilot against a simulated appliance in a lab.

The app is built by ``make_app`` exactly as ``bringup`` builds it; its workers
run inside the lab's laptop namespace (the test thread switches into it, and
threads started there inherit it), so the takeover, the probe and HTTPS are
real, on a real veth, against the real simulator.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from hwprobe.settings.sheet import load_sheet
from simulator import lab as labmod
from simulator.control import send
from bringup.console import make_app
from lab_helpers import second_port

SHEET = str(Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml")
NEW_PASSWORD = "Rack-42-Green"
SMTP_PASSWORD = "relay-Pass1"
pytestmark = pytest.mark.lab


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for(pilot, condition, what: str, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - the screen may still be mounting
            pass
        await pilot.pause(0.05)
    raise AssertionError(f"never reached: {what}\n{screen_text(pilot.app)}")


async def ctrl_c_then_stop(pilot, app) -> str:
    """Ctrl-C while a step is at work, then y to "stop after the step in
    flight"; returns the question's screen once the console has left."""
    await pilot.press("ctrl+c")
    await wait_for(pilot, lambda: "stop after the step in flight" in screen_text(app),
                   "the question")
    question = screen_text(app)
    await pilot.press("y")
    await wait_for(pilot, lambda: app.return_code is not None, "the console left", timeout=60)
    return question


def on_step(app, step: str) -> bool:
    return getattr(app.screen, "STEP", None) == step and app.screen.is_mounted


def lan0_addresses(lab) -> list[str]:
    out = labmod.netns_exec(lab.laptop_ns, ["ip", "-j", "addr", "show", "dev", "lan0"]).stdout
    return [a["local"] for link in json.loads(out) for a in link.get("addr_info", [])]


def app_for(lab, *extra):
    app = make_app(["--console-profile", "--sheet", SHEET, "--iface", "lan0", "--lab", lab.name,
                    *extra])
    app.options.resume = False
    return app


async def walk_to_find(pilot, app, seen: dict) -> None:
    await wait_for(pilot, lambda: on_step(app, "start") and app.session.settings
                   and "The sheet will set" in screen_text(app), "sheet loaded and summarised")
    seen["start"] = screen_text(app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "port") and app.screen.ports, "port list")
    seen["port"] = screen_text(app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "find"), "find step")


async def found(pilot, app) -> None:
    """Wait until the Find step's search ended with an answer."""
    await wait_for(pilot, lambda: app.screen.responders and not app.screen._probing, "an answer")


async def walk_to_login(pilot, app) -> None:
    """From the start to the Log in step, the appliance found."""
    await walk_to_find(pilot, app, {})
    await found(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "login"), "login step")


async def walk_to_restore(pilot, app, ready=None, password: str = NEW_PASSWORD) -> None:
    """From the start to the Restore step (the factory password changed to
    ``password``), until ``ready()`` (default: the diff is shown)."""
    await walk_to_login(pilot, app)
    await pilot.press(*password, "enter", *password, "enter")
    await wait_for(pilot, lambda: on_step(app, "network"), "network step")
    await pilot.press("ctrl+g")
    await wait_for(pilot, lambda: on_step(app, "restore") and (ready or (
        lambda: app.screen.plan))(), "the diff")


async def walk_from_find(pilot, app, seen: dict) -> None:
    await found(pilot, app)
    seen["find"] = screen_text(app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "login"), "login step")
    await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD)
    seen["login"] = screen_text(app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "network"), "network step")
    seen["network"] = screen_text(app)
    await pilot.press("ctrl+g")
    await wait_for(pilot, lambda: on_step(app, "restore") and app.screen.plan, "the diff")
    seen["restore"] = screen_text(app)
    await pilot.press(*SMTP_PASSWORD, "enter")
    await wait_for(pilot, lambda: app.screen.finished, "apply finished", timeout=60)
    seen["applied"] = screen_text(app)
    table = app.screen.query_one("#steps")
    seen["held"] = {str(key.value): str(table.get_cell(key, "held")) for key in table.rows}
    app.screen.move_to([s.key for s in app.screen.steps].index("dns"))
    await pilot.press("space")                  # the DNS row, every field
    await wait_for(pilot, lambda: hasattr(app.screen, "restore"), "the detail pane")
    seen["dns detail"] = app.screen.text
    await pilot.press("escape")
    await wait_for(pilot, lambda: on_step(app, "restore"), "back on the Restore step")
    await pilot.press("enter")
    await wait_for(pilot, lambda: on_step(app, "done") and app.session.takeover is None,
                   "done, port given back")
    await pilot.pause(0.1)
    seen["done"] = screen_text(app)
    await pilot.press("enter")
    await pilot.pause(0.2)


def assert_appliance_matches_sheet(lab) -> None:
    state = send(lab.control, get="state")["state"]
    sheet = load_sheet(SHEET)
    ips = {(ip["nic"], ip["address"], ip["netmask"], ip["vlan"]) for ip in state["ips"]}
    for ip in sheet.ips:
        assert (ip.nic, ip.address, ip.netmask, ip.vlan) in ips
    assert state["hostname"] == sheet.hostname
    assert state["default_gateway"] == sheet.default_gateway
    assert state["dns_servers"] == sheet.dns_servers
    assert [(r["destination"], r["gateway"], r["nic"]) for r in state["routes"]] == \
        [(r.destination, r.gateway, r.nic) for r in sheet.routes]
    assert state["ntp_servers"] == sheet.ntp_servers
    assert state["syslog_servers"] == sheet.syslog_servers
    assert state["syslog_format"] == sheet.syslog_format
    smtp = state["smtp"]
    for key in ("relay", "port", "encryption", "auth", "username", "from_address",
                "admin_contacts"):
        assert smtp[key] == getattr(sheet.smtp, key), key
    assert smtp["password_set"] is True
    assert [u["must_change"] for u in state["users"] if u["name"] == "admin"] == [False]


def test_console_takes_a_factory_appliance_to_the_sheet_and_gives_the_port_back(
        make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.3")
    before = lan0_addresses(lab)
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await walk_from_find(pilot, app, seen)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())

    assert "Step 1 of 7" in seen["start"] and "Host name: support.example.net" in seen["start"]
    assert "lan0" in seen["port"]
    assert "169.254.1.3" in seen["find"] and "Found the appliance at 169.254.1.3" in seen["find"]
    assert all(f"[x] {part}" in seen["login"] for part in (
        "8+ characters", "upper case", "lower case", "a digit", "a symbol", "not the user name"))
    assert NEW_PASSWORD not in seen["login"]
    assert "198.51.100.20" in seen["network"]
    assert "settings differ" in seen["restore"]
    # each row says its whole change, then what the appliance holds as read back
    assert "Host name: none -> support.example.net" in seen["restore"]
    assert "(read back)" not in seen["restore"]
    assert "applied and read back" in seen["applied"] and "FAILED" not in seen["applied"]
    # the Read back column says what the simulated appliance holds now
    held = send(lab.control, get="state")["state"]
    assert "Read back" in seen["applied"]
    cells = seen["held"]
    assert cells["hostname"] == held["hostname"] == "support.example.net"
    assert cells["gateway"] == held["default_gateway"]
    assert cells["dns"] == ", ".join(held["dns_servers"])
    assert cells["ntp"] == ", ".join(held["ntp_servers"])
    assert cells["syslog"].startswith(", ".join(held["syslog_servers"]))
    assert f"relay {held['smtp']['relay']}:{held['smtp']['port']}" in cells["smtp"]
    for ip in held["ips"]:
        key = f"ip:{ip['nic']}:{ip['address']}"
        if key in cells:
            assert f"{ip['address']}/" in cells[key] and ip["netmask"] in cells[key]
    assert "Read back" in seen["dns detail"] and "[x] read back" in seen["dns detail"]
    assert all(x in seen["dns detail"] for x in held["dns_servers"])
    assert "given back" in seen["done"] and "Report:" in seen["done"]
    assert app.return_code == 0
    assert_appliance_matches_sheet(lab)
    assert lan0_addresses(lab) == before
    report = Path(app.session.report[0]).read_text()
    assert NEW_PASSWORD not in report and SMTP_PASSWORD not in report
    assert not (state_dir / "console-progress.json").exists()


def test_nothing_on_nic1_asks_for_nic2_and_searches_again_when_the_cable_is_moved(make_lab,
                                                                                   state_dir):
    lab = make_lab(appliance_address="169.254.1.2", answers_on="nic2", plug="nic1")
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            # the whole advice, to its last line (drawn once its new height is laid out)
            await wait_for(pilot, lambda: "cable to NIC2')" in screen_text(app),
                           "move advice")
            seen["advice"] = screen_text(app)
            await wait_for(pilot, lambda: app.screen._watcher is not None, "carrier watcher")
            labmod.plug(lab.name, "nic2")     # the technician moves the cable
            await wait_for(pilot, lambda: "169.254.1.2" in app.screen.responders, "re-probe")
            await wait_for(pilot, lambda: not app.screen._probing, "probe end")
            seen["found"] = screen_text(app)
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            await pilot.pause(0.5)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert "Nothing answered through NIC1" in seen["advice"]
    assert "to NIC2" in seen["advice"]
    # a demo lab says how its cable is moved, on this waiting screen itself
    assert "Demo lab: press m to move the cable to NIC2" in " ".join(seen["advice"].split())
    assert "Found the appliance at 169.254.1.2 (MAC " in seen["found"]


def test_find_says_what_the_takeover_did_that_matters_a_second_port_on_the_network(
        make_lab, state_dir):
    lab = make_lab()
    second_port(lab.laptop_ns)
    app = app_for(lab, "--force")
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await found(pilot, app)
            seen["find"] = screen_text(app)
            await pilot.press("ctrl+x", "y")
            await pilot.pause(0.5)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    text = " ".join(seen["find"].split())
    assert "Found the appliance at 169.254.1.1" in text
    assert "Port: other0 is also on 169.254.1.0/24: while bringup holds lan0, that " \
           "network goes through lan0 only" in text, seen["find"]
    # the routine words (NetworkManager not running here, the address taken) stay in the
    # report and the run log
    assert "NetworkManager" not in text and "no gateway, no DNS" not in text


def test_a_cable_found_in_nic2_is_named_once_the_appliance_is_read_not_assumed(make_lab,
                                                                               state_dir):
    """Told to use NIC1, the technician used NIC2 and it answered at once: Find
    names the MAC it saw, not a NIC it cannot know yet; after logging in the
    appliance's own NIC list tells, and the console says so."""
    lab = make_lab(appliance_address="169.254.1.4", answers_on="nic2", plug="nic2")
    app = app_for(lab)
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, seen)
            await found(pilot, app)
            seen["find"] = " ".join(screen_text(app).split())
            await pilot.press("enter")
            await wait_for(pilot, lambda: on_step(app, "login"), "login step")
            await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
            await wait_for(pilot, lambda: on_step(app, "network"), "network step", timeout=60)
            await wait_for(pilot, lambda: "cable is in" in screen_text(app), "the NIC told")
            seen["network"] = " ".join(screen_text(app).split())
            await pilot.press("ctrl+x", "y")
            await wait_for(pilot, lambda: app.session.takeover is None, "port given back")

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    [mac] = [n["mac"] for n in send(lab.control, get="state")["state"]["nics"]
             if n["nic"] == "nic2"]
    assert f"Found the appliance at 169.254.1.4 (MAC {mac})" in seen["find"]
    assert "NIC1" not in seen["find"].split("Found the appliance")[1]
    assert "The laptop's cable is in the appliance's NIC2." in seen["network"]
    assert app.session.cable_nic == "nic2"


def test_quitting_midway_gives_the_port_back_and_says_what_is_left(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.1")
    before = lan0_addresses(lab)
    app = app_for(lab)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_find(pilot, app, {})
            await wait_for(pilot, lambda: app.screen.responders, "an answer")
            assert lan0_addresses(lab) != before      # really taken over
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            await pilot.pause(0.5)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    message = app.farewell
    assert app.return_code == 1
    assert "Left undone: Find the appliance; Log in; Network; Restore" in message
    assert "lan0 given back" in message
    assert lan0_addresses(lab) == before


def test_wrong_password_shows_tries_left_before_lockout(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.1")
    app = app_for(lab)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            app.screen.query_one("#password").value = "not-the-password"
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: "tries left" in screen_text(app), "tries left")
            text = screen_text(app)
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            await pilot.pause(0.5)
            return text

    with labmod.in_netns(lab.laptop_ns):
        text = asyncio.run(run())
    assert "4 tries left before the account locks" in text
    assert "not-the-password" not in text


async def type_fast(pilot, *keys: str) -> None:
    """Keys as a fast typist (or a serial line's burst) delivers them: read by
    the App one after another, none handled before the next arrives. (Textual's
    ``pilot.press`` waits for the app to be idle after each key, so it cannot
    show keys typed ahead of Enter.)"""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    driver = pilot.app._driver
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)


def test_a_fast_typist_logs_in_with_both_passwords_typed_ahead_of_enter(make_lab, state_dir):
    """The new password, Enter, the same again, Enter, typed faster than the
    console handles Enter: each field gets its own keys, and the login goes on."""
    lab = make_lab(appliance_address="169.254.1.1")
    app = app_for(lab)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await walk_to_login(pilot, app)
            await wait_for(pilot, lambda: app.focused.id == "new", "New password focused")
            await type_fast(pilot, *NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
            await wait_for(pilot, lambda: on_step(app, "network")
                           or "differ" in screen_text(app), "logged in (or refused)")
            text = screen_text(app)
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            await pilot.pause(0.5)
            return text

    with labmod.in_netns(lab.laptop_ns):
        text = asyncio.run(run())
    assert "Step 5 of 7" in text, text
    assert app.session.password == NEW_PASSWORD


def test_an_unfinished_run_is_offered_to_continue_and_goes_on_from_its_port(make_lab,
                                                                            state_dir):
    from hwprobe.procedure.session import BringupSession, Target
    from tui.screens.base import Session, save_progress

    lab = make_lab(appliance_address="169.254.1.1")
    with labmod.in_netns(lab.laptop_ns):        # the run stopped on this lab's lan0
        save_progress(Session(sheet_path=SHEET, bringup=BringupSession(Target(iface="lan0")),
                              done={"start", "port"}, lab=lab.name), "find")
    progress = state_dir / "console-progress.json"
    progress.write_text(progress.read_text().replace('"pid": ', '"pid": 999999999, "was": '))
    app = make_app(["--console-profile", "--lab", lab.name])

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "continue from there" in screen_text(app), "offer")
            offer = screen_text(app)
            await pilot.press("c")
            await wait_for(pilot, lambda: on_step(app, "find") and app.screen.responders,
                           "find, continued")
            await pilot.press("ctrl+x", "y")          # Quit, and yes when asked
            await pilot.pause(0.5)
            return offer

    with labmod.in_netns(lab.laptop_ns):
        offer = asyncio.run(run())
    assert "laptop port    : lan0" in offer and "it was at      : Find the appliance" in offer
    assert app.session.sheet_path == SHEET


def sheet_app():
    """The console with the example sheet and no lab (for the steps that need
    no appliance, opened directly)."""
    app = make_app(["--console-profile", "--sheet", SHEET])
    app.options.resume = False
    return app


async def open_step(pilot, app, step: str) -> None:
    await pilot.pause(0.1)
    app.goto(step)
    await pilot.pause(0.2)


def test_network_step_flags_a_gateway_outside_the_subnet_as_typed(state_dir):
    app = sheet_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await open_step(pilot, app, "network")
            gateway = app.screen.query_one("#gateway")
            gateway.value = ""
            gateway.focus()
            await pilot.press(*"203.0.113.200")
            await pilot.pause(0.1)
            text = screen_text(app)
            await pilot.press("ctrl+g")
            await pilot.pause(0.1)
            return text, getattr(app.screen, "STEP", None)

    text, step = asyncio.run(run())
    assert "203.0.113.200" in text and "subnet" in text
    assert step == "network"       # not allowed on with a bad gateway


def test_network_fields_typed_ahead_of_tab_and_enter_each_get_their_own_keys(state_dir):
    """Gateway, Tab, host name, Enter, DNS typed in one burst: each value lands
    in its own field, in order, as on the screen."""
    app = sheet_app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await open_step(pilot, app, "network")
            for name in ("gateway", "hostname", "dns"):
                app.screen.query_one(f"#{name}").value = ""
            app.screen.query_one("#gateway").focus()
            await pilot.pause(0.1)
            typed = ("198.51.100.1", "rack7.example.net", "198.51.100.53")
            await type_fast(pilot, *typed[0], "tab", *typed[1], "enter", *typed[2])
            # every typed character has landed in some field (a slow machine
            # handles the burst late: waiting for less ends before it is through)
            await wait_for(pilot, lambda: sum(len(app.screen.query_one(f"#{n}").value)
                                              for n in ("gateway", "hostname", "dns"))
                           >= sum(map(len, typed)), "the burst typed")
            await pilot.pause(0.2)
            values = {n: app.screen.query_one(f"#{n}").value for n in ("gateway", "hostname", "dns")}
            return values, screen_text(app)

    values, text = asyncio.run(run())
    assert values == {"gateway": "198.51.100.1", "hostname": "rack7.example.net",
                      "dns": "198.51.100.53"}, text
    assert "rack7.example.net" in text and "198.51.100.53" in text
