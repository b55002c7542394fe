"""The recovery kit folder: what ``bringup kit`` writes from a healthy
appliance, and what ``bringup readiness --kit`` (and the finish of a
replacement) reads.

    KIT/                                  0700
      manifest.json                       written last: the kit is complete iff it is there
      sheet-STEM.toml                     the /appliance settings (today's capture)
      login-backup-STEM.nsb               the /login backup as the appliance sent it
      certificate-HOSTNAME-STEM.p12       certificate, private key and chain (PKCS#12)
      <the update file's own name>        the site's update file, when one was given

STEM names the appliance as the vendor advises naming backup files: its
serial number, software version, base software version and system time, as
Status shows them (``B400-0012345_7.1.2_6.0.2_20261206T205142Z``). Every file
is 0600 and holds no secret in clear (the NSB and the key are encrypted with
passwords the kit does not keep).

Writing (``KitWriter``): each file goes to ``.NAME.part`` as it arrives,
hashed on the way, and only when every one is whole are they renamed and the
manifest written, so a kit cut short by a kill is never taken for a complete
one, and a refused run removes what it wrote. Reading (``read_kit``) says
what is wrong: ``KitUnreadable`` (exit 2: not a folder, a manifest that is
not one) or ``KitIncomplete`` (exit 1: no manifest, a listed file missing).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import queue
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from hwprobe.errors import BadInput, BringupError
from hwprobe.fsutil import check_output_folder, not_a_regular_file

KIT_FORMAT = 1
MANIFEST = "manifest.json"
PART = ".part"
# blocks at least this large are hashed behind the writing, on another thread
HASH_BEHIND = 64 * 1024
ROLES = ("sheet", "login_backup", "certificate", "site_update")
BLOCK = 1 << 20
Progress = Callable[[int, int | None], None]     # (bytes so far, total or None)


class KitUnreadable(BadInput):
    """The folder cannot be read as a kit at all (exit 2)."""


class KitIncomplete(BringupError):
    """The folder is a kit that is not whole (exit 1): interrupted, or a file gone."""


def name_part(text: str) -> str:
    """``text`` fit for a file name: letters, digits, '.', '-' and '_' kept."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.") or "unknown"


def time_stamp(system_time: str) -> str:
    """Status' system time ("2026-12-06 20:51:42 UTC") as 20261206T205142Z;
    any other shape keeps its digits."""
    found = re.match(r"\s*(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)", system_time or "")
    if found:
        y, mo, d, h, mi, s = found.groups()
        return f"{y}{mo}{d}T{h}{mi}{s}Z"
    return re.sub(r"\D", "", system_time or "") or "unknown-time"


def stem(serial: str, software_version: str, base_version: str, system_time: str) -> str:
    """The vendor's naming advice: version, serial, base version, system time."""
    return "_".join(name_part(p) for p in (serial, software_version, base_version)) \
        + "_" + time_stamp(system_time)


