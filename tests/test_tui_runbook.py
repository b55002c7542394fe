"""The console's recovery paths (^o on the start screen): failover, cold spare,
virtual appliance, RMA, hosted site, SaaS outage, readiness.

Built with ``make_app`` as ``bringup`` builds it, driven by the keyboard at
80x24 in the console profile. The failover screen is tested against two
paired simulated appliances in a lab (the app's workers run inside the lab's
laptop namespace); everything else needs no network.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import time
from pathlib import Path

import pytest

from hwprobe.port import interfaces, recovery
from hwprobe.port import probe as probe_mod
from conftest import PAIR_CLIENT
from test_tui_flow import screen_text, wait_for
from test_tui_screens import _assert_ascii
from bringup.console import make_app
from tui.screens.checklist import ChecklistScreen
from tui.screens.failover import FailoverScreen
from tui.screens.paths import PATH_KEYS, PathsScreen, path_title
from tui.screens.readiness import ReadinessScreen
from tui.screens.rma import RmaScreen
from tui.screens.start import StartScreen

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml"
FAILOVER_TABLE = '\n[failover]\nmethod = "dns"\npeer_address = "198.51.100.21"\n'
CLIENT = PAIR_CLIENT
SCREEN_OF = {"failover": FailoverScreen, "cold_spare": ChecklistScreen,
             "virtual": ChecklistScreen, "rma": RmaScreen, "hosted": ChecklistScreen,
             "saas": ChecklistScreen, "readiness": ReadinessScreen}


# --- helpers --------------------------------------------------------------------------

@pytest.fixture
def sheet(tmp_path, monkeypatch, state_dir) -> str:
    """The example sheet plus a [failover] table, as ~/sheets/support.toml, ten days old."""
    home = tmp_path / "home"
    (home / "sheets").mkdir(parents=True)
    path = home / "sheets" / "support.toml"
    path.write_text(EXAMPLE.read_text() + FAILOVER_TABLE)
    ten_days_ago = time.time() - 10 * 86400
    os.utime(path, (ten_days_ago, ten_days_ago))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(probe_mod, "preload", lambda: None)   # no path here needs scapy
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("BRINGUP_API_CLIENT_ID", raising=False)
    monkeypatch.delenv("BRINGUP_API_SECRET", raising=False)
    return "~/sheets/support.toml"


def console_app(sheet_path: str | None):
    app = make_app(["--console-profile", *(["--sheet", sheet_path] if sheet_path else [])])
    app.options.resume = False
    return app


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def squashed(text: str) -> str:
    """Screen text without any whitespace (a long path wraps anywhere)."""
    return "".join(text.split())


def squashed_words(text: str) -> str:
    """Screen text with every run of whitespace as one space (lines wrap anywhere)."""
    return " ".join(text.split())


def assert_pure_ascii(app) -> None:
    """The step screens' checker: ASCII on screen, and none of it by the last-resort filter."""
    _assert_ascii(screen_lines(app), app)


