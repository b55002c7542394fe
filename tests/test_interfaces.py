"""The laptop's ports as bringup lists them, and the cable-move watcher (lab)."""
from __future__ import annotations

import json
import subprocess
import threading

import pytest

from hwprobe.port import interfaces
from hwprobe.errors import BadInput

pytestmark = pytest.mark.lab


@pytest.fixture
def lab(make_lab):
    """Laptop, patch panel and appliance namespaces; no simulator needed here."""
    return make_lab(start_sim=False)


def _ip(lab, *args):
    subprocess.run(["ip", "-n", lab.laptop_ns, *args], check=True)


def _lan0(ports):
    return next(p for p in ports if p.name == "lan0")


def test_ports_lists_lan0_with_its_mac_and_carrier(lab):
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns):
        ports = interfaces.list_ports()
    shown = json.loads(subprocess.run(["ip", "-n", lab.laptop_ns, "-j", "link", "show", "lan0"],
                                      capture_output=True, text=True, check=True).stdout)[0]
    port = _lan0(ports)
    assert port.mac == shown["address"]
    assert port.carrier and port.up and port.operstate == "UP"
    assert port.kind == "veth"
    assert not port.default_route and not port.global_address
    assert port.warnings() == []
    assert [p.name for p in ports] == ["lan0"]  # loopback is not a port


def test_ports_flag_default_route_and_global_address(lab):
    from simulator.lab import in_netns

    _ip(lab, "addr", "add", "10.99.0.5/24", "dev", "lan0")
    _ip(lab, "route", "add", "default", "via", "10.99.0.1", "dev", "lan0")
    with in_netns(lab.laptop_ns):
        port = _lan0(interfaces.list_ports())
    assert port.default_route and port.global_address
    assert "10.99.0.5/24" in port.addresses
    words = " ".join(port.warnings())
    assert "default route" in words and "10.99.0.5/24" in words


def test_link_local_address_counts_as_link_local_whatever_its_scope(lab):
    from simulator.lab import in_netns

    _ip(lab, "addr", "add", "169.254.7.7/16", "scope", "global", "dev", "lan0")
    with in_netns(lab.laptop_ns):
        port = _lan0(interfaces.list_ports())
    assert "169.254.7.7/16" in port.addresses
    assert not port.global_address


def test_unknown_port_is_bad_input_naming_the_real_ones(lab):
    from simulator.lab import in_netns

    with in_netns(lab.laptop_ns), pytest.raises(BadInput) as err:
        interfaces.get_port("eth9")
    assert "eth9" in str(err.value) and "lan0" in str(err.value)


def test_carrier_watcher_sees_the_cable_moved_to_nic2(lab):
    from simulator import lab as labmod

    seen = []
    back_up = threading.Event()

    def on_change(change):
        seen.append(change.carrier)
        if change.carrier:
            back_up.set()

    with labmod.in_netns(lab.laptop_ns):
        watcher = interfaces.CarrierWatcher("lan0", on_change).start()
    try:
        assert watcher.carrier is True
        labmod.plug(lab.name, "nic2")
        assert back_up.wait(10), f"no carrier-up event; saw {seen}"
        assert seen == [False, True]
    finally:
        watcher.stop()
        watcher.stop()  # stopping twice is harmless


def test_is_link_local_covers_169_254_and_fe80():
    assert interfaces.is_link_local("169.254.1.254")
    assert interfaces.is_link_local("fe80::1")
    assert not interfaces.is_link_local("10.99.0.5")
    assert not interfaces.is_link_local("2001:db8::5")


def test_ports_command_warns_about_the_port_with_the_default_route(lab):
    import sys
    from pathlib import Path

    _ip(lab, "addr", "add", "10.99.0.5/24", "dev", "lan0")
    _ip(lab, "route", "add", "default", "via", "10.99.0.1", "dev", "lan0")
    bringup = str(Path(sys.executable).with_name("bringup"))
    r = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, bringup, "ports"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "lan0" in r.stdout and "10.99.0.5/24" in r.stdout
    assert "warning: lan0 holds this laptop's default route" in r.stdout
    j = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, bringup, "ports", "--json"],
                       capture_output=True, text=True, timeout=60)
    [port] = json.loads(j.stdout)
    assert port["default_route"] is True and port["warnings"]
