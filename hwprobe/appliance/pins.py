"""Pinned appliance certificates (trust on first use), kept in the state
directory's ``pins.json``.

  ``pin_fingerprint(address, sha256)``     remember an appliance's TLS cert
  ``pinned_fingerprint(address) -> str | None``
  ``forget_fingerprint(address)``
  ``read_pins(path) -> dict``              the pins file, checked whole

Fingerprints are stored as 64 lower-case hex digits (colons and case in the
argument are ignored). Raises ``OSError`` when the state directory cannot be
written; ``ValueError`` for a malformed fingerprint; ``StateFileDamaged``
naming the file when it cannot be read back.
"""
from __future__ import annotations

import fcntl
import json
import re
import time
from contextlib import contextmanager
from pathlib import Path

from hwprobe.constants import state_dir
from hwprobe.errors import StateFileDamaged
from hwprobe.fsutil import atomic_write, read_state_file


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
            pins = read_pins(path)
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
    """The pinned SHA-256 (64 lower-case hex digits) for ``address``, or None.
    Raises StateFileDamaged when the pins file cannot be read."""
    return read_pins(_pins_path()).get(address, {}).get("sha256")


_PINS_LOSING = ("trusts the certificate each appliance shows next (check its SHA-256 "
                "against the one on the appliance's screen)")


def read_pins(path: Path) -> dict:
    """The pins file as {address: {"sha256": ...}}; {} when there is none.
    Raises StateFileDamaged for anything else."""
    pins = read_state_file(path, "certificate pins file", dict, _PINS_LOSING) or {}
    for key, entry in pins.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])):
            raise StateFileDamaged(
                f"the certificate pins file {path} is damaged (the pin of {key!r} is not a "
                f"SHA-256 fingerprint). Move it aside and run again: `mv {path} {path}.bad`; "
                f"bringup then {_PINS_LOSING}. Nothing was changed.")
    return pins


def forget_fingerprint(address: str) -> None:
    """Drop the pin for ``address`` (a re-imaged appliance); harmless if none."""
    with _pins_locked() as pins:
        pins.pop(address, None)