async def open_path(pilot, key: str) -> None:
    """From the start screen, open path ``key`` with its number on the ^o list."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, StartScreen), "start screen")
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PathsScreen), "paths list")
    await pilot.press(str(PATH_KEYS.index(key) + 1))
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SCREEN_OF[key])
                   and pilot.app.screen.is_mounted, key)
    await pilot.pause(0.1)


def run(app, steps):
    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            return await steps(pilot)
    return asyncio.run(go())


# --- every path from the start screen, keyboard only, ASCII -------------------------------

def test_every_path_opens_from_the_start_screen_by_keyboard_in_ascii_and_escape_goes_back(
        sheet):
    app = console_app(sheet)
    seen: dict[str, str] = {}

    async def steps(pilot):
        await wait_for(pilot, lambda: app.session.settings is not None, "sheet loaded")
        await wait_for(pilot, lambda: "^o Other paths" in screen_text(app), "the footer drawn")
        seen["start"] = screen_text(app)
        assert_pure_ascii(app)
        for n, key in enumerate([*PATH_KEYS[1:], "hardware"], 1):
            if n == 1 or key == "hardware":
                await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen), "paths list")
            seen["paths"] = screen_text(app)
            assert_pure_ascii(app)
            app.screen.query_one("#paths").focus()
            await pilot.press("home", *["down"] * PATH_KEYS.index(key), "enter")
            if key == "hardware":        # the bring-up flow is the start screen itself
                await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "start")
                seen[key] = screen_text(app)
                break
            await wait_for(pilot, lambda: isinstance(app.screen, SCREEN_OF[key])
                           and app.screen.is_mounted, key)
            await pilot.pause(0.05)
            seen[key] = screen_text(app)
            assert_pure_ascii(app)
            await pilot.press("escape")
            if key == "saas":            # and Escape on the list goes back to the start screen
                await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen), "the list")
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "start")
                await pilot.press("ctrl+o")

    run(app, steps)
    assert "^o Other paths" in seen["start"], seen["start"]
    offer = " ".join(seen["start"].split())
    for words in ("failover", "cold spare", "virtual appliance", "RMA", "hosted site",
                  "SaaS outage", "readiness"):
        assert words in offer
    for n, key in enumerate(PATH_KEYS, 1):
        assert f"{n}  {path_title(key)}" in seen["paths"]
    assert "Settings sheet: ~/sheets/support.toml" in seen["paths"]
    assert "Step 1 of 7" in seen["hardware"]
    for key in PATH_KEYS[1:]:
        assert f" bringup  {path_title(key)}" in seen[key], key


# --- snapshots ------------------------------------------------------------------------------

def _open_for_picture(key: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.session.settings is not None, "sheet loaded")
        if key == "paths":
            await pilot.press("ctrl+o")
            await pilot.press("down", "down")
        else:
            await open_path(pilot, key)
        await pilot.pause(0.2)
    return run_before


@pytest.mark.parametrize("key", ["paths", *PATH_KEYS[1:]])
def test_each_recovery_path_screen_at_80x24_in_console_profile(key, snap_compare, sheet):
    assert snap_compare(console_app(sheet), terminal_size=(80, 24),
                        run_before=_open_for_picture(key))


# --- RMA form --------------------------------------------------------------------------------

GOOD_US = {"contact_name": "A. Tech", "email": "tech@example.net", "phone": "+1 555 0100 200",
           "shipping_address": "1 Example Way, Springfield", "country": "United States",
           "description": "disk 2 failed SMART check"}


async def fill(pilot, values: dict[str, str], typed: tuple[str, ...] = ()) -> None:
    """Fill the form: the fields in ``typed`` are typed key by key, as a
    technician would; the others are set (typing every field is slow)."""
    for name, value in values.items():
        field = pilot.app.screen.query_one(f"#{name}")
        field.value = ""
        if name in typed:
            field.focus()
            await pilot.press(*value)
        else:
            field.value = value
    await pilot.pause(0.05)


async def choose(pilot, name: str, value: str) -> None:
    """Pick ``value`` in a Left/Right choice by pressing Right until it shows."""
    choice = pilot.app.screen.query_one(f"#{name}")
    choice.focus()
    for _ in range(len(choice.choices)):
        if choice.value == value:
            return
        await pilot.press("right")
    raise AssertionError(f"{name}: no choice {value!r}")


def line_after(lines: list[str], label: str) -> str:
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(label))
    return lines[index + 1]


async def refused_for_a_bad_email(pilot) -> list[str]:
    """The RMA form filled for a US disk replacement with the e-mail cut short
    at ``tech@``, and a write tried: the screen's lines."""
    await open_path(pilot, "rma")
    await fill(pilot, {**GOOD_US, "email": "tech@"}, typed=("email",))
    await choose(pilot, "failed_part", "disk")
    await pilot.press("ctrl+g")
    await pilot.pause(0.1)
    return screen_lines(pilot.app)


def test_rma_form_refuses_a_bad_email_and_a_missing_vat_number_each_at_its_field(
        sheet, state_dir):
    app = console_app(sheet)
    seen = {}

    async def steps(pilot):
        seen["email"] = await refused_for_a_bad_email(pilot)
        await fill(pilot, {"email": "tech@example.net", "country": "Japan"},
                   typed=("country",))
        await choose(pilot, "failed_part", "motherboard")
        await choose(pilot, "international_choice", "replace")
        await choose(pilot, "vat_consent", "yes")
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        seen["vat"] = screen_lines(app)

    run(app, steps)
    assert "not an e-mail address" in line_after(seen["email"], "E-mail")
    assert any("Not written: 1 problem(s)" in line for line in seen["email"])
    vat = seen["vat"]
    assert "a VAT number is needed for an international replacement" in line_after(vat, "VAT number")
    assert not any("not an e-mail address" in line for line in vat)    # e-mail fixed
    assert any("Not written: 1 problem(s)" in line for line in vat)
    assert not (state_dir / "rma").exists()


