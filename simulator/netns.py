"""Network namespaces and the processes in them: the helpers every part of the
lab builds on (``lab``, ``production``, ``laptop``, ``services``), and the
lab's errors.

The lab imports nothing of bringup, so its errors are its own. Each carries
``exit_status`` as bringup's do (1 failed, 2 bad input, 3 needs root); the
command line (``bringup lab``, ``bringup demo``) turns them into bringup's
errors with the same words and status.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time


class LabError(Exception):
    """A lab could not be made, changed or removed; the message says why."""

    exit_status = 1


class LabBadInput(LabError):
    """A lab name, address or NIC that cannot be used; nothing was changed."""

    exit_status = 2


class LabNeedsRoot(LabError):
    """The lab makes network namespaces: it needs root."""

    exit_status = 3


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``ip ARGS`` and return what it did; LabError with ip's own words
    when it fails (unless ``check`` is False)."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def netns_exec(ns: str, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` inside namespace ``ns`` and wait; kwargs go to subprocess.run."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(["ip", "netns", "exec", ns, *argv], **kwargs)


def netns_popen(ns: str, argv: list[str], **kwargs) -> subprocess.Popen:
    """Start ``argv`` inside namespace ``ns`` without waiting."""
    return subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kwargs)


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def in_netns(ns: str):
    """Switch the calling thread into network namespace ``ns`` for the block.

    Sockets opened inside the block, and threads started inside it, belong to
    ``ns``; the thread returns to its own namespace afterwards.
    """
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/ns/net") as own, open(f"/run/netns/{ns}") as target:
        _setns(target.fileno())
        try:
            yield
        finally:
            _setns(own.fileno())


def check_root() -> None:
    """LabNeedsRoot when not root, LabError when iproute2 is missing."""
    if os.geteuid() != 0:
        raise LabNeedsRoot(
            "the lab creates network namespaces and needs root: run it with sudo"
        )
    if shutil.which("ip") is None:
        raise LabError("the lab needs iproute2 (`ip`): apt-get install iproute2")


def sysctl(ns: str, key: str, value: str) -> None:
    """Set ``key`` inside ``ns``; a key the kernel lacks is left alone."""
    netns_exec(ns, ["sysctl", "-q", "-w", f"{key}={value}"], check=False)


def namespaces() -> set[str]:
    """The names of the network namespaces on this machine (``ip netns``)."""
    r = ip("netns", "list", check=False)
    return {line.split()[0] for line in r.stdout.splitlines() if line.strip()}


def new_ns(ns: str, *, appliance: bool = False) -> None:
    """A namespace with IPv6 off and loopback up; an appliance's also answers
    ARP only on the NIC that holds the address (arp_ignore=1). LabError when
    ``ns`` exists already."""
    ip("netns", "add", ns)
    for key in ("all", "default"):
        sysctl(ns, f"net.ipv6.conf.{key}.disable_ipv6", "1")
        if appliance:
            sysctl(ns, f"net.ipv4.conf.{key}.arp_ignore", "1")
    ip("-n", ns, "link", "set", "lo", "up")


def stop_processes(pids: list[int], grace: float) -> None:
    """SIGTERM, up to ``grace`` seconds to end, then SIGKILL (and wait again)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive_now = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive_now.append(pid)
            except ProcessLookupError:
                pass
        if not alive_now:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            alive_now = [p for p in alive_now if alive(p)]
            if not alive_now:
                return
            time.sleep(0.05)
        pids = alive_now


def alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie of ours counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def stop_ns_processes(ns: str) -> None:
    """End every process in namespace ``ns`` (3 seconds' grace each)."""
    r = ip("netns", "pids", ns, check=False)
    stop_processes([int(p) for p in r.stdout.split() if p.isdigit()], grace=3)
