"""The settings sheet: loading, checking, writing back and summarizing.

Pure and fast: nothing here touches a network or an appliance.
"""
from __future__ import annotations

import dataclasses
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bringup_assets
from hwprobe.settings import validate as v
from hwprobe.errors import SheetInvalid
from hwprobe.settings.sheet import load_sheet, parse_sheet, summarize
from hwprobe.settings.sheetwrite import dump_sheet, write_sheet
from hwprobe.appliance.state import ApplianceState, IpAddress, Route, Settings, SmtpSettings

BAD = Path(__file__).parent / "bad_sheets"
BAD_SHEETS = sorted(p.stem for p in BAD.glob("*.toml"))
EXAMPLE = Path(str(bringup_assets.path("example-sheet.toml")))


def problems_of(path) -> list[str]:
    with pytest.raises(SheetInvalid) as caught:
        load_sheet(path)
    assert caught.value.exit_status == 2
    return caught.value.problems


# --- the shipped example ----------------------------------------------------------

def test_example_sheet_loads_with_every_value():
    s = load_sheet(EXAMPLE)
    assert (s.model, s.serial) == ("B400", "B400-0012345")
    assert s.ips == [IpAddress("nic1", "198.51.100.20", "255.255.255.0"),
                     IpAddress("nic2", "203.0.113.20", "255.255.255.128", vlan=20)]
    assert s.hostname == "support.example.net"
    assert s.default_gateway == "198.51.100.1"
    assert s.dns_servers == ["198.51.100.53", "203.0.113.53"]
    assert s.routes == [Route("203.0.113.128/25", "198.51.100.254", "nic1")]
    assert s.ntp_servers == ["198.51.100.123", "ntp.example.net"]
    assert (s.syslog_servers, s.syslog_format) == (["198.51.100.5"], "rfc5424")
    assert s.smtp == SmtpSettings("mail.example.net", 587, "starttls", "password", "bt-alerts",
                                  "bt-alerts@example.net", ["noc@example.net"])


def test_summary_of_example_sheet_reads_as_short_lines():
    assert summarize(load_sheet(EXAMPLE)) == [
        "from B400 B400-0012345",
        "Addresses: NIC1 198.51.100.20/24 (255.255.255.0); NIC2 203.0.113.20/25 (255.255.255.128), VLAN 20",
        "Default gateway: 198.51.100.1",
        "Host name: support.example.net",
        "DNS: 198.51.100.53, 203.0.113.53",
        "Static routes: 203.0.113.128/25 via 198.51.100.254 on NIC1",
        "NTP: 198.51.100.123, ntp.example.net",
        "Syslog: 198.51.100.5 (RFC 5424)",
        "E-mail: relay mail.example.net:587, STARTTLS, login bt-alerts with a password, "
        "from bt-alerts@example.net, admin noc@example.net",
    ]


def test_summary_names_tables_the_sheet_leaves_out():
    s = dataclasses.replace(load_sheet(EXAMPLE), ntp_servers=None, syslog_servers=None,
                            syslog_format=None, smtp=None, routes=[])
    lines = summarize(s)
    assert "NTP: not in the sheet" in lines and "E-mail: not in the sheet" in lines
    assert "Syslog: not in the sheet" in lines
    assert not any("route" in line for line in lines)


# --- the corpus of bad sheets -----------------------------------------------------------

def test_bad_sheet_corpus_has_at_least_25_sheets_each_with_its_expected_messages():
    assert len(BAD_SHEETS) >= 25
    missing = [n for n in BAD_SHEETS if not (BAD / f"{n}.expected").is_file()]
    assert missing == []


