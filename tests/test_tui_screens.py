"""Every step screen at 80x24 in the console profile: snapshots, and pure ASCII.

The hardware boundary (the laptop's port list, the probe's answers, the
appliance's state) is replaced by fixed data here, and only here, so the
pictures do not change with the machine; the lab tests (test_tui_flow.py) walk
the same screens against real ports and a simulated appliance.
"""
from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest

from hwprobe.port import interfaces, recovery
from hwprobe.port.takeover import Takeover
from hwprobe.port import probe as probe_mod
from hwprobe.procedure.engine import VERIFIED, RunResult, plan
from hwprobe.procedure.session import BringupSession, Target
from hwprobe.settings.sheet import load_sheet
from hwprobe.appliance.state import ApplianceState, NicInfo
from bringup.console import make_app
from tui.app import ConsoleOptions

ROOT = Path(__file__).resolve().parent.parent
SHEET = "assets/example-sheet.toml"     # relative to ROOT: pictures must not show the checkout's path
LONG_SHEET = "tests/sheets/long-values.toml"    # ten syslog servers, long host names
FINGERPRINT = "3da8d7f693de3d" + "0" * 50

PORTS = [
    interfaces.Port("eth0", 2, "52:54:00:12:34:56", True, True, "UP", "ethernet",
                    ["192.0.2.15/24"], default_route=True, global_address=True),
    interfaces.Port("eth1", 3, "52:54:00:ab:cd:ef", True, True, "UP", "ethernet", []),
    interfaces.Port("wlan0", 4, "52:54:00:00:00:01", False, False, "DOWN", "wireless", []),
]


def _factory_state() -> ApplianceState:
    return ApplianceState(
        model="B400", serial="B400-0099999", software_version="7.1.2",
        nics=[NicInfo("nic1", "02:b5:00:00:00:01", True), NicInfo("nic2", "02:b5:00:00:00:02", False)],
    )


class FixedDriver:
    """Stands in for the appliance in pictures only: its pages show what
    ``_factory_state`` holds."""

    kind = "web"
    fingerprint = FINGERPRINT
    address = "169.254.1.3"

    def read(self, sections):
        from hwprobe.appliance.pagemap import PAGES
        from hwprobe.appliance.section import Section

        state, ip = _factory_state(), PAGES["ip_config"]
        values = {name: getattr(state, name) for name in ("model", "serial", "software_version")}
        nics = [[n.name, n.mac, "yes" if n.link else "no"] for n in state.nics]
        return {"status_basics": Section("status_basics", PAGES["status_basics"], values=values),
                "ip_config": Section("ip_config", ip, tables={ip["nic_table"]: nics})}


def _fake_probe(iface, src, addresses=(), timeout=1.0, on_answer=None, check_https=True,
                cancel=None, **_):
    r = probe_mod.Responder("169.254.1.3", "02:b5:00:00:00:01", 0.4, True, FINGERPRINT)
    if on_answer:
        on_answer(r)
    return probe_mod.ProbeResult(iface, src, tuple(addresses), [r], 5.0, 0.4, 5.0)


@pytest.fixture
def fixed_hardware(monkeypatch, state_dir):
    monkeypatch.setattr(interfaces, "list_ports", lambda: list(PORTS))
    monkeypatch.setattr(recovery, "restore_from_journal", lambda **kw: [])
    monkeypatch.setattr(probe_mod, "probe", _fake_probe)
    monkeypatch.setattr(probe_mod, "preload", lambda: None)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.chdir(ROOT)
    return state_dir


def console_app(sheet: str = SHEET):
    app = make_app(["--console-profile", "--sheet", sheet])
    app.options.resume = False
    return app


def _session_until(app, step: str, sheet: str = SHEET) -> None:
    s = app.session
    s.settings = load_sheet(sheet)
    s.sheet_path = "/home/tech/sheets/support.toml"
    if step in ("find", "login", "network", "restore", "done"):
        s.bringup = bringup = BringupSession(Target(iface="eth1", handle_signals=False))
        # a takeover object that never took the port: its address is all the
        # pictures need (the probe is fixed data too)
        bringup.takeover = Takeover("eth1", address="169.254.1.254", handle_signals=False)
    if step in ("login", "network", "restore", "done"):
        bringup.choose(probe_mod.Responder("169.254.1.3", "02:b5:00:00:00:01", 0.4, True,
                                           FINGERPRINT))
    if step in ("restore", "done"):
        bringup.driver = FixedDriver()
        s.password, s.password_changed = "x", True      # a factory box: changed at login
    if step == "done":
        steps = plan(_factory_state(), s.settings).steps
        for st in steps:
            st.status = VERIFIED
        bringup.run_result = RunResult(steps, [], False, None, _holding(s.settings), 0.0, 4.2)
        bringup.stage = "done"           # as a run that reached its end leaves it
        bringup.report_paths = ("/var/lib/bringup/reports/20250101-120000-B400-0099999.md",
                                "x.json")


