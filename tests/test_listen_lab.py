"""When nothing answers on .1-.4: bringup listens on a real cable and names what
is there, each case made by a real peer in a lab (an appliance holding an
earlier site's address that ARPs for its gateway on its own, a real dhclient,
a real lldpd, a silent NIC, a pulled cable), then reaches the appliance at
its earlier address with `apply --address`.

The vendor's procedure stops at "the other NIC" (Hardware Installation, the
paragraph after step 8); these are the cases it leaves to a call to Support.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import require_lab, require_tool
from lab_helpers import no_traceback, port_state, reports, run_bringup, second_port, sniff
from simulator.labfile import secret_file
from hwprobe.safetext import unsafe_in

# one lab for most of the module (its MACs come from its name): every test of
# the module runs on one xdist worker, which moves the cable where it needs it
pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("listen-lab")]

NAME = f"lsn{uuid.uuid4().hex[:4]}"      # its own: two runs of the suite at once never meet
EARLIER = "203.0.113.40"
GATEWAY = "203.0.113.1"
SWITCH = ("core-sw-3.example.net", "ge-0-0-12")
LISTEN = "2"


@pytest.fixture(scope="module")
def used_lab():
    """An appliance holding an earlier site's 203.0.113.40/24 (gateway .1) on
    NIC1, and the laptop's cable in a switch port (real lldpd)."""
    require_lab()
    require_tool("lldpd", "lldpd")
    from simulator import lab as labmod

    lab = labmod.up(name=NAME, appliance_address=f"{EARLIER}/24", gateway=GATEWAY,
                    switch=True)
    try:
        yield lab
    finally:
        labmod.down(NAME)


def cable(lab, where: str) -> None:
    from simulator import lab as labmod

    labmod.plug(lab.name, where)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:      # the laptop sees carrier again
        out = subprocess.run(["ip", "-n", lab.laptop_ns, "-j", "link", "show", "lan0"],
                             capture_output=True, text=True).stdout
        if "LOWER_UP" in out:
            return
        time.sleep(0.05)


def probe(lab, state_dir, *args):
    return run_bringup(lab, "probe", "--iface", "lan0", "--listen", LISTEN, *args,
                       state_dir=state_dir)


def said(r) -> str:
    return " ".join((r.stdout + r.stderr).split())


def test_a_switch_is_named_from_real_lldpd_not_taken_for_the_appliance(used_lab, state_dir):
    cable(used_lab, "switch")
    r = probe(used_lab, state_dir)
    assert r.returncode == 1, r.stderr
    text = said(r)
    assert (f"this cable reaches a switch ({SWITCH[0]}, port {SWITCH[1]}, access port 12), "
            f"not the appliance (LLDP)") in text, text
    assert "patch the laptop straight into the appliance's NIC1" in text
    assert EARLIER not in text            # the appliance is not on this cable


