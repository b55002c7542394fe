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

Raises ``OSError`` when the state directory cannot be written. A file that
cannot be read back (truncated, ``[]``, ``null``, wrong types) is never set aside
silently: ``LinkJournalDamaged`` / ``StateFileDamaged`` name it and say how to
fix it by hand (``fsutil.read_state_file`` does this for every state file).
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hwprobe.constants import link_journal_file, netns_inode, state_dir  # noqa: F401 - netns_inode: this API
from hwprobe.errors import StateFileDamaged
from hwprobe.fsutil import atomic_write

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
    port_owners: list = field(default_factory=list)  # DHCP clients handed off (hwprobe.port.owners)
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
        return bool(self.owner_pid and self.owner_start) and process_running(self.owner_pid,
                                                                             self.owner_start)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LinkRecord":
        """The record in ``text``. Raises ValueError (with what is wrong) for
        anything but a whole record with the right types."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"a record is a JSON object, not {type(raw).__name__}")
        for name, kind in _RECORD_TYPES.items():
            if not isinstance(raw.get(name), kind) or (kind is int and raw[name] is True):
                raise ValueError(f"{name!r} is missing or not a {kind.__name__}")
        for name in ("addresses", "routes", "port_owners"):
            if not isinstance(raw.get(name, []), list):
                raise ValueError(f"{name!r} is not a list")
        try:
            raw["addresses"] = [SavedAddress(**a) for a in raw.get("addresses", [])]
            raw["routes"] = [SavedRoute(**r) for r in raw.get("routes", [])]
            rec = cls(**raw)
        except TypeError as exc:     # an unknown or missing field, a list of non-objects
            raise ValueError(str(exc)) from None
        if not all(isinstance(a.address, str) and isinstance(a.prefixlen, int)
                   for a in rec.addresses):
            raise ValueError("an address is not an address and a prefix length")
        # a DHCP client's command line is run again at the give-back: only a whole one
        for owner in rec.port_owners:
            if not (isinstance(owner, dict) and isinstance(owner.get("kind"), str)
                    and isinstance(owner.get("argv"), list) and owner["argv"]
                    and all(isinstance(a, str) for a in owner["argv"])
                    and isinstance(owner.get("mount_ns", 0), int)):
                raise ValueError("a DHCP client it stopped is not a kind and a command line")
        return rec


_RECORD_TYPES = {"iface": str, "netns": int, "ifindex": int, "mac": str, "was_up": bool}


class LinkJournalDamaged(StateFileDamaged):
    """A link journal that cannot be read: ``path``, ``iface`` (from the file
    name) and ``why``. The port may still be taken over by a run that died;
    ``hwprobe.port.recovery`` tells the technician what it holds now."""

    def __init__(self, path: Path, iface: str, why: str):
        self.path, self.iface, self.why = path, iface, why
        super().__init__(f"the link journal {path} of {iface} is damaged ({why})")


def process_start(pid: int) -> str:
    """Start time of ``pid`` in clock ticks since boot ("" when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def process_running(pid: int, start: str = "") -> bool:
    """True while process ``pid`` runs and, given ``start`` (its
    process_start when recorded), is still that process, not a later one
    given the same pid. A process that has ended but is not reaped yet (a
    zombie: an orphan waits for init, seconds on some systems) does not run:
    it holds no port and no lock, and writes nothing more. Never raises."""
    try:
        fields = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return False
    return fields[0] not in ("Z", "X") and (not start or fields[19] == start)


def _links_dir() -> Path:
    d = state_dir() / "links"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _path(iface: str, netns: int | None = None) -> Path:
    if not re.fullmatch(r"[\w.:@-]{1,15}", iface):
        raise ValueError(f"not an interface name: {iface!r}")
    _links_dir()
    return link_journal_file(iface, netns)


def has_record(iface: str, netns: int | None = None) -> bool:
    """True when ``iface`` has a journal file in this (or the given)
    namespace, readable or not. Never raises; creates nothing."""
    if not re.fullmatch(r"[\w.:@-]{1,15}", iface):
        return False
    try:
        return link_journal_file(iface, netns).exists()
    except OSError:
        return False


def path_of(iface: str, netns: int | None = None) -> Path:
    """The file that holds ``iface``'s record (whether or not it exists)."""
    return _path(iface, netns)


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

    Raises LinkJournalDamaged for a record that cannot be read, or one that
    names another port or namespace than its file: it is left where it is,
    since setting it aside would let the next run journal the takeover
    address as the port's own.
    """
    path = _path(iface, netns)
    ns = netns if netns is not None else netns_inode()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LinkJournalDamaged(path, iface, getattr(exc, "strerror", None)
                                 or "not UTF-8 text") from None
    try:
        rec = LinkRecord.from_json(text)
    except ValueError as exc:
        raise LinkJournalDamaged(path, iface, str(exc) if text.strip() else "empty") from None
    if rec.iface != iface or rec.netns != ns:
        raise LinkJournalDamaged(path, iface, f"it names port {rec.iface!r} in namespace "
                                              f"{rec.netns}, not its own file's")
    return rec


def records(netns: int | None = None, damaged: list | None = None) -> list[LinkRecord]:
    """Every readable record of this (or the given) namespace, sorted by
    interface. Records that cannot be read are appended to ``damaged`` (as
    LinkJournalDamaged) when it is given, else the first one is raised."""
    ns = netns if netns is not None else netns_inode()
    out = []
    for path in sorted(_links_dir().glob(f"ns{ns}-*.json")):
        try:
            rec = load(path.stem.split("-", 1)[1], ns)
        except LinkJournalDamaged as exc:
            if damaged is None:
                raise
            damaged.append(exc)
            continue
        except ValueError:           # a file name that is no port name: not ours
            continue
        if rec is not None:
            out.append(rec)
    return out


def remove(iface: str, netns: int | None = None) -> None:
    """Forget the record for ``iface``; harmless when there is none."""
    try:
        _path(iface, netns).unlink()
    except FileNotFoundError:
        pass
