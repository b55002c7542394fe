"""An appliance that is not factory-fresh: a cold spare, a box back from
repair or one re-used from another site, as the lab makes it.

- ``configured_state(address, prefix, gateway, answers_on)``: it holds an
  earlier site's address on the NIC(s) it answers on, that site's gateway,
  DNS and NTP servers and host name. Its password is the factory one (the
  depot reset it; the network settings, which cannot be exported or reset
  from a backup, stayed).
- ``dhcp_state(answers_on)``: set to DHCP and given no lease: no address at
  all (the lab runs a real DHCP client in its namespace, simulator.cable).
- ``Chatter(appliance)``: what such a box sends on its own, every few
  seconds: a DNS query to each of its DNS servers and an NTP query to each
  NTP server. Off its own network they go to its gateway, so the wire
  carries its ARP for the gateway, from its own address: what a listening
  bringup hears of an earlier site's appliance. Only run inside a lab
  namespace (the server starts it with ``--manage-interfaces``).
"""
from __future__ import annotations

import ipaddress
import logging
import threading

from . import netclients as nc

log = logging.getLogger("simulator.used")
CHATTER_SECONDS = 1.5
EARLIER_SITE = {"hostname": "support-old.example.net", "dns": ["198.51.100.53"],
                "ntp": ["198.51.100.123"], "name_asked": "ntp.example.net"}


def network_of(address: str, prefix: int) -> ipaddress.IPv4Network:
    """The network of ``address``/``prefix``; ValueError for a bad one, or
    for a prefix that leaves no room for a gateway (31, 32)."""
    net = ipaddress.IPv4Interface(f"{address}/{prefix}").network
    if not 1 <= prefix <= 30:
        raise ValueError(f"{address}/{prefix}: the prefix must be 1-30")
    if ipaddress.IPv4Address(address) in (net.network_address, net.broadcast_address):
        raise ValueError(f"{address} is the network or broadcast address of {net}")
    return net


def default_gateway(address: str, prefix: int) -> str:
    """The first host of the network (the last, when that is the box itself)."""
    net = network_of(address, prefix)
    first = net.network_address + 1
    return str(first if str(first) != address else net.broadcast_address - 1)


def configured_state(base: dict, address: str, prefix: int, gateway: str | None,
                     answers_on: str, nics: tuple[str, ...]) -> dict:
    """``base`` (a factory state) as an earlier site left it; see the module
    docstring. ValueError for a gateway outside the network."""
    net = network_of(address, prefix)
    gateway = gateway or default_gateway(address, prefix)
    if ipaddress.IPv4Address(gateway) not in net or gateway == address:
        raise ValueError(f"gateway {gateway} is not another address of {net}")
    on = nics if answers_on == "both" else (answers_on,)
    state = dict(base)
    state["ips"] = [{"nic": n, "address": address, "netmask": str(net.netmask), "vlan": None}
                    for n in on]
    state.update(hostname=EARLIER_SITE["hostname"], default_gateway=gateway,
                 dns_servers=list(EARLIER_SITE["dns"]), ntp_servers=list(EARLIER_SITE["ntp"]))
    return state


def dhcp_state(base: dict) -> dict:
    """``base`` (a factory state) set to DHCP, with no lease: no address."""
    return {**base, "ips": []}


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
