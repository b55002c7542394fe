"""The laptop's Ethernet ports, and a watcher for cable moves.

Public API (safe to call from worker threads; everything works in the network
namespace of the *calling thread*, so a test or the lab can switch a thread into
a namespace and use this module unchanged):

``list_ports() -> list[Port]``
    Every Ethernet-like port of this laptop (loopback, bridges, tunnels and
    other software-only devices left out), with name, MAC, carrier, operstate,
    IPv4/IPv6 addresses, whether it holds the default route and whether it holds
    a global address. Discovery and addresses come from ``netifaces``
    (netifaces-plus); carrier, operstate and routes from rtnetlink (hwprobe.port.rtnl).

``get_port(name) -> Port``
    One port; raises ``hwprobe.errors.BadInput`` (exit 2) naming the ports that
    do exist when there is no such port.

``CarrierWatcher(iface, callback)`` with ``start()`` / ``stop()``
    Listens to netlink link events and calls ``callback(CarrierChange)`` from
    its own thread whenever the port's carrier goes up or down (a cable moved).
    ``stop()`` returns once the thread has ended; it is safe to call twice.

``is_link_local(address)``: 169.254.0.0/16 and fe80::/10 count as link-local
whatever scope the kernel shows.
"""
from __future__ import annotations

import ipaddress
import os
import select
import socket
import threading
from collections.abc import Callable

from hwprobe.errors import BadInput

# software-only link kinds that are never a port a cable goes into
_NOT_A_PORT = {
    "bridge", "bond", "team", "dummy", "vxlan", "geneve", "wireguard", "tun",
    "ipip", "gre", "gretap", "ip6tnl", "sit", "vrf", "ifb", "nlmon", "macvtap",
}
_ARPHRD_ETHER = 1
_RTMGRP_LINK = 1


class Port:
    """One laptop port as the technician sees it.

    ``addresses`` are ``"address/prefix"`` strings, IPv4 first. ``carrier`` is
    True when a live cable is in; ``up`` is the administrative state (``ip link
    set up``); ``operstate`` is the kernel's word for it (UP, DOWN,
    LOWERLAYERDOWN...); ``kind`` is "ethernet", "veth", "wireless", ...
    ``default_route`` and ``global_address`` are the two reasons bringup
    refuses to take a port over without ``--force``.

    A plain class, not a dataclass: ``bringup probe`` reads the port before
    its first ARP probe, and the dataclasses module (with inspect) costs
    about 4 ms of that.
    """

    _FIELDS = ("name", "index", "mac", "carrier", "up", "operstate", "kind", "addresses",
               "default_route", "global_address")

    def __init__(self, name: str, index: int, mac: str, carrier: bool, up: bool,
                 operstate: str, kind: str, addresses: list[str] | None = None,
                 default_route: bool = False, global_address: bool = False):
        self.name, self.index, self.mac = name, index, mac
        self.carrier, self.up, self.operstate, self.kind = carrier, up, operstate, kind
        self.addresses = [] if addresses is None else addresses
        self.default_route, self.global_address = default_route, global_address

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    __hash__ = None     # mutable, as a dataclass's

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS)
        return f"Port({inner})"

    @property
    def global_addresses(self) -> list[str]:
        return [a for a in self.addresses if not is_link_local(a.split("/")[0])]

    def warnings(self) -> list[str]:
        """Plain-words reasons this port is a poor choice (empty when fine)."""
        out = []
        if self.default_route:
            out.append(f"{self.name} holds this laptop's default route: "
                       "taking it over would cut the laptop off its network")
        if self.global_address:
            out.append(f"{self.name} has a network address "
                       f"({', '.join(self.global_addresses)}): it is probably "
                       "plugged into a network, not the appliance")
        if self.kind == "wireless":
            out.append(f"{self.name} is wireless: the appliance needs a cable")
        return out

    def as_dict(self) -> dict:
        d = {f: getattr(self, f) for f in self._FIELDS}
        d["warnings"] = self.warnings()
        return d


class CarrierChange(tuple):
    """What a ``CarrierWatcher`` reports: the port (``iface``), its new
    ``carrier`` and ``operstate``. Immutable."""

    __slots__ = ()

    def __new__(cls, iface: str, carrier: bool, operstate: str):
        return super().__new__(cls, (iface, carrier, operstate))

    iface = property(lambda self: self[0])
    carrier = property(lambda self: self[1])
    operstate = property(lambda self: self[2])

    def __repr__(self) -> str:
        return (f"CarrierChange(iface={self.iface!r}, carrier={self.carrier!r}, "
                f"operstate={self.operstate!r})")


