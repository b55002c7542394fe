"""Finding the appliance: real scapy ARP on a real veth against the simulated
appliance, through `bringup probe` and through the API the console uses."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hwprobe.port import probe
from hwprobe.port.takeover import Takeover
from lab_helpers import second_port, sniff

pytestmark = pytest.mark.lab

BRINGUP = str(Path(sys.executable).with_name("bringup"))
MOVE_CABLE = "nothing answered on lan0: move the cable to the other NIC"


def bringup_probe(lab, *args, prefix=()):
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, *prefix, BRINGUP, "probe",
                           "--iface", "lan0", *args],
                          capture_output=True, text=True, timeout=60)


def sim_fingerprint(lab) -> str:
    """The simulator's certificate, read independently of hwprobe (openssl-free:
    plain ssl from the appliance namespace's own loopback view)."""
    import hashlib
    import ssl

    from simulator.lab import in_netns

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with in_netns(lab.appliance_ns):
        with socket.create_connection((lab.appliance_address, lab.https_port), 5) as raw:
            with ctx.wrap_socket(raw) as tls:
                return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def test_probe_finds_appliance_on_1_via_nic1(lab, state_dir):
    r = bringup_probe(lab, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["found"] and out["next"] == "https://169.254.1.1/appliance"
    [found] = out["responders"]
    assert found["address"] == "169.254.1.1"
    assert found["mac"] == lab.nic_macs["nic1"]
    assert found["https_ok"] is True
    assert found["fingerprint_sha256"] == sim_fingerprint(lab)
    assert found["conflict_macs"] == []
    assert out["first_answer_ms"] is not None and found["rtt_ms"] > 0


def test_probe_table_names_the_address_mac_and_certificate(lab, state_dir):
    r = bringup_probe(lab)
    assert r.returncode == 0, r.stderr
    assert "169.254.1.1" in r.stdout and lab.nic_macs["nic1"] in r.stdout
    fp = sim_fingerprint(lab).upper()
    assert ":".join(fp[i:i + 2] for i in range(0, 64, 2)) in r.stdout
    assert "next: https://169.254.1.1/appliance" in r.stdout
    assert "169.254.1.1 answered from" in r.stderr  # said as soon as it answered


def test_probe_finds_appliance_on_nic2_only_after_the_cable_moves(make_lab, state_dir):
    from simulator import lab as labmod

    lab = make_lab(appliance_address="169.254.1.4", answers_on="nic2", plug="nic1")
    r = bringup_probe(lab)
    assert r.returncode == 1, r.stderr
    assert MOVE_CABLE in r.stdout
    labmod.plug(lab.name, "nic2")
    r = bringup_probe(lab, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [x["address"] for x in out["responders"]] == ["169.254.1.4"]
    assert out["responders"][0]["mac"] == lab.nic_macs["nic2"]


def test_probe_with_no_appliance_at_all_says_to_move_the_cable(make_lab, state_dir):
    lab = make_lab(start_sim=False)  # cable in, nothing on the other end answers
    r = bringup_probe(lab, "--timeout", "0.5", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["responders"] == []
    assert MOVE_CABLE in r.stderr


def add_impostor(lab, address: str, nic: str = "nic1") -> str:
    """A second device on the appliance's segment (a veth in the patch panel's
    bridge) holding ``address``; returns its MAC."""
    ns = lab.patch_ns
    # strict ARP, else the patch panel's bridge would answer for imp0's address too
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                    "net.ipv4.conf.all.arp_ignore=1"], check=True)
    for cmd in (["link", "add", "imp0", "type", "veth", "peer", "name", "imp1"],
                ["link", "set", "imp1", "master", f"br-{nic}", "up"],
                ["addr", "add", f"{address}/24", "dev", "imp0"],
                ["link", "set", "imp0", "up"]):
        subprocess.run(["ip", "-n", ns, *cmd], check=True)
    shown = subprocess.run(["ip", "-n", ns, "-j", "link", "show", "imp0"],
                           capture_output=True, text=True, check=True).stdout
    return json.loads(shown)[0]["address"]


def test_two_devices_answering_for_one_address_is_a_conflict(lab, state_dir):
    impostor = add_impostor(lab, "169.254.1.1")
    r = bringup_probe(lab, "--no-https", "--json")
    assert r.returncode == 0, r.stderr
    [found] = json.loads(r.stdout)["responders"]
    assert {found["mac"], *found["conflict_macs"]} == {lab.nic_macs["nic1"], impostor}
    table = bringup_probe(lab, "--no-https")
    assert "CONFLICT: 169.254.1.1 answered from 2 devices" in table.stdout


def test_two_responders_on_different_addresses_are_both_reported(lab, state_dir):
    other = add_impostor(lab, "169.254.1.3")
    r = bringup_probe(lab, "--no-https", "--json")
    assert r.returncode == 0, r.stderr
    got = {x["address"]: x["mac"] for x in json.loads(r.stdout)["responders"]}
    assert got == {"169.254.1.1": lab.nic_macs["nic1"], "169.254.1.3": other}


def test_probe_api_reports_the_answer_before_https_and_does_not_wait_out_the_timeout(
        lab, state_dir):
    from simulator.lab import in_netns

    calls = []
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            result = probe.probe("lan0", held.address, timeout=30,
                                 on_answer=lambda r: calls.append((r.address, r.https_ok)))
    assert calls == [("169.254.1.1", None), ("169.254.1.1", True)]
    assert result.found and result.first_answer_ms is not None
    assert result.arp_ms < 10_000, "waited out the 30 s timeout for .2-.4"
    assert result.responders[0].fingerprint_sha256 == sim_fingerprint(lab)


def test_probe_can_be_cancelled_from_another_thread(make_lab, state_dir):
    from simulator.lab import in_netns

    lab = make_lab(start_sim=False)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with in_netns(lab.laptop_ns):
        with Takeover("lan0") as held:
            result = probe.probe("lan0", held.address, timeout=60, cancel=cancel)
    assert result.cancelled and not result.found


def test_probe_sends_nothing_on_any_other_port_of_the_laptop(lab, state_dir):
    ns = lab.laptop_ns
    # a second laptop port on the same link-local network: the tempting wrong way out
    second_port(ns)
    stop = threading.Event()
    on_other, on_lan0 = [], []
    sniffers = [sniff(ns, "other0", stop, on_other), sniff(ns, "lan0", stop, on_lan0)]
    try:
        r = bringup_probe(lab, "--force")  # other0's address makes lan0 look shared
    finally:
        stop.set()
        for t in sniffers:
            t.join()
    assert r.returncode == 0, r.stderr
    assert on_lan0, "the sniffer saw nothing on lan0 either: it is broken"
    assert on_other == []


def _route_dev(ns: str, address: str) -> str:
    out = subprocess.run(["ip", "-n", ns, "route", "get", address], check=True,
                         capture_output=True, text=True).stdout.split()
    return out[out.index("dev") + 1]


def test_a_second_port_on_the_same_network_carries_nothing_while_the_port_is_held(
        lab, state_dir):
    """The kernel's own answers are not bound to a port: a reset for a segment
    the appliance sends after bringup's connection is gone (a TLS ticket in
    flight, say) takes the best route to the appliance. With another port on
    the same network that route was the other port's, from lan0's address: it
    leaked there in one CI run in twenty. While lan0 is held, the appliance's
    network goes through lan0, and the routes saying so go with its address."""
    from simulator.lab import in_netns

    ns = lab.laptop_ns
    second_port(ns)
    assert _route_dev(ns, "169.254.1.1") == "other0"      # the tempting wrong way out
    stop = threading.Event()
    on_other: list = []
    sniffer = sniff(ns, "other0", stop, on_other)
    notes: list[str] = []
    try:
        with in_netns(ns):
            with Takeover("lan0", force=True, on_note=notes.append, handle_signals=False):
                held_routes = {a: _route_dev(ns, a) for a in
                               ("169.254.1.1", "169.254.1.4", "169.254.1.77", "169.254.1.200")}
                # a segment for no socket of the laptop (TCP 9 is closed there):
                # the laptop's reset must come back to the appliance through lan0
                with in_netns(lab.appliance_ns):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.settimeout(3)
                    with sock, pytest.raises(ConnectionRefusedError):
                        sock.connect(("169.254.1.254", 9))
    finally:
        stop.set()
        sniffer.join()
    assert set(held_routes.values()) == {"lan0"}, held_routes
    assert on_other == [], "the laptop sent on other0 while lan0 was held"
    assert any("other0 is also on 169.254.1.0/24: while bringup holds lan0" in n
               and "goes through lan0 only" in n for n in notes), notes
    # given back: the pinned routes went with the address; other0 is as it was
    assert _route_dev(ns, "169.254.1.1") == "other0"
    lan0_routes = subprocess.run(["ip", "-n", ns, "route", "show", "dev", "lan0"],
                                 capture_output=True, text=True, check=True).stdout
    assert lan0_routes.strip() == ""
    other_routes = subprocess.run(["ip", "-n", ns, "route", "show", "dev", "other0"],
                                  capture_output=True, text=True, check=True).stdout
    assert "169.254.1.0/24" in other_routes and "169.254.1.100" in other_routes


def test_probe_vv_says_bringup_s_every_step_and_no_library_chatter(lab, state_dir):
    r = bringup_probe(lab, "-vv")
    assert r.returncode == 0, r.stderr
    assert "169.254.1.1 answered from" in r.stderr and "lan0 given back" in r.stderr
    # pyroute2 logs every netlink message at DEBUG: the run log keeps it out, so must -vv
    assert "pyroute2" not in r.stderr and "netlink" not in r.stderr.lower(), r.stderr[-800:]
    assert "enqueue" not in r.stderr


def test_probe_without_privileges_exits_3_and_says_how_to_grant_them(lab, state_dir):
    r = bringup_probe(lab, prefix=["setpriv", "--reuid=nobody", "--regid=nogroup",
                                   "--clear-groups", "--"])
    assert r.returncode == 3, r.stderr
    assert "missing: CAP_NET_ADMIN, CAP_NET_RAW" in r.stderr
    assert "setcap cap_net_admin,cap_net_raw+ep" in r.stderr and "root" in r.stderr
    no_takeover = bringup_probe(lab, "--no-takeover",
                                prefix=["setpriv", "--reuid=nobody", "--regid=nogroup",
                                        "--clear-groups", "--"])
    assert no_takeover.returncode == 3
    assert "missing: CAP_NET_RAW" in no_takeover.stderr


def test_probe_refuses_a_port_with_an_office_address_without_force(lab, state_dir):
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "10.99.0.5/24", "dev", "lan0"],
                   check=True)
    subprocess.run(["ip", "-n", lab.laptop_ns, "route", "add", "default", "via", "10.99.0.1"],
                   check=True)
    stop = threading.Event()
    on_lan0: list = []
    sniffer = sniff(lab.laptop_ns, "lan0", stop, on_lan0)
    try:
        r = bringup_probe(lab)
    finally:
        stop.set()
        sniffer.join()
    assert r.returncode == 2
    assert "lan0 refused" in r.stderr and "default route" in r.stderr and "--force" in r.stderr
    # the search and the address check start before the takeover only on a port
    # it will take: a refused port (the office network) gets no ARP from bringup
    assert not [f for f in on_lan0 if f[12:14] == b"\x08\x06"]