def test_rma_a_problem_fixed_as_typed_leaves_its_row_and_moves_no_field(sheet):
    """After a write was refused for a bad e-mail, typing the rest of the
    address clears the message under E-mail; the row stays, empty, so Phone
    and the fields after it stay where the technician's eyes are."""
    app = console_app(sheet)
    seen = {}

    async def steps(pilot):
        seen["refused"] = await refused_for_a_bad_email(pilot)
        pilot.app.screen.query_one("#email").focus()
        await pilot.press("end", *"example.net")
        await pilot.pause(0.1)
        seen["fixed"] = screen_lines(app)

    run(app, steps)
    refused, fixed = seen["refused"], seen["fixed"]
    assert "not an e-mail address" in line_after(refused, "E-mail")
    assert "tech@example.net" in "\n".join(fixed) and not line_after(fixed, "E-mail").strip()
    for label in ("Phone", "Ship to", "Country"):
        assert [i for i, line in enumerate(fixed) if line.strip().startswith(label)] == \
            [i for i, line in enumerate(refused) if line.strip().startswith(label)], label


def test_rma_shows_fru_for_a_b400_disk_and_whole_unit_for_its_motherboard(sheet):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "rma")
        seen = {"blank": screen_text(app)}
        await fill(pilot, {"model": "B400"}, typed=("model",))
        await choose(pilot, "failed_part", "disk")
        await pilot.pause(0.05)
        seen["disk"] = screen_text(app)
        await choose(pilot, "failed_part", "motherboard")
        await pilot.pause(0.05)
        seen["motherboard"] = screen_text(app)
        assert_pure_ascii(app)
        return seen

    seen = run(app, steps)
    assert "shown once the model and the failed part are filled in" in seen["blank"]
    assert "FRU: B400 disk: field-replaceable unit; the part is shipped" in seen["disk"]
    assert "Whole unit: whole-unit RMA (B400 has no field-replaceable motherboard)" \
        in seen["motherboard"]


def test_rma_request_is_written_and_operational_today_sets_return_by_two_weeks_later(
        sheet, state_dir):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "rma")
        app.screen.today = lambda: dt.date(2026, 11, 26)
        await fill(pilot, GOOD_US)          # model and serial come from the sheet
        await choose(pilot, "failed_part", "disk")
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        written = screen_text(app)
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        return written, screen_text(app)

    written, operational = run(app, steps)
    md, js = state_dir / "rma" / "rma-B400-0012345.md", state_dir / "rma" / "rma-B400-0012345.json"
    assert "Request written" in written and str(md) in squashed(written)
    text = md.read_text()
    assert "# RMA request: B400 B400-0012345" in text
    assert "- Contact: A. Tech, tech@example.net, +1 555 0100 200" in text
    assert "field-replaceable unit; the part is shipped" in text
    assert "return the failed unit by 2026-12-10" in operational
    assert "invoiced at list price" in operational
    data = json.loads(js.read_text())
    assert (data["operational_on"], data["return_by"]) == ("2026-11-26", "2026-12-10")
    assert data["eligibility"]["fru"] is True


# --- checklists -------------------------------------------------------------------------------

def test_incident_timeline_entries_are_written_ready_to_paste(sheet, state_dir):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "hosted")
        opened = screen_text(app)
        await pilot.press("space")                       # tick step 1 (the notes have no box)
        app.screen.query_one("#entry").focus()
        await pilot.press(*"Case 4711 opened", "enter")
        await pilot.press(*"Site is up", "enter")
        await pilot.pause(0.1)
        return opened, screen_text(app)

    opened, shown = run(app, steps)
    files = list((state_dir / "incidents").glob("incident-*.txt"))
    assert len(files) == 1
    text = files[0].read_text()
    lines = text.splitlines()
    assert lines[0] == "Incident timeline"
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d  "
    assert re.fullmatch(stamp + "Done: Ask BeyondTrust Technical Support for a hosted site.",
                        lines[2])
    assert re.fullmatch(stamp + "Case 4711 opened", lines[3])
    assert re.fullmatch(stamp + "Site is up", lines[4])
    assert str(files[0]) in squashed(shown)
    assert "note: The site's clients (Jump Clients, Jumpoints" in opened
    assert "The sheet records no note on the backup password ([backup] note)." in opened


