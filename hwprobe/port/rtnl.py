"""A small synchronous rtnetlink client: the few requests the takeover and the
port list make, on one raw AF_NETLINK socket, built and read with ``struct``.

pyroute2 did this before; importing it costs 0.1-1 s (longer than arp-scan
takes for a whole search), and ``bringup probe`` is one short process.

``Rtnl()`` opens the socket in the calling thread's network namespace (as
``pyroute2.IPRoute()`` did); use it as a context manager. The methods keep
pyroute2's names and keyword arguments for the subset used here, and return
plain dicts:

- ``link_lookup(ifname=) -> [index]``, ``get_links(*indexes) -> [link]``,
  ``link("get", ifname=) -> [link]``, ``link("set", index=, state="up"|"down")``;
  a link has ``index, ifname, flags, ifi_type, address`` (MAC), ``carrier``,
  ``operstate`` (UP, DOWN, LOWERLAYERDOWN...), ``kind`` (IFLA_INFO_KIND or None);
- ``get_addr(family=0, index=None) -> [addr]`` with ``family, prefixlen, flags,
  scope, index, address, local, label, broadcast, IFA_FLAGS, IFA_CACHEINFO``
  (``{"ifa_valid": s, "ifa_prefered": s}``); ``addr("add"|"del", index=,
  address=, prefixlen=, broadcast=None, label=None, scope=0)``;
- ``get_routes(family=, table=254)``, ``get_default_routes(family=)`` (routes
  without a destination, any table, as pyroute2 has it) with ``family, dst_len,
  table, proto, scope, type, dst, oif, gateway, priority, multipath``
  (``[{"oif": i}]``); ``route("add", dst="a.b.c.d/n", oif=, proto=, gateway=,
  priority=)`` in table main, scope universe, type unicast.

Errors the kernel returns raise ``NetlinkError`` (an OSError; ``.code`` is the
errno, as pyroute2's NetlinkError has it).
"""
from __future__ import annotations

import errno as _errno
import os
import socket
import struct

NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26

IFLA_ADDRESS, IFLA_IFNAME, IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_CARRIER = 1, 3, 16, 18, 33
IFLA_INFO_KIND = 1
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 4, 6, 8
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_MULTIPATH, RTA_TABLE = (
    1, 4, 5, 6, 7, 9, 15)
RT_TABLE_MAIN = 254
RT_SCOPE_LINK = 253
RTPROT_STATIC = 4
RTN_UNICAST = 1
IFF_UP = 0x1
NLA_F_MASK = 0x3FFF           # without NLA_F_NESTED / NLA_F_NET_BYTEORDER

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")

_NLMSGHDR = struct.Struct("=IHHII")       # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")     # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBi")      # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")      # family, dst_len, src_len, tos, table, proto, scope, type, flags
_NLA = struct.Struct("=HH")
_RTNEXTHOP = struct.Struct("=HBBi")       # len, flags, hops, ifindex


class NetlinkError(OSError):
    """The kernel refused a request; ``code`` is the errno."""

    def __init__(self, code: int, what: str = ""):
        super().__init__(code, os.strerror(code) + (f" ({what})" if what else ""))
        self.code = code


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attr(kind: int, value: bytes) -> bytes:
    return _NLA.pack(_NLA.size + len(value), kind) + value + b"\0" * (_align(len(value)) - len(value))


def _attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    out = {}
    while offset + _NLA.size <= end:
        length, kind = _NLA.unpack_from(data, offset)
        if length < _NLA.size:
            break
        out[kind & NLA_F_MASK] = data[offset + _NLA.size:offset + length]
        offset += _align(length)
    return out


