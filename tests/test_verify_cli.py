"""`bringup verify` on bad input: exit 2 with where and what, nothing contacted;
and how the appliance's Utilities answers are read."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hwprobe.settings.sheet import load_sheet
from hwprobe.procedure.verify import _answers, names_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"


def run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_PASSWORD="Never-Sent#1")
    return subprocess.run([sys.executable, "-m", "bringup", "verify", *args], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)


def test_a_bad_sheet_exits_2_with_file_and_line_and_contacts_nothing():
    sheet = ROOT / "tests" / "bad_sheets" / "bad_ipv4.toml"
    # 192.0.2.1 (TEST-NET-1) would time out if anything were sent: exit 2 comes first
    r = run("--sheet", str(sheet), "--address", "192.0.2.1")
    assert r.returncode == 2
    assert f"{sheet}:" in r.stderr and "nothing was sent to the appliance" in r.stderr
    assert "Traceback" not in r.stderr and "Never-Sent#1" not in r.stderr


def test_a_bad_address_or_the_console_exits_2_saying_why():
    r = run("--sheet", str(EXAMPLE), "--address", "198.51.100")
    assert r.returncode == 2 and "--address 198.51.100: not an IPv4 address" in r.stderr
    r = run("--sheet", str(EXAMPLE), "--console", "/dev/null")
    assert r.returncode == 2 and "verify needs the web interface" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("--sheet", str(EXAMPLE))
    assert r.returncode == 2, r.stderr
    assert "production --address (the sheet's: 198.51.100.20, 203.0.113.20)" in r.stderr


def test_utilities_answers_are_read_per_target_in_the_appliances_words():
    text = ("syslog 198.51.100.5: reached - sent over TCP 514; "
            "syslog 198.51.100.9: not reached - no route to host")
    assert _answers(text) == [("syslog 198.51.100.5", True, "sent over TCP 514"),
                              ("syslog 198.51.100.9", False, "no route to host")]


def test_the_names_a_sheet_uses_are_relay_ntp_syslog_and_own_host_name_without_addresses():
    assert names_of(load_sheet(EXAMPLE)) == ["mail.example.net", "ntp.example.net",
                                             "support.example.net"]


def test_the_address_offered_for_verify_is_untagged_on_the_cable_nic_first():
    """Verify after the cables move offers an address the laptop can reach from
    an access port: on the NIC its cable was in and untagged, else any untagged
    one (a VLAN-tagged address was offered and could not be reached)."""
    from hwprobe.appliance.state import IpAddress, Settings
    from hwprobe.procedure.verify import production_address

    tagged2 = IpAddress("nic2", "203.0.113.44", "255.255.255.128", 20)
    plain2 = IpAddress("nic2", "203.0.113.45", "255.255.255.128")
    plain1 = IpAddress("nic1", "198.51.100.44", "255.255.255.0")
    assert production_address(Settings(ips=[plain1, tagged2, plain2]), "nic2") == "203.0.113.45"
    assert production_address(Settings(ips=[tagged2, plain1]), "nic2") == "198.51.100.44"
    assert production_address(Settings(ips=[tagged2]), "nic2") == "203.0.113.44"
    assert production_address(Settings(ips=[plain1, plain2]), None) == "198.51.100.44"
    assert production_address(Settings(), "nic1") == ""
