"""Sheet format 2 (per-server syslog, e-mail "ssl") and the firmware profiles'
limits: what a technician sees when a sheet does or does not fit (issue 13).
No appliance needed: the lab tests (test_firmware_profiles, test_apply_lab)
run the same sheets against both simulated firmwares."""
from __future__ import annotations

from pathlib import Path

import pytest

from hwprobe.errors import SheetInvalid
from hwprobe.settings.areas import SheetDoesNotFit, check_fits
from hwprobe.settings.sheet import parse_sheet
from hwprobe.settings.sheetwrite import dump_sheet
from hwprobe.appliance.state import SyslogServer
from hwprobe.appliance.survey import redact

EXAMPLE = (Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml").read_text()
ONE_LIST = ('[syslog]                         # Security > Appliance Administration\n'
            'servers = ["198.51.100.5"]\nformat = "rfc5424"\n')
PER_SERVER = ('[[syslog]]\nserver = "198.51.100.5"\nport = 6514\nformat = "tls"\n\n'
              '[[syslog]]\nserver = "198.51.100.6"\nformat = "bsd"\n')


def format2(syslog: str = PER_SERVER, encryption: str = "tls") -> str:
    assert ONE_LIST in EXAMPLE
    return (EXAMPLE.replace("format = 1", "format = 2", 1).replace(ONE_LIST, syslog)
            .replace('encryption = "starttls"', f'encryption = "{encryption}"'))


def test_format2_sheet_holds_each_servers_port_and_format_and_writes_back_equal():
    s = parse_sheet(format2(), "site.toml")
    assert s.syslog_each == [SyslogServer("198.51.100.5", 6514, "tls"),
                             SyslogServer("198.51.100.6", 514, "bsd")]
    assert s.syslog_servers == ["198.51.100.5", "198.51.100.6"] and s.syslog_format is None
    text = dump_sheet(s)
    assert "format = 2" in text and text.count("[[syslog]]") == 2
    assert parse_sheet(text, "again.toml") == s


def test_format1_sheet_still_reads_and_is_written_as_format1():
    s = parse_sheet(EXAMPLE, "site.toml")
    assert s.syslog_each is None and s.syslog_format == "rfc5424"
    assert "format = 1" in dump_sheet(s) and "[[syslog]]" not in dump_sheet(s)


def test_per_server_syslog_in_a_format1_sheet_says_it_needs_format2():
    text = format2(encryption="starttls").replace("format = 2", "format = 1", 1)
    with pytest.raises(SheetInvalid) as e:
        parse_sheet(text, "s.toml")
    assert e.value.problems == ["s.toml:35: [[syslog]]: one [[syslog]] per server needs "
                                "format = 2; format 1 has one [syslog] with servers and format"]


def test_per_server_problems_name_the_server_and_key():
    text = format2(PER_SERVER.replace('server = "198.51.100.6"', 'server = "198.51.100.5"\nport = 0'))
    with pytest.raises(SheetInvalid) as e:
        parse_sheet(text, "s.toml")
    assert e.value.problems == ["s.toml:41: [syslog#2].server: 198.51.100.5 is already "
                                "[syslog#1].server",
                                "s.toml:42: [syslog#2].port: port 0 is outside 1-65535"]


def test_older_firmware_refuses_what_only_the_newer_one_holds_naming_each_limit():
    with pytest.raises(SheetDoesNotFit) as e:
        check_fits(parse_sheet(format2(encryption="ssl"), "s.toml"), "7.1.2")
    assert str(e.value) == (
        "the sheet does not fit this appliance (software 7.1.2, firmware profile legacy): "
        "this appliance's syslog formats are rfc5424, bsd; the sheet asks for tls ([syslog] "
        "format); this appliance's e-mail encryption is none, starttls, tls; the sheet asks "
        "for ssl ([smtp].encryption). Nothing was changed.")
    mixed = PER_SERVER.replace('port = 6514\nformat = "tls"', 'port = 1514\nformat = "rfc5424"')
    with pytest.raises(SheetDoesNotFit, match=r"takes one syslog format for all its servers, "
                       r"each on port 514; the sheet gives each server its own \(198.51.100.5:1514 "
                       r"rfc5424, 198.51.100.6:514 bsd; \[\[syslog\]\]\)"):
        check_fits(parse_sheet(format2(mixed, encryption="none"), "s.toml"), "7.1.2")


def test_newer_firmware_takes_format2_and_refuses_starttls_by_name():
    assert check_fits(parse_sheet(format2(), "s.toml"), "24.1.1") == "current"
    with pytest.raises(SheetDoesNotFit, match=r"e-mail encryption is none, ssl, tls; the sheet "
                                              r"asks for starttls \(\[smtp\].encryption\)"):
        check_fits(parse_sheet(EXAMPLE, "s.toml"), "24.1.1")


def test_survey_snapshots_keep_the_appliances_own_addresses_and_nothing_secret():
    page = ('<form><input type="hidden" name="csrf_token" value="abc123">'
            '<input type="password" name="smtp_password" value="hunter2">'
            '<input name="relay" value="198.51.100.25"><td>198.51.100.20</td>'
            '<input name="hostname" value="support.example.net">'
            '<textarea name="ntp_servers">ntp.example.net\n198.51.100.123</textarea>'
            '<textarea name="admin_contacts">noc@example.net</textarea></form>')
    out = redact(page, {"198.51.100.20", "support.example.net"}, "csrf_token")
    assert "abc123" not in out and "hunter2" not in out and "noc@example.net" not in out
    assert "ntp.example.net" not in out and 'value="support.example.net"' in out
    assert "198.51.100.25" not in out and "198.51.100.20" in out
    assert 'name="csrf_token" value="REDACTED"' in out
