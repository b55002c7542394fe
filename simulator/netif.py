"""The appliance's addresses on real interfaces (``--manage-interfaces``).

Runs as root inside the appliance's network namespace, whose NICs are the
interfaces ``nic1`` and ``nic2``. ``sync()`` makes the IPv4 addresses on them
exactly those of the appliance's state; an address with a VLAN goes on a VLAN
sub-interface ``nic1.20`` (made on demand, removed when it carries nothing);
on a kernel without VLAN support (no 8021q, as in some containers) it goes
untagged on the NIC itself, and the log says so once.
Nothing but nic1, nic2 and their ``nicN.V`` sub-interfaces is ever touched, and
``Interfaces()`` refuses to start in the host's own network namespace.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import os
import re
import socket
import threading

from .factory import NICS

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
        self.vlans_supported = True
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
        with self._lock:
            desired = self._desired(state)
            for name in list(desired):
                if self._index(name) is None and not self._make_vlan(name):
                    desired = self._desired(state)  # VLANs unsupported: on the NIC itself
                    break
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

    def _desired(self, state: dict) -> dict[str, set[tuple[str, int]]]:
        desired: dict[str, set[tuple[str, int]]] = {n: set() for n in NICS}
        for ip in state["ips"]:
            tagged = ip.get("vlan") and self.vlans_supported
            name = f"{ip['nic']}.{ip['vlan']}" if tagged else ip["nic"]
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{ip['netmask']}").prefixlen
            desired.setdefault(name, set()).add((ip["address"], prefix))
        return desired

    def _addr(self, op: str, idx: int, name: str, address: str, prefix: int) -> None:
        try:
            self._ipr.addr(op, index=idx, address=address, prefixlen=prefix)
            log.info("%s %s/%d on %s", "added" if op == "add" else "removed", address, prefix, name)
        except Exception as exc:  # one bad address must not stop the others
            log.error("could not %s %s/%d on %s: %s", op, address, prefix, name, exc)

    def _make_vlan(self, name: str) -> bool:
        """Make VLAN interface ``name``; False when this kernel has no VLAN
        support (then tagged addresses go on the NIC itself from now on)."""
        m = _VLAN_IF.match(name)
        parent = self._index(m.group(1)) if m else None
        if parent is None:
            return True
        try:
            self._ipr.link("add", ifname=name, kind="vlan", link=parent, vlan_id=int(m.group(2)))
            self._ipr.link("set", index=self._index(name), state="up")
            log.info("made VLAN interface %s", name)
            return True
        except Exception as exc:
            if getattr(exc, "code", None) == errno.EOPNOTSUPP or "not supported" in str(exc):
                self.vlans_supported = False
                log.warning("this kernel has no VLAN support (8021q): VLAN addresses go "
                            "untagged on their NIC (%s)", exc)
                return False
            log.error("could not make VLAN interface %s: %s", name, exc)
            return True