def _holding(settings, **changes) -> ApplianceState:
    """The fixed appliance after a run: the sheet's values, but ``changes``."""
    fields = ("ips", "hostname", "default_gateway", "dns_servers", "routes", "ntp_servers",
              "syslog_servers", "syslog_format", "smtp")
    return ApplianceState(**{**_factory_state().__dict__,
                             **{k: getattr(settings, k) for k in fields}, **changes})


async def _settle(pilot, app) -> None:
    for _ in range(50):
        await pilot.pause(0.05)
        if not [w for w in app.screen.workers if w.is_running]:
            break
    await pilot.pause(0.1)


def goto(step: str, sheet: str = SHEET, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        if step != "start":
            _session_until(app, step, sheet)
            app.goto(step)
        await _settle(pilot, app)
        if step == "restore":
            app.screen.query_one("#steps").focus()
            await pilot.pause(0.1)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.1)
    return run_before


STEP_KEYS = ("start", "port", "find", "login", "network", "restore", "done")


@pytest.mark.parametrize("step", STEP_KEYS)
def test_each_step_screen_at_80x24_in_console_profile(step, snap_compare, fixed_hardware):
    assert snap_compare(console_app(), terminal_size=(80, 24), run_before=goto(step))


def test_restore_step_at_120x40_uses_the_width_for_whole_changes(snap_compare, fixed_hardware):
    assert snap_compare(console_app(), terminal_size=(120, 40), run_before=goto("restore"))


SIZES = ((80, 24), (120, 40))
SYSLOG_ROW = ("down",) * 8 + ("space",)     # the long sheet's syslog row, opened


@pytest.mark.parametrize("size", SIZES, ids=lambda x: f"{x[0]}x{x[1]}")
def test_restore_step_with_long_values(size, snap_compare, fixed_hardware):
    assert snap_compare(console_app(LONG_SHEET), terminal_size=size,
                        run_before=goto("restore", LONG_SHEET))


def test_restore_detail_pane_holds_ten_syslog_servers_whole_at_80x24(snap_compare,
                                                                     fixed_hardware):
    # at 120x40 the Restore table itself holds them (the picture above)
    assert snap_compare(console_app(LONG_SHEET), terminal_size=(80, 24),
                        run_before=goto("restore", LONG_SHEET, SYSLOG_ROW))


def _after_a_run(*keys: str):
    """The Restore step once a run has ended: every step read back, but DNS
    failed, the appliance keeping one server of two."""
    async def run_before(pilot) -> None:
        await goto("restore")(pilot)
        screen = pilot.app.screen
        steps = [copy.copy(x) for x in screen.plan.steps]
        for x in steps:
            x.status = "failed" if x.area == "dns" else VERIFIED
        screen._fill(steps, _holding(pilot.app.session.settings, dns_servers=["198.51.100.53"]))
        screen.move_to([x.area for x in steps].index("dns"))
        await pilot.pause(0.1)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.1)
    return run_before


@pytest.mark.parametrize("keys", ((), ("space",)), ids=("table", "detail"))
def test_restore_step_after_the_run_shows_what_the_appliance_holds(keys, snap_compare,
                                                                   fixed_hardware):
    assert snap_compare(console_app(), terminal_size=(80, 24), run_before=_after_a_run(*keys))


def _sheet_values(sheet: str) -> set[str]:
    """Every value of ``sheet`` as the console says it (choices by their
    names on the appliance's pages)."""
    from hwprobe.settings.areas.smtp import ENCRYPTIONS
    from hwprobe.settings.areas.syslog import SYSLOG_FORMATS

    s = load_sheet(sheet)
    out = {s.hostname, s.default_gateway, *s.dns_servers, *(s.ntp_servers or []),
           *(s.syslog_servers or []), SYSLOG_FORMATS[s.syslog_format]}
    for ip in s.ips:
        out |= {ip.nic.upper(), ip.address, ip.netmask, str(ip.vlan or "none")}
    for r in s.routes:
        out |= {r.destination, r.gateway, r.nic.upper()}
    m = s.smtp
    out |= {m.relay, str(m.port), ENCRYPTIONS[m.encryption], m.username, m.from_address,
            *m.admin_contacts}
    return out


