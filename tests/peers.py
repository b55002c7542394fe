"""Fixtures for the real laptop-side programs (simulator.laptop) in a lab.

``peers`` is a factory: ``peers.networkmanager(lab)``, ``peers.dhclient(lab)``,
``peers.dhcpcd(lab)``, ``peers.networkd(lab)``, ``peers.avahi_autoipd(lab)``, ``peers.dhcp_server(lab)``, ``peers.ser2net(lab)``
start the real program (failing, never skipping, under BRINGUP_REQUIRE_LAB=1
when it is not installed) and stop every one of them after the test, before
the lab itself goes. Import it into a test module: ``from peers import peers``.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from conftest import require_tool

TOOLS = {"networkmanager": [("NetworkManager", "network-manager"), ("nmcli", "network-manager"),
                            ("dbus-daemon", "dbus-daemon")],
         "dhclient": [("dhclient", "isc-dhcp-client")],
         "dhcpcd": [("dhcpcd", "dhcpcd-base")],
         "networkd": [("systemd-networkd", "systemd")],
         "avahi_autoipd": [("avahi-autoipd", "avahi-autoipd")],
         "dhcp_server": [("dnsmasq", "dnsmasq-base")],
         "ser2net": [("ser2net", "ser2net")]}


class Peers:
    def __init__(self):
        self.started = []
        self.start_cost: dict[str, float] = {}

    def _start(self, kind, lab, **kw):
        from simulator import laptop

        for program, package in TOOLS[kind]:
            if not os.access(f"/usr/lib/systemd/{program}", os.X_OK):  # not on PATH
                require_tool(program, package)
        t = time.monotonic()
        peer = getattr(laptop, "start_" + kind)(lab, **kw)
        self.start_cost[kind] = time.monotonic() - t
        self.started.append(peer)
        bus = getattr(peer, "bus", None)
        if bus is not None:
            self.started.append(bus)
        return peer

    def __getattr__(self, kind):
        if kind not in TOOLS:
            raise AttributeError(kind)
        return lambda lab, **kw: self._start(kind, lab, **kw)

    def stop_all(self):
        for peer in reversed(self.started):
            peer.stop()


@pytest.fixture
def peers():
    made = Peers()
    yield made
    made.stop_all()


def port(ns: str, iface: str = "lan0") -> dict:
    """lan0 as `ip` shows it: IPv4 addresses (with 'dynamic'), up, routes."""
    shown = json.loads(subprocess.run(["ip", "-n", ns, "-j", "addr", "show", "dev", iface],
                                      capture_output=True, text=True, check=True).stdout)[0]
    addrs = [(a["local"], a["prefixlen"], a.get("dynamic", False))
             for a in shown.get("addr_info", []) if a["family"] == "inet"]
    routes = subprocess.run(["ip", "-n", ns, "-4", "route", "show", "dev", iface],
                            capture_output=True, text=True, check=True).stdout
    return {"addresses": addrs, "up": "UP" in shown["flags"], "routes": routes.strip()}
