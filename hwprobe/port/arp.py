"""ARP on one laptop port, built by hand: the frames, and the RFC 5227-style
check that an address is free.

Small on purpose (socket, struct, threading, time; no dataclasses, no
hashlib): ``bringup probe`` sends its first probes from here before the rest
of bringup has loaded. ``hwprobe.port.probe`` re-exports all of it.

``arp_holders(iface, candidates, wait=0.2, probes=2) -> {address: MAC}``
    Probes ``candidates`` from 0.0.0.0 and says who holds which.
``ArpCheck(iface, candidates, wait, probes)``
    The same, started now (first probes on the wire when it returns), the
    rest in a thread; ``result()`` waits for it.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

_ETH_P_ARP = 0x0806
_PACKET_OUTGOING = 4
ANY = "0.0.0.0"                       # RFC 5227 probe: no sender address


# --- RFC 5227-style check that an address is free -------------------------------

def _arp_frame(mac: bytes, target: str, sender: str = ANY) -> bytes:
    """A broadcast ARP who-has ``target`` from ``mac`` (sender 0.0.0.0: a probe)."""
    return (b"\xff" * 6 + mac + struct.pack("!H", _ETH_P_ARP)
            + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton(sender)
            + b"\0" * 6 + socket.inet_aton(target))


def _arp_reply(data: bytes) -> tuple[str, str, str] | None:
    """(sender address, sender MAC, target address) of an Ethernet ARP reply,
    or None for anything else."""
    if len(data) < 42 or data[12:14] != b"\x08\x06":
        return None
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", data[14:22])
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 2):
        return None
    return (socket.inet_ntoa(data[28:32]), data[22:28].hex(":"), socket.inet_ntoa(data[38:42]))


def arp_holders(iface: str, candidates: list[str], wait: float = 0.2,
                probes: int = 2) -> dict[str, str]:
    """ARP-probe ``candidates`` on ``iface`` (sender address 0.0.0.0, RFC 5227)
    and return {address: MAC of the host holding it} for each one in use.

    Sends only on ``iface``. Raises OSError when the raw socket cannot be opened.
    """
    return ArpCheck(iface, candidates, wait, probes, background=False).result()


class ArpCheck:
    """``arp_holders`` started now: the first probes are on the wire when the
    constructor returns (a thread started behind a busy main thread waits for
    the GIL, up to the 5 ms switch interval and more); with ``background``
    the rest (the second probe, the listening) runs in a thread of its own,
    in this thread's network namespace. ``result()`` waits and returns the
    holders, or raises what went wrong."""

    def __init__(self, iface: str, candidates: list[str], wait: float = 0.2,
                 probes: int = 2, background: bool = True):
        self._wanted = {socket.inet_aton(a): a for a in candidates}
        self._wait, self._probes = wait, probes
        self._holders: dict[str, str] = {}
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        s = self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            s.bind((iface, _ETH_P_ARP))
            self._mac = s.getsockname()[4]
            self._frames = [_arp_frame(self._mac, a) for a in candidates]
            self._start = time.monotonic()
            for frame in self._frames:
                s.send(frame)
        except BaseException:
            s.close()
            raise
        if background:
            self._thread = threading.Thread(target=self._run, name="address-check",
                                            daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        s, mac = self._sock, self._mac
        wait, probes = self._wait, self._probes
        try:
            start = self._start
            deadline = start + wait
            sent = 1
            while True:
                now = time.monotonic()
                if sent < probes and now >= start + sent * wait / probes:
                    for frame in self._frames:
                        s.send(frame)
                    sent += 1
                if now >= deadline:
                    break
                next_send = start + sent * wait / probes if sent < probes else deadline
                s.settimeout(max(0.001, min(deadline, next_send) - now))
                try:
                    data, addr = s.recvfrom(128)
                except TimeoutError:
                    continue
                if addr[2] == _PACKET_OUTGOING or len(data) < 42 or data[22:28] == mac:
                    continue
                op = struct.unpack("!H", data[20:22])[0]
                spa, tpa = data[28:32], data[38:42]
                sha = ":".join(f"{b:02x}" for b in data[22:28])
                if spa in self._wanted:                    # somebody uses it
                    self._holders[self._wanted[spa]] = sha
                elif op == 1 and spa == b"\0" * 4 and tpa in self._wanted:  # somebody probing it
                    self._holders[self._wanted[tpa]] = sha
        except BaseException as exc:  # noqa: BLE001 - raised again in result()
            self._error = exc
        finally:
            # closing a packet socket waits for an RCU grace period (10-20 ms):
            # not on the takeover's time
            threading.Thread(target=s.close, daemon=True).start()

    def result(self) -> dict[str, str]:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return dict(self._holders)
