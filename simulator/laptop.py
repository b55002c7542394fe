"""Real programs that own a laptop port, run in a lab's laptop namespace.

A technician's laptop is not an empty namespace: NetworkManager, dhclient or
dhcpcd own its Ethernet port. These start the real Debian programs on a lab's
``lan0`` without touching the host:

``start_networkmanager(lab)``  a private D-Bus system bus, then
    ``NetworkManager --no-daemon`` owning lan0 with one DHCP profile that
    autoconnects, as a laptop has. ``Peer.env`` holds DBUS_SYSTEM_BUS_ADDRESS
    for ``nmcli`` (and bringup) to find it.
``start_dhclient(lab)`` / ``start_dhcpcd(lab)``  ISC dhclient, or dhcpcd as a
    manager, on lan0.
``start_networkd(lab)``  systemd-networkd with a DHCPv4 .network for lan0.
``start_avahi_autoipd(lab)``  avahi-autoipd (IPv4 link-local) on lan0, as
    Debian's ifupdown and dhclient hooks start it (``-wD lan0``).
``start_dhcp_server(lab)``  dnsmasq in the patch panel on NIC1's bridge
    (10.99.0.1/24, leases 10.99.0.50-.99): a lease when a test needs one.
``start_ser2net(lab)``  ser2net on the host's loopback in front of the
    appliance's console pty: RFC 2217 and raw TCP on two free ports.

Every peer runs under ``ip netns exec`` and, when it writes system files,
``unshare --mount --uts`` with a tmpfs over ``/run`` and scratch directories
from the lab's run directory bound over ``/etc/resolv.conf``,
``/etc/NetworkManager``, ``/var/lib/NetworkManager``, ``/var/lib/dhcp`` and
``/var/lib/dhcpcd``, ``/var/lib/avahi-autoipd`` — never the host's. The lab directory is bound back into
the private ``/run`` so the peer still sees its files and the bus socket.

Each start returns a ``Peer`` once the program is ready, and records it in the
lab's ``lab.json``; ``Peer.stop()`` ends every process of the peer's mount
namespace (a DHCP client that bringup restarted included). ``lab.down`` removes
them all even after a crash: every peer but ser2net lives in a lab namespace,
and ser2net's pid is in lab.json.
Raises LabError (with the peer's log) when a program is missing or does not
come up.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .labfile import Lab, save
from .netns import LabError, netns_exec, stop_processes

READY_SECONDS = 15.0
DHCP_SUBNET = {"server": "10.99.0.1", "prefix": 24, "first": "10.99.0.50", "last": "10.99.0.99"}
NM_DHCP_TIMEOUT = 5          # seconds; a laptop's is 45, tests outlast it in seconds

NM_CONF = """\
[main]
plugins=keyfile
dns=none
rc-manager=unmanaged
hostname-mode=none
no-auto-default=*
auth-polkit=false

[keyfile]
unmanaged-devices=except:interface-name:{iface}

[connectivity]
enabled=false

[logging]
level=INFO
"""

NM_PROFILE = """\
[connection]
id=Wired connection 1
uuid=5f0b5a0e-6d1c-4d3b-9a51-0c6a2b6f1e01
type=ethernet
interface-name={iface}
autoconnect=true

[ipv4]
method=auto
dhcp-timeout={dhcp_timeout}

[ipv6]
method=ignore
"""

BUS_CONF = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


@dataclass
class Peer:
    """One real program on the lab's laptop side."""

    name: str
    proc: subprocess.Popen
    dir: Path
    log: Path
    env: dict = field(default_factory=dict)     # what a client needs to reach it
    info: dict = field(default_factory=dict)    # ports, addresses

    def mount_ns(self) -> int | None:
        try:
            return os.stat(f"/proc/{self.proc.pid}/ns/mnt").st_ino
        except OSError:
            return None

    def pids(self) -> list[int]:
        """Every live process of this peer (all of its private mount namespace)."""
        mnt = self.mount_ns()
        found = [self.proc.pid] if self.proc.poll() is None else []
        if mnt is None or mnt == os.stat("/proc/self/ns/mnt").st_ino:
            return found
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != self.proc.pid:
                try:
                    if os.stat(entry / "ns" / "mnt").st_ino == mnt:
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def stop(self, grace: float = 3.0) -> None:
        """End the peer and every process it (or bringup) started in its mount
        namespace; reaps our child. Harmless to repeat."""
        pids = self.pids()
        if pids:
            stop_processes(pids, grace)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=grace)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


def _need(program: str, package: str) -> str:
    path = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/sbin/{program}", f"/usr/lib/systemd/{program}")
         if os.access(p, os.X_OK)), None)
    if path is None:
        raise LabError(f"{program} is not installed: apt-get install {package}")
    return path


