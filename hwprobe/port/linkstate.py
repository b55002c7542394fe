"""A port's IP state through netlink: read it into a journal record, clear
it, put it back from one, and what the laptop's other ports hold.

``open_netlink()`` -> an ``hwprobe.port.rtnl.Rtnl`` (a context manager); the
functions below take it as ``ipr``:

- ``index_of(ipr, iface)`` -> interface index, or None when there is no such port;
- ``snapshot(ipr, port)`` -> ``journal.LinkRecord``: the port's addresses
  (IPv6: only permanent global ones, the kernel re-creates the rest), its
  main-table IPv4 routes but the kernel's own, and whether it is up;
- ``flush_ipv4(ipr, index)``: every IPv4 address off the port;
- ``apply_record(ipr, rec, index)``: the port's addresses, routes and up/down
  state made to match ``rec`` (a leased address, and every route, is left
  to the NetworkManager or DHCP client the port is handed back to);
- ``addresses_elsewhere(ipr, index)`` -> {IPv4 address: port name} of the
  laptop's other ports;
- ``pin_network(ipr, index, iface, address, prefix, note)``: routes that keep
  the port's network on the port while it is held.

Netlink errors come up as raised by ``hwprobe.port.rtnl`` (NetlinkError, an
OSError with the errno in ``code``).
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator

from hwprobe.port import interfaces, journal

_IFA_F_PERMANENT = 0x80
_RTPROT_KERNEL = 2
_RTPROT_STATIC = 4
_RT_SCOPE_LINK = 253
_EEXIST, _ENODEV, _EADDRNOTAVAIL = 17, 19, 99


def open_netlink():
    """A netlink socket of this thread's network namespace (use it in a ``with``)."""
    from hwprobe.port.rtnl import Rtnl     # pyroute2's import alone took longer than the whole probe

    return Rtnl()


def index_of(ipr, iface: str) -> int | None:
    found = ipr.link_lookup(ifname=iface)
    return found[0] if found else None


def snapshot(ipr, port: interfaces.Port) -> journal.LinkRecord:
    """The port's state as a journal record (not saved yet)."""
    rec = journal.LinkRecord(iface=port.name, netns=journal.netns_inode(),
                             ifindex=port.index, mac=port.mac, was_up=port.up)
    for msg in ipr.get_addr(index=port.index):
        family = 4 if msg["family"] == socket.AF_INET else 6
        addr = msg.get("address")
        flags = msg.get("IFA_FLAGS") or msg["flags"]
        cache = msg.get("IFA_CACHEINFO")
        dynamic = bool(cache) and cache.get("ifa_valid", 0xFFFFFFFF) != 0xFFFFFFFF
        if family == 6 and (interfaces.is_link_local(addr) or not flags & _IFA_F_PERMANENT):
            continue  # the kernel (SLAAC, DAD) re-creates these by itself
        label = msg.get("label")
        rec.addresses.append(journal.SavedAddress(
            address=addr, prefixlen=msg["prefixlen"], family=family,
            broadcast=msg.get("broadcast"), scope=msg["scope"],
            label=label if label and label != port.name else None, dynamic=dynamic))
    for msg in ipr.get_routes(family=socket.AF_INET, table=254):
        if msg.get("oif") != port.index or msg["proto"] == _RTPROT_KERNEL:
            continue
        rec.routes.append(journal.SavedRoute(
            dst=msg.get("dst"), dst_len=msg["dst_len"], gateway=msg.get("gateway"),
            priority=msg.get("priority"), proto=msg["proto"]))
    return rec


def flush_ipv4(ipr, index: int) -> None:
    # secondaries first: deleting a primary would take them along anyway
    for msg in reversed(list(ipr.get_addr(family=socket.AF_INET, index=index))):
        try:
            ipr.addr("del", index=index, address=msg.get("address"),
                     prefixlen=msg["prefixlen"])
        except Exception as exc:  # noqa: BLE001 - gone already is fine
            if getattr(exc, "code", None) not in (_EADDRNOTAVAIL, _ENODEV):
                raise


def _port_names(ipr) -> dict[int, str]:
    """Interface index -> name, for every link of this namespace."""
    return {msg["index"]: msg.get("ifname") or str(msg["index"]) for msg in ipr.get_links()}


def addresses_elsewhere(ipr, index: int) -> dict[str, str]:
    """IPv4 address -> port name, for every address of this laptop's other
    ports (loopback's 127/8 included: none of them can be claimed twice)."""
    names = _port_names(ipr)
    return {msg.get("address"): names.get(msg["index"], str(msg["index"]))
            for msg in ipr.get_addr(family=socket.AF_INET) if msg["index"] != index}