def test_virtual_appliance_checklist_shows_the_sheets_network_values_ready_to_type(sheet):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "virtual")
        top = screen_text(app)
        # the values are under the steps: scrolled to, as the mouse wheel or PageDown would
        app.screen.query_one("#checklist-body").scroll_end(animate=False)
        await pilot.pause(0.1)
        return top, screen_lines(app)

    top, lines = run(app, steps)
    assert any(re.fullmatch(r"\s+Address\s+198\.51\.100\.20\s*", line) for line in lines)
    assert any(re.fullmatch(r"\s+Gateway\s+198\.51\.100\.1\s*", line) for line in lines)
    assert ("while it runs: the vendor does not support it. (RS Virtual Appliances, "
            "paragraph 2)") in squashed_words(top)
    assert "bringup: from the sheet, to type on the virtual console:" in "\n".join(lines)


@pytest.fixture
def fixed_ports(monkeypatch):
    """The Port step lists these instead of this machine's ports (nothing is taken over)."""
    ports = [interfaces.Port("eth1", 3, "52:54:00:ab:cd:ef", True, True, "UP", "ethernet", [])]
    monkeypatch.setattr(interfaces, "list_ports", lambda: list(ports))
    monkeypatch.setattr(recovery, "restore_from_journal", lambda **kw: [])


def test_cold_spare_warns_about_the_switch_and_leads_into_the_bring_up_flow(sheet, fixed_ports):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "cold_spare")
        checklist = screen_text(app)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: getattr(app.screen, "STEP", None) == "port",
                       "the bring-up flow's port step")
        await wait_for(pilot, lambda: "eth1" in screen_text(app), "the port list")
        return checklist, [type(s).__name__ for s in app.screen_stack], screen_text(app)

    checklist, stack, port = run(app, steps)
    assert "that switch needs a reboot before the address moves" in squashed_words(checklist)
    assert stack[-1] == "PortScreen" and "Step 2 of 7" in port
    assert app.session.settings.ips[0].address == "198.51.100.20"     # the saved sheet


def test_cold_spare_without_a_sheet_asks_for_one_on_the_start_screen(sheet):
    app = console_app(None)

    async def steps(pilot):
        await open_path(pilot, "cold_spare")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), "start screen")
        await pilot.pause(0.1)
        return screen_text(app)

    assert "Cold spare: type the saved sheet's path" in run(app, steps)


def test_readiness_shows_the_sheets_age_completeness_and_kit(sheet):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "readiness")
        return screen_text(app)

    text = run(app, steps)
    assert "Sheet 10.0 days old (fine)" in text
    assert "[x] SMTP ([smtp])" in text
    assert "[ ] Torx 8 and Torx 10 screwdrivers" in text
    assert "complete and recent" in text


def test_failover_screen_says_which_way_this_site_moves_traffic(sheet):
    app = console_app(sheet)

    async def steps(pilot):
        await open_path(pilot, "failover")
        return screen_text(app), app.screen.query_one("#peer").value

    text, peer = run(app, steps)
    words = squashed_words(text)
    assert "[ ] 1. Send the clients' traffic to the backup. (step 1)" in words
    assert ("bringup: this site (sheet): DNS swing: point the primary's A-record at the "
            "backup's address (the Peer address below)") in words
    assert "or Become Primary / the API: ^y (step 2.2)" in words
    assert "[ ] 3. Check the clients work again, then repair the failed one. (step 3)" in words
    assert peer == "198.51.100.21"
    assert "[ ] Sync data first (leave off when the primary is down)" in text
    assert "needs the old primary to answer, and disconnects its users" in text


def test_failover_screen_without_a_failover_table_says_not_in_the_sheet(sheet, state_dir):
    app = console_app(str(EXAMPLE))

    async def steps(pilot):
        await open_path(pilot, "failover")
        await pilot.press("ctrl+r")            # no peer typed: asked for, nothing sent
        await pilot.pause(0.1)
        return screen_text(app)

    text = run(app, steps)
    assert "this site: not in the sheet ([failover] method)" in text
    assert "Peer address: type the backup appliance's address" in text


# --- failover against two paired simulated appliances -------------------------------------------