def test_probe_on_an_unknown_port_is_bad_input(lab, state_dir):
    r = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, BRINGUP, "probe", "--iface",
                        "eth9"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "eth9" in r.stderr and "lan0" in r.stderr


def test_probe_without_takeover_uses_the_address_already_on_the_port(lab, state_dir):
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.250/24", "dev",
                    "lan0"], check=True)
    r = bringup_probe(lab, "--no-takeover", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["laptop_address"] == "169.254.1.250" and out["notes"] == []
    assert out["responders"][0]["https_ok"] is True


def test_probe_without_takeover_on_a_down_port_says_so(lab, state_dir):
    ns = lab.laptop_ns
    subprocess.run(["ip", "-n", ns, "addr", "add", "169.254.1.250/24", "dev", "lan0"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lan0", "down"], check=True)
    r = bringup_probe(lab, "--no-takeover")
    assert r.returncode == 1
    assert "lan0 is down" in r.stderr and "Traceback" not in r.stderr


def _arp(op: int, sender_mac: bytes, sender_ip: str, target_ip: str) -> bytes:
    """A broadcast Ethernet frame holding one ARP packet (op 1 request, 2 reply)."""
    return (b"\xff" * 6 + sender_mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04"
            + op.to_bytes(2, "big") + sender_mac + socket.inet_aton(sender_ip)
            + b"\x00" * 6 + socket.inet_aton(target_ip))


def test_unsolicited_and_gratuitous_arp_during_a_probe_are_not_answers(lab, state_dir):
    """Item 7: while bringup probes, the cable carries ARP nobody asked for:
    an unsolicited reply from 169.254.1.9 (to the laptop's address and to
    0.0.0.0, where a search from 0.0.0.0 hears its answers), and
    gratuitous announcements of 169.254.1.2 (a reply) and 169.254.1.4 (a
    request). Only the appliance that answered the probe is found, and the
    probe neither stops nor lists the others."""
    import time

    from simulator.lab import in_netns

    stop = threading.Event()
    sent = []

    def chatter() -> None:
        with in_netns(lab.appliance_ns):
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            sock.bind(("nic1", 0))
            # .9 answers nobody's question: to the laptop's address, and to
            # 0.0.0.0 (where the answers to a search from 0.0.0.0 go)
            frames = [_arp(2, b"\x02\x00\x00\x00\x00\x09", "169.254.1.9", "169.254.1.254"),
                      _arp(2, b"\x02\x00\x00\x00\x00\x09", "169.254.1.9", "0.0.0.0"),
                      _arp(2, b"\x02\x00\x00\x00\x00\x02", "169.254.1.2", "169.254.1.2"),
                      _arp(1, b"\x02\x00\x00\x00\x00\x04", "169.254.1.4", "169.254.1.4")]
            try:
                while not stop.is_set():
                    for frame in frames:
                        sock.send(frame)
                        sent.append(frame)
                    time.sleep(0.02)
            finally:
                sock.close()

    talker = threading.Thread(target=chatter, daemon=True)
    talker.start()
    try:
        r = bringup_probe(lab, "--json", "--timeout", "2")
    finally:
        stop.set()
        talker.join(5)
    assert len(sent) > 30                      # it talked all through the probe
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    out = json.loads(r.stdout)
    assert [x["address"] for x in out["responders"]] == ["169.254.1.1"], out["responders"]
    assert out["responders"][0]["conflict_macs"] == []