def file_names(appliance: dict, hostname: str) -> dict[str, str]:
    """The kit's file names for an appliance as Status shows it."""
    s = stem(appliance.get("serial", ""), appliance.get("software_version", ""),
             appliance.get("base_version", ""), appliance.get("system_time", ""))
    return {"sheet": f"sheet-{s}.toml", "login_backup": f"login-backup-{s}.nsb",
            "certificate": f"certificate-{name_part(hostname)}-{s}.p12"}


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class KitFile:
    """One file of the kit as the manifest lists it."""

    name: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """manifest.json: the appliance the kit was taken from, the certificate's
    hostname, and each file's size and SHA-256."""

    taken: str                                  # UTC, ISO 8601, when the kit was complete
    appliance: dict                             # model, serial, versions, system time, ...
    certificate: dict                           # hostname (to cover), sha256, not_after, ...
    files: dict[str, KitFile] = field(default_factory=dict)
    taken_by: str = ""
    kit: int = KIT_FORMAT

    def to_json(self) -> dict:
        return {"kit": self.kit, "taken": self.taken, "taken_by": self.taken_by,
                "appliance": self.appliance, "certificate": self.certificate,
                "files": {role: asdict(f) for role, f in self.files.items()}}

    @classmethod
    def from_json(cls, data, where: str) -> "Manifest":
        """KitUnreadable naming what is wrong with the manifest at ``where``."""
        def bad(why: str) -> KitUnreadable:
            return KitUnreadable(f"{where}: not a kit manifest bringup can read ({why})")

        if not isinstance(data, dict):
            raise bad("not a JSON object")
        if data.get("kit") != KIT_FORMAT:
            raise bad(f"kit format {data.get('kit')!r}, this bringup reads {KIT_FORMAT}")
        for key, kind in (("taken", str), ("appliance", dict), ("certificate", dict),
                          ("files", dict)):
            if not isinstance(data.get(key), kind):
                raise bad(f"{key!r} missing or not a {kind.__name__}")
        files = {}
        for role, entry in data["files"].items():
            try:
                # hex in either case: compared as hashlib writes it, lower case
                files[role] = KitFile(str(entry["name"]), int(entry["size"]),
                                      str(entry["sha256"]).lower())
            except (KeyError, TypeError, ValueError):
                raise bad(f"files.{role} lacks its name, size or sha256") from None
            if "/" in files[role].name or files[role].name.startswith("."):
                raise bad(f"files.{role} names {files[role].name!r}, not a file of the kit")
        return cls(taken=data["taken"], appliance=data["appliance"],
                   certificate=data["certificate"], files=files,
                   taken_by=str(data.get("taken_by", "")), kit=data["kit"])


def hash_file(path: Path, on_progress: Progress | None = None) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file, read block by block."""
    digest, size = hashlib.sha256(), 0
    total = path.stat().st_size
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            size += len(block)
            if on_progress:
                on_progress(size, total)
    return size, digest.hexdigest()


class PartFile:
    """A file of the kit being written: ``.NAME.part`` (0600), hashed as it
    is written. ``write`` takes bytes; the writer renames it at the end."""

    def __init__(self, folder: Path, name: str):
        self.name = name
        self.path = folder / f".{name}{PART}"
        # a new file, never through a link or onto something already there
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
        self._file: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        self._digest = hashlib.sha256()
        self.size = 0
        self._hashing: "queue.Queue[bytes | None] | None" = None
        self._hasher: threading.Thread | None = None

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)
        if len(data) < HASH_BEHIND or type(data) is not bytes:
            # small, or a buffer its writer fills again once this returns
            self._hashed()
            self._digest.update(data)
            return
        # a large block is hashed on the other core while the next one is read
        # (hashlib lets go of the interpreter for it); in order, a few behind
        if self._hasher is None:
            self._hashing = queue.Queue(maxsize=8)
            self._hasher = threading.Thread(target=self._hash_behind, daemon=True,
                                            name="kit-hash")
            self._hasher.start()
        self._hashing.put(data)

    def _hash_behind(self) -> None:
        while (data := self._hashing.get()) is not None:
            self._digest.update(data)

    def _hashed(self) -> None:
        """Wait until every block written is in the digest."""
        if self._hasher is not None:
            self._hashing.put(None)
            self._hasher.join()
            self._hasher = None

    def close(self) -> KitFile:
        """Flush to disk; returns what the manifest will say of it."""
        self._hashed()
        if not self._file.closed:
            os.fsync(self._file.fileno())
            self._file.close()
        return KitFile(self.name, self.size, self._digest.hexdigest())

    def discard(self) -> None:
        self._hashed()
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(PART)]


class KitWriter:
    """Writes one kit into ``folder``. ``start()`` checks and makes the
    folder (refusing one that holds a kit or other files; removing what an
    interrupted kit left there), ``part(role, name)`` opens a file, ``finish``
    renames every file into place and writes the manifest last. ``abandon``
    (on any error) removes what this writer wrote. Raises BadInput for a
    folder that cannot be used, OSError from the disk."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._parts: dict[str, PartFile] = {}
        self._made_folder = False
        self.cleaned: list[str] = []

    def start(self) -> None:
        f = self.folder
        kind = not_a_regular_file(f)
        if kind not in (None, "a folder"):      # a link, a device...: never written through
            raise BadInput(f"kit folder {f}: is {kind}; give a new or empty folder for the kit")
        if f.exists() and not f.is_dir():
            raise BadInput(f"kit folder {f}: is a file; give a folder for the kit")
        if f.is_dir():
            if (f / MANIFEST).exists():
                raise BadInput(f"kit folder {f}: already holds a kit ({MANIFEST}); give a new "
                               "folder, so a good kit is never overwritten")
            others = [p.name for p in f.iterdir() if p not in _leftovers(f)]
            if others:
                raise BadInput(f"kit folder {f}: holds other files "
                               f"({', '.join(sorted(others)[:3])}); give an empty or new folder")
            for p in _leftovers(f):
                p.unlink()
                self.cleaned.append(p.name)
        else:
            if not f.parent.is_dir():
                raise BadInput(f"kit folder {f}: {f.parent} does not exist")
            try:
                f.mkdir(mode=0o700)
            except OSError as exc:
                raise BadInput(f"kit folder {f}: cannot make it ({exc.strerror or exc}); "
                               f"nothing was read from the appliance") from None
            self._made_folder = True
        os.chmod(f, 0o700)
        # a read-only or full disk is told now, before the first packet
        try:
            check_output_folder(f, option="kit folder",
                                nothing="nothing was read from the appliance")
        except BadInput:
            if self._made_folder:
                f.rmdir()
            raise

    def part(self, role: str, name: str) -> PartFile:
        if role not in ROLES:
            raise ValueError(f"unknown kit file role {role!r}")
        self._parts[role] = PartFile(self.folder, name)
        return self._parts[role]

    def add_bytes(self, role: str, name: str, data: bytes) -> None:
        self.part(role, name).write(data)

    def copy_in(self, role: str, source: Path, name: str | None = None,
                on_progress: Progress | None = None) -> None:
        """Copy ``source`` into the kit block by block."""
        out = self.part(role, name or source.name)
        total = source.stat().st_size
        with open(source, "rb") as f:
            while block := f.read(BLOCK):
                out.write(block)
                if on_progress:
                    on_progress(out.size, total)

    def finish(self, *, taken_by: str, appliance: dict, certificate: dict) -> Manifest:
        """Every file renamed into place, then the manifest; returns it."""
        files = {role: part.close() for role, part in self._parts.items()}
        for role, part in self._parts.items():
            os.replace(part.path, self.folder / files[role].name)
        manifest = Manifest(taken=now_utc(), appliance=appliance, certificate=certificate,
                            files=files, taken_by=taken_by)
        tmp = self.folder / f".{MANIFEST}{PART}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(manifest.to_json(), out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.folder / MANIFEST)
        dfd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._parts.clear()
        return manifest

    def abandon(self) -> None:
        """Remove what this writer wrote (and the folder, when it made it)."""
        for part in self._parts.values():
            part.discard()
        self._parts.clear()
        if self._made_folder:
            try:
                self.folder.rmdir()
            except OSError:
                pass