def role_of(lab, address: str) -> str:
    """The appliance's role, read independently of the console."""
    from hwprobe.appliance.failover import FailoverClient
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns):
        client = FailoverClient(address, client_id=CLIENT[0], client_secret=CLIENT[1])
        try:
            return client.health().role
        finally:
            client.close()


async def failover_done(pilot) -> None:
    await wait_for(pilot, lambda: not pilot.app.screen.busy, "the failover worker", timeout=40)
    await pilot.pause(0.1)


@pytest.mark.lab
def test_console_promotes_the_backup_when_the_primary_is_down(pair, sheet, monkeypatch):
    from simulator import lab as labmod
    from simulator.lab import PAIR

    monkeypatch.setenv("BRINGUP_API_CLIENT_ID", CLIENT[0])
    monkeypatch.setenv("BRINGUP_API_SECRET", CLIENT[1])
    labmod.stop_appliance(pair.name, "primary")
    app = console_app(sheet)
    seen = {}

    async def steps(pilot):
        await open_path(pilot, "failover")
        await pilot.press("ctrl+r")
        await failover_done(pilot)
        seen["health"] = screen_text(app)
        await pilot.press("ctrl+y")
        await failover_done(pilot)
        seen["promoted"] = screen_text(app)
        seen["result"] = app.screen.result
        assert_pure_ascii(app)

    with labmod.in_netns(pair.laptop_ns):
        run(app, steps)
    assert f"{PAIR['backup']}: role BACKUP, /check_health 200 healthy" in seen["health"]
    promoted = seen["promoted"]
    xml = squashed(promoted)       # the XML is shown whole, cut to the screen's width
    assert '<?xmlversion="1.0"encoding="UTF-8"?>' in xml
    assert "<successxmlns=" in xml and "Successfullychangedrole.</success>" in xml
    assert "Read again: role PRIMARY" in promoted
    assert f"Confirmed: {PAIR['backup']} is now the primary" in promoted
    assert CLIENT[1] not in promoted
    assert seen["result"].ok and seen["result"].after.role == "primary"
    assert role_of(pair, PAIR["backup"]) == "primary"


@pytest.mark.lab
def test_console_failover_errors_are_clear_and_change_nothing(pair, sheet, monkeypatch):
    from simulator import lab as labmod
    from simulator.lab import PAIR

    monkeypatch.setenv("BRINGUP_API_CLIENT_ID", CLIENT[0])
    labmod.stop_appliance(pair.name, "primary")
    app = console_app(sheet)
    seen = {}

    async def steps(pilot):
        await open_path(pilot, "failover")
        app.screen.query_one("#secret").focus()
        await pilot.press(*"not-the-secret")
        await pilot.press("ctrl+y")
        await failover_done(pilot)
        seen["wrong secret"] = screen_text(app)
        secret = app.screen.query_one("#secret")
        secret.value = CLIENT[1]
        app.screen.query_one("#sync-first").focus()
        await pilot.press("space")             # data sync first: the old primary is down
        seen["ticked"] = screen_text(app)
        await pilot.press("ctrl+y")
        await failover_done(pilot)
        seen["error answer"] = screen_text(app)
        await pilot.press("space")
        peer = app.screen.query_one("#peer")
        peer.value = "203.0.113.99"            # no route to it from the laptop
        await pilot.press("ctrl+r")
        await failover_done(pilot)
        seen["unreachable"] = screen_text(app)

    with labmod.in_netns(pair.laptop_ns):
        run(app, steps)
    wrong = seen["wrong secret"]
    assert "refused the API client id or secret" in wrong and "Nothing was changed" in wrong
    assert "not-the-secret" not in wrong
    assert "[x] Sync data first" in seen["ticked"]
    error = seen["error answer"]
    assert "<errorxmlns=" in squashed(error) and "Not changed:" in error
    assert "peer appliance" in error
    assert "did not answer" in seen["unreachable"]
    assert "Nothing was changed" in seen["unreachable"]
    assert role_of(pair, PAIR["backup"]) == "backup"


# --- the triage (^o) at 80x24, leading to each path ------------------------------------------