@pytest.mark.parametrize("name", BAD_SHEETS)
def test_bad_sheet_reports_exactly_the_expected_problems(name, monkeypatch):
    monkeypatch.chdir(BAD)
    expected = (BAD / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    assert problems_of(f"{name}.toml") == expected


@pytest.mark.parametrize("name", [n for n in BAD_SHEETS if n.startswith("secret_")])
def test_password_in_a_sheet_is_refused_without_echoing_it(name):
    text = (BAD / f"{name}.toml").read_text()
    secrets = re.findall(r'(?:password)\s*=\s*"([^"]+)"', text)
    assert secrets
    problems = problems_of(BAD / f"{name}.toml")
    joined = "\n".join(problems)
    assert "passwords do not belong in a sheet" in joined
    for secret in secrets:
        assert secret not in joined


def test_a_sheet_with_many_problems_reports_every_one_in_line_order():
    problems = problems_of(BAD / "many_problems.toml")
    keys = [p.split(": ")[1] for p in problems]
    assert keys == ["[appliance].modle", "[ip#1].netmask", "[ip#2].vlan", "[network].hostname",
                    "[syslog].timeout", "[smtp].port", "[smtp].from_address"]
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)


def test_problem_names_the_file_as_given(tmp_path):
    sheet = tmp_path / "site-a.toml"
    sheet.write_text(EXAMPLE.read_text().replace("port = 587", "port = 0"))
    assert problems_of(sheet) == [f"{sheet}:41: [smtp].port: port 0 is outside 1-65535"]


def test_missing_sheet_file_is_bad_input(tmp_path):
    problems = problems_of(tmp_path / "nowhere.toml")
    assert problems == [f"{tmp_path / 'nowhere.toml'}: cannot read the sheet: No such file or directory"]


def test_line_numbers_survive_multiline_values_that_look_like_keys():
    text = EXAMPLE.read_text().replace(
        'model = "B400"', 'model = """B400\nport = 0\n[smtp]\n"""\nnotes = [\n  "vlan = 1",\n]')
    with pytest.raises(SheetInvalid) as caught:
        parse_sheet(text, "s.toml")
    # a value is one line: the multi-line model is refused too, on its own line
    assert caught.value.problems == [
        's.toml:8: [appliance].model: holds the hidden character U+000A; remove it '
        '(a value is one line of visible text)',
        's.toml:12: [appliance].notes: unknown key; expected one of "model", "serial"']


def test_dotted_keys_are_located_and_checked():
    text = "format = 1\nsmtp.port = 0\n" + EXAMPLE.read_text().split("[smtp]")[0].split("format = 1", 1)[1]
    with pytest.raises(SheetInvalid) as caught:
        parse_sheet(text, "s.toml")
    assert "s.toml:2: [smtp].port: port 0 is outside 1-65535" in caught.value.problems


# --- writing sheets ------------------------------------------------------------------------

def test_dumped_example_loads_back_equal_and_names_each_page():
    settings = load_sheet(EXAMPLE)
    text = dump_sheet(settings, source_note="captured from 198.51.100.20\nby bringup capture")
    assert parse_sheet(text) == settings
    assert text.splitlines()[1:3] == ["# captured from 198.51.100.20", "# by bringup capture"]
    for header, page in [("[[ip]]", "Networking > IP Configuration"), ("[network]", "Global Configuration"),
                         ("[[route]]", "Static Routes"), ("[syslog]", "Security > Appliance Administration"),
                         ("[smtp]", "Security > Email Configuration"), ("[appliance]", "Status > Basics")]:
        assert any(line.startswith(header) and page in line for line in text.splitlines()), header


def test_dump_leaves_out_tables_that_are_not_set():
    settings = dataclasses.replace(load_sheet(EXAMPLE), model="", serial="", ntp_servers=None,
                                   syslog_servers=None, syslog_format=None, smtp=None, routes=[])
    text = dump_sheet(settings)
    for header in ("[appliance]", "[ntp]", "[syslog]", "[smtp]", "[[route]]"):
        assert header not in text
    assert parse_sheet(text) == settings


def test_dump_never_writes_a_password_but_says_one_is_held():
    settings = load_sheet(EXAMPLE)
    settings.smtp.password_set = True
    text = dump_sheet(settings)
    assert not re.search(r"^\s*\w*pass\w*\s*=", text, re.M | re.I)
    assert "BRINGUP_SMTP_PASSWORD" in text
    assert parse_sheet(text).smtp.username == "bt-alerts"


