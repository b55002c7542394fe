"""What the listener makes of each kind of frame, in the technician's words:
frames built by scapy (the independent peer) and read by hwprobe.port.listen's
reader, no network needed. The lab tests (test_listen_lab.py) hear the same
things from real programs on a real cable."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwprobe.port import listen
from hwprobe.port.address import candidates_near
from hwprobe.port.heard import Heard, Listened, network_guess
from hwprobe.procedure.listening import advice
from hwprobe.safetext import unsafe_in

ROOT = Path(__file__).resolve().parent.parent
OWN = "02:00:00:00:00:99"


def heard(*frames) -> list[Heard]:
    """The findings of ``frames`` (scapy packets), as the listener makes them."""
    from scapy.layers.l2 import Ether

    ear = listen._Ear(listen._scapy(), OWN, None)
    for frame in frames:
        pkt = Ether(bytes(frame))
        pkt.time = time.time()
        ear.take(pkt)
    assert ear.unread == 0
    return ear.findings()


def test_an_earlier_sites_address_is_named_with_its_mac_vendor_and_gateway():
    from scapy.layers.l2 import ARP, Ether

    [found] = heard(Ether(src="00:1b:21:0a:0b:0c", dst="ff:ff:ff:ff:ff:ff")
                    / ARP(op=1, hwsrc="00:1b:21:0a:0b:0c", psrc="203.0.113.40",
                          pdst="203.0.113.1"))
    assert found.kind == "ipv4" and found.reachable and found.where == "203.0.113.40/24"
    assert found.words() == (
        "a device 00:1b:21:0a:0b:0c (Intel Corporate) is at 203.0.113.40/24: it may be an "
        "appliance holding an earlier site's address; it asks for 203.0.113.1; sends ARP")


def test_a_locally_administered_mac_has_no_vendor_and_a_wide_network_is_guessed_from_its_gateway():
    from scapy.layers.l2 import ARP, Dot1Q, Ether

    [found] = heard(Ether(src="02:b5:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=20)
                    / ARP(op=1, psrc="10.1.2.3", pdst="10.1.0.1"))
    assert found.where == "10.1.2.3/22" and found.vlan == 20
    assert "(a locally administered MAC: no vendor)" in found.words()
    assert "tagged for VLAN 20" in found.words()
    assert network_guess("203.0.113.40", ["203.0.113.1"]) == 24


def test_dhcp_discovers_are_named_with_host_name_and_vendor_class_escaped():
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    [found] = heard(Ether(src="02:b5:00:00:00:02", dst="ff:ff:ff:ff:ff:ff")
                    / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                    / BOOTP(op=1) / DHCP(options=[("message-type", "discover"),
                                                  ("hostname", b"old\x1b[2Jbox"),
                                                  ("vendor_class_id", b"\x9b31mB400"), "end"]))
    assert found.kind == "dhcp" and not found.reachable
    words = found.words()
    assert 'host name "old\\x1b[2Jbox"' in words and 'vendor class "\\x9b31mB400"' in words
    assert "asks for an address by DHCP" in words and not unsafe_in(words)


def test_lldp_cdp_and_spanning_tree_each_name_a_switch():
    from scapy.contrib.cdp import CDPMsgDeviceID, CDPMsgPortID, CDPv2_HDR
    from scapy.contrib.lldp import (LLDPDU, LLDPDUChassisID, LLDPDUEndOfLLDPDU,
                                    LLDPDUPortDescription, LLDPDUPortID, LLDPDUSystemName,
                                    LLDPDUTimeToLive)
    from scapy.layers.l2 import LLC, SNAP, STP, Dot3, Ether

    lldp = (Ether(src="00:11:22:00:00:03", dst="01:80:c2:00:00:0e") / LLDPDU()
            / LLDPDUChassisID(subtype=4, id="00:11:22:00:00:03")
            / LLDPDUPortID(subtype=7, id="ge-0-0-12") / LLDPDUTimeToLive(ttl=120)
            / LLDPDUPortDescription(description="access port 12")
            / LLDPDUSystemName(system_name="core-sw-3\x1b]0;x\x07") / LLDPDUEndOfLLDPDU())
    cdp = (Ether(src="00:11:22:00:00:04", dst="01:00:0c:cc:cc:cc") / LLC() / SNAP()
           / CDPv2_HDR(msg=[CDPMsgDeviceID(val=b"edge-7"), CDPMsgPortID(iface=b"Gi1/0/3")]))
    stp = Dot3(src="00:11:22:00:00:05", dst="01:80:c2:00:00:00") / LLC() / STP()
    found = heard(lldp, cdp, stp)
    assert [f.protocol for f in found] == ["LLDP", "CDP", "STP"]
    assert found[0].words() == ("this cable reaches a switch (core-sw-3\\x1b]0;x\\x07, port "
                                "ge-0-0-12, access port 12), not the appliance (LLDP)")
    assert "a switch (edge-7, port Gi1/0/3)" in found[1].words()
    assert "a switch (heard by STP)" in found[2].words()


def test_ipv6_link_local_only_is_named_with_its_mdns_name():
    from scapy.layers.dns import DNS, DNSRR
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether

    [found] = heard(Ether(src="02:00:00:00:00:05", dst="33:33:00:00:00:fb")
                    / IPv6(src="fe80::5", dst="ff02::fb") / UDP(sport=5353, dport=5353)
                    / DNS(qr=1, an=[DNSRR(rrname="b400\x07.local.", type="AAAA",
                                          rdata="fe80::5")]))
    assert found.kind == "ipv6"
    assert found.words() == ("a device 02:00:00:00:00:05 (a locally administered MAC: no "
                             "vendor) has only an IPv6 link-local address (fe80::5), calling "
                             "itself \"b400\\x07.local.\": it is up, with no IPv4 address heard")


def test_our_own_frames_and_rfc5227_probes_name_no_address():
    from scapy.layers.l2 import ARP, Ether

    found = heard(Ether(src=OWN, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="169.254.1.254"),
                  Ether(src="02:00:00:00:00:07", dst="ff:ff:ff:ff:ff:ff")
                  / ARP(psrc="0.0.0.0", pdst="192.0.2.9"))
    assert [f.kind for f in found] == ["other"]
    assert found[0].words().endswith("sends frames, but no address of its own was heard")


def test_a_flood_of_devices_is_remembered_up_to_its_limit_and_counted_beyond():
    from scapy.layers.l2 import ARP, Ether

    frames = [Ether(src=f"02:00:00:01:{n // 256:02x}:{n % 256:02x}") / ARP(
        psrc=f"10.0.{n // 256}.{n % 256 or 1}") for n in range(300)]
    ear = listen._Ear(listen._scapy(), OWN, None)
    for frame in frames:
        pkt = Ether(bytes(frame))
        pkt.time = 0.0
        ear.take(pkt)
    result = Listened(iface="lan0", seconds=5, heard=ear.findings(), more=len(ear.unlisted))
    assert len(result.heard) == listen.DEVICE_LIMIT and result.more == 300 - listen.DEVICE_LIMIT
    words = result.words()
    assert len(words) == 9 and words[-1] == "and 292 more device(s)"


def test_silence_no_carrier_and_what_to_do_next():
    silent = Listened(iface="lan0", seconds=5)
    assert silent.words() == ["nothing speaks on this cable (5 s with carrier on lan0): the "
                              "appliance may still be booting"]
    assert advice(silent, "lan0") == [
        "the cable may be in the other NIC of the appliance (move it and run again), or the "
        "appliance is still starting (wait, then run again)"]
    dead = Listened(iface="lan0", seconds=0, carrier=False)
    assert dead.words()[0].startswith("no carrier on lan0: check the cable")
    assert advice(dead, "lan0") == []
    device = Listened(iface="lan0", seconds=5, heard=[Heard("ipv4", "02:00:00:00:00:01",
                                                            address="203.0.113.40", prefix=24)])
    assert advice(device, "lan0") == ["reach 203.0.113.40 with --address 203.0.113.40/24"]


def test_the_laptop_takes_the_nearest_address_that_is_a_host_of_any_network_around_it():
    assert candidates_near("203.0.113.40", 24)[:3] == ["203.0.113.41", "203.0.113.42",
                                                       "203.0.113.44"]
    # .47 is the last of its /30, /29 and /28: never the broadcast of the appliance's network
    near = candidates_near("203.0.113.46", 24)
    assert near[0] == "203.0.113.45" and "203.0.113.47" not in near[:8]
    assert candidates_near("10.0.0.2", 8)[0] == "10.0.0.1"


def test_reading_findings_and_the_procedure_s_words_loads_no_scapy():
    r = subprocess.run([sys.executable, "-c",
                        "import sys; import hwprobe.port.heard, hwprobe.procedure.listening,"
                        " hwprobe.procedure.session, bringup.commands.probe;"
                        "sys.exit(1 if 'scapy' in sys.modules else 0)"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_capture_of_the_searchs_frames_is_a_pcap_scapy_reads_back(tmp_path):
    from scapy.utils import rdpcap

    from hwprobe.port.probe import _arp_frame

    frame = _arp_frame(bytes.fromhex("020000000001"), "169.254.1.1")
    path = tmp_path / "search.pcap"
    assert listen.write_capture(path, [(1700000000.25, frame)] * 3) == 3
    packets = rdpcap(str(path))
    assert [bytes(p) for p in packets] == [frame] * 3
    assert float(packets[0].time) == pytest.approx(1700000000.25, abs=1e-5)
    assert not list(tmp_path.glob(".*part"))
