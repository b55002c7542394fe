"""Find the appliance on its factory addresses, on one laptop port only.

Public API (usable from a worker thread; the sockets belong to the network
namespace of the calling thread):

``probe(iface, src_address="0.0.0.0", addresses=FACTORY_ADDRESSES, timeout=1.0,
        on_answer=None, check_https=True, cancel=None, settle=0.1, record=None) -> ProbeResult``

    Sends one ARP who-has per address (on a raw socket bound to ``iface`` so
    nothing leaves by another port), repeats it for addresses still silent
    every ``resend`` seconds, and calls ``on_answer(Responder)`` the moment
    each address answers, with the MAC and round-trip time. From sender
    address 0.0.0.0 (the default) the requests are RFC 5227 ARP probes: the
    search needs no address of its own on the port, so it can run while the
    laptop's address is still being checked. The ARP phase ends at ``timeout``
    when nothing answers; once something answered, ``settle`` seconds after
    the last new answer (long enough for a second device claiming the same
    address, or another device on another address, to be heard; 20 ms once
    every address has answered); or as soon as ``cancel`` (a threading.Event)
    is set. A second MAC answering for an address is a conflict: it lands in
    ``Responder.conflict_macs`` and ``on_answer`` is called again. With
    ``check_https`` (it needs a laptop address: not from 0.0.0.0), each
    responder's TCP 443 is tried the moment it answers (in parallel with the
    ARP phase) and the SHA-256 fingerprint of its TLS certificate read (no
    verification: only to show and later pin it); ``on_answer`` is called
    again, from that check's own thread, when it arrives. ``probe()`` returns
    once those checks are done (at most ``https_timeout`` seconds each)
    unless cancelled. With ``record`` (a list), every ARP frame the probe's
    socket sees, sent or heard, is appended to it as ``(epoch seconds,
    bytes)`` (at most RECORD_LIMIT): what a capture for Support holds
    (``hwprobe.port.listen``).

    ``ProbeResult(iface, src_address, addresses, responders, elapsed_ms,
    first_answer_ms, arp_ms, cancelled)`` with ``Responder(address, mac,
    rtt_ms, https_ok, fingerprint_sha256, https_error, conflict_macs)``,
    responders in the order of ``addresses``; an empty ``responders`` means
    nothing answered (``result.found`` is False). Fingerprints are 64
    lower-case hex digits, as ``hwprobe.appliance.pins.pin_fingerprint`` stores them.

    Raises BadInput (unknown port, bad address), NeedsPrivileges (no
    CAP_NET_RAW), LinkError (port down) and OSError for other socket failures.

``check_https(result, iface, src_address, on_answer=None)``: the HTTPS check
of a probe made from 0.0.0.0, once the laptop has its address.

``arp_holders(iface, candidates, wait=0.2) -> {address: MAC}``: the RFC
5227-style check (ARP probes from 0.0.0.0) the takeover runs before claiming
an address.

``https_fingerprint(address, iface, src_address) -> (sha256 | None, why | None)``

Frames are built and read with ``struct`` (an ARP frame is 42 fixed bytes):
importing scapy costs over a second, longer than arp-scan takes for the whole
search.
"""
from __future__ import annotations

import ipaddress
import select
import socket
import struct
import threading
import time
from dataclasses import asdict, dataclass, field
from collections.abc import Callable

from hwprobe.constants import FACTORY_ADDRESSES, HTTPS_PORT
from hwprobe.errors import BadInput, LinkError
from hwprobe.port.privileges import require_privileges

from hwprobe.port.arp import (ANY, ArpCheck, _ETH_P_ARP, _PACKET_OUTGOING, _arp_frame,  # noqa: F401
                  _arp_reply, arp_holders)                                # - this API

_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
RECORD_LIMIT = 2000


@dataclass
class Responder:
    """One factory address that answered.

    ``https_ok`` is None until checked (or when not asked), then True when TCP
    443 accepted a TLS handshake; ``fingerprint_sha256`` is the certificate's
    SHA-256 as 64 lower-case hex digits; ``https_error`` says why not.
    ``conflict_macs`` lists other MACs that answered for the same address.
    """

    address: str
    mac: str
    rtt_ms: float
    https_ok: bool | None = None
    fingerprint_sha256: str | None = None
    https_error: str | None = None
    conflict_macs: list[str] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return bool(self.conflict_macs)

    @property
    def rtt_words(self) -> str:
        """The round-trip time with the precision it has: "0.7 ms", "12 ms",
        "< 0.1 ms" (a veth or a switch next door answers faster than that)."""
        return rtt_words(self.rtt_ms)


