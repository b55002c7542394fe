"""A probe builds and reads its ARP frames itself: scapy (over a second to
import) is not loaded on the way to the first ARP round, nor when the
appliance answers; only a search that finds nothing loads it, to listen on
the cable and write the capture. scapy is also the independent peer that
builds the frames the reader is checked against."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_importing_probe_and_the_takeover_does_not_load_scapy():
    r = run("import sys; from hwprobe.port import probe, takeover, recovery, interfaces, journal;"
            "from bringup.commands import probe as c;"
            "sys.exit(1 if 'scapy' in sys.modules else 0)")
    assert r.returncode == 0, r.stderr


def test_a_probe_and_its_preload_never_load_scapy():
    r = run("import sys; from hwprobe.port import probe; probe.preload();"
            "import bringup.commands.probe;"
            "sys.exit(1 if 'scapy' in sys.modules else 0)")
    assert r.returncode == 0, r.stderr


def test_what_bringup_probe_needs_before_its_first_arp_probe_stays_small():
    """``bringup probe`` reads the port and sends the address check's first
    probes before the rest of bringup loads: that path must not pull in the
    heavy modules again (dataclasses brings inspect; hashlib OpenSSL)."""
    r = run("import sys; import bringup.cli, bringup.runlog, bringup.commands.probe;"
            "from hwprobe.port import arp, interfaces, privileges;"
            "heavy = [m for m in ('dataclasses', 'inspect', 'hashlib', 'ssl', 'pyroute2',"
            " 'hwprobe.port.probe', 'hwprobe.port.takeover', 'hwprobe.port.recovery',"
            " 'hwprobe.port.linkstate', 'hwprobe.port.networkmanager', 'hwprobe.port.address',"
            " 'hwprobe.port.journal') if m in sys.modules];"
            "print(heavy); sys.exit(1 if heavy else 0)")
    assert r.returncode == 0, r.stdout + r.stderr


def test_arp_frames_match_what_scapy_builds_and_reads():
    from scapy.layers.l2 import ARP, Ether

    from hwprobe.port import probe

    mac = bytes.fromhex("020000000001")
    ours = probe._arp_frame(mac, "169.254.1.3")
    theirs = Ether(ours)
    assert theirs[ARP].op == 1 and theirs[ARP].pdst == "169.254.1.3"
    assert theirs[ARP].psrc == "0.0.0.0" and theirs.dst == "ff:ff:ff:ff:ff:ff"
    assert probe._arp_frame(mac, "169.254.1.3", "169.254.1.254")[28:32] == bytes([169, 254, 1, 254])
    reply = bytes(Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:09")
                  / ARP(op=2, hwsrc="02:00:00:00:00:09", psrc="169.254.1.3",
                        hwdst="02:00:00:00:00:01", pdst="0.0.0.0"))
    assert probe._arp_reply(reply) == ("169.254.1.3", "02:00:00:00:00:09", "0.0.0.0")
    assert probe._arp_reply(bytes(Ether() / ARP(op=1))) is None     # a request, not a reply


FIRST_ROUND = (
    "import json, os, sys\n"
    "from bringup.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'scapy')\n"
    "os.write(2, ('\\nLOADED ' + json.dumps({'rc': rc, 'scapy': loaded[:3]}) + '\\n').encode())\n")


@pytest.mark.lab
def test_the_first_arp_round_loads_no_scapy_only_a_silent_search_s_listen_does(lab, state_dir):
    """A whole `bringup probe` in the lab's laptop namespace: with the appliance
    answering, scapy is never imported (the first ARP round is the hand-built
    frame); a search that finds nothing imports it to listen and write the
    capture (the positive control: the check can fail)."""
    from lab_helpers import bringup_env

    def probe(*args) -> dict:
        r = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-c",
                            FIRST_ROUND, "probe", "--iface", "lan0", *args],
                           capture_output=True, text=True, timeout=60, cwd=ROOT,
                           env=bringup_env(state_dir))
        [line] = [x for x in r.stderr.splitlines() if x.startswith("LOADED ")]
        return json.loads(line.split(" ", 1)[1])

    found = probe("--json")
    assert found == {"rc": 0, "scapy": []}
    silent = probe("--address", "169.254.1.3", "--listen", "1")     # nobody holds .3
    assert silent["rc"] == 1 and silent["scapy"], silent