def is_link_local(address: str) -> bool:
    """True for 169.254.0.0/16 and fe80::/10, whatever scope the kernel shows."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 4:
        return ip in ipaddress.ip_network("169.254.0.0/16")
    return ip.is_link_local


def _ipr():
    from hwprobe.port.rtnl import Rtnl  # one netlink socket in this thread's namespace

    return Rtnl()


def _kind(link) -> str:
    kind = link.get("kind")
    if kind:
        return str(kind)
    name = link.get("ifname") or ""
    if os.path.exists(f"/sys/class/net/{name}/wireless") or os.path.exists(
            f"/sys/class/net/{name}/phy80211"):
        return "wireless"
    return "ethernet"


def _prefix(netmask: str) -> int:
    if "/" in netmask:  # netifaces gives IPv6 masks as "ffff:ffff::/64"
        return int(netmask.split("/")[1])
    return ipaddress.ip_network(f"0.0.0.0/{netmask}").prefixlen if "." in netmask \
        else bin(int(ipaddress.ip_address(netmask))).count("1")


def _addresses(name: str) -> list[str]:
    import netifaces

    try:
        found = netifaces.ifaddresses(name)
    except ValueError:  # vanished meanwhile
        return []
    out = []
    for family in (netifaces.AF_INET, netifaces.AF_INET6):
        for entry in found.get(family, []):
            addr = entry.get("addr", "").split("%")[0]
            if not addr:
                continue
            mask = entry.get("netmask") or ("32" if family == netifaces.AF_INET else "128")
            out.append(f"{addr}/{_prefix(mask)}")
    return out


def _port_from(link, addresses: list[str], default_oifs: set[int]) -> Port:
    index = link["index"]
    return Port(
        name=link.get("ifname"),
        index=index,
        mac=(link.get("address") or "").lower(),
        carrier=bool(link.get("carrier")),
        up=bool(link["flags"] & 1),
        operstate=str(link.get("operstate") or "UNKNOWN"),
        kind=_kind(link),
        addresses=addresses,
        default_route=index in default_oifs,
        global_address=any(not is_link_local(a.split("/")[0]) for a in addresses),
    )


def _default_oifs(ipr) -> set[int]:
    oifs: set[int] = set()
    for family in (socket.AF_INET, socket.AF_INET6):
        for route in ipr.get_default_routes(family=family):
            if route.get("oif"):
                oifs.add(route.get("oif"))
            for hop in route.get("multipath") or []:
                oifs.add(hop.get("oif"))
    return oifs


def list_ports() -> list[Port]:
    """Every Ethernet-like port in this thread's network namespace, by name.

    Loopback and software-only devices (bridges, bonds, tunnels...) are left
    out; veth pairs are kept (the lab's ``lan0`` is one). Raises OSError only
    when netlink itself fails.
    """
    import netifaces

    names = set(netifaces.interfaces())
    with _ipr() as ipr:
        links = {l.get("ifname"): l for l in ipr.get_links()}
        default_oifs = _default_oifs(ipr)
    ports = []
    for name in sorted(names & set(links)):
        link = links[name]
        if link["ifi_type"] != _ARPHRD_ETHER or _kind(link) in _NOT_A_PORT:
            continue
        ports.append(_port_from(link, _addresses(name), default_oifs))
    return ports


def get_port(name: str) -> Port:
    """The port called ``name``.

    Raises BadInput (exit 2) when there is no such Ethernet port here, naming
    the ones that exist.
    """
    ports = list_ports()
    for port in ports:
        if port.name == name:
            return port
    known = ", ".join(p.name for p in ports) or "none"
    raise BadInput(f"--iface {name}: no such Ethernet port on this laptop "
                   f"(ports: {known})")


def carrier_of(name: str) -> bool:
    """The port has a carrier (a cable with a live far end); unsure: True."""
    from hwprobe.errors import BringupError

    try:
        return get_port(name).carrier
    except BringupError:
        return True


class CarrierWatcher:
    """Calls ``callback(CarrierChange)`` each time ``iface`` gains or loses carrier.

    The netlink socket is opened by ``start()`` in the calling thread's network
    namespace; the callback runs on the watcher's own thread and must not block
    for long. Exceptions from the callback are swallowed so a faulty consumer
    cannot kill the watcher. ``stop()`` wakes the thread and joins it.
    """

    def __init__(self, iface: str, callback: Callable[[CarrierChange], None]):
        self.iface = iface
        self.callback = callback
        self.carrier: bool | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._stopping = threading.Event()

    def start(self) -> "CarrierWatcher":
        """Start watching; returns self. Raises BadInput for an unknown port."""
        # a netlink socket of its own, opened here: the watcher's thread may
        # not be in the caller's namespace
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
        self._sock.bind((0, _RTMGRP_LINK))
        with _ipr() as ipr:
            links = ipr.link("get", ifname=self.iface) if ipr.link_lookup(
                ifname=self.iface) else []
        if not links:
            self._sock.close()
            get_port(self.iface)  # raises BadInput naming the ports
        self.carrier = bool(links[0].get("carrier"))
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"carrier-{self.iface}",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from hwprobe.port.rtnl import link_events

        while not self._stopping.is_set():
            ready, _, _ = select.select([self._sock, self._wake_r], [], [])
            if self._wake_r in ready:
                break
            try:
                messages = link_events(self._sock.recv(1 << 16))
            except OSError:  # ENOBUFS after a burst: events lost, next one resyncs
                continue
            for msg in messages:
                if msg.get("ifname") != self.iface:
                    continue
                carrier = bool(msg.get("carrier"))
                if carrier == self.carrier:
                    continue
                self.carrier = carrier
                try:
                    self.callback(CarrierChange(self.iface, carrier,
                                                str(msg.get("operstate") or "UNKNOWN")))
                except Exception:  # noqa: BLE001 - a consumer bug must not stop the watch
                    pass

    def stop(self) -> None:
        """Stop watching and wait for the thread; harmless when not started."""
        if self._thread is None:
            return
        self._stopping.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        self._thread = None
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._sock.close()

    def __enter__(self) -> "CarrierWatcher":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
