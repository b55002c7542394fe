"""The appliance's addresses on real interfaces (``--manage-interfaces``).

Runs as root inside the appliance's network namespace, whose NICs are the
interfaces ``nic1`` and ``nic2``. ``sync()`` makes the IPv4 addresses on them
exactly those of the appliance's state; an address with a VLAN goes on a VLAN
sub-interface ``nic1.20`` (made on demand, removed when it carries nothing).
Nothing but nic1, nic2 and their ``nicN.V`` sub-interfaces is ever touched, and
``Interfaces()`` refuses to start in the host's own network namespace.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import threading

from hwprobe.constants import NICS

log = logging.getLogger("simulator.netif")
_VLAN_IF = re.compile(r"^(nic[12])\.(\d{1,4})$")


class InterfaceError(RuntimeError):
    """The namespace's NICs cannot be managed (missing, or wrong namespace)."""


def _same_netns_as_init() -> bool:
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return False


class Interfaces:
    """nic1/nic2 of the current network namespace. Raises InterfaceError when
    run in the host's namespace or when nic1 and nic2 are not both there."""

    def __init__(self):
        from pyroute2 import IPRoute

        if _same_netns_as_init():
            raise InterfaceError(
                "--manage-interfaces refuses to touch the host's own network namespace; "
                "run the simulator inside the appliance namespace (bringup lab up does)")
        self._ipr = IPRoute()
        self._lock = threading.Lock()
        missing = [n for n in NICS if not self._ipr.link_lookup(ifname=n)]
        if missing:
            raise InterfaceError(f"no interface named {', '.join(missing)} in this namespace")

    def close(self) -> None:
        self._ipr.close()

    def _index(self, name: str) -> int | None:
        found = self._ipr.link_lookup(ifname=name)
        return found[0] if found else None

    def nic_info(self) -> dict:
        """{"nic1": {"mac": "02:..", "link": True}, ...} read from the interfaces."""
        out = {}
        with self._lock:
            for nic in NICS:
                idx = self._index(nic)
                if idx is None:
                    out[nic] = {"mac": "00:00:00:00:00:00", "link": False}
                    continue
                link = self._ipr.get_links(idx)[0]
                up = bool(link["flags"] & 1)
                out[nic] = {"mac": (link.get("address") or "").lower(),
                            "link": up and link.get("carrier") == 1}
        return out

    def _managed_names(self) -> set[str]:
        names = set(NICS)
        for link in self._ipr.get_links():
            name = link.get("ifname") or ""
            if _VLAN_IF.match(name):
                names.add(name)
        return names

    def sync(self, state: dict) -> None:
        """Make the interfaces carry exactly ``state["ips"]``. Errors are logged
        per address; the rest is still applied."""
        desired: dict[str, set[tuple[str, int]]] = {n: set() for n in NICS}
        for ip in state["ips"]:
            name = ip["nic"] if not ip.get("vlan") else f"{ip['nic']}.{ip['vlan']}"
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{ip['netmask']}").prefixlen
            desired.setdefault(name, set()).add((ip["address"], prefix))
        with self._lock:
            for name in desired:
                if self._index(name) is None:
                    self._make_vlan(name)
            for name in sorted(self._managed_names() | set(desired)):
                idx = self._index(name)
                if idx is None:
                    continue
                present = {(a.get("address"), a["prefixlen"])
                           for a in self._ipr.get_addr(index=idx, family=socket.AF_INET)}
                want = desired.get(name, set())
                for address, prefix in sorted(want - present):
                    self._addr("add", idx, name, address, prefix)
                for address, prefix in sorted(present - want):
                    self._addr("del", idx, name, address, prefix)
                if name not in NICS and not want:
                    log.info("removing VLAN interface %s", name)
                    self._ipr.link("del", index=idx)

    def _addr(self, op: str, idx: int, name: str, address: str, prefix: int) -> None:
        try:
            self._ipr.addr(op, index=idx, address=address, prefixlen=prefix)
            log.info("%s %s/%d on %s", "added" if op == "add" else "removed", address, prefix, name)
        except Exception as exc:  # one bad address must not stop the others
            log.error("could not %s %s/%d on %s: %s", op, address, prefix, name, exc)

    def _make_vlan(self, name: str) -> None:
        m = _VLAN_IF.match(name)
        parent = self._index(m.group(1)) if m else None
        if parent is None:
            return
        try:
            self._ipr.link("add", ifname=name, kind="vlan", link=parent, vlan_id=int(m.group(2)))
            idx = self._index(name)
            self._ipr.link("set", index=idx, state="up")
            log.info("made VLAN interface %s", name)
        except Exception as exc:
            log.error("could not make VLAN interface %s: %s", name, exc)