def test_dump_accepts_appliance_state_as_captured():
    base = load_sheet(EXAMPLE)
    state = ApplianceState(**dataclasses.asdict(base) | {"ips": base.ips, "routes": base.routes,
                                                          "smtp": base.smtp},
                           software_version="9.1", system_time="now")
    assert parse_sheet(dump_sheet(state)) == base


def test_dump_quotes_awkward_text_so_it_loads_back_unchanged():
    odd = 'B400 "rack 3" \\ \u00e9\u4e2d \U0001F600 [b]:ab:'
    settings = dataclasses.replace(load_sheet(EXAMPLE), model=odd, serial="'single'")
    assert parse_sheet(dump_sheet(settings)) == settings


def test_dumped_control_characters_are_refused_on_load_by_line():
    settings = dataclasses.replace(load_sheet(EXAMPLE), model="B400\ttab\nnew\x01\x7f")
    with pytest.raises(SheetInvalid) as caught:
        parse_sheet(dump_sheet(settings), "s.toml")
    assert caught.value.problems == [
        "s.toml:7: [appliance].model: holds the hidden character U+0009; "
        "remove it (a value is one line of visible text)"]


def _random_settings(rng: random.Random) -> Settings:
    ips, used = [], set()
    for n in range(rng.randint(1, 4)):
        prefix = rng.choice([8, 16, 22, 24, 25, 28, 30, 31, 32])
        net = f"{rng.choice(['198.51.100', '203.0.113'])}"
        while True:
            address = f"{net}.{rng.randint(1, 254)}"
            if address not in used and v.check_host_address(address, prefix) is None:
                break
        used.add(address)
        ips.append(IpAddress(rng.choice(["nic1", "nic2"]), address, v.prefix_to_netmask(prefix),
                             rng.choice([None, rng.randint(1, 4094)])))
    first = ips[0]
    gateway_ok = lambda g: g not in used and v.gateway_in_subnets(g, [(first.address, first.netmask)]) is None
    candidates = [f"{first.address.rsplit('.', 1)[0]}.{k}" for k in range(1, 255)]
    gateways = [g for g in candidates if gateway_ok(g)]
    gateway = rng.choice(gateways) if gateways else None
    if gateway is None:      # a /32 or /31 holding only the appliance: widen it
        ips[0] = first = dataclasses.replace(first, netmask="255.255.255.0")
        gateway = next(g for g in candidates if g not in used)
    routes = []
    if rng.random() < 0.5:
        routes.append(Route(f"192.0.2.{rng.choice([0, 64, 128])}/26", gateway, first.nic))
    names = ["ntp.example.net", "198.51.100.123", "time-1.example.net", "a.b.example.net"]
    smtp = None
    if rng.random() < 0.7:
        auth = rng.choice(["none", "password"])
        smtp = SmtpSettings(rng.choice(["mail.example.net", "198.51.100.25"]), rng.randint(1, 65535),
                            rng.choice(["tls", "starttls", "none"]), auth,
                            "alerts" if auth == "password" else "", "bt@example.net",
                            rng.sample(["noc@example.net", "ops+b@example.net", "x.y@mail.example.net"],
                                       rng.randint(0, 3)))
    syslog = rng.sample([f"198.51.100.{k}" for k in range(2, 40)], rng.randint(0, 10))
    return Settings(
        model=rng.choice(["", "B400", "B200 \"spare\""]), serial=rng.choice(["", "B400-00123"]),
        ips=ips, hostname=rng.choice(["support", "support.example.net", "a-1.b-2.example.net"]),
        default_gateway=gateway, dns_servers=rng.sample(["198.51.100.53", "203.0.113.53"], rng.randint(0, 2)),
        routes=routes,
        ntp_servers=rng.choice([None, rng.sample(names, rng.randint(0, 4))]),
        syslog_servers=syslog if rng.random() < 0.7 else None,
        syslog_format=None, smtp=smtp)


@pytest.mark.parametrize("seed", range(40))
def test_generated_settings_round_trip_through_a_sheet(seed):
    settings = _random_settings(random.Random(seed))
    if settings.syslog_servers is not None:
        settings.syslog_format = random.Random(seed).choice(["rfc5424", "bsd"])
    assert parse_sheet(dump_sheet(settings)) == settings


