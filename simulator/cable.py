"""What else a lab's cable can meet at its far end, as real programs.

``add_switch(lab)``
    The laptop's cable patched into a switch port instead of the appliance:
    namespace N-switch holds the switch's port ``ge-0-0-12`` (a veth whose
    far end is on the patch panel's ``br-switch``), and a real ``lldpd`` on
    it announces the switch (SWITCH: its name, port and port description)
    every second. The cable's far end moves to ``br-switch``: no appliance
    on that cable. ``lab.plug(name, "nic1")`` moves it to the appliance,
    ``plug(name, "switch")`` back.
``start_dhcp_client(lab)``
    The appliance set to DHCP (the simulator runs with ``--dhcp``, no
    address): a real ISC ``dhclient`` in the appliance namespace, on the NIC
    the cable is in, sends discovers with a host name and a vendor class
    (DHCP_CLIENT) about every two seconds; nothing on the cable answers.

Each is recorded in ``lab.json`` (``peers``); ``lab.down`` ends them with
their namespaces. lldpd runs in a private mount namespace (its own /run for
its chroot, its control socket in the lab's directory): nothing of the
host's is used or changed. Raises LabError (with the program's log) when a
program is missing or does not come up.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from .factory import NICS
from .labfile import Lab, save
from .laptop import Peer, _need, _private_script, _record, _spawn, _wait
from .netns import LabError, ip, new_ns

SWITCH = {"name": "core-sw-3.example.net", "port": "ge-0-0-12",
          "description": "access port 12", "bridge": "br-switch"}
DHCP_CLIENT = {"hostname": "b400-0012345", "vendor_class": "bringup-lab B400"}

LLDPD_CONF = """\
configure system hostname {name}
configure system description "bringup lab switch"
configure lldp tx-interval 1
configure ports {port} lldp portidsubtype local {port} description "{description}"
"""


def switch_ns(lab: Lab) -> str:
    return f"{lab.name}-switch"


def add_switch(lab: Lab) -> Peer:
    """The switch and its lldpd; the cable moved into its port. Returns the
    lldpd Peer once it announces. Raises LabError."""
    exe = _need("lldpd", "lldpd")
    ns, p, port = switch_ns(lab), lab.patch_ns, SWITCH["port"]
    new_ns(ns)
    # the patch panel's bridge is only the cable: it must pass LLDP (01:80:c2:00:00:0e),
    # which a Linux bridge keeps to itself unless told (group_fwd_mask bit 14), and
    # send nothing of its own (IGMP reports, with multicast snooping)
    ip("-n", p, "link", "add", SWITCH["bridge"], "type", "bridge", "stp_state", "0",
       "forward_delay", "0", "group_fwd_mask", "0x4000", "mcast_snooping", "0")
    ip("-n", p, "link", "set", SWITCH["bridge"], "up")
    ip("link", "add", port, "netns", ns, "type", "veth", "peer", "name", "s-port", "netns", p)
    ip("-n", p, "link", "set", "s-port", "master", SWITCH["bridge"], "up")
    ip("-n", ns, "link", "set", port, "up")
    d = Path(lab.dir) / "peers" / "lldpd"
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "lldpd.conf"
    conf.write_text(LLDPD_CONF.format(**SWITCH))
    socket_path = d / "lldpd.socket"
    # its privilege-separation chroot is /run/lldpd: a private /run, never the
    # host's (the lab's directory bound back into it, for the socket and conf)
    script = _private_script(lab, [], "mkdir -p /run/lldpd\n"
                             f"exec {shlex.quote(exe)} -d -k -I {port} "
                             f"-u {shlex.quote(str(socket_path))} -O {shlex.quote(str(conf))}")
    peer = _spawn(lab, ns, "lldpd", ["unshare", "--mount", "--propagation", "private",
                                     "sh", "-c", script])
    _wait(peer, lambda: "lldpd should resume operations" in peer.log_tail(), "lldpd")
    peer.info = {"ns": ns, **SWITCH}
    _record(lab, peer)
    _move_cable(lab, SWITCH["bridge"])
    lab.plug = "switch"
    save(lab)
    return peer


def _move_cable(lab: Lab, bridge: str) -> None:
    p = lab.patch_ns
    ip("-n", p, "link", "set", "cable", "down")
    ip("-n", p, "link", "set", "cable", "nomaster")
    ip("-n", p, "link", "set", "cable", "master", bridge)
    ip("-n", p, "link", "set", "cable", "up")


def start_dhcp_client(lab: Lab) -> Peer:
    """dhclient in the appliance namespace on the cable's NIC; ready when it
    runs. Raises LabError."""
    exe = _need("dhclient", "isc-dhcp-client")
    nic = lab.plug if lab.plug in NICS else (lab.answers_on if lab.answers_on in NICS
                                             else NICS[0])
    d = Path(lab.dir) / "peers" / "appliance-dhclient"
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "dhclient.conf"
    # discovers every second or two (a listen lasts 5 s), with the box's names
    conf.write_text(f'send host-name "{DHCP_CLIENT["hostname"]}";\n'
                    f'send vendor-class-identifier "{DHCP_CLIENT["vendor_class"]}";\n'
                    "initial-interval 1;\nbackoff-cutoff 2;\ntimeout 86400;\nretry 1;\n")
    # -sf /bin/true: a lease would change nothing outside the simulator's own
    # state (none comes: nothing on the cable answers)
    argv = [exe, "-4", "-d", "-v", "-cf", str(conf), "-lf", str(d / "leases"),
            "-pf", str(d / "pid"), "-sf", "/bin/true", nic]
    peer = _spawn(lab, lab.appliance_ns, "appliance-dhclient", argv)
    _wait(peer, lambda: "DHCPDISCOVER" in peer.log_tail(), "dhclient in the appliance")
    peer.info = {"ns": lab.appliance_ns, "nic": nic, **DHCP_CLIENT}
    return _record(lab, peer)


def check_plug(lab: Lab, where: str) -> str:
    """The bridge the cable goes into for ``where`` (nic1, nic2, or switch when
    the lab has one). Raises LabError."""
    if where == "switch":
        if "lldpd" not in (lab.peers or {}):
            raise LabError(f"lab {lab.name} has no switch (lab up --switch)")
        return SWITCH["bridge"]
    return f"br-{where}"