@pytest.mark.parametrize("sheet", (SHEET, LONG_SHEET), ids=("example", "long"))
def test_every_value_of_the_sheet_is_in_the_detail_pane_whole(sheet, fixed_hardware):
    """At 80x24 and at 120x40: Space opens the selected row, Down walks every
    row, PgDn scrolls an area longer than the screen. Each value of the
    sheet must be whole on one line of some screen, at each size."""
    app = console_app(sheet)
    seen: dict[tuple, list[str]] = {size: [] for size in SIZES}

    async def walk(pilot, size):
        pane = app.screen
        rows = len(pane.restore.steps)
        for row in range(rows):
            assert f"({row + 1} of {rows})" in pane.text
            scroll = pane.query_one("#detail-scroll")
            while True:
                screen = _screen_text(app)
                assert len(screen) == size[1] and all(len(x) == size[0] for x in screen)
                seen[size].extend(screen)
                if scroll.scroll_y >= scroll.max_scroll_y:
                    break
                await pilot.press("pagedown")
            await pilot.press("down")

    async def run():
        async with app.run_test(size=SIZES[0]) as pilot:
            await goto("restore", sheet, ("space",))(pilot)
            for size in SIZES:
                await pilot.resize_terminal(*size)
                await pilot.press("home")          # scrolls the pane; the row stays
                app.screen.action_row(-len(app.screen.restore.steps))
                await pilot.pause(0.1)
                await walk(pilot, size)
            _assert_ascii(seen[SIZES[0]] + seen[SIZES[1]], app)
            await pilot.press("enter")            # closes the pane; it never applies
            await pilot.pause(0.05)
            assert app.screen.STEP == "restore" and not app.screen.running

    asyncio.run(run())
    for size, lines in seen.items():
        text = "\n".join(lines)
        missing = sorted(v for v in _sheet_values(sheet) if v not in text)
        assert not missing, f"at {size}, not whole on any screen of the detail pane: {missing}"