def rtt_words(ms: float | None) -> str:
    """``ms`` milliseconds as "0.7 ms", "12 ms" or "< 0.1 ms"; "-" for None."""
    if ms is None:
        return "-"
    if ms < 0.1:
        return "< 0.1 ms"
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


@dataclass
class ProbeResult:
    """What a probe found. Times are milliseconds from the start of ``probe()``."""

    iface: str
    src_address: str
    addresses: tuple[str, ...]
    responders: list[Responder]
    elapsed_ms: float
    first_answer_ms: float | None
    arp_ms: float                       # when the ARP phase ended
    cancelled: bool = False

    @property
    def found(self) -> bool:
        return bool(self.responders)

    @property
    def conflicts(self) -> list[Responder]:
        return [r for r in self.responders if r.conflict]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["found"] = self.found
        d["addresses"] = list(self.addresses)
        return d


def preload() -> None:
    """Import now what a takeover and a probe need, e.g. after the console's
    first frame (cheap since netlink is hwprobe.port.rtnl, not pyroute2)."""
    from hwprobe.port import interfaces, journal, owners as portowners, rtnl  # noqa: F401 - what the takeover needs


def warm_https(after: float = 0.03) -> threading.Thread:
    """Load what the HTTPS check needs (ssl, hashlib, OpenSSL's one-time set-up
    on the first context: about 15 ms) in a thread of its own, e.g. while the
    takeover waits out its address check; returns the thread (the check then
    finds them loaded). It starts ``after`` seconds from now: loading holds
    the interpreter lock, and the ARP search and address check started with
    it must send their first probes first."""
    def load() -> None:
        time.sleep(after)
        import hashlib  # noqa: F401
        import ssl

        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)     # reads openssl.cnf once per process

    t = threading.Thread(target=load, name="warm-https", daemon=True)
    t.start()
    return t


def _check_inputs(src_address: str, addresses) -> tuple[str, ...]:
    bad = []
    for a in (src_address, *addresses):
        try:
            ipaddress.IPv4Address(a)
        except ValueError:
            bad.append(a)
    if bad:
        raise BadInput(f"not an IPv4 address: {', '.join(map(str, bad))}")
    if not addresses:
        raise BadInput("no address to probe")
    return tuple(dict.fromkeys(addresses))


def _open(iface: str) -> socket.socket:
    # protocol 0 until bound: the kernel then registers the socket once, not
    # twice (each re-registration waits for an RCU grace period, ~10 ms)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.bind((iface, _ETH_P_ARP))
    except OSError as exc:
        sock.close()
        if exc.errno == 19:  # ENODEV
            raise BadInput(f"--iface {iface}: no such port on this laptop") from None
        raise
    sock.setblocking(False)
    return sock


def https_fingerprint(address: str, iface: str, src_address: str,
                      timeout: float = 2.0, port: int = HTTPS_PORT) -> tuple[str | None, str | None]:
    """(SHA-256 of the certificate, None) or (None, why) for ``address:port``.

    The connection is pinned to ``iface`` and ``src_address``; the certificate
    is read without verification (it is self-signed: this is only to show and
    pin it). Never raises for network errors.
    """
    import hashlib
    import ssl      # here, not at import: ``warm_https()`` loads it off the critical path

    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        raw.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, iface.encode())
        # closed with a reset, not a FIN exchange: nothing of this connection is
        # left in the kernel to answer the appliance once the port is given back
        # (with the laptop address gone, another port's route could carry it)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.bind((src_address, 0))
        raw.settimeout(timeout)
        raw.connect((address, port))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:  # old appliance firmware: still read the certificate
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            pass
        with ctx.wrap_socket(raw, do_handshake_on_connect=True) as tls:
            der = tls.getpeercert(binary_form=True)
        return hashlib.sha256(der).hexdigest(), None
    except socket.timeout:
        return None, f"no answer on TCP {port} within {timeout:g} s"
    except ConnectionRefusedError:
        return None, f"TCP {port} refused (web interface not up yet?)"
    except (OSError, ssl.SSLError) as exc:
        return None, f"TCP {port}: {exc.strerror or exc}"
    finally:
        raw.close()


def _send(sock: socket.socket, frame: bytes, iface: str) -> None:
    try:
        sock.send(frame)
    except OSError as exc:
        if exc.errno == 100:  # ENETDOWN
            raise LinkError(f"{iface} is down: bring it up, or let bringup take it "
                            f"over (drop --no-takeover)") from None
        raise


