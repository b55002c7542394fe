"""The table of settings areas: it covers what the engine plans, it follows the
page map (a firmware that moves a setting is one data change), and the page
map's limits refuse a sheet when it is loaded, before anything is sent."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hwprobe.appliance import pagemap
from hwprobe.settings.areas import AREAS, build
from hwprobe.settings.capture import settings_from_state
from hwprobe.appliance.base import ALL_CAPABILITIES
from hwprobe.procedure.engine import plan
from hwprobe.errors import SheetInvalid
from hwprobe.settings.sheet import load_sheet, parse_sheet, summarize
from hwprobe.settings.sheetwrite import dump_sheet
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo
from simulator.appliance import Appliance, Refused

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"
MAP_TEXT = (ROOT / "hwprobe" / "appliance" / "pagemap.toml").read_text()
ADDR = "169.254.1.3"


def factory_state() -> ApplianceState:
    return ApplianceState(ips=[IpAddress("nic1", ADDR, "255.255.0.0")],
                          nics=[NicInfo("nic1", "02:00:00:00:00:01", True)])


# --- the table covers every area ------------------------------------------------------------

def test_every_step_the_engine_plans_belongs_to_a_row_and_every_row_plans_a_step():
    steps = plan(factory_state(), load_sheet(EXAMPLE)).steps
    assert {s.area for s in steps} == set(AREAS.names)
    # the web driver can set every area, a new one included
    assert all(name in ALL_CAPABILITIES for name in (*AREAS.names, "a-new-area"))
    # apply order is the table's order: addresses, then what needs them, services last
    order = [AREAS.names.index(s.area) for s in steps]
    assert order == sorted(order)
    assert [s.area for s in steps][:2] == ["ip", "ip"] and steps[-1].area == "smtp"


def test_each_step_names_its_page_as_the_menu_shows_it():
    pages = {s.area: s.page for s in plan(factory_state(), load_sheet(EXAMPLE)).steps}
    assert pages == {
        "ip": "Networking > IP Configuration",
        "gateway": "Networking > IP Configuration > Global Configuration",
        "hostname": "Networking > IP Configuration > Global Configuration",
        "dns": "Networking > IP Configuration > Global Configuration",
        "routes": "Networking > Static Routes",
        "ntp": "Status > Basics",
        "syslog": "Security > Appliance Administration",
        "smtp": "Security > Email Configuration",
    }


def test_capture_reads_every_area_back_into_a_sheet_that_loads_equal():
    sheet = load_sheet(EXAMPLE)
    state = ApplianceState(**{**sheet.__dict__, "ips": [*sheet.ips, IpAddress("nic1", ADDR, "255.255.0.0")]})
    captured = settings_from_state(state)
    assert captured == sheet          # the factory (link-local) address is left out
    assert plan(state, captured).changes == []


def test_capture_of_an_appliance_without_e_mail_leaves_smtp_out_and_loads():
    from hwprobe.appliance.state import SmtpSettings

    sheet = load_sheet(EXAMPLE)
    unset = SmtpSettings(relay="", port=25, encryption="none", auth="none", username="",
                         from_address="", admin_contacts=[])
    state = ApplianceState(**{**sheet.__dict__, "smtp": unset, "ntp_servers": [],
                              "syslog_servers": []})
    captured = settings_from_state(state)
    assert captured.smtp is None                   # apply then leaves e-mail alone
    loaded = parse_sheet(dump_sheet(captured), "captured.toml")
    assert loaded.smtp is None and loaded.ntp_servers == [] and loaded.syslog_servers == []
    assert plan(state, loaded).changes == []


# --- a firmware that moves a setting is one data change ---------------------------------------

MOVED = MAP_TEXT.replace(
    '[ntp]\n# Where NTP is set is modelled, not documented: keep it here.\npage = "/appliance/status/basics"\n'
    'action = "/appliance/status/basics/ntp"',
    '[ntp]\npage = "/appliance/networking/time"\naction = "/appliance/networking/time/save"\n'
    'panel = "Time Servers"',
).replace('Networking = [["IP Configuration", "ip_config"], ["Static Routes", "routes"], '
          '["SNMP", "snmp"]]',
          'Networking = [["IP Configuration", "ip_config"], ["Static Routes", "routes"], '
          '["SNMP", "snmp"], ["Time", "ntp"]]')


def test_ntp_moved_to_another_page_in_the_page_map_moves_its_row_and_step_with_no_code_change():
    assert MOVED != MAP_TEXT and MOVED.count("/appliance/networking/time") == 2
    moved = build(pagemap.load(MOVED))
    assert moved["ntp"].page == "Networking > Time > Time Servers"
    assert AREAS["ntp"].page == "Status > Basics"
    # every other row is where it was
    assert [(a.name, a.page) for a in moved if a.name != "ntp"] == \
        [(a.name, a.page) for a in AREAS if a.name != "ntp"]
    step = next(s for s in plan(factory_state(), load_sheet(EXAMPLE), areas=moved).steps
                if s.area == "ntp")
    assert step.page == "Networking > Time > Time Servers"


def test_a_firmware_with_fewer_syslog_servers_is_a_page_map_change_the_sheet_follows():
    fewer = build(pagemap.load(MAP_TEXT.replace("max_servers = 10", "max_servers = 3")))
    text = EXAMPLE.read_text().replace('servers = ["198.51.100.5"]', 'servers = ["198.51.100.5", '
                                       '"198.51.100.6", "198.51.100.7", "198.51.100.8"]')
    assert parse_sheet(text, "s.toml").syslog_servers[3] == "198.51.100.8"
    with pytest.raises(SheetInvalid) as caught:
        parse_sheet(text, "s.toml", areas=fewer)
    assert caught.value.problems == [
        "s.toml:36: [syslog].servers: 4 servers listed; the appliance holds at most 3"]


# --- limits: one number in the page map, read by both sides -------------------------------------

LIMITS = [(area.table, limit.key, limit.most) for area in AREAS for limit in area.limits]


def test_the_page_map_gives_a_limit_for_each_list_the_appliance_caps():
    assert sorted((t, k) for t, k, _ in LIMITS) == [
        ("network", "dns_servers"), ("ntp", "servers"), ("smtp", "admin_contacts"),
        ("syslog", "servers")]
    assert all(isinstance(most, int) and most > 0 for *_, most in LIMITS)


def _items(key: str, n: int) -> list[str]:
    if key == "admin_contacts":
        return [f"noc{i}@example.net" for i in range(n)]
    return [f"198.51.100.{100 + i}" for i in range(n)]


def over_limit_sheet(table: str, key: str, n: int) -> tuple[str, int]:
    """The example sheet with ``n`` entries in ``[table].key``; returns the text
    and the line of that key."""
    lines = EXAMPLE.read_text().splitlines()
    current = None
    for i, line in enumerate(lines):
        if line.startswith("["):
            current = line.split("]")[0].strip("[")
        elif current == table and line.startswith(f"{key} = "):
            lines[i] = f"{key} = {json.dumps(_items(key, n))}"
            return "\n".join(lines) + "\n", i + 1
    raise AssertionError(f"no [{table}].{key} in the example sheet")


def _simulator_sets(appliance: Appliance, table: str, key: str, items: list[str]) -> None:
    if table == "network":
        appliance.set_global(dns_servers=items)
    elif table == "ntp":
        appliance.set_ntp(items)
    elif table == "syslog":
        appliance.set_syslog(items, "rfc5424")
    else:
        appliance.set_smtp(relay="mail.example.net", port=25, encryption="none", auth="none",
                           from_address="bt@example.net", admin_contacts=items)


@pytest.mark.parametrize("table,key,most", LIMITS)
def test_sheet_and_simulator_hold_the_same_limit(table, key, most, tmp_path):
    text, line = over_limit_sheet(table, key, most)
    parse_sheet(text, "at-limit.toml")                         # the limit itself is fine
    text, line = over_limit_sheet(table, key, most + 1)
    with pytest.raises(SheetInvalid) as caught:
        parse_sheet(text, "over.toml")
    noun = "addresses" if key == "admin_contacts" else "servers"
    assert caught.value.problems == [f"over.toml:{line}: [{table}].{key}: {most + 1} {noun} "
                                     f"listed; the appliance holds at most {most}"]
    appliance = Appliance(tmp_path / "state.json")
    _simulator_sets(appliance, table, key, _items(key, most))
    with pytest.raises(Refused, match=f"at most {most} allowed"):
        _simulator_sets(appliance, table, key, _items(key, most + 1))


def test_network_step_of_the_console_checks_the_dns_limit_the_sheet_has():
    from tui.screens.network import problems_of

    rows = [{"nic": "nic1", "address": "198.51.100.20", "netmask": "24", "vlan": ""}]
    most = AREAS["dns"].limits[0].most
    values = {"gateway": "198.51.100.1", "hostname": "support.example.net",
              "dns": ", ".join(_items("dns_servers", most))}
    assert problems_of(rows, values) == {}
    values["dns"] = ", ".join(_items("dns_servers", most + 1))
    assert problems_of(rows, values) == {
        "dns": f"{most + 1} servers listed; the appliance holds at most {most}"}


def test_dumped_sheet_says_each_limit_beside_its_list():
    text = dump_sheet(load_sheet(EXAMPLE))
    for table, key, most in LIMITS:
        assert re.search(rf"^{key} = .*# at most {most}$", text, re.M), (table, key)
    assert parse_sheet(text) == load_sheet(EXAMPLE)


def test_summary_has_one_line_per_area_in_the_words_of_the_plan():
    sheet = load_sheet(EXAMPLE)
    lines = summarize(sheet)[1:]
    titles = [s.title for s in plan(factory_state(), sheet).steps]
    for area, line in zip([a for a in AREAS], lines):
        assert line.startswith(area.heading + ": ")
    for title in titles:           # each step's words appear in the summary
        words = title.split(": ", 1)[1]
        assert any(words in line for line in lines), title


# --- refused at load, in a lab: nothing reaches the appliance ------------------------------------

def _bringup(lab, state_dir, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    env.update({"BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT),
                "BRINGUP_NEW_PASSWORD": "Bring-Up-2am!x7",
                "BRINGUP_SMTP_PASSWORD": "Smtp-Relay#Secret-93"})
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                           *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def _lan0(lab) -> str:
    out = subprocess.run(["ip", "-n", lab.laptop_ns, "-br", "addr", "show", "dev", "lan0"],
                         capture_output=True, text=True, check=True).stdout
    return out.split(None, 1)[1]


@pytest.mark.lab
def test_apply_refuses_a_sheet_over_each_limit_before_sending_anything(make_lab, state_dir,
                                                                      tmp_path):
    from simulator import control

    lab = make_lab(appliance_address=ADDR)
    before_port = _lan0(lab)
    before = control.send(lab.control, get="stats")
    for table, key, most in LIMITS:
        text, line = over_limit_sheet(table, key, most + 1)
        sheet = tmp_path / f"over-{table}.toml"
        sheet.write_text(text)
        r = _bringup(lab, state_dir, "apply", "--sheet", str(sheet), "--address", ADDR,
                     "--iface", "lan0")
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"{sheet}:{line}: [{table}].{key}: {most + 1} " in r.stderr
        assert f"the appliance holds at most {most}" in r.stderr
        assert "Traceback" not in r.stderr
    after = control.send(lab.control, get="stats")
    # not one request: no login, no read, no change
    assert (after["requests"], after["saved"], after["changes"]) == \
        (before["requests"], before["saved"], before["changes"])
    assert _lan0(lab) == before_port


# --- one formatter per area: the Restore rows, the report, apply's output ------------------------

def test_each_change_reads_whole_before_and_after_in_the_technicians_words():
    state = ApplianceState(ips=[IpAddress("nic2", "203.0.113.20", "255.255.255.0")],
                           dns_servers=["198.51.100.53"])
    steps = {s.key: s for s in plan(state, load_sheet(EXAMPLE)).steps}
    words = {k: AREAS.change(s.area, s.before, s.after) for k, s in steps.items()}
    assert words["ip:nic1:198.51.100.20"] == "Address: add NIC1 198.51.100.20/24 (255.255.255.0)"
    assert words["ip:nic2:203.0.113.20"] == (
        "Address: NIC2 203.0.113.20/24 (255.255.255.0) -> NIC2 203.0.113.20/25 "
        "(255.255.255.128), VLAN 20")
    assert words["dns"] == "DNS: 198.51.100.53 -> 198.51.100.53, 203.0.113.53"
    assert words["smtp"] == ("E-mail: relay mail.example.net:587, STARTTLS, login bt-alerts "
                             "with a password, from bt-alerts@example.net, "
                             "admin noc@example.net (was: none)")
    assert AREAS.change("ntp", ["a"], ["a"]) == "NTP: a (as it is)"
    # the step's title (apply's plain output, the report) uses the same words
    assert steps["dns"].title == "DNS: " + AREAS.describe("dns", steps["dns"].after)


def test_round_trip_times_show_the_precision_they_have():
    from hwprobe.port.probe import rtt_words

    assert [rtt_words(x) for x in (0.7, 0.04, 0.0, 12.34, None)] == \
        ["0.7 ms", "< 0.1 ms", "< 0.1 ms", "12 ms", "-"]
