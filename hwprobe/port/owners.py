"""Programs other than NetworkManager that own a laptop port: find, hand off, give back.

A DHCP client left running on the port the technician picked puts its lease
back over the laptop address (dhcpcd does within seconds of a flush), and its
link-local fallback puts a 169.254.x.x/16 on the appliance's own network. So
bringup never claims a port while one of these can re-add an address.

Public API (everything in the network namespace of the calling thread):

``find(iface, ifindex) -> list[Owner]``
    dhclient, dhcpcd, systemd-networkd and avahi-autoipd processes of this
    network namespace that run DHCP or link-local addressing on ``iface``.
``hand_off(owner, iface) -> str``
    dhclient and avahi-autoipd are stopped (SIGTERM, waited for). dhcpcd is
    paused (SIGSTOP on each of its processes): dhcpcd 9.4 with privilege
    separation serves one control-socket client and refuses every later one
    ("cannot handle another client"), so a port released with ``dhcpcd -k``
    can never be asked back without restarting dhcpcd for every port; paused,
    it cannot put its lease back, and its other ports keep their addresses.
    systemd-networkd cannot be asked safely: LinkError with the exact
    commands to run. LinkError too when the owner does not let go within a
    few seconds. Returns what was done, for the technician's notes.
``give_back(saved, iface) -> str``
    Start what was handed off again, as it was: dhclient / avahi-autoipd with
    their own command line, in their own mount namespace; dhcpcd resumes
    (SIGCONT) and puts its lease back by itself, as it does after any flush.
    Returns the sentence to tell the technician; raises LinkError with the
    command to run by hand when it cannot.

``Owner.saved()`` is the JSON-able record kept in the link journal, so
``bringup restore-link`` can give the port back after a crash too.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwprobe.errors import LinkError
from hwprobe.port.journal import process_running

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
                "mount_ns": self.mount_ns, "pids": self.pids}

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
        if kind == "avahi-autoipd":
            _add_autoipd(found, pid, argv, iface)
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


def _add_autoipd(found: dict, pid: int, argv: list[str], iface: str) -> None:
    """avahi-autoipd rewrites its title ("avahi-autoipd: [lan0] bound
    169.254.7.9", and its helper "... [lan0] callout dispatcher"), so the port
    comes from the title and the command to start it again is the one
    Debian's hooks use."""
    m = re.match(r"avahi-autoipd: \[([^\]]+)\]", " ".join(argv))
    port = m.group(1) if m else next((a for a in argv[1:] if not a.startswith("-")), iface)
    if port != iface:
        return
    owner = found.get("avahi-autoipd")
    if owner is None:
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = "/usr/sbin/avahi-autoipd"
        owner = found["avahi-autoipd"] = Owner("avahi-autoipd", pid, [exe, "-D", iface],
                                               _mount_ns(pid), [])
    owner.pids.append(pid)
    if "callout" not in " ".join(argv):
        owner.pid = pid          # the daemon itself; the helper follows it out


def _still_dhcpcd(pid: int, mount_ns: int) -> bool:
    """``pid`` is still the dhcpcd process it was (not a reused pid)."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return comm == "dhcpcd" and (not mount_ns or _mount_ns(pid) == mount_ns)


def _signal_all(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "Tt"
    except OSError:
        return True


def _wait(gone, what: str) -> None:
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        if gone():
            return
        time.sleep(0.05)
    raise LinkError(what)


def refusal(owner: Owner, iface: str) -> str | None:
    """The sentence refusing the port when ``owner`` cannot be handed off."""
    if owner.kind == "systemd-networkd":
        drop_in = f"/run/systemd/network/00-bringup-{iface}.network"
        return (f"systemd-networkd manages {iface} and would put its address back. "
                f"Hand it over first: printf '[Match]\\nName={iface}\\n[Link]\\n"
                f"Unmanaged=yes\\n' | sudo tee {drop_in} && sudo networkctl reload; "
                f"afterwards: sudo rm {drop_in} && sudo networkctl reload")
    return None


def hand_off(owner: Owner, iface: str) -> str:
    """Make ``owner`` let go of ``iface`` until give_back; returns what was
    done ("stopped it"). Raises LinkError if it won't."""
    why = refusal(owner, iface)
    if why:
        raise LinkError(why)
    if owner.kind == "dhcpcd":
        # the manager first, so it forks no new helper; then any it forked meanwhile
        _signal_all([owner.pid, *owner.pids], signal.SIGSTOP)
        more = [p for p, comm, _a, state in _processes()
                if comm == "dhcpcd" and p not in owner.pids and _mount_ns(p) == owner.mount_ns]
        _signal_all(more, signal.SIGSTOP)
        owner.pids += more
        _wait(lambda: all(_stopped(p) for p in owner.pids),
              f"dhcpcd (pid {owner.pid}) did not pause; stop it (`sudo systemctl stop "
              f"dhcpcd`) and try again")
        return "paused it (dhcpcd cannot be asked to take a released port back)"
    # the daemon only: avahi-autoipd's helper must outlive it to run the STOP
    # action, which takes its address and its default route away
    _signal_all([owner.pid], signal.SIGTERM)
    _wait(lambda: not any(process_running(p) for p in owner.pids or [owner.pid]),
          f"{owner.kind} (pid {owner.pid}) did not stop; run `sudo kill {owner.pid}` "
          f"and try again")
    return "stopped it"


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
        pids = [p for p in saved.get("pids") or [saved["pid"]]
                if _still_dhcpcd(p, saved.get("mount_ns", 0))]
        if not pids:
            raise LinkError(f"dhcpcd is no longer running: start it again to get {iface}'s "
                            f"lease back: sudo systemctl start dhcpcd (or sudo dhcpcd)")
        _signal_all(pids, signal.SIGCONT)
        return f"dhcpcd runs DHCP on {iface} again (it takes its lease back itself)"
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
