"""One formatter per settings area: the Restore rows, the detail pane, the
Network and Done summaries and ``apply``'s plain output say a value alike,
every field of it, and a field a newer firmware adds is shown, not dropped."""
from __future__ import annotations

from pathlib import Path

from hwprobe.settings import wording
from hwprobe.procedure.engine import plan
from hwprobe.settings.sheet import load_sheet
from hwprobe.appliance.state import ApplianceState, IpAddress, SmtpSettings

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "example-sheet.toml"


def _steps(state=None):
    return {s.key: s for s in plan(state or ApplianceState(), load_sheet(EXAMPLE),
                                   smtp_password_given=True).steps}


def test_every_field_of_an_area_is_said_whole_one_list_entry_a_line():
    smtp = _steps()["smtp"].after
    assert wording.fields("smtp", smtp) == [
        ("Relay", "mail.example.net"), ("Port", "587"), ("Encryption", "STARTTLS"),
        ("Login", "user name and password"), ("User name", "bt-alerts"),
        ("From address", "bt-alerts@example.net"), ("Admin contacts", "noc@example.net")]
    assert wording.fields("dns", ["198.51.100.53", "203.0.113.53"]) == [
        ("DNS servers", "198.51.100.53\n203.0.113.53")]
    assert wording.fields("ip", _steps()["ip:nic2:203.0.113.20"].after) == [
        ("NIC", "NIC2"), ("Address", "203.0.113.20"), ("Netmask", "255.255.255.128 (/25)"),
        ("VLAN", "20")]
    # not set at all: each field says none
    assert {words for _, words in wording.fields("smtp", None)} == {"none"}


def test_a_field_the_table_does_not_know_is_shown_under_its_own_name():
    # a newer firmware's syslog: each server with its port, format and TLS
    newer = {"servers": [{"host": "198.51.100.5", "port": 6514, "tls": True}],
             "format": "rfc5424", "trusted_certificate": "site-ca"}
    assert wording.fields("syslog", newer) == [
        ("Servers", "host 198.51.100.5, port 6514, tls yes"), ("Format", "RFC 5424"),
        ("Trusted certificate", "site-ca")]


def test_detail_sets_now_sheet_and_read_back_side_by_side_and_marks_what_changes():
    state = ApplianceState(ips=[IpAddress("nic2", "203.0.113.20", "255.255.255.0")])
    step = _steps(state)["ip:nic2:203.0.113.20"]
    rows = {r.label: r for r in wording.detail(step)}
    assert rows["Netmask"].now == "255.255.255.0 (/24)"
    assert rows["Netmask"].sheet == "255.255.255.128 (/25)" and rows["Netmask"].differs
    assert not rows["Address"].differs and rows["Address"].read_back is None
    held = dict(step.after, vlan=None)                    # what the appliance read back
    rows = {r.label: r for r in wording.detail(step, held)}
    assert rows["VLAN"].read_back == "none" and rows["VLAN"].sheet == "20"


def test_a_step_that_only_sets_the_smtp_password_says_so():
    sheet = load_sheet(EXAMPLE)
    from hwprobe.settings.areas.smtp import smtp_json

    state = ApplianceState(smtp=SmtpSettings(**{**smtp_json(sheet.smtp), "auth": "password"}))
    step = _steps(state)["smtp"]
    assert step.changed and step.before == step.after
    assert wording.step_change(step).endswith("(as it is); the SMTP password is set")
    assert wording.detail(step)[-1].label == "SMTP password"


def test_apply_done_and_restore_say_a_step_in_the_same_words(capsys):
    from bringup.commands.apply import print_step

    step = _steps()["dns"]
    words = wording.step_change(step)
    assert words == "DNS: none -> 198.51.100.53, 203.0.113.53"
    step.status = "verified"
    print_step(step)
    assert capsys.readouterr().out == f"[done] {words}\n"
    assert wording.step_line(step, step.after) == f"[x] {words}"
    assert wording.step_line(step, ["198.51.100.99"]) == \
        f"[x] {words}; the appliance holds 198.51.100.99"


def test_what_the_network_step_sends_is_said_as_the_step_titles_say_it():
    sheet = load_sheet(EXAMPLE)
    lines = wording.to_send(sheet, ("ip", "gateway", "hostname", "dns"))
    assert lines == [
        "Address: NIC1 198.51.100.20/24 (255.255.255.0)",
        "Address: NIC2 203.0.113.20/25 (255.255.255.128), VLAN 20",
        "Default gateway: 198.51.100.1", "Host name: support.example.net",
        "DNS: 198.51.100.53, 203.0.113.53"]
    assert lines == [s.title for s in plan(ApplianceState(), sheet).steps
                     if s.area in ("ip", "gateway", "hostname", "dns")]
    sheet.default_gateway = ""
    assert "Default gateway: none" in wording.to_send(sheet, ("gateway",))