@dataclass
class Kit:
    """A kit read from disk: its folder and manifest."""

    folder: Path
    manifest: Manifest

    def path(self, role: str) -> Path | None:
        entry = self.manifest.files.get(role)
        return None if entry is None else self.folder / entry.name


def read_kit(folder: str | Path) -> Kit:
    """The kit in ``folder``. KitUnreadable (exit 2): not a folder, the
    manifest unreadable; KitIncomplete (exit 1): no manifest."""
    f = Path(folder)
    if not f.exists():
        raise KitUnreadable(f"--kit {f}: no such folder")
    if not f.is_dir():
        raise KitUnreadable(f"--kit {f}: not a folder (a kit is the folder `bringup kit` wrote)")
    path = f / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        partial = ", ".join(p.name for p in sorted(_leftovers(f))[:3]) if os.access(f, os.R_OK) else ""
        raise KitIncomplete(
            f"--kit {f}: not complete: no {MANIFEST}"
            + (f" (interrupted while writing {partial})" if partial else
               " (interrupted, or not a kit)")
            + "; take the kit again with `bringup kit`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KitUnreadable(f"--kit {f}: {MANIFEST} cannot be read "
                            f"({getattr(exc, 'strerror', None) or 'not UTF-8 text'})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise KitUnreadable(f"{path}: not a kit manifest bringup can read (not JSON: {exc})") from None
    return Kit(f, Manifest.from_json(data, str(path)))