def _ip(family: int, raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return socket.inet_ntop(family, raw)


def _family_of(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _u32(raw: bytes | None) -> int | None:
    return None if raw is None or len(raw) < 4 else struct.unpack("=I", raw[:4])[0]


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.split(b"\0", 1)[0].decode(errors="replace")


def parse_link(data: bytes, offset: int = 0, end: int | None = None) -> dict:
    """A link (RTM_NEWLINK body without the netlink header) as a dict."""
    end = len(data) if end is None else end
    _family, ifi_type, index, flags, _change = _IFINFOMSG.unpack_from(data, offset)
    a = _attrs(data, offset + _IFINFOMSG.size, end)
    mac = a.get(IFLA_ADDRESS)
    kind = None
    if IFLA_LINKINFO in a:
        info = a[IFLA_LINKINFO]
        kind = _text(_attrs(info, 0, len(info)).get(IFLA_INFO_KIND))
    oper = a.get(IFLA_OPERSTATE)
    carrier = a.get(IFLA_CARRIER)
    return {
        "index": index, "ifname": _text(a.get(IFLA_IFNAME)), "flags": flags,
        "ifi_type": ifi_type, "address": mac.hex(":") if mac else None,
        "carrier": carrier[0] if carrier else None,
        "operstate": OPERSTATES[oper[0]] if oper and oper[0] < len(OPERSTATES) else
        ("UNKNOWN" if oper else None),
        "kind": kind,
    }


def parse_messages(data: bytes):
    """(type, flags, seq, body offset, end) of each netlink message in ``data``."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, flags, seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            break
        yield kind, flags, seq, offset + _NLMSGHDR.size, offset + length
        offset += _align(length)


def link_events(data: bytes) -> list[dict]:
    """Every RTM_NEWLINK in a datagram read from a link-events socket, parsed."""
    return [parse_link(data, start, end) for kind, _f, _s, start, end in parse_messages(data)
            if kind == RTM_NEWLINK]


def _parse_addr(data: bytes, offset: int, end: int) -> dict:
    family, prefixlen, flags, scope, index = _IFADDRMSG.unpack_from(data, offset)
    a = _attrs(data, offset + _IFADDRMSG.size, end)
    cache = a.get(IFA_CACHEINFO)
    cacheinfo = None
    if cache and len(cache) >= 8:
        prefered, valid = struct.unpack_from("=II", cache)
        cacheinfo = {"ifa_prefered": prefered, "ifa_valid": valid}
    return {
        "family": family, "prefixlen": prefixlen, "flags": flags, "scope": scope,
        "index": index, "address": _ip(family, a.get(IFA_ADDRESS)),
        "local": _ip(family, a.get(IFA_LOCAL)), "label": _text(a.get(IFA_LABEL)),
        "broadcast": _ip(family, a.get(IFA_BROADCAST)), "IFA_FLAGS": _u32(a.get(IFA_FLAGS)),
        "IFA_CACHEINFO": cacheinfo,
    }


def _parse_route(data: bytes, offset: int, end: int) -> dict:
    (family, dst_len, _src_len, _tos, table, proto, scope, rtype,
     _flags) = _RTMSG.unpack_from(data, offset)
    a = _attrs(data, offset + _RTMSG.size, end)
    multipath = None
    if RTA_MULTIPATH in a:
        raw, multipath, at = a[RTA_MULTIPATH], [], 0
        while at + _RTNEXTHOP.size <= len(raw):
            length, _f, _hops, ifindex = _RTNEXTHOP.unpack_from(raw, at)
            if length < _RTNEXTHOP.size:
                break
            multipath.append({"oif": ifindex})
            at += _align(length)
    return {
        "family": family, "dst_len": dst_len, "table": _u32(a.get(RTA_TABLE)) or table,
        "proto": proto, "scope": scope, "type": rtype, "dst": _ip(family, a.get(RTA_DST)),
        "has_dst": RTA_DST in a, "oif": _u32(a.get(RTA_OIF)),
        "gateway": _ip(family, a.get(RTA_GATEWAY)), "priority": _u32(a.get(RTA_PRIORITY)),
        "multipath": multipath,
    }


class Rtnl:
    """One rtnetlink socket in the calling thread's network namespace."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                   NETLINK_ROUTE)
        try:
            self._sock.bind((0, 0))
        except OSError:
            self._sock.close()
            raise
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "Rtnl":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the wire
    def _request(self, kind: int, flags: int, body: bytes, parse=None, what: str = "") -> list:
        """Send one request; the parsed answers of a dump (or of a get), [] for
        an acknowledged change. Raises NetlinkError for a refusal."""
        self._seq += 1
        seq = self._seq
        self._sock.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind,
                                       NLM_F_REQUEST | flags, seq, 0) + body)
        out = []
        while True:
            data = self._sock.recv(1 << 20)
            for mtype, mflags, mseq, start, end in parse_messages(data):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", data, start)[0]
                    if code:
                        raise NetlinkError(code, what)
                    return out
                if parse is not None:
                    out.append(parse(data, start, end))
                if not mflags & NLM_F_MULTI and not flags & NLM_F_ACK:
                    return out

    # -- links
    def link_lookup(self, ifname: str) -> list[int]:
        return [link["index"] for link in self.link("get", ifname=ifname)]

    def get_links(self, *indexes: int) -> list[dict]:
        if not indexes:
            return self._request(RTM_GETLINK, NLM_F_DUMP, _IFINFOMSG.pack(0, 0, 0, 0, 0),
                                 parse_link)
        out = []
        for index in indexes:
            out += self._request(RTM_GETLINK, 0, _IFINFOMSG.pack(0, 0, index, 0, 0), parse_link)
        return out

    def link(self, op: str, index: int | None = None, ifname: str | None = None,
             state: str | None = None) -> list[dict]:
        if op == "get":
            if index is not None:
                return self.get_links(index)
            try:
                return self._request(RTM_GETLINK, 0, _IFINFOMSG.pack(0, 0, 0, 0, 0)
                                     + _attr(IFLA_IFNAME, ifname.encode() + b"\0"), parse_link)
            except NetlinkError as exc:
                if exc.code in (_errno.ENODEV, _errno.EINVAL, _errno.ERANGE):
                    return []
                raise
        if op == "set" and state in ("up", "down"):
            flags = IFF_UP if state == "up" else 0
            self._request(RTM_NEWLINK, NLM_F_ACK, _IFINFOMSG.pack(0, 0, index, flags, IFF_UP),
                          what=f"link set {state}")
            return []
        raise ValueError(f"unsupported link request {op!r}")

    # -- addresses
    def get_addr(self, family: int = 0, index: int | None = None) -> list[dict]:
        found = self._request(RTM_GETADDR, NLM_F_DUMP, _IFADDRMSG.pack(family, 0, 0, 0, 0),
                              _parse_addr)
        return [a for a in found if index is None or a["index"] == index]

    def addr(self, op: str, index: int, address: str, prefixlen: int,
             broadcast: str | None = None, label: str | None = None, scope: int = 0) -> None:
        family = _family_of(address)
        packed = socket.inet_pton(family, address)
        attrs = _attr(IFA_ADDRESS, packed)
        if op == "add":
            kind, flags = RTM_NEWADDR, NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE
            if broadcast:
                attrs += _attr(IFA_BROADCAST, socket.inet_pton(family, broadcast))
            if label:
                attrs += _attr(IFA_LABEL, label.encode() + b"\0")
        elif op == "del":
            kind, flags = RTM_DELADDR, NLM_F_ACK
        else:
            raise ValueError(f"unsupported address request {op!r}")
        if family == socket.AF_INET:
            attrs += _attr(IFA_LOCAL, packed)
        self._request(kind, flags, _IFADDRMSG.pack(family, prefixlen, 0, scope, index) + attrs,
                      what=f"addr {op} {address}/{prefixlen}")

    # -- routes
    def _routes(self, family: int) -> list[dict]:
        return self._request(RTM_GETROUTE, NLM_F_DUMP,
                             _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0), _parse_route)

    def get_routes(self, family: int = 0, table: int | None = RT_TABLE_MAIN) -> list[dict]:
        return [r for r in self._routes(family) if table is None or r["table"] == table]

    def get_default_routes(self, family: int = 0) -> list[dict]:
        return [r for r in self._routes(family) if not r["has_dst"]]

    def route(self, op: str, dst: str, oif: int, proto: int, gateway: str | None = None,
              priority: int | None = None, prefsrc: str | None = None,
              scope: int = 0) -> None:
        if op != "add":
            raise ValueError(f"unsupported route request {op!r}")
        net, _, length = dst.partition("/")
        family = _family_of(net)
        dst_len = int(length) if length else (128 if family == socket.AF_INET6 else 32)
        attrs = _attr(RTA_DST, socket.inet_pton(family, net)) if dst_len else b""
        attrs += _attr(RTA_OIF, struct.pack("=I", oif))
        if gateway:
            attrs += _attr(RTA_GATEWAY, socket.inet_pton(family, gateway))
        if priority is not None:
            attrs += _attr(RTA_PRIORITY, struct.pack("=I", priority))
        if prefsrc:
            attrs += _attr(RTA_PREFSRC, socket.inet_pton(family, prefsrc))
        self._request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
                      _RTMSG.pack(family, dst_len, 0, 0, RT_TABLE_MAIN, proto, scope, RTN_UNICAST,
                                  0)
                      + attrs, what=f"route add {dst}")
