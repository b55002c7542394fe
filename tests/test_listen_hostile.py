"""Hostile input on the cable while bringup listens: 100,000 frames of junk
(and names built to drive a terminal, in DHCP, LLDP and mDNS) keep bringup's
memory bounded (its own peak RSS, from wait4, under 150 MB), end the listen on
time, and no byte of a frame reaches the terminal raw: every name is shown
escaped, as the appliance's own text is (hwprobe/safetext.py)."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from lab_helpers import bringup_env, no_traceback
from hwprobe.safetext import unsafe_in

pytestmark = pytest.mark.lab

FLOOD = 100_000
LISTEN = 3.0
RSS_CAP_MB = 150
HOSTILE_HOST = b"old\x1b]2;pwned\x07\x1b[2Jbox"
HOSTILE_SWITCH = "sw\x9b31m\x1b[8m-core"
HOSTILE_MDNS = "b400\x1b[31m.local."


def hostile_frames() -> list[bytes]:
    """Named frames first (DHCP, LLDP, mDNS, each naming itself with terminal
    control), then junk: random bytes behind random source MACs."""
    from scapy.contrib.lldp import (LLDPDU, LLDPDUChassisID, LLDPDUEndOfLLDPDU, LLDPDUPortID,
                                    LLDPDUSystemName, LLDPDUTimeToLive)
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dns import DNS, DNSRR
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    named = [
        Ether(src="02:66:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / BOOTP(op=1)
        / DHCP(options=[("message-type", "discover"), ("hostname", HOSTILE_HOST),
                        ("vendor_class_id", b"\x1bP+q\x1b\\"), "end"]),
        Ether(src="02:66:00:00:00:02", dst="01:80:c2:00:00:0e") / LLDPDU()
        / LLDPDUChassisID(subtype=4, id="02:66:00:00:00:02")
        / LLDPDUPortID(subtype=7, id="\x1b[Hport") / LLDPDUTimeToLive(ttl=120)
        / LLDPDUSystemName(system_name=HOSTILE_SWITCH) / LLDPDUEndOfLLDPDU(),
        Ether(src="02:66:00:00:00:03", dst="01:00:5e:00:00:fb")
        / IP(src="192.0.2.33", dst="224.0.0.251") / UDP(sport=5353, dport=5353)
        / DNS(qr=1, an=[DNSRR(rrname=HOSTILE_MDNS, type="A", rdata="192.0.2.33")]),
    ]
    rng = random.Random(24)
    junk = [bytes([0x02]) + rng.randbytes(5) + b"\x02\x77" + rng.randbytes(4)
            + rng.randbytes(rng.randrange(50, 600)) for _ in range(512)]
    return [bytes(f) for f in named], junk


def test_a_flood_of_junk_while_listening_stays_bounded_on_time_and_escaped(make_lab,
                                                                          state_dir):
    from simulator.lab import in_netns

    lab = make_lab(start_sim=False)             # the cable in, nothing else answering
    p = lab.patch_ns
    # the patch panel's bridge is the cable: LLDP passes it, as on a real one
    for cmd in (["link", "set", f"br-{lab.plug}", "type", "bridge", "group_fwd_mask", "0x4000"],
                ["link", "add", "fld0", "type", "veth", "peer", "name", "fld1"],
                ["link", "set", "fld1", "master", f"br-{lab.plug}", "up"],
                ["link", "set", "fld0", "up"]):
        subprocess.run(["ip", "-n", p, *cmd], check=True)
    named, junk = hostile_frames()
    with in_netns(p):
        sender = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sender.bind(("fld0", 0))
    out, err = state_dir / "out", state_dir / "err"
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", "probe",
            "--iface", "lan0", "--listen", str(LISTEN)]
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(argv, env=bringup_env(state_dir), stdout=fo, stderr=fe,
                                stdin=subprocess.DEVNULL)
    sent = 0
    listening_at = None
    flood = None

    def send_all() -> None:
        """The named frames alone for a second (the listener's socket opens
        once scapy is loaded, and devices past its limit are only counted),
        then the flood, the named frames again every 5,000."""
        nonlocal sent
        with sender:
            until = time.monotonic() + 1.0
            while time.monotonic() < until:
                for frame in named:
                    sender.send(frame)
                time.sleep(0.05)
            for n in range(FLOOD):
                try:
                    sender.send(junk[n % len(junk)])
                except OSError:             # the veth's queue is full: the next one
                    time.sleep(0.0005)
                    continue
                sent += 1
                if n % 5000 == 0:
                    for frame in named:
                        sender.send(frame)

    try:
        while True:             # wait4: the process's own rusage (ip netns exec execs it)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if listening_at is None and "listening on lan0" in err.read_text():
                listening_at = time.monotonic()
                flood = threading.Thread(target=send_all)
                flood.start()
            if time.monotonic() - (listening_at or time.monotonic()) > LISTEN + 20:
                os.kill(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                pytest.fail("bringup still listened 20 s after its listen should have ended")
            time.sleep(0.01)
        ended = time.monotonic()
    finally:
        if flood is not None:
            flood.join()
    stdout, stderr = out.read_bytes(), err.read_bytes()
    text = (stdout + stderr).decode("utf-8", "surrogateescape")
    assert listening_at is not None, text
    assert os.waitstatus_to_exitcode(status) == 1, text
    assert no_traceback(text)
    rss_mb = usage.ru_maxrss / 1024
    took = ended - listening_at
    print(f"\nflood figures: {sent} junk frames sent, listen {LISTEN:g} s ended "
          f"{took:.2f} s after it began, peak RSS {rss_mb:.1f} MB")
    assert sent >= FLOOD * 0.9
    assert rss_mb < RSS_CAP_MB, rss_mb
    assert took < LISTEN + 2.5, took
    # no byte of a frame reaches the terminal raw; each name is there, escaped
    assert not unsafe_in(text), [c for c in unsafe_in(text)][:10]
    assert b"\x1b" not in stdout + stderr and b"\xc2\x9b" not in stdout + stderr
    assert 'host name "old\\x1b]2;pwned\\x07\\x1b[2Jbox"' in text, text
    assert "a switch (sw\\x9b31m\\x1b[8m-core, port \\x1b[Hport)" in text
    assert 'calling itself "b400\\x1b[31m.local."' in text