def _screen_text(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def _ascii_check(app, prepare) -> list[str]:
    async with app.run_test(size=(80, 24)) as pilot:
        await prepare(pilot)
        await pilot.pause(0.1)
        lines = _screen_text(app)
    return lines


def _assert_ascii(lines: list[str], app) -> None:
    bad = sorted({c for line in lines for c in line if not c.isascii()})
    assert not bad, f"non-ASCII on screen: {bad}"
    assert not app.ascii_filter.folded, (
        f"screens are ASCII only by the last-resort filter; these glyphs came from "
        f"the design: {sorted(app.ascii_filter.folded)}")


@pytest.mark.parametrize("step", STEP_KEYS)
def test_every_step_screen_is_pure_ascii_in_console_profile(step, fixed_hardware):
    app = console_app()
    lines = asyncio.run(_ascii_check(app, goto(step)))
    assert any(line.strip() for line in lines)
    _assert_ascii(lines, app)


def test_palette_serial_pane_and_notices_are_ascii_too(fixed_hardware):
    app = console_app()

    async def prepare(pilot):
        await goto("find")(pilot)
        await pilot.press("ctrl+t")              # serial pane
        await pilot.pause(0.1)
        app.notify("A notice for the technician")
        await pilot.pause(0.1)
        _assert_ascii(_screen_text(app), app)
        await pilot.press("ctrl+p")              # command palette
        await pilot.pause(0.2)

    lines = asyncio.run(_ascii_check(app, prepare))
    assert any("Give the laptop port back" in line for line in lines)
    _assert_ascii(lines, app)


def test_resume_offer_is_ascii(fixed_hardware):
    from tui.screens.base import Session, save_progress

    s = Session(sheet_path=SHEET, done={"start", "port"},
                bringup=BringupSession(Target(iface="eth1", address="169.254.1.3")))
    save_progress(s, "find")
    progress = fixed_hardware / "console-progress.json"
    progress.write_text(progress.read_text().replace('"pid": ', '"pid": 999999999, "x": '))
    app = make_app(["--console-profile", "--sheet", SHEET])

    async def prepare(pilot):
        await pilot.pause(0.2)

    lines = asyncio.run(_ascii_check(app, prepare))
    assert any("continue from there" in line for line in lines)
    _assert_ascii(lines, app)


def test_a_port_named_with_iface_that_is_not_here_is_said_not_silently_replaced(
        fixed_hardware):
    app = make_app(["--console-profile", "--sheet", SHEET, "--iface", "eth9"])
    app.options.resume = False

    async def prepare(pilot):
        await goto("port")(pilot)

    lines = asyncio.run(_ascii_check(app, prepare))
    text = " ".join(" ".join(lines).split())
    assert "--iface eth9: no such Ethernet port on this laptop (ports: eth0, eth1, wlan0)" in text


def test_default_profile_keeps_textual_look_and_no_filter(fixed_hardware):
    app = make_app(["--no-console-profile"])
    assert not app.profile.console
    assert app.theme == "textual-dark"
    assert app.ascii_filter not in app.get_line_filters()


def test_login_marks_each_part_of_the_password_rule_as_it_is_typed(fixed_hardware):
    """Under New password each part of the appliance's rule keeps its place, and
    its mark tells, after every key, whether the password typed so far meets it."""
    app = console_app()
    shown: dict[str, str] = {}

    async def prepare(pilot):
        await goto("login")(pilot)
        for typed in ("Rack", "-42-Green", "admin"):
            await pilot.press(*typed)
            await pilot.pause(0.1)
            shown[typed] = "\n".join(_screen_text(app))

    asyncio.run(_ascii_check(app, prepare))
    for mark, part in (("[ ]", "8+ characters"), ("[x]", "upper case"), ("[x]", "lower case"),
                       ("[ ]", "a digit"), ("[ ]", "a symbol"), ("[x]", "not the user name")):
        assert f"{mark} {part}" in shown["Rack"], shown["Rack"]
    for part in ("8+ characters", "upper case", "lower case", "a digit", "a symbol",
                 "not the user name"):
        assert f"[x] {part}" in shown["-42-Green"], shown["-42-Green"]
    assert "[ ] not the user name" in shown["admin"] and "[x] a symbol" in shown["admin"]
    assert "Rack" not in shown["admin"]               # the password itself is never shown


def test_network_a_wrong_value_keeps_every_row_in_place_and_says_where(fixed_hardware):
    """A wrong letter in Address 1 shows its problem on the row kept under it:
    no field moves, and "To the appliance" keeps a line per value, the wrong
    one saying to fix it, the others still what will be sent."""
    app = console_app()
    shown: dict[str, list[str]] = {}

    async def prepare(pilot):
        await goto("network")(pilot)
        shown["before"] = _screen_text(app)
        app.screen.query_one("#address-1").focus()
        await pilot.press("end", "x")
        await pilot.pause(0.1)
        shown["typed"] = _screen_text(app)

    asyncio.run(_ascii_check(app, prepare))
    before, typed = shown["before"], shown["typed"]
    rows = ("Address 2", "Gateway", "Host name", "DNS servers", "To the appliance")
    for label in rows:
        assert [i for i, line in enumerate(before) if line.strip().startswith(label)] == \
            [i for i, line in enumerate(typed) if line.strip().startswith(label)], label
    at = next(i for i, line in enumerate(typed) if "198.51.100.20x" in line)
    assert 'address "198.51.100.20x" is not an IPv4 address' in typed[at + 1]
    text = "\n".join(typed)
    assert "Address: fix Address 1 above" in text
    assert "Address: NIC2 203.0.113.20/25 (255.255.255.128), VLAN 20" in text
    assert "Default gateway: 198.51.100.1" in text


def test_done_with_a_finish_step_failed_says_not_ready_names_it_and_never_the_cables(
        fixed_hardware):
    """A kit's run whose network changes all read back but whose /login
    backup the appliance refused: Done's headline is NOT READY and names the
    finish step (issue 26 after issue 23), as apply's last line does."""
    from hwprobe.procedure.finish.run import FinishResult
    from hwprobe.procedure.finish.steps import new_steps

    app = console_app()
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            _session_until(app, "done")
            steps = new_steps()
            for step, (status, message) in zip(steps, (
                    ("done", "imported certificate-support.example.net-B400.p12"),
                    ("done", "installed site software 7.1.2"),
                    ("failed", "the appliance refused the /login backup: the backup password "
                               "is wrong; the appliance's /login is as it was"))):
                step.status, step.message = status, message
            app.session.bringup.finish_result = FinishResult(steps)
            app.session.kit_folder = "/home/tech/kit-support"
            app.goto("done")
            await _settle(pilot, app)
            seen["hint"] = str(app.screen.query_one("#hint").render())
            seen["screen"] = "\n".join(_screen_text(app))

    asyncio.run(run())
    hint = seen["hint"]
    assert hint.startswith("NOT READY: 1 of 3 finish step(s) NOT done (/login backup): "
                           "leave the cables where they are"), hint
    assert "ready for its cables" not in seen["screen"]
    assert "production settings" not in seen["screen"]
    assert "Step 8 of 8: Done" in seen["screen"]
    # the failed step is told once; verify (after the cables move) is not offered
    flat = " ".join(seen["screen"].split())
    assert flat.count("the backup password is wrong") == 1, seen["screen"]
    assert "Verify after the cables move" not in seen["screen"]


def test_done_says_logged_in_not_password_changed_when_the_run_changed_no_password(
        fixed_hardware):
    """An appliance that did not ask for a new password (an earlier site's,
    reached on its own address): Done says the technician logged in, not
    that the password was changed (it said "password changed as admin")."""
    app = console_app()
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            _session_until(app, "done")
            app.session.password_changed = False
            app.goto("done")
            await _settle(pilot, app)
            seen["screen"] = " ".join(" ".join(_screen_text(app)).split())

    asyncio.run(run())
    assert "Appliance: 169.254.1.3 (logged in as admin)" in seen["screen"], seen["screen"]
    assert "password changed" not in seen["screen"]