def probe(iface: str, src_address: str = ANY, addresses=FACTORY_ADDRESSES, timeout: float = 1.0,
          on_answer: Callable[[Responder], None] | None = None, check_https: bool = True,
          cancel: threading.Event | None = None, settle: float = 0.1,
          resend: float = 0.25, https_timeout: float = 2.0,
          record: list | None = None) -> ProbeResult:
    """ARP for ``addresses`` on ``iface`` only; see the module docstring."""
    addresses = _check_inputs(src_address, addresses)
    if timeout <= 0:
        raise BadInput(f"--timeout {timeout:g}: must be more than 0 seconds")
    require_privileges(("CAP_NET_RAW",), f"send ARP on {iface}")
    check_https = check_https and src_address != ANY
    notify = on_answer or (lambda _r: None)
    start = time.monotonic()
    found: dict[str, Responder] = {}
    checks: list[threading.Thread] = []
    first = last_new = None
    sock = _open(iface)
    try:
        own_mac = sock.getsockname()[4]
        frames = {a: _arp_frame(own_mac, a, src_address) for a in addresses}
        sent_at: dict[str, float] = {}
        next_send = start
        while True:
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                break
            end = start + timeout
            if last_new is not None:  # everyone answered: wait only for a duplicate
                end = min(end, last_new + (settle if len(found) < len(addresses)
                                           else min(settle, 0.02)))
            if now >= end:
                break
            if now >= next_send:
                for a in addresses:
                    if a not in found:
                        _send(sock, frames[a], iface)
                        sent_at[a] = time.monotonic()
                        if record is not None and len(record) < RECORD_LIMIT:
                            record.append((time.time(), frames[a]))
                next_send = now + resend
            wait = min(end, next_send) - time.monotonic()
            if cancel is not None:
                wait = min(wait, 0.05)
            ready, _, _ = select.select([sock], [], [], max(0.0, wait))
            if not ready:
                continue
            while True:
                try:
                    data, where = sock.recvfrom(256)
                except BlockingIOError:
                    break
                got = time.monotonic()
                if record is not None and len(record) < RECORD_LIMIT:
                    record.append((time.time(), data))
                if where[2] == _PACKET_OUTGOING:
                    continue
                reply = _arp_reply(data)
                if reply is None:
                    continue
                psrc, their_mac, pdst = reply
                # a probe from 0.0.0.0 is answered to 0.0.0.0 (RFC 5227)
                if psrc not in sent_at or pdst != src_address:
                    continue
                known = found.get(psrc)
                if known is None:
                    known = found[psrc] = Responder(
                        psrc, their_mac, round((got - sent_at[psrc]) * 1000, 3))
                    first = first if first is not None else got
                    last_new = got
                    notify(known)
                    if check_https:
                        checks.append(_start_check(known, iface, src_address,
                                                   https_timeout, notify))
                elif their_mac != known.mac and their_mac not in known.conflict_macs:
                    known.conflict_macs.append(their_mac)
                    notify(known)
    finally:
        # closing a packet socket waits for an RCU grace period: not on our time
        threading.Thread(target=sock.close, daemon=True).start()
    arp_done = time.monotonic()
    cancelled = cancel is not None and cancel.is_set()
    for t in checks:
        t.join(None if not cancelled else 0)
    done = time.monotonic()
    return ProbeResult(
        iface=iface, src_address=src_address, addresses=addresses,
        responders=[found[a] for a in addresses if a in found],
        elapsed_ms=round((done - start) * 1000, 3),
        first_answer_ms=None if first is None else round((first - start) * 1000, 3),
        arp_ms=round((arp_done - start) * 1000, 3),
        cancelled=cancelled,
    )


def check_https(result: ProbeResult, iface: str, src_address: str,
                on_answer: Callable[[Responder], None] | None = None,
                timeout: float = 2.0) -> ProbeResult:
    """The HTTPS check of every responder of ``result`` (a probe made from
    0.0.0.0), from ``src_address`` now that the port holds it, all at once;
    returns ``result`` with fingerprints filled in and ``elapsed_ms`` grown
    by the wait. Never raises for network errors."""
    start = time.monotonic()
    checks = [_start_check(r, iface, src_address, timeout, on_answer or (lambda _r: None))
              for r in result.responders]
    for t in checks:
        t.join()
    result.src_address = src_address
    result.elapsed_ms = round(result.elapsed_ms + (time.monotonic() - start) * 1000, 3)
    return result


def _start_check(responder: Responder, iface: str, src_address: str, timeout: float,
                 notify: Callable[[Responder], None]) -> threading.Thread:
    def run():
        fp, why = https_fingerprint(responder.address, iface, src_address, timeout)
        responder.fingerprint_sha256, responder.https_error = fp, why
        responder.https_ok = fp is not None
        notify(responder)

    # started from the probing thread, so it shares that thread's namespace
    t = threading.Thread(target=run, name=f"https-{responder.address}", daemon=True)
    t.start()
    return t