def _private_script(lab: Lab, binds: list[tuple[Path, str]], command: str,
                    read_only_sys: bool = False) -> str:
    """Shell lines that give the peer its own /run and scratch files, then run
    ``command``. The lab directory is entered before /run is covered and bound
    back from the working directory, which the tmpfs cannot hide."""
    lines = ["set -e"]
    for src, dst in binds:
        lines.append(f"mount --bind {shlex.quote(str(src))} {shlex.quote(dst)}")
    lines += [f"cd {shlex.quote(lab.dir)}",
              "mount -t tmpfs -o mode=0755 bringup-lab-run /run",
              f"mkdir -p {shlex.quote(lab.dir)}",
              f"mount --no-canonicalize --bind . {shlex.quote(lab.dir)}"]
    if read_only_sys:
        # with a writable /sys NetworkManager waits for udev forever
        lines.append("mount -o remount,ro /sys")
    lines.append(command)
    return "\n".join(lines)


def _spawn(lab: Lab, ns: str, name: str, argv: list[str], env: dict | None = None) -> Peer:
    d = Path(lab.dir) / "peers" / name
    d.mkdir(parents=True, exist_ok=True)
    log = d / "log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, **(env or {})})
    return Peer(name=name, proc=proc, dir=d, log=log)


def _in_private_mounts(lab: Lab, name: str, binds, command: str, read_only_sys=False,
                       env=None) -> Peer:
    script = _private_script(lab, binds, command, read_only_sys)
    return _spawn(lab, lab.laptop_ns, name,
                  ["unshare", "--mount", "--uts", "--propagation", "private",
                   "sh", "-c", script], env)