def test_write_sheet_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "site.toml"
    target.write_text("old")
    settings = load_sheet(EXAMPLE)
    assert write_sheet(settings, target) == target
    assert load_sheet(target) == settings
    assert [p.name for p in tmp_path.iterdir()] == ["site.toml"]


# --- field checks, as the console's forms use them -------------------------------------

@pytest.mark.parametrize("check, good, bad", [
    (v.check_ipv4, ["198.51.100.20", "0.0.0.0", "255.255.255.255"],
     ["", "198.51.100", "198.51.100.256", "198.51.100.020", "a.b.c.d", " 198.51.100.1", 3]),
    (v.check_netmask, ["255.255.255.0", "255.255.255.255", "0.0.0.0", 24, 0, 32, "24", "/25"],
     ["255.0.255.0", "255.255.255.1", 33, -1, "33", "", "255.255.255", True]),
    (v.check_hostname, ["support", "support.example.net", "a-1.example.net", "x" * 63 + ".net"],
     ["", "support_1.example.net", "support-.example.net", "-a.net", "x" * 64 + ".net", "a..net",
      "a.net.", "1.2.3", "a" * 254, ["a"]]),
    (v.check_email, ["noc@example.net", "a.b+c@mail.example.net"],
     ["", "noc", "noc@", "@example.net", "a@@example.net", "a@localhost", "a..b@example.net",
      "a b@example.net"]),
    (v.check_port, [1, 587, 65535], [0, 65536, "587", True, 5.0]),
    (v.check_vlan, [1, 20, 4094], [0, 4095, "20", False]),
    (v.check_server, ["198.51.100.5", "ntp.example.net"], ["198.51.100.500", "ntp_1.example.net"]),
    (v.check_cidr_network, ["203.0.113.128/25", "198.51.100.0/24", "198.51.100.7/32"],
     ["203.0.113.5/24", "203.0.113.0", "0.0.0.0/0", "203.0.113.0/33", "x/24"]),
    (v.check_nic, ["nic1", "nic2"], ["nic3", "NIC1", "eth0", ""]),
])
def test_field_checks_accept_good_values_and_explain_bad_ones(check, good, bad):
    for value in good:
        assert check(value) is None, value
    for value in bad:
        message = check(value)
        assert isinstance(message, str) and message, value


def test_netmask_and_prefix_convert_both_ways():
    assert v.to_netmask(25) == v.to_netmask("/25") == v.to_netmask("255.255.255.128") == "255.255.255.128"
    assert v.netmask_to_prefix("255.255.240.0") == 20
    assert v.netmask_to_prefix("255.0.255.0") is None
    assert v.to_netmask("255.0.255.0") is None


def test_gateway_must_be_inside_a_configured_subnet():
    subnets = [("198.51.100.20", "255.255.255.0"), ("203.0.113.20", 25)]
    assert v.gateway_in_subnets("198.51.100.1", subnets) is None
    assert v.gateway_in_subnets("203.0.113.126", subnets) is None
    assert "no configured subnet" in v.gateway_in_subnets("203.0.113.129", subnets)
    assert "own address" in v.gateway_in_subnets("198.51.100.20", subnets)
    assert "broadcast" in v.gateway_in_subnets("198.51.100.255", subnets)
    assert "no address is configured" in v.gateway_in_subnets("198.51.100.1", [])


def test_sheet_modules_import_no_user_interface():
    code = ("import sys, hwprobe.settings.sheet, hwprobe.settings.validate; "
            "print(sorted(m for m in ('textual', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent, env=os.environ | {"PYTHONPATH": "."})
    assert out.stdout.strip() == "[]"


def test_sheet_saved_by_a_windows_editor_loads_with_the_same_line_numbers(tmp_path):
    sheet = tmp_path / "windows.toml"
    text = EXAMPLE.read_text().replace("port = 587", "port = 0").replace("\n", "\r\n")
    sheet.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert problems_of(sheet) == [f"{sheet}:41: [smtp].port: port 0 is outside 1-65535"]
