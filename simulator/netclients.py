"""Small real network clients the simulated appliance uses: DNS, NTP, ping,
TCP connect, syslog. Stdlib only; each call is bounded by ``timeout`` and
answers in words, the way an appliance's Utilities page does.

Every function returns ``(ok, words)``; none raises for a network failure.
"""
from __future__ import annotations

import os
import random
import socket
import struct
import time

NTP_EPOCH = 2208988800


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "no answer (timed out)"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc) or exc.__class__.__name__


def _exchange(server: str, port: int, packet: bytes, timeout: float,
              size: int) -> tuple[bool, bytes | str]:
    """One UDP question and its answer: (True, data) or (False, why)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.connect((server, port))
            s.send(packet)
            return True, s.recv(size)
        except OSError as exc:
            return False, _why(exc)


def dns_query(name: str, server: str, timeout: float = 2.0) -> tuple[bool, list[str] | str]:
    """Ask ``server`` (UDP 53) for the A records of ``name``. Returns
    (True, [addresses]) or (False, why: timed out, NXDOMAIN, ...)."""
    qid = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    ok, data = _exchange(server, 53, packet, timeout, 4096)
    if not ok:
        return False, data
    if len(data) < 12 or struct.unpack("!H", data[:2])[0] != qid:
        return False, "a malformed answer"
    flags, _qd, an = struct.unpack("!HHH", data[2:8])
    rcode = flags & 0xF
    if rcode:
        return False, {2: "server failure (SERVFAIL)", 3: "no such name (NXDOMAIN)",
                       5: "refused"}.get(rcode, f"error code {rcode}")
    pos = 12 + len(question) + 4
    found = []
    for _ in range(an):
        while pos < len(data) and data[pos] and data[pos] < 0xC0:
            pos += data[pos] + 1
        pos += 2 if pos < len(data) and data[pos] >= 0xC0 else 1
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            found.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return (True, found) if found else (False, "no address for that name")


def ntp_query(server: str, timeout: float = 2.0) -> tuple[bool, dict | str]:
    """One SNTP v4 client exchange with ``server`` (UDP 123). Returns
    (True, {stratum, offset, delay}) or (False, why)."""
    packet = bytearray(48)
    packet[0] = (0 << 6) | (4 << 3) | 3                 # no leap warning, v4, client
    t1 = time.time()
    struct.pack_into("!II", packet, 40, int(t1) + NTP_EPOCH, int((t1 % 1) * 2**32))
    ok, data = _exchange(server, 123, bytes(packet), timeout, 512)
    if not ok:
        return False, data
    t4 = time.time()
    if len(data) < 48:
        return False, "a malformed answer"
    leap, stratum = data[0] >> 6, data[1]
    if stratum == 0 or leap == 3:
        return False, "the server is not synchronised itself"

    def ts(off: int) -> float:
        sec, frac = struct.unpack("!II", data[off:off + 8])
        return sec - NTP_EPOCH + frac / 2**32

    t2, t3 = ts(32), ts(40)
    return True, {"stratum": stratum, "offset": ((t2 - t1) + (t3 - t4)) / 2,
                  "delay": (t4 - t1) - (t3 - t2)}


def tcp_connect(host: str, port: int, timeout: float = 3.0) -> tuple[bool, str]:
    """Open (and close) a TCP connection to host:port."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        return False, _why(exc)
    return True, f"connected in {(time.monotonic() - t0) * 1000:.1f} ms"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def ping(address: str, timeout: float = 1.5) -> tuple[bool, str]:
    """One ICMP echo to ``address`` (raw socket: root in the appliance's namespace)."""
    ident, seq = os.getpid() & 0xFFFF, random.randrange(65536)
    payload = b"bringup-ping"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    t0 = time.monotonic()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
            s.settimeout(timeout)
            s.sendto(packet, (address, 0))
            while True:
                left = timeout - (time.monotonic() - t0)
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                data, peer = s.recvfrom(1024)
                ihl = (data[0] & 0xF) * 4
                kind, _code, _c, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if peer[0] == address and kind == 0 and rid == ident and rseq == seq:
                    return True, f"reply in {(time.monotonic() - t0) * 1000:.1f} ms"
                if kind == 3 and data[ihl + 8 + 16:ihl + 8 + 20] == socket.inet_aton(address):
                    return False, "destination unreachable"
    except OSError as exc:
        return False, _why(exc) if not isinstance(exc, socket.timeout) else "no reply (timed out)"


def syslog_line(fmt: str, hostname: str, text: str, *, facility: int = 16, severity: int = 6,
                app: str = "appliance") -> str:
    """One syslog message: RFC 5424 or legacy BSD (RFC 3164), local0 by default."""
    pri = facility * 8 + severity
    host = hostname or "-"
    if fmt == "bsd":
        stamp = time.strftime("%b %d %H:%M:%S", time.localtime())
        stamp = stamp[:4] + stamp[4:6].replace("0", " ", 1) + stamp[6:] if stamp[4] == "0" else stamp
        return f"<{pri}>{stamp} {hostname or 'appliance'} {app}: {text}"
    now = time.time()
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return f"<{pri}>1 {iso} {host} {app} - - - {text}"


def syslog_send(server: str, line: str, port: int = 514, timeout: float = 3.0) -> tuple[bool, str]:
    """Send one message over TCP (newline framing, RFC 6587)."""
    try:
        with socket.create_connection((server, port), timeout=timeout) as s:
            s.sendall(line.encode("utf-8", "replace") + b"\n")
    except OSError as exc:
        return False, _why(exc)
    return True, f"sent over TCP {port}"