def _wait(peer: Peer, ready, what: str, timeout: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if peer.proc.poll() is not None:
            break
        time.sleep(0.02)
    peer.stop()
    raise LabError(f"{what} did not come up; its log ends:\n{peer.log_tail()}")


def _record(lab: Lab, peer: Peer) -> Peer:
    peers = dict(lab.peers or {})
    peers[peer.name] = {"pid": peer.proc.pid, "dir": str(peer.dir), **peer.info,
                        **({"env": peer.env} if peer.env else {})}
    lab.peers = peers
    save(lab)
    return peer


def _scratch(peer_dir: Path, *names: str) -> list[Path]:
    made = []
    for n in names:
        p = peer_dir / n
        if n.endswith(".conf"):
            p.write_text("# bringup lab: a scratch resolv.conf, never the host's\n")
        else:
            p.mkdir(parents=True, exist_ok=True)
        made.append(p)
    return made


def flush_port(lab: Lab) -> None:
    """Remove lan0's IPv4 addresses: NetworkManager would adopt a leftover one
    as an external connection instead of activating its profile."""
    netns_exec(lab.laptop_ns, ["ip", "-4", "addr", "flush", "dev", lab.laptop_iface])


# --- NetworkManager --------------------------------------------------------------

def start_networkmanager(lab: Lab, profile: bool = True) -> Peer:
    """A private system bus and NetworkManager owning lan0 (with a DHCP profile
    that autoconnects, unless ``profile=False``); ready when nmcli sees lan0
    managed. Raises LabError."""
    nm = _need("NetworkManager", "network-manager")
    _need("nmcli", "network-manager")
    dbus = _need("dbus-daemon", "dbus-daemon")
    d = Path(lab.dir) / "peers" / "networkmanager"
    etc, var, resolv = _scratch(d, "etc", "lib", "resolv.conf")
    (etc / "NetworkManager.conf").write_text(NM_CONF.format(iface=lab.laptop_iface))
    (etc / "system-connections").mkdir(exist_ok=True)
    if profile:
        keyfile = etc / "system-connections" / f"{lab.laptop_iface}.nmconnection"
        keyfile.write_text(NM_PROFILE.format(iface=lab.laptop_iface,
                                             dhcp_timeout=NM_DHCP_TIMEOUT))
        keyfile.chmod(0o600)  # NetworkManager ignores a keyfile others can read
    socket_path = d / "bus"
    (d / "bus.conf").write_text(BUS_CONF.format(socket=socket_path))
    bus = _spawn(lab, lab.laptop_ns, "dbus", [dbus, f"--config-file={d / 'bus.conf'}",
                                              "--nofork", "--nopidfile"])
    _wait(bus, socket_path.exists, "the lab's D-Bus system bus")
    _record(lab, bus)
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={socket_path}"}
    flush_port(lab)
    command = f"exec {nm} --no-daemon --config={etc / 'NetworkManager.conf'}"
    peer = _in_private_mounts(
        lab, "networkmanager",
        [(etc, "/etc/NetworkManager"), (var, "/var/lib/NetworkManager"),
         (resolv, "/etc/resolv.conf")], command, read_only_sys=True, env=env)
    peer.env = env
    peer.info = {"bus_pid": bus.proc.pid}
    peer.bus = bus  # type: ignore[attr-defined]

    def managed() -> bool:
        return nm_state(lab, env) not in ("", "unmanaged")

    try:
        _wait(peer, managed, "NetworkManager")
    except LabError:
        bus.stop()
        raise
    return _record(lab, peer)


def nm_state(lab: Lab, env: dict) -> str:
    """lan0's device state as NetworkManager says it (in English), '' when it
    does not answer."""
    r = netns_exec(lab.laptop_ns, ["nmcli", "-t", "-f", "DEVICE,STATE", "device"],
                   env={**os.environ, **env, "LC_ALL": "C"}, timeout=10)
    for line in r.stdout.splitlines():
        dev, _, state = line.partition(":")
        if dev == lab.laptop_iface:
            return state
    return ""


def stop_networkmanager(peer: Peer) -> None:
    peer.stop()
    bus = getattr(peer, "bus", None)
    if bus is not None:
        bus.stop()


# --- DHCP clients ----------------------------------------------------------------

def _holder(command: str) -> str:
    # the client backgrounds itself; the shell stays as the mount namespace's
    # anchor, so bringup can start the client again in the same namespace
    return f"{command}\nexec sleep infinity"


def start_dhclient(lab: Lab) -> Peer:
    """ISC dhclient on lan0 (backgrounded at once, as ifupdown starts it);
    ready when it runs. Raises LabError."""
    exe = _need("dhclient", "isc-dhcp-client")
    d = Path(lab.dir) / "peers" / "dhclient"
    leases, resolv = _scratch(d, "leases", "resolv.conf")
    iface = lab.laptop_iface
    command = (f"{exe} -4 -nw -v -pf /run/dhclient.{iface}.pid "
               f"-lf /var/lib/dhcp/dhclient.{iface}.leases {iface}")
    peer = _in_private_mounts(lab, "dhclient", [(leases, "/var/lib/dhcp"),
                                                (resolv, "/etc/resolv.conf")], _holder(command))
    _wait(peer, lambda: _named(peer, "dhclient"), "dhclient")
    return _record(lab, peer)


def start_dhcpcd(lab: Lab) -> Peer:
    """dhcpcd as a manager restricted to lan0, as a laptop runs it; ready when
    its control socket is up. Raises LabError."""
    exe = _need("dhcpcd", "dhcpcd-base")
    d = Path(lab.dir) / "peers" / "dhcpcd"
    leases, resolv = _scratch(d, "leases", "resolv.conf")
    conf = d / "dhcpcd.conf"
    # noarp: no 5 s address probe before each lease (the lab's cable has no
    # other host to clash with); the lease, its renewals and its fight back stay
    conf.write_text(f"allowinterfaces {lab.laptop_iface}\nipv4only\nnoipv6rs\nnoarp\n"
                    "option domain_name_servers, domain_name, routers\n")
    command = f"{exe} -b -M --nodev -f {conf}"
    peer = _in_private_mounts(lab, "dhcpcd", [(leases, "/var/lib/dhcpcd"),
                                              (resolv, "/etc/resolv.conf")], _holder(command),
                              read_only_sys=True)  # else it waits for udev, as NM does
    _wait(peer, lambda: _named(peer, "dhcpcd"), "dhcpcd")
    return _record(lab, peer)


def start_networkd(lab: Lab) -> Peer:
    """systemd-networkd running DHCPv4 on lan0 (a .network file in a scratch
    /etc/systemd/network, its state in a private /run); ready when it runs.
    Raises LabError."""
    exe = _need("systemd-networkd", "systemd")
    d = Path(lab.dir) / "peers" / "networkd"
    network, resolv = _scratch(d, "network", "resolv.conf")
    (network / f"50-{lab.laptop_iface}.network").write_text(
        f"[Match]\nName={lab.laptop_iface}\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\n")
    command = ("mkdir -p /run/systemd/netif\n"
               "chown systemd-network:systemd-network /run/systemd/netif\n"
               f"exec {exe}")
    peer = _in_private_mounts(lab, "networkd", [(network, "/etc/systemd/network"),
                                                (resolv, "/etc/resolv.conf")], command,
                              read_only_sys=True)
    _wait(peer, lambda: "Enumeration completed" in peer.log_tail(), "systemd-networkd")
    return _record(lab, peer)


def start_avahi_autoipd(lab: Lab) -> Peer:
    """avahi-autoipd claiming a 169.254.x.x/16 on lan0, started as Debian's
    hooks start it (``avahi-autoipd -wD lan0``, backgrounded once it has an
    address or gave up waiting); its state directory a scratch one. Ready when
    it runs (the address follows within seconds). Raises LabError."""
    import pwd

    exe = _need("avahi-autoipd", "avahi-autoipd")
    d = Path(lab.dir) / "peers" / "avahi-autoipd"
    state, resolv = _scratch(d, "state", "resolv.conf")
    try:
        user = pwd.getpwnam("avahi-autoipd")
        os.chown(state, user.pw_uid, user.pw_gid)   # it drops to this user in a chroot there
    except KeyError:
        pass
    command = f"{exe} -D {lab.laptop_iface}"
    peer = _in_private_mounts(lab, "avahi-autoipd", [(state, "/var/lib/avahi-autoipd"),
                                                     (resolv, "/etc/resolv.conf")],
                              _holder(command))
    _wait(peer, lambda: _named(peer, "avahi-autoipd"), "avahi-autoipd")
    return _record(lab, peer)


def _named(peer: Peer, comm: str) -> list[int]:
    out = []
    for pid in peer.pids():
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat.split("(", 1)[1].rsplit(")", 1)[0] == comm and stat.rsplit(")", 1)[1].split()[0] != "Z":
            out.append(pid)
    return out


# --- the patch side: a DHCP server -----------------------------------------------

def start_dhcp_server(lab: Lab, router: bool = False) -> Peer:
    """dnsmasq (DHCP only, no DNS) on NIC1's bridge in the patch panel: lan0
    gets a 10.99.0.x lease while the cable is in NIC1. ``router=True`` also
    hands out 10.99.0.1 as the gateway. Raises LabError."""
    exe = _need("dnsmasq", "dnsmasq-base")
    s = DHCP_SUBNET
    netns_exec(lab.patch_ns, ["ip", "addr", "replace", f"{s['server']}/{s['prefix']}",
                              "dev", "br-nic1"], check=True)
    d = Path(lab.dir) / "peers" / "dnsmasq"
    d.mkdir(parents=True, exist_ok=True)
    argv = [exe, "--keep-in-foreground", "--no-daemon", "--port=0", "--conf-file=/dev/null",
            "--no-resolv", "--no-hosts", "--interface=br-nic1", "--bind-interfaces",
            "--except-interface=lo", f"--dhcp-range={s['first']},{s['last']},255.255.255.0,2m",
            f"--dhcp-leasefile={d / 'leases'}",
            "--dhcp-authoritative", "--no-ping", "--log-dhcp"]
    if not router:
        argv.append("--dhcp-option=option:router")  # empty: no gateway offered
    peer = _spawn(lab, lab.patch_ns, "dnsmasq", argv)
    peer.info = dict(s)
    _wait(peer, lambda: "sockets bound" in peer.log_tail(), "dnsmasq")
    return _record(lab, peer)


# --- serial: ser2net in front of the appliance's console --------------------------

def start_ser2net(lab: Lab) -> Peer:
    """ser2net on the host's 127.0.0.1 only (two free ports), serving the
    appliance's console pty: RFC 2217 and raw TCP, as ``Peer.info["rfc2217"]``
    and ``["raw"]`` URLs. Not in the laptop namespace: there, with no address
    but loopback, ser2net's name lookups (AI_ADDRCONFIG) find nothing. Ready
    when both ports accept. Raises LabError."""
    import socket

    exe = _need("ser2net", "ser2net")
    if not lab.console:
        raise LabError("the lab has no appliance console to put ser2net in front of")
    device = os.path.realpath(lab.console)
    d = Path(lab.dir) / "peers" / "ser2net"
    d.mkdir(parents=True, exist_ok=True)
    ports = {}
    for kind in ("rfc2217", "raw"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[kind] = s.getsockname()[1]
    conf = d / "ser2net.yaml"
    conf.write_text("\n".join(
        f"connection: &{kind}\n"
        f"  accepter: {'telnet(rfc2217),' if kind == 'rfc2217' else ''}tcp,127.0.0.1,{port}\n"
        f"  connector: serialdev,{device},115200n81,local\n"
        f"  options:\n    kickolduser: true\n" for kind, port in ports.items()))
    log = d / "log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([exe, "-n", "-u", "-c", str(conf)], stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    peer = Peer(name="ser2net", proc=proc, dir=d, log=log)
    peer.info = {"device": device, **{f"{k}_port": v for k, v in ports.items()},
                 "rfc2217": f"rfc2217://127.0.0.1:{ports['rfc2217']}",
                 "raw": f"socket://127.0.0.1:{ports['raw']}"}

    def listening() -> bool:
        for port in ports.values():
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    return False
        return True

    _wait(peer, listening, "ser2net")
    return _record(lab, peer)
