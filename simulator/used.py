"""An appliance that is not factory-fresh: a cold spare, a box back from
repair or one re-used from another site, as the lab makes it.

- ``configure(state_dir, ...)``: it holds an earlier site's address on the
  NIC(s) it answers on, that site's gateway, DNS and NTP servers and host
  name, and the /appliance password that site set (no first-login change is
  forced: it was made long ago). Written through the appliance's own rules
  (simulator/appliance.py), as simulator/site.py writes one in production.
- ``configure_dhcp(state_dir, ...)``: set to DHCP and given no lease: no
  address at all (the lab runs a real DHCP client in its namespace,
  simulator/cable.py).
- ``Chatter(appliance)``: what such a box sends on its own, every few
  seconds: a DNS query to each of its DNS servers and an NTP query to each
  NTP server. Off its own network they go to its gateway, so the wire
  carries its ARP for the gateway (or for its servers), from its own
  address: what a listening bringup hears of an earlier site's appliance.
  Run by the server with ``--chatter`` (inside a lab namespace only).
"""
from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path

from . import netclients as nc
from .appliance import Appliance
from .factory import FACTORY_ADDRESSES, NICS

log = logging.getLogger("simulator.used")
CHATTER_SECONDS = 1.5
EARLIER_SITE = {"hostname": "support-old.example.net", "dns": ["198.51.100.53"],
                "ntp": ["198.51.100.123"], "name_asked": "ntp.example.net"}


def network_of(address: str, prefix: int) -> ipaddress.IPv4Network:
    """The network of ``address``/``prefix``; ValueError for a bad one, or
    for a prefix that leaves no room for a gateway (31, 32)."""
    if not 1 <= prefix <= 30:
        raise ValueError(f"{address}/{prefix}: the prefix must be 1-30")
    net = ipaddress.IPv4Interface(f"{address}/{prefix}").network
    if ipaddress.IPv4Address(address) in (net.network_address, net.broadcast_address):
        raise ValueError(f"{address} is the network or broadcast address of {net}")
    return net


def default_gateway(address: str, prefix: int) -> str:
    """The first host of the network (the last, when that is the box itself)."""
    net = network_of(address, prefix)
    first = net.network_address + 1
    return str(first if str(first) != address else net.broadcast_address - 1)


def configure(state_dir: Path, *, address: str, prefix: int, gateway: str | None,
              answers_on: str, password: str, serial: str | None = None) -> None:
    """Write the state of an appliance an earlier site left (see the module
    docstring). ValueError for a gateway outside the network; Refused for
    what the appliance itself would refuse (a password breaking its rule)."""
    net = network_of(address, prefix)
    gateway = gateway or default_gateway(address, prefix)
    if ipaddress.IPv4Address(gateway) not in net or gateway == address:
        raise ValueError(f"gateway {gateway} is not another address of {net}")
    a = _fresh(state_dir, answers_on, serial)
    a.change_password("admin", None, password)
    for nic in (NICS if answers_on == "both" else (answers_on,)):
        a.add_ip(nic, address, str(net.netmask))
    a.delete_ip(FACTORY_ADDRESSES[0])
    a.set_global(EARLIER_SITE["hostname"], gateway, EARLIER_SITE["dns"])
    a.set_ntp(EARLIER_SITE["ntp"])


def configure_dhcp(state_dir: Path, *, answers_on: str, serial: str | None = None) -> None:
    """Write the state of an appliance set to DHCP that got no lease."""
    _fresh(state_dir, answers_on, serial).delete_ip(FACTORY_ADDRESSES[0])


def _fresh(state_dir: Path, answers_on: str, serial: str | None) -> Appliance:
    state_dir.mkdir(parents=True, exist_ok=True)
    return Appliance(state_dir / "state.json", factory_address=FACTORY_ADDRESSES[0],
                     answers_on=answers_on, factory_reset=True,
                     **({"serial": serial} if serial else {}))


class Chatter:
    """What a configured appliance sends on its own (see the module docstring)."""

    def __init__(self, appliance, every: float = CHATTER_SECONDS):
        self.appliance, self.every = appliance, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chatter", daemon=True)

    def start(self) -> "Chatter":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            st = self.appliance.snapshot()
            for server in st.get("dns_servers", [])[:2]:
                ok, why = nc.dns_query(EARLIER_SITE["name_asked"], server, timeout=0.5)
                log.debug("chatter: DNS %s: %s", server, why)
            for server in st.get("ntp_servers", [])[:2]:
                ok, why = nc.ntp_query(server, timeout=0.5)
                log.debug("chatter: NTP %s: %s", server, why)
