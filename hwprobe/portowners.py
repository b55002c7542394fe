"""Programs other than NetworkManager that own a laptop port: find, hand off, give back.

A DHCP client left running on the port the technician picked puts its lease
back over the laptop address (dhcpcd does within seconds of a flush), and its
link-local fallback puts a 169.254.x.x/16 on the appliance's own network. So
bringup never claims a port while one of these can re-add an address.

Public API (everything in the network namespace of the calling thread):

``find(iface, ifindex) -> list[Owner]``
    dhclient, dhcpcd, systemd-networkd and avahi-autoipd processes of this
    network namespace that run DHCP or link-local addressing on ``iface``.
``hand_off(owner) -> None``
    dhclient and avahi-autoipd are stopped (SIGTERM, waited for); dhcpcd is
    told over its control socket to release just this port (``-k IF``), so it
    keeps serving the laptop's other ports. systemd-networkd cannot be asked
    safely: LinkError with the exact commands to run. LinkError too when the
    owner does not let go within a few seconds.
``give_back(saved) -> str``
    Start what was handed off again, as it was: dhclient / avahi-autoipd with
    their own command line, in their own mount namespace; dhcpcd is asked to
    rebind the port (``-n IF``), which dhcpcd 9.4 ignores for a released port:
    then the LinkError says to restart dhcpcd. Returns the sentence to tell the technician; raises
    LinkError with the command to run by hand when it cannot.

``Owner.saved()`` is the JSON-able record kept in the link journal, so
``bringup restore-link`` can give the port back after a crash too.
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LinkError

KINDS = ("dhclient", "dhcpcd", "systemd-networkd", "avahi-autoipd")
_COMM = {"dhclient": "dhclient", "dhcpcd": "dhcpcd", "systemd-network": "systemd-networkd",
         "avahi-autoipd": "avahi-autoipd"}
STOP_SECONDS = 5.0


@dataclass
class Owner:
    """One program that owns the port."""

    kind: str                       # one of KINDS
    pid: int
    argv: list[str]
    mount_ns: int                   # inode of its mount namespace
    pids: list[int] = field(default_factory=list)   # all its processes (dhcpcd: helpers)

    def saved(self) -> dict:
        return {"kind": self.kind, "pid": self.pid, "argv": self.argv,
                "mount_ns": self.mount_ns}

    def command(self) -> str:
        return shlex.join(self.argv)


def _netns() -> int:
    return os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net").st_ino


def _processes():
    """(pid, comm, argv, state) of every process in this network namespace."""
    own = _netns()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry / "ns" / "net").st_ino != own:
                continue
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
        state = stat.rsplit(")", 1)[1].split()[0]
        if state != "Z":
            yield int(entry.name), comm, [a.decode(errors="replace") for a in argv if a], state


def _mount_ns(pid: int) -> int:
    try:
        return os.stat(f"/proc/{pid}/ns/mnt").st_ino
    except OSError:
        return 0


def _networkd_manages(pid: int, ifindex: int) -> bool:
    # networkd's state files are in its own /run: read them through its root
    path = Path(f"/proc/{pid}/root/run/systemd/netif/links/{ifindex}")
    try:
        text = path.read_text()
    except OSError:
        return True  # cannot tell: assume it does, the refusal names the fix
    return "ADMIN_STATE=unmanaged" not in text


def find(iface: str, ifindex: int) -> list[Owner]:
    """The programs of this network namespace that address ``iface``."""
    found: dict[str, Owner] = {}
    dhcpcd_titles: list[tuple[int, list[str]]] = []
    for pid, comm, argv, _state in _processes():
        kind = _COMM.get(comm)
        if kind is None:
            continue
        if kind == "dhcpcd":
            dhcpcd_titles.append((pid, argv))
            continue
        args = [a for a in argv[1:] if not a.startswith("-")]
        if kind == "systemd-networkd":
            if not _networkd_manages(pid, ifindex):
                continue
        elif iface not in argv[1:] and args:
            continue  # runs on other ports only (no port named means all of them)
        found.setdefault(f"{kind}:{pid}", Owner(kind, pid, argv, _mount_ns(pid), [pid]))
    if dhcpcd_titles:
        # dhcpcd rewrites its title: "dhcpcd: [manager] [ip4]", helpers per port
        # ("dhcpcd: [BPF BOOTP] lan0"); a manager with none for this port may
        # still start one at the next carrier change, so it owns the port too
        manager = next((p for p, a in dhcpcd_titles if "[manager]" in " ".join(a)),
                       dhcpcd_titles[0][0])
        found["dhcpcd"] = Owner("dhcpcd", manager, dhcpcd_titles[0][1], _mount_ns(manager),
                                [p for p, _ in dhcpcd_titles])
    return list(found.values())


def _dhcpcd_port_helpers(iface: str) -> list[int]:
    return [pid for pid, comm, argv, _ in _processes()
            if comm == "dhcpcd" and iface in " ".join(argv).split()]


def _dhcpcd_control(owner: Owner | dict, *args: str) -> None:
    """Send ``dhcpcd ARGS`` to the manager's control socket (what the dhcpcd
    command does; its own front end refuses -k IF for a manager)."""
    pids = owner.pids if isinstance(owner, Owner) else [p for p, c, _, _ in _processes()
                                                        if c == "dhcpcd"]
    # the manager runs chrooted; its privileged helper still sees /run
    paths = [f"/proc/{p}/root/run/dhcpcd/sock" for p in pids]
    path = next((p for p in paths if os.path.exists(p)), None)
    if path is None:
        raise LinkError("dhcpcd runs but its control socket (/run/dhcpcd/sock) is gone")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(path)
        s.sendall(b"\0".join(a.encode() for a in ("dhcpcd", *args)) + b"\0")
        time.sleep(0.1)  # dhcpcd reads the whole request before the close


def _wait(gone, what: str) -> None:
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        if gone():
            return
        time.sleep(0.05)
    raise LinkError(what)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def refusal(owner: Owner, iface: str) -> str | None:
    """The sentence refusing the port when ``owner`` cannot be handed off."""
    if owner.kind == "systemd-networkd":
        drop_in = f"/run/systemd/network/00-bringup-{iface}.network"
        return (f"systemd-networkd manages {iface} and would put its address back. "
                f"Hand it over first: printf '[Match]\\nName={iface}\\n[Link]\\n"
                f"Unmanaged=yes\\n' | sudo tee {drop_in} && sudo networkctl reload; "
                f"afterwards: sudo rm {drop_in} && sudo networkctl reload")
    return None


def hand_off(owner: Owner, iface: str) -> None:
    """Make ``owner`` let go of ``iface`` for good; raises LinkError if it won't."""
    why = refusal(owner, iface)
    if why:
        raise LinkError(why)
    if owner.kind == "dhcpcd":
        _dhcpcd_control(owner, "-k", iface)
        _wait(lambda: not _dhcpcd_port_helpers(iface),
              f"dhcpcd did not release {iface}; run `sudo dhcpcd -k {iface}` (or stop "
              f"dhcpcd) and try again")
        return
    try:
        os.kill(owner.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    _wait(lambda: not _alive(owner.pid),
          f"{owner.kind} (pid {owner.pid}) did not stop; run `sudo kill {owner.pid}` "
          f"and try again")


def _anchor(mount_ns: int) -> int | None:
    """A live process of mount namespace ``mount_ns`` to start a program in."""
    if mount_ns == _mount_ns(os.getpid()):
        return os.getpid()
    for pid, _comm, _argv, _ in _processes():
        if _mount_ns(pid) == mount_ns:
            return pid
    return None


def give_back(saved: dict, iface: str) -> str:
    """Start what ``hand_off`` stopped; returns what to tell the technician.
    Raises LinkError naming the command to run by hand when it cannot."""
    kind, argv = saved["kind"], saved["argv"]
    if kind == "dhcpcd":
        try:
            _dhcpcd_control(saved, "-n", iface)
        except (OSError, LinkError) as exc:
            raise LinkError(f"could not give {iface} back to dhcpcd ({exc}): run "
                            f"`sudo dhcpcd -n {iface}`") from None
        # dhcpcd 9.4 takes the rebind but does not start a released port again
        # until it restarts: say so rather than claim it is back
        try:
            _wait(lambda: _dhcpcd_port_helpers(iface), "")
        except LinkError:
            raise LinkError(f"dhcpcd did not take {iface} up again by itself; restart it "
                            f"to get its lease back: sudo systemctl restart dhcpcd "
                            f"(or sudo dhcpcd -x && sudo dhcpcd)") from None
        return f"dhcpcd runs DHCP on {iface} again"
    command = shlex.join(argv)
    anchor = _anchor(saved.get("mount_ns", 0))
    if anchor is None:
        raise LinkError(f"could not start {kind} again on {iface} (its mount namespace "
                        f"is gone): run `sudo {command}`")
    prefix = [] if anchor == os.getpid() else ["nsenter", f"--mount=/proc/{anchor}/ns/mnt"]
    try:
        # a DHCP client outlives bringup, as it did before: its own session, no terminal
        subprocess.Popen([*prefix, *argv], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
    except OSError as exc:
        raise LinkError(f"could not start {kind} again on {iface} ({exc}): "
                        f"run `sudo {command}`") from None
    return f"{kind} runs on {iface} again ({command})"