# (keys on the triage, from "What failed"; the paths marked in order; the screen Enter opens)
# Right steps a choice (failed: hardware, virtual, hosted, saas, cloud; yes/no: yes, no);
# Down goes to the next question.
TRIAGE_CASES = {
    "failover": (["right", "down", "right", "down", "right", "right", "down", "right"],
                 ["failover", "rma", "hardware"]),
    "cold_spare": (["right", "down", "right", "right", "down", "right", "down", "right"],
                   ["cold_spare", "rma", "hardware"]),
    "rma": (["right", "down", "right", "right", "down", "right", "right", "down", "right"],
            ["rma", "hosted", "hardware"]),
    "virtual": (["right", "right", "down", "right", "right", "down", "right", "right", "down",
                 "right", "right", "down", "right"], ["virtual"]),
    "saas": (["right", "right", "right", "right", "down", "right"], ["saas"]),
}


def triage_run(app, keys, then=None):
    async def steps(pilot):
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen)
                       and app.session.settings is not None, "sheet loaded")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen), "triage")
        await pilot.press(*keys)
        await pilot.pause(0.1)
        seen = {"triage": screen_text(app)}
        assert_pure_ascii(app)
        await pilot.press(*(then or ["enter"]))
        await pilot.pause(0.2)
        await wait_for(pilot, lambda: app.screen.is_mounted, "the opened screen")
        seen["opened"] = screen_text(app)
        seen["screen"] = app.screen
        assert_pure_ascii(app)
        return seen
    return run(app, steps)


@pytest.mark.parametrize("first", list(TRIAGE_CASES))
def test_triage_at_80x24_marks_the_procedures_order_and_enter_opens_the_first(
        first, sheet, state_dir):
    keys, order = TRIAGE_CASES[first]
    app = console_app(sheet)
    seen = triage_run(app, keys)
    text = seen["triage"]
    for place, key in enumerate(order, 1):
        mark = {1: "1st", 2: "2nd", 3: "3rd"}[place]
        assert f"{PATH_KEYS.index(key) + 1}  {path_title(key)}  <- {mark}" in text
    assert "The procedure's order: " + ", then ".join(
        str(PATH_KEYS.index(k) + 1) for k in order) + " (marked below" in text
    assert isinstance(seen["screen"], SCREEN_OF[first])
    assert f" bringup  {path_title(first)}" in seen["opened"]
    timeline = json.loads(next((state_dir / "incidents").glob("incident-*.json")).read_text())
    assert timeline[-1]["text"].startswith("Triage: the procedure's order: 1. "
                                           + path_title(order[0]))


def test_triage_hardware_without_partner_leads_on_to_the_hosted_site_and_the_bring_up(
        sheet, state_dir):
    keys, _ = TRIAGE_CASES["rma"]
    seen = triage_run(console_app(sheet), keys, then=["6"])       # the 2nd: hosted site
    assert isinstance(seen["screen"], ChecklistScreen) and seen["screen"].key == "hosted"
    seen = triage_run(console_app(sheet), keys, then=["1"])       # the 3rd: the bring-up
    assert isinstance(seen["screen"], StartScreen) and "Step 1 of 7" in seen["opened"]


def test_triage_answers_shape_the_checklist_it_opens(sheet, state_dir):
    no_snapshot = ["right", "right", "down", "right", "right", "down", "right", "right",
                   "down", "right", "right", "down", "right"]
    seen = triage_run(console_app(sheet), no_snapshot)
    screen = seen["screen"]
    assert screen.key == "virtual"
    assert [i.text for i in screen.checklist.skipped] == [
        "A recent snapshot or checkpoint? Roll back to it before anything else: usually the "
        "quickest recovery."]
    starter = triage_run(console_app(sheet), TRIAGE_CASES["saas"][0])["screen"]
    assert any(i.text.startswith("Cloud Appliance:") for i in starter.checklist.skipped)
    cloud = triage_run(console_app(sheet), ["right"] * 5 + ["down", "right"])
    assert cloud["screen"].key == "saas" and not cloud["screen"].checklist.skipped
    assert "2. (you) Cloud Appliance: sign in to its /appliance" in \
        squashed_words(cloud["opened"])


def test_triage_unanswered_says_what_is_left_and_enter_goes_to_it(sheet, state_dir):
    app = console_app(sheet)
    seen = triage_run(app, ["right", "down", "right"], then=["enter"])
    assert "Still to answer: Cold spare, Support contract." in seen["triage"]
    assert isinstance(seen["screen"], PathsScreen)
    assert "Still to answer: Cold spare." in seen["opened"]
    assert not (state_dir / "incidents").exists()