def test_an_earlier_sites_address_is_heard_with_its_mac_and_reached_there(used_lab, state_dir):
    cable(used_lab, "nic1")
    r = probe(used_lab, state_dir, "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["responders"] == []
    [device] = out["listened"]["heard"]
    mac = used_lab.nic_macs["nic1"]
    assert (device["kind"], device["mac"], device["address"], device["prefix"]) == (
        "ipv4", mac, EARLIER, 24)
    assert GATEWAY in device["asks_for"]          # its own ARP for its gateway
    assert (f"a device {mac} (a locally administered MAC: no vendor) is at {EARLIER}/24: "
            f"it may be an appliance holding an earlier site's address") in device["words"]
    assert f"--address {EARLIER}/24" in r.stderr
    # reached there: the port takes a free address next to it, HTTPS answers
    r = run_bringup(used_lab, "probe", "--iface", "lan0", "--address", f"{EARLIER}/24",
                    "--json", state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    [found] = out["responders"]
    assert found["address"] == EARLIER and found["mac"] == mac and found["https_ok"] is True
    assert out["laptop_address"] == "203.0.113.41"
    assert any(f"{EARLIER} is not a factory address: lan0 takes 203.0.113.41/24" in n
               for n in out["notes"])


def test_silence_with_carrier_says_the_appliance_may_still_be_booting_and_leaves_a_pcap(
        used_lab, state_dir):
    tcpdump = require_tool("tcpdump", "tcpdump")
    cable(used_lab, "nic2")               # its address is on NIC1 only: NIC2 is silent
    r = probe(used_lab, state_dir)
    assert r.returncode == 1, r.stderr
    text = said(r)
    assert ("nothing speaks on this cable (2 s with carrier on lan0): the appliance may "
            "still be booting") in text, text
    assert "move the cable to the other NIC" in text
    [capture] = (Path(state_dir) / "captures").glob("*.pcap")
    assert f"capture for Support (pcap): {capture}" in r.stdout
    shown = subprocess.run([tcpdump, "-n", "-r", str(capture)], capture_output=True,
                           text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    asked = [line for line in shown.stdout.splitlines() if "ARP, Request who-has" in line]
    # the search's probes, from 0.0.0.0, for each factory address
    for address in ("169.254.1.1", "169.254.1.2", "169.254.1.3", "169.254.1.4"):
        assert any(f"who-has {address} tell 0.0.0.0" in line for line in asked), shown.stdout



def test_a_capture_that_cannot_be_written_is_said_once_and_the_listen_still_names_the_cable(
        used_lab, state_dir):
    """The state directory's captures/ is a file here: the capture cannot be
    made. That is said once (it was said twice: the listen's capture, then
    the search's frames tried again at the same place), and what the
    listen heard is still said."""
    cable(used_lab, "nic2")
    (Path(state_dir) / "captures").write_text("not a folder\n")
    r = probe(used_lab, state_dir)
    assert r.returncode == 1, r.stderr
    assert no_traceback(r.stdout, r.stderr)
    assert said(r).count("could not write the capture") == 1, said(r)
    assert "nothing speaks on this cable (2 s with carrier on lan0)" in said(r)
    assert "capture for Support" not in said(r)

def test_no_carrier_says_check_the_cable_without_listening(used_lab, state_dir):
    from simulator import lab as labmod

    labmod.unplug(used_lab.name)
    try:
        started = time.monotonic()
        r = run_bringup(used_lab, "probe", "--iface", "lan0", "--listen", "30",
                        state_dir=state_dir)
        took = time.monotonic() - started
    finally:
        cable(used_lab, "nic1")
    assert r.returncode == 1, r.stderr
    assert ("nothing answered on lan0: no carrier on lan0: check the cable (both ends, the "
            "link lights) and that the appliance is powered; nothing was listened for"
            ) in r.stdout
    assert "listening" not in r.stderr and "on the cable:" not in r.stdout
    assert took < 15, took                 # 30 s of listening would have shown


def test_dhcp_discovers_from_a_real_dhclient_are_named(make_lab, state_dir):
    lab = make_lab(dhcp_client=True)
    r = run_bringup(lab, "probe", "--iface", "lan0", "--listen", "4", state_dir=state_dir)
    assert r.returncode == 1, r.stderr
    text = said(r)
    assert (f"a device {lab.nic_macs['nic1']} (a locally administered MAC: no vendor) asks "
            f"for an address by DHCP (host name \"b400-0012345\", vendor class "
            f"\"bringup-lab B400\")") in text, text
    assert "set its address over its local console" in text


SHEET = """\
format = 1

[[ip]]
nic = "nic1"
address = "198.51.100.20"
netmask = "255.255.255.0"

[network]
hostname = "support.example.net"
default_gateway = "198.51.100.1"
dns_servers = ["198.51.100.53"]
"""


def test_the_previous_owners_address_found_by_listening_is_applied_to_and_the_port_given_back(
        make_lab, state_dir, tmp_path):
    lab = make_lab(appliance_address=f"{EARLIER}/24", gateway=GATEWAY)
    ns = lab.laptop_ns
    second_port(ns, "198.51.100.77/24")     # the laptop's other port, on the sheet's network
    before = port_state(ns)
    stop = threading.Event()
    on_other: list = []
    sniffer = sniff(ns, "other0", stop, on_other)
    try:
        heard = run_bringup(lab, "probe", "--iface", "lan0", "--json", state_dir=state_dir)
        [device] = json.loads(heard.stdout)["listened"]["heard"]
        sheet = tmp_path / "site.toml"
        sheet.write_text(SHEET)
        # the earlier site's password (the lab made it): the factory one is no guess here
        password = secret_file(lab.dir, "appliance_password").read_text().strip()
        r = run_bringup(lab, "apply", "--sheet", str(sheet), "--address", device["where"],
                        "--iface", "lan0", state_dir=state_dir,
                        env_extra={"BRINGUP_PASSWORD": password})
    finally:
        stop.set()
        sniffer.join()
    assert heard.returncode == 1 and device["address"] == EARLIER
    assert r.returncode == 0, r.stdout + r.stderr
    assert no_traceback(r.stdout, r.stderr)
    assert "3 of 3 change(s) applied and read back" in r.stdout
    assert port_state(ns) == before, "lan0 not given back exactly"
    assert on_other == [], "bringup sent on the laptop's other port"
    assert "lan0 takes 203.0.113.41/24, a free address on its network" in r.stderr
    report = reports(state_dir)[-1].read_text()
    assert ("factory-fresh: no, it answered on 203.0.113.40, not on a factory address "
            "(it held an earlier site's address)") in report
    assert password not in report and password not in r.stdout + r.stderr
    assert not unsafe_in(r.stdout + r.stderr)


def test_a_sheet_routing_the_earlier_sites_network_elsewhere_is_refused_before_any_change(
        used_lab, state_dir, tmp_path):
    """The new site reaches the earlier site's network through a router: once
    that route is saved, the appliance would answer the laptop through it and
    the run would lose the appliance halfway. Refused (2) before the first
    change, saying what to do; the port is given back as it was."""
    cable(used_lab, "nic1")
    ns = used_lab.laptop_ns
    before = port_state(ns)
    routed = tmp_path / "routed.toml"
    routed.write_text(SHEET + '\n[[route]]\ndestination = "203.0.113.0/24"\n'
                      'gateway = "198.51.100.254"\nnic = "nic1"\n')
    password = secret_file(used_lab.dir, "appliance_password").read_text().strip()
    env = {"BRINGUP_PASSWORD": password}
    r = run_bringup(used_lab, "apply", "--sheet", str(routed), "--address", f"{EARLIER}/24",
                    "--iface", "lan0", "--listen", "0", state_dir=state_dir, env_extra=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert no_traceback(r.stdout, r.stderr)
    assert ("the sheet's static route 203.0.113.0/24 via 198.51.100.254 holds the laptop's "
            "address 203.0.113.41") in said(r)
    assert "local console instead (--console DEVICE;" in said(r)
    assert "Nothing was changed" in said(r)
    assert port_state(ns) == before
    # nothing was sent: a dry run of the sheet without the route still sees the old name
    sheet = tmp_path / "site.toml"
    sheet.write_text(SHEET)
    r = run_bringup(used_lab, "apply", "--sheet", str(sheet), "--address", f"{EARLIER}/24",
                    "--iface", "lan0", "--listen", "0", "--dry-run", state_dir=state_dir,
                    env_extra=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Host name: support-old.example.net -> support.example.net" in r.stdout