def _competing_routes(ipr, index: int, mine: ipaddress.IPv4Network
                      ) -> Iterator[tuple[ipaddress.IPv4Network, str]]:
    """(network, device name) of every main-table IPv4 route of another port
    that the kernel would prefer to, or rank with, this port's connected route
    to ``mine`` for some address of it: it overlaps ``mine`` with a prefix at
    least as long. Routes through a gateway are left alone (they go to another
    network)."""
    names = _port_names(ipr)
    for msg in ipr.get_routes(family=socket.AF_INET, table=254):
        oif = msg.get("oif")
        if oif is None or oif == index or msg.get("gateway"):
            continue
        net = ipaddress.IPv4Network(f"{msg.get('dst') or '0.0.0.0'}/{msg['dst_len']}",
                                    strict=False)
        if net.prefixlen >= mine.prefixlen and net.subnet_of(mine):
            yield net, names.get(oif, str(oif))


def pin_network(ipr, index: int, iface: str, address: str, prefix: int,
                note: Callable[[str], None]) -> None:
    """Keep the laptop port's network on this port while it is held.

    Another port of the laptop on the same network (a second link-local
    port, a USB adapter left configured) has a connected route as good as
    this port's, and the kernel takes the older one: traffic that is not
    bound to this port (the web driver's, and the kernel's own resets and
    ICMP for the appliance's late segments) would leave by the other
    port, from this port's address. Each competing network gets two
    routes one bit longer through this port, from the claimed address;
    the kernel drops them by itself when that address goes (give-back,
    restore-link), so nothing of them needs journalling. ``note`` is told
    each thing the technician should heed (a host route it cannot beat,
    the routes it added)."""
    mine = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    pinned: list[str] = []
    others: dict[str, list[str]] = {}
    for net, dev in list(_competing_routes(ipr, index, mine)):
        if net.prefixlen >= 32:
            note(f"{net.network_address} is routed through {dev} as a host route: "
                 f"traffic to that one address leaves by {dev}, not {iface}")
            continue
        for half in net.subnets(prefixlen_diff=1):
            if str(half) in pinned:
                continue
            try:
                ipr.route("add", dst=str(half), oif=index, prefsrc=address,
                          scope=_RT_SCOPE_LINK, proto=_RTPROT_STATIC)
            except Exception as exc:  # noqa: BLE001
                if getattr(exc, "code", None) != _EEXIST:  # already there
                    raise
            pinned.append(str(half))
        others.setdefault(dev, []).append(str(net))
    if pinned:
        who = ", ".join(dev if nets == [str(mine)] else f"{dev} ({', '.join(nets)})"
                        for dev, nets in others.items())
        note(f"{who} is also on {mine}: while bringup holds {iface}, that network goes "
             f"through {iface} only (routes {', '.join(pinned)}, removed with the address)")


def _handed_off(rec: journal.LinkRecord) -> bool:
    """The port goes back to an owner (NetworkManager, a DHCP client) that
    re-adds its own leases and routes."""
    return bool(rec.networkmanager or rec.port_owners)


def _kept(rec: journal.LinkRecord) -> list[journal.SavedAddress]:
    """The addresses bringup puts back itself: a leased one is left to the
    NetworkManager or DHCP client it came from, which renews it with its lease
    time (re-added by hand it would stay forever, and NM would not remove it)."""
    if not _handed_off(rec):
        return rec.addresses
    return [a for a in rec.addresses if not a.dynamic]


def apply_record(ipr, rec: journal.LinkRecord, index: int) -> None:
    """Make the port's addresses, routes and up/down state match ``rec``."""
    addresses = _kept(rec)
    want4 = [(a.address, a.prefixlen) for a in addresses if a.family == 4]
    have4 = [(m.get("address"), m["prefixlen"])
             for m in ipr.get_addr(family=socket.AF_INET, index=index)]
    if have4 != want4:
        flush_ipv4(ipr, index)
        for a in addresses:
            if a.family == 4:
                kw = {"broadcast": a.broadcast} if a.broadcast else {}
                if a.label:
                    kw["label"] = a.label
                ipr.addr("add", index=index, address=a.address, prefixlen=a.prefixlen,
                         scope=a.scope, **kw)
    have6 = {(m.get("address"), m["prefixlen"])
             for m in ipr.get_addr(family=socket.AF_INET6, index=index)}
    for a in addresses:
        if a.family == 6 and (a.address, a.prefixlen) not in have6:
            ipr.addr("add", index=index, address=a.address, prefixlen=a.prefixlen)
    ipr.link("set", index=index, state="up" if rec.was_up else "down")
    if rec.was_up:
        for r in ([] if _handed_off(rec) else rec.routes):  # owners re-add their own
            kw = {"dst": f"{r.dst or '0.0.0.0'}/{r.dst_len}", "oif": index, "proto": r.proto}
            if r.gateway:
                kw["gateway"] = r.gateway
            if r.priority is not None:
                kw["priority"] = r.priority
            try:
                ipr.route("add", **kw)
            except Exception as exc:  # noqa: BLE001
                if getattr(exc, "code", None) != _EEXIST:  # already back
                    raise
