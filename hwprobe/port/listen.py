"""Listen on one laptop port: what is on the cable when nothing answers on the
factory addresses.

``listen(iface, seconds, cancel=None, on_tick=None, capture=None, earlier=())
-> Listened`` (hwprobe.port.heard)
    Reads every frame on ``iface`` (promiscuous for the listen only: a packet
    socket's membership, gone when it closes; nothing is sent) for
    ``seconds`` (counted from when its socket listens) and says what it
    heard: IPv4 devices (ARP in all its forms, IPv4 sources, the addresses
    each one asks for), DHCP discovers (host name, vendor class), LLDP, CDP
    and spanning tree (a switch: its name and port), IPv6 link-local
    sources, mDNS names, 802.1Q tags. Our own frames
    are left out. It ends at ``seconds`` whatever the cable carries (a flood
    is read as far as time allows; the kernel drops the rest), or as soon as
    ``cancel`` (a threading.Event) is set. ``on_tick(seconds_left)`` is
    called about once a second from the calling thread. With ``capture`` (a
    path), ``earlier`` frames (``(epoch seconds, bytes)``: what the probe
    sent and heard) and every frame read are written there as a pcap
    (scapy's writer), up to CAPTURE_FRAMES frames or CAPTURE_BYTES bytes.
``write_capture(path, frames) -> int``: only ``earlier`` frames (the probe
    found its appliance, or nothing was listened for); returns how many.

Scapy is imported here, when a listen or a capture is asked for, never on the
way to the first ARP probe (``import scapy.all`` costs over a second): only
the layers read are loaded, with route autoloading off (the laptop's routing
table is none of its business). Memory stays bounded: no frame is stored
(a streaming callback), at most DEVICE_LIMIT devices are remembered, names
are cut at NAME_LIMIT characters, the socket's buffer is scapy's 64 KiB.

Raises NeedsPrivileges (no CAP_NET_RAW), BadInput (no such port), OSError
(the capture file cannot be written).
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hwprobe.errors import BadInput
from hwprobe.port.heard import KIND_ORDER, NAME_LIMIT, Heard, Listened, network_guess
from hwprobe.port.privileges import require_privileges

DEVICE_LIMIT = 64               # devices remembered; more are only counted
COUNT_LIMIT = 4096              # ...up to this many
CAPTURE_FRAMES = 20000
CAPTURE_BYTES = 16 * 1024 * 1024
_LINK_LOCAL4 = ipaddress.IPv4Network("169.254.0.0/16")


def _scapy():
    """The scapy layers the listener reads, loaded once (and quietly: its
    warnings are not the technician's business)."""
    from scapy.config import conf

    conf.route_autoload = False
    conf.route6_autoload = False
    conf.verb = 0
    logging.getLogger("scapy").setLevel(logging.ERROR)
    import scapy.contrib.cdp as cdp
    import scapy.contrib.lldp as lldp
    import scapy.layers.dhcp as dhcp
    import scapy.layers.dns as dns
    import scapy.layers.inet as inet
    import scapy.layers.inet6 as inet6
    import scapy.layers.l2 as l2
    from scapy.arch.linux import L2ListenSocket
    from scapy.sendrecv import AsyncSniffer
    from scapy.utils import RawPcapWriter

    return _Layers(conf, l2, inet, inet6, dhcp, dns, lldp, cdp, L2ListenSocket, AsyncSniffer,
                   RawPcapWriter)


class _Layers:
    def __init__(self, conf, l2, inet, inet6, dhcp, dns, lldp, cdp, listen_socket, sniffer,
                 writer):
        self.conf, self.l2, self.inet, self.inet6 = conf, l2, inet, inet6
        self.dhcp, self.dns, self.lldp, self.cdp = dhcp, dns, lldp, cdp
        self.listen_socket, self.sniffer, self.writer = listen_socket, sniffer, writer


# --- the capture ---------------------------------------------------------------------

class _Capture:
    """A pcap written as frames come (scapy's RawPcapWriter), bounded; it
    appears under its name only once whole."""

    def __init__(self, layers: _Layers, path: Path):
        import tempfile

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # made new beside its place (never a name planted there before), then
        # renamed onto it: the capture is a regular file, or nothing
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part",
                                   dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._out = layers.writer(str(self._tmp), linktype=1, sync=False)
        self._out.write_header(None)     # an empty capture is still a pcap tcpdump reads
        self.frames = self.bytes = 0
        self.cut = False
        self._lock = threading.Lock()

    def add(self, data: bytes, when: float) -> None:
        with self._lock:
            if self.frames >= CAPTURE_FRAMES or self.bytes + len(data) > CAPTURE_BYTES:
                self.cut = True
                return
            self._out.write_packet(data, sec=int(when), usec=int((when % 1) * 1_000_000))
            self.frames += 1
            self.bytes += len(data)

    def close(self) -> None:
        """Rename the whole capture onto its place. Raises OSError, also
        when the place holds a device, FIFO, socket, folder or symbolic
        link (never replaced; the capture is discarded)."""
        from hwprobe.fsutil import not_a_regular_file

        with self._lock:
            self._out.close()
            kind = not_a_regular_file(self.path)
            if kind is not None:
                self._tmp.unlink(missing_ok=True)
                raise OSError(errno.EEXIST, f"is {kind}; bringup writes only regular files",
                              str(self.path))
            os.replace(self._tmp, self.path)

    def discard(self) -> None:
        try:
            self._out.close()
        finally:
            self._tmp.unlink(missing_ok=True)


def write_capture(path: str | os.PathLike, frames: Iterable[tuple[float, bytes]]) -> int:
    """``frames`` (epoch seconds, bytes) as a pcap at ``path``; returns how
    many were written. Raises OSError."""
    capture = _Capture(_scapy(), Path(path))
    try:
        for when, data in frames:
            capture.add(data, when)
    except BaseException:
        capture.discard()
        raise
    capture.close()
    return capture.frames


# --- what one device said -------------------------------------------------------------

class _Device:
    __slots__ = ("mac", "ipv4", "asks", "ipv6", "sends", "name", "dhcp", "switch", "vlan",
                 "frames")

    def __init__(self, mac: str):
        self.mac = mac
        self.ipv4: dict[str, None] = {}
        self.asks: dict[str, None] = {}
        self.ipv6: dict[str, None] = {}
        self.sends: dict[str, None] = {}
        self.name: str | None = None
        self.dhcp: tuple[str | None, str | None] | None = None
        self.switch: tuple[str, str | None, str | None] | None = None
        self.vlan: int | None = None
        self.frames = 0

    def sent(self, what: str) -> None:
        self.sends.setdefault(what)

    def findings(self, vendor: str | None) -> list[Heard]:
        common = {"mac": self.mac, "vendor": vendor, "vlan": self.vlan, "frames": self.frames}
        if self.switch:
            protocol, name, port = self.switch
            return [Heard("switch", name=name, port=port, protocol=protocol, **common)]
        if self.ipv4:
            asks = [a for a in self.asks if a not in self.ipv4][:16]
            return [Heard("ipv4", address=a, prefix=network_guess(a, asks), asks_for=asks,
                          sends=list(self.sends), name=self.name, **common)
                    for a in list(self.ipv4)[:4]]
        if self.dhcp:
            return [Heard("dhcp", name=self.dhcp[0] or self.name, vendor_class=self.dhcp[1],
                          sends=list(self.sends), **common)]
        if self.ipv6:
            return [Heard("ipv6", address=next(iter(self.ipv6)), name=self.name,
                          sends=list(self.sends), **common)]
        return [Heard("other", sends=list(self.sends), **common)]


def _text(value) -> str | None:
    """A name off the wire as text (UTF-8, else each byte as itself: Latin-1,
    so a stray control byte stays one character for ``shown`` to escape), cut
    at NAME_LIMIT; None for nothing."""
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    value = str(value).rstrip("\0")
    return value[:NAME_LIMIT] or None


class _Ear:
    """Reads each frame (from the sniffer's thread) into what each device said."""

    def __init__(self, layers: _Layers, own_mac: str, capture: _Capture | None):
        self.s = layers
        self.own_mac = own_mac.lower()
        self.capture = capture
        self.devices: dict[str, _Device] = {}
        self.unlisted: set[str] = set()
        self.frames = 0
        self.unread = 0                 # frames the dissectors choked on

    def take(self, pkt) -> None:
        # never raises: an exception here would make scapy close the socket
        try:
            if self.capture is not None:
                self.capture.add(bytes(getattr(pkt, "original", None) or bytes(pkt)),
                                 float(pkt.time))
            self._read(pkt)
        except Exception:  # noqa: BLE001 - a frame that breaks a dissector is junk, not news
            self.unread += 1

    def _device(self, mac: str) -> _Device | None:
        dev = self.devices.get(mac)
        if dev is None:
            if len(self.devices) >= DEVICE_LIMIT:
                if len(self.unlisted) < COUNT_LIMIT:
                    self.unlisted.add(mac)
                return None
            dev = self.devices[mac] = _Device(mac)
        return dev

    def _read(self, pkt) -> None:
        s = self.s
        # Ethernet II, or 802.3 with a length (CDP and spanning tree come so)
        ether = pkt.getlayer(s.l2.Ether) or pkt.getlayer(s.l2.Dot3)
        if ether is None:
            return
        src = str(ether.src).lower()
        if src == self.own_mac:
            return
        self.frames += 1
        dev = self._device(src)
        if dev is None:
            return
        dev.frames += 1
        tag = pkt.getlayer(s.l2.Dot1Q)
        if tag is not None:
            dev.vlan = int(tag.vlan)
        if pkt.getlayer(s.lldp.LLDPDU) is not None:
            self._lldp(pkt, dev)
        elif pkt.getlayer(s.cdp.CDPv2_HDR) is not None:
            self._cdp(pkt, dev)
        elif pkt.getlayer(s.l2.STP) is not None:
            if dev.switch is None:
                dev.switch = ("STP", None, None)
        elif pkt.getlayer(s.l2.ARP) is not None:
            self._arp(pkt.getlayer(s.l2.ARP), dev)
        elif pkt.getlayer(s.inet.IP) is not None:
            ip = pkt.getlayer(s.inet.IP)
            if ip.src != "0.0.0.0":
                dev.ipv4.setdefault(ip.src)
            self._udp(pkt, dev)
        elif pkt.getlayer(s.inet6.IPv6) is not None:
            src6 = pkt.getlayer(s.inet6.IPv6).src
            if ipaddress.IPv6Address(src6).is_link_local:
                if len(dev.ipv6) < 4:
                    dev.ipv6.setdefault(src6)
            dev.sent("IPv6")
            self._udp(pkt, dev)

    def _arp(self, arp, dev: _Device) -> None:
        dev.sent("ARP")
        if arp.psrc == "0.0.0.0":         # an RFC 5227 probe: no address of its own yet
            return
        dev.ipv4.setdefault(arp.psrc)
        if (int(arp.op) == 1 and arp.pdst not in (arp.psrc, "0.0.0.0") and len(dev.asks) < 16
                and ipaddress.IPv4Address(arp.pdst) not in _LINK_LOCAL4):
            dev.asks.setdefault(arp.pdst)

    def _udp(self, pkt, dev: _Device) -> None:
        s = self.s
        udp = pkt.getlayer(s.inet.UDP)
        if udp is None:
            return
        ports = {int(udp.sport), int(udp.dport)}
        boot = pkt.getlayer(s.dhcp.BOOTP)
        if boot is not None and int(boot.op) == 1:
            dev.sent("DHCP")
            options = {}
            opts = pkt.getlayer(s.dhcp.DHCP)
            for item in (opts.options if opts is not None else []):
                if isinstance(item, tuple) and len(item) >= 2:
                    options.setdefault(item[0], item[1])
            dev.dhcp = (_text(options.get("hostname")), _text(options.get("vendor_class_id")))
            return
        if 5353 in ports:
            dev.sent("mDNS")
            self._mdns(pkt, dev)
        elif 53 in ports:
            dev.sent("DNS")
        elif 123 in ports:
            dev.sent("NTP")

    def _mdns(self, pkt, dev: _Device) -> None:
        dns = pkt.getlayer(self.s.dns.DNS)
        if dns is None or not int(dns.qr) or dev.name:
            return
        answers = dns.an if isinstance(dns.an, list) else ([dns.an] if dns.an else [])
        for rr in answers[:8]:
            if int(getattr(rr, "type", 0)) in (1, 28):     # A, AAAA: a host's own name
                dev.name = _text(rr.rrname)
                return

    def _lldp(self, pkt, dev: _Device) -> None:
        lldp = self.s.lldp
        name = pkt.getlayer(lldp.LLDPDUSystemName)
        port = pkt.getlayer(lldp.LLDPDUPortDescription)
        port_id = pkt.getlayer(lldp.LLDPDUPortID)
        said = _text(port.description) if port is not None else None
        if port_id is not None and int(port_id.subtype) in (5, 7):      # interface name, local
            said = _text(port_id.id) if not said else f"{_text(port_id.id)}, {said}"
        dev.switch = ("LLDP", _text(name.system_name) if name is not None else None, said)

    def _cdp(self, pkt, dev: _Device) -> None:
        cdp = self.s.cdp
        name = pkt.getlayer(cdp.CDPMsgDeviceID)
        port = pkt.getlayer(cdp.CDPMsgPortID)
        if dev.switch is None or dev.switch[0] != "LLDP":     # LLDP says it better
            dev.switch = ("CDP", _text(name.val) if name is not None else None,
                          _text(port.iface) if port is not None else None)

    def findings(self) -> list[Heard]:
        manuf = self.s.conf.manufdb
        out: list[Heard] = []
        for dev in self.devices.values():
            try:
                oui, vendor = manuf.lookup(dev.mac)
                vendor = None if vendor == dev.mac else vendor
            except Exception:  # noqa: BLE001 - no vendor table: no vendor
                vendor = None
            out.extend(dev.findings(_text(vendor)))
        return sorted(out, key=lambda h: KIND_ORDER.index(h.kind))


# --- the listen ------------------------------------------------------------------------

def listen(iface: str, seconds: float, *, cancel: threading.Event | None = None,
           on_tick: Callable[[float], None] | None = None,
           capture: str | os.PathLike | None = None,
           earlier: Iterable[tuple[float, bytes]] = ()) -> Listened:
    """Listen on ``iface``; see the module docstring."""
    require_privileges(("CAP_NET_RAW",), f"listen on {iface}")
    start = time.monotonic()
    layers = _scapy()
    try:
        sock = layers.listen_socket(iface=iface, promisc=True)
    except ValueError:
        raise BadInput(f"--iface {iface}: no such port on this laptop") from None
    writer = None
    try:
        own_mac = ":".join(f"{b:02x}" for b in sock.ins.getsockname()[4][:6])
        if capture is not None:
            writer = _Capture(layers, Path(capture))
            for when, data in earlier:
                writer.add(data, when)
        ear = _Ear(layers, own_mac, writer)
        # the window starts once the socket listens (scapy's import is not in it)
        cancelled = _sniff(layers, sock, ear, seconds, time.monotonic(), cancel, on_tick)
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        sock.close()
    if writer is not None:
        writer.close()
    heard = ear.findings()
    return Listened(iface=iface, seconds=seconds, heard=heard, more=len(ear.unlisted),
                    frames=ear.frames, elapsed_ms=round((time.monotonic() - start) * 1000, 3),
                    cancelled=cancelled, capture=str(writer.path) if writer else None,
                    capture_frames=writer.frames if writer else 0,
                    capture_cut=bool(writer and writer.cut))


def _sniff(layers: _Layers, sock, ear: _Ear, seconds: float, start: float,
           cancel: threading.Event | None, on_tick) -> bool:
    """Run the sniffer (its own thread: scapy's streaming callback, nothing
    stored) until ``seconds`` from ``start`` or ``cancel``; True if cancelled."""
    cancel = cancel or threading.Event()
    deadline = start + seconds
    # no timeout of scapy's own (AsyncSniffer has none): stopped here at the
    # deadline, which wakes its select through scapy's control pipe
    sniffer = layers.sniffer(opened_socket=sock, prn=ear.take, store=False)
    sniffer.start()
    while True:
        left = deadline - time.monotonic()
        if on_tick is not None:
            on_tick(max(0.0, left))
        if left <= 0 or cancel.wait(min(1.0, left)) or not sniffer.thread.is_alive():
            break
    for _ in range(100):            # stop() refuses a sniffer still starting: wait for it
        if hasattr(sniffer, "continue_sniff") or not sniffer.thread.is_alive():
            break
        time.sleep(0.01)
    try:
        sniffer.stop(join=False)
    except Exception:  # noqa: BLE001 - it ended by itself meanwhile
        pass
    sniffer.thread.join(2.0)
    return cancel.is_set()
