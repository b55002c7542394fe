"""The link journal: what a laptop port looked like before bringup touched it.

Written under ``hwprobe.constants.state_dir()`` *before* any change to a port,
so that a crash or SIGKILL leaves enough on disk for ``bringup restore-link``
(or the next start) to put the port back. Every write is atomic (temporary file,
fsync, rename), so a reader sees the old record or the new one, never half.

Records are keyed by interface name AND network namespace (the inode of
``/proc/self/ns/net`` of the calling thread), so two lab namespaces' ``lan0``
never collide. Files: ``STATE/links/ns<inode>-<iface>.json``.

Public API:
  ``LinkRecord``                           the saved state of one port
  ``save(record)``                         write (or overwrite) it atomically
  ``load(iface) -> LinkRecord | None``     this namespace's record for a port
  ``records() -> list[LinkRecord]``        every record of this namespace
  ``remove(iface)``                        forget it (after a give-back)
  ``netns_inode() -> int``                 this thread's network namespace id
  ``pin_fingerprint(address, sha256)``     remember an appliance's TLS cert
  ``pinned_fingerprint(address) -> str | None``
  ``forget_fingerprint(address)``

Fingerprints are stored as 64 lower-case hex digits (colons and case in the
argument are ignored). Raises ``OSError`` when the state directory cannot be
written; ``ValueError`` for a malformed fingerprint.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .constants import state_dir
from .fsutil import atomic_write

FORMAT = 1


@dataclass
class SavedAddress:
    """One address as the kernel had it (``ip addr`` terms)."""

    address: str
    prefixlen: int
    family: int = 4                  # 4 | 6
    broadcast: str | None = None
    label: str | None = None
    scope: int = 0
    dynamic: bool = False            # has a lease time (DHCP): its client puts it back

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass
class SavedRoute:
    """A route through the port that the kernel does not re-create by itself."""

    dst: str | None                  # None = default route
    dst_len: int
    gateway: str | None = None
    priority: int | None = None
    proto: int = 4                   # RTPROT_STATIC
    family: int = 4


@dataclass
class LinkRecord:
    """A port's state before takeover, plus what bringup did to it."""

    iface: str
    netns: int
    ifindex: int
    mac: str
    was_up: bool
    addresses: list[SavedAddress] = field(default_factory=list)
    routes: list[SavedRoute] = field(default_factory=list)
    networkmanager: bool | None = None   # True: bringup set it unmanaged
    claimed: str | None = None           # "169.254.1.254/24" once added
    port_owners: list = field(default_factory=list)  # DHCP clients handed off (hwprobe.portowners)
    owner_pid: int = 0
    owner_start: str = ""                # process start time, guards pid reuse
    taken_at: float = 0.0
    format: int = FORMAT

    def describe(self) -> str:
        """``"10.99.0.5/24, down"`` — the state bringup will give back."""
        addrs = ", ".join(str(a) for a in self.addresses) or "no address"
        return f"{addrs}, {'up' if self.was_up else 'down'}"

    def owner_alive(self) -> bool:
        """True while the process that wrote this record still runs."""
        return bool(self.owner_pid) and process_start(self.owner_pid) == self.owner_start

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LinkRecord":
        raw = json.loads(text)
        raw["addresses"] = [SavedAddress(**a) for a in raw.get("addresses", [])]
        raw["routes"] = [SavedRoute(**r) for r in raw.get("routes", [])]
        return cls(**raw)


def netns_inode() -> int:
    """Inode of this thread's network namespace (what ``ip netns identify`` uses)."""
    # /proc/self/ns/net is the main thread's; a thread moved by setns differs
    return os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net").st_ino


def process_start(pid: int) -> str:
    """Start time of ``pid`` in clock ticks since boot ("" when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _links_dir() -> Path:
    d = state_dir() / "links"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _path(iface: str, netns: int | None = None) -> Path:
    if not re.fullmatch(r"[\w.:@-]{1,15}", iface):
        raise ValueError(f"not an interface name: {iface!r}")
    return _links_dir() / f"ns{netns if netns is not None else netns_inode()}-{iface}.json"


def save(record: LinkRecord) -> Path:
    """Write ``record`` atomically; returns the file's path. Raises OSError."""
    record.owner_pid = record.owner_pid or os.getpid()
    record.owner_start = record.owner_start or process_start(record.owner_pid)
    record.taken_at = record.taken_at or time.time()
    path = _path(record.iface, record.netns)
    atomic_write(path, record.to_json())
    return path


def load(iface: str, netns: int | None = None) -> LinkRecord | None:
    """This namespace's record for ``iface``, or None when there is none.

    A record that cannot be parsed is moved aside (``*.bad``) and None returned,
    so one damaged file never blocks the technician.
    """
    path = _path(iface, netns)
    try:
        return LinkRecord.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError):
        path.rename(path.with_suffix(".bad"))
        return None


def records(netns: int | None = None) -> list[LinkRecord]:
    """Every record of this (or the given) namespace, sorted by interface."""
    ns = netns if netns is not None else netns_inode()
    out = []
    for path in sorted(_links_dir().glob(f"ns{ns}-*.json")):
        rec = load(path.stem.split("-", 1)[1], ns)
        if rec is not None:
            out.append(rec)
    return out


def remove(iface: str, netns: int | None = None) -> None:
    """Forget the record for ``iface``; harmless when there is none."""
    try:
        _path(iface, netns).unlink()
    except FileNotFoundError:
        pass


# --- pinned appliance certificates ---------------------------------------------

def _pins_path() -> Path:
    d = state_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d / "pins.json"


@contextmanager
def _pins_locked():
    path = _pins_path()
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                pins = json.loads(path.read_text())
            except (FileNotFoundError, ValueError):
                pins = {}
            yield pins
            atomic_write(path, json.dumps(pins, indent=2, sort_keys=True))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _normal_fingerprint(sha256: str) -> str:
    fp = sha256.replace(":", "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise ValueError(f"not a SHA-256 fingerprint: {sha256!r}")
    return fp


def pin_fingerprint(address: str, sha256: str) -> None:
    """Remember ``sha256`` as the certificate of the appliance at ``address``.

    Overwrites an earlier pin. Raises ValueError for a malformed fingerprint,
    OSError when the state directory cannot be written.
    """
    fp = _normal_fingerprint(sha256)
    with _pins_locked() as pins:
        pins[address] = {"sha256": fp, "pinned_at": time.time()}


def pinned_fingerprint(address: str) -> str | None:
    """The pinned SHA-256 (64 lower-case hex digits) for ``address``, or None."""
    try:
        pins = json.loads(_pins_path().read_text())
    except (FileNotFoundError, ValueError):
        return None
    entry = pins.get(address)
    return entry["sha256"] if entry else None


def forget_fingerprint(address: str) -> None:
    """Drop the pin for ``address`` (a re-imaged appliance); harmless if none."""
    with _pins_locked() as pins:
        pins.pop(address, None)
