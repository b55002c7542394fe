"""Checks on what the technician gives on the command line, and on the state
directory, made before anything is touched (the port, the appliance, a file).

``laptop_address``, ``iface``, ``baud``, ``listen_seconds`` and ``pcap_file``
are argparse types (a bad value: exit 2 with the option named;
``listen_arguments`` adds the last two to a parser); ``check_state_dir``
raises ``StateDirUnusable`` (exit 3) when journals and reports could not be
written, and ``StateFileDamaged`` (exit 3) when the pins file or a run
journal cannot be read back.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
from pathlib import Path

from hwprobe.constants import LAPTOP_ADDRESS, LAPTOP_PREFIX, state_dir
from hwprobe.errors import StateDirUnusable
from hwprobe.safetext import shown

__all__ = ["StateDirUnusable", "baud", "check_state_dir", "check_state_files", "iface",
           "laptop_address"]

MIN_FREE_BYTES = 1024 * 1024       # a journal, a report and a transcript

def laptop_address(text: str) -> str:
    """``--laptop-address``: a unicast IPv4 address that is neither the network
    nor the broadcast address of its /24. Raises ArgumentTypeError."""
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {shown(text)!r}") from None
    net = ipaddress.IPv4Network(f"{ip}/{LAPTOP_PREFIX}", strict=False)
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        raise argparse.ArgumentTypeError(
            f"{ip} is not a unicast address a laptop port can hold (default {LAPTOP_ADDRESS})")
    if ip in (net.network_address, net.broadcast_address):
        raise argparse.ArgumentTypeError(
            f"{ip} is the network or broadcast address of {net}; use a host address "
            f"such as {LAPTOP_ADDRESS}")
    return str(ip)


def iface(text: str) -> str:
    """``--iface``: the name of a port that exists on this laptop now.
    Raises ArgumentTypeError (an empty name too: it must not skip the takeover)."""
    if not text or "/" in text or text in (".", "..") or len(text) > 15:
        raise argparse.ArgumentTypeError(f"{shown(text)!r} is not a port name; `bringup ports` lists them")
    try:
        socket.if_nametoindex(text)       # this network namespace's ports (not /sys's)
    except OSError:
        ports = ", ".join(n for _, n in socket.if_nameindex() if n != "lo") or "none"
        raise argparse.ArgumentTypeError(f"no port named {shown(text)!r} on this laptop "
                                         f"(ports: {ports}); `bringup ports` says which is which")
    return text


LISTEN_SECONDS = 5.0


def listen_seconds(text: str) -> float:
    """``--listen SECONDS``: how long to listen on the cable when nothing
    answers (0 turns it off; at most 600). Raises ArgumentTypeError."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600 or value != value:
        raise argparse.ArgumentTypeError(
            f"{shown(text)!r}: give seconds from 0 (do not listen) to 600; the default "
            f"is {LISTEN_SECONDS:g}")
    return value


def listen_arguments(p) -> None:
    """``--listen`` and ``--pcap`` on parser ``p``: what happens when nothing
    answers (``bringup probe``, ``apply``, ``capture``, ``verify``)."""
    p.add_argument("--listen", type=listen_seconds, default=LISTEN_SECONDS, metavar="SECONDS",
                   help="when nothing answers on a port with carrier, listen this long and "
                        "say what is on the cable (default 5; 0: do not listen)")
    p.add_argument("--pcap", type=pcap_file, metavar="FILE",
                   help="write what the search and the listen saw to FILE (pcap, for "
                        "Wireshark); a search that finds nothing leaves one in the state "
                        "directory anyway")


def pcap_file(text: str) -> str:
    """``--pcap FILE``: where the capture goes, a regular file or nothing
    (a device, FIFO, socket or symbolic link is refused, as every output
    is); its folder must exist and take a new file, told before the first
    packet. Raises ArgumentTypeError."""
    from hwprobe.errors import BadInput
    from hwprobe.fsutil import check_output_folder, not_a_regular_file

    path = Path(text)
    if not text or path.is_dir() and not path.is_symlink():
        raise argparse.ArgumentTypeError(f"{shown(text)!r} is a folder; give the capture's "
                                         f"file name (e.g. lan0.pcap)")
    kind = not_a_regular_file(path)
    if kind is not None:
        raise argparse.ArgumentTypeError(f"{shown(text)}: is {kind}; bringup writes only "
                                         f"regular files: give a new file's name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{shown(text)}: folder {shown(str(path.parent))} "
                                         f"does not exist")
    try:
        check_output_folder(path.parent, option="folder", nothing="nothing was sent")
    except BadInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return str(path.resolve())


COMMON_BAUDS = (9600, 19200, 38400, 57600, 115200)


def baud(text: str) -> int:
    """``--baud``: a serial speed in bits per second (9600 ... 115200 are the
    usual; any whole number from 50 to 4000000 the adapter may take).
    Raises ArgumentTypeError."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 50 <= value <= 4_000_000:
        raise argparse.ArgumentTypeError(
            f"{shown(text)!r} is not a baud rate; the appliance's console runs at 115200 "
            f"(others: {', '.join(map(str, COMMON_BAUDS[:-1]))})")
    return value


# what a run writes under the state directory: each is checked before the
# port is touched (a folder made read-only by hand, or a file in its place)
STATE_FOLDERS = ("runs", "links", "reports")


def check_state_dir(path: Path | None = None) -> Path:
    """Make sure journals and reports can be written in the state directory
    and the folders a run writes in (created 0700 when missing). Returns it.
    Raises StateDirUnusable naming the folder and what to do: not a
    directory, not writable, or full; StateFileDamaged for a damaged pins
    file or run journal."""
    path = path or state_dir()
    hint = "set BRINGUP_STATE_DIR to a writable directory"
    for folder in (path, *(path / name for name in STATE_FOLDERS)):
        _writable_folder(folder, "the state directory" if folder == path else "the folder",
                         hint, sync=folder == path)
    if shutil.disk_usage(path).free < MIN_FREE_BYTES:
        raise StateDirUnusable(f"the state directory {path} is on a full disk; free some space or {hint}")
    check_state_files(path)
    return path


def _writable_folder(path: Path, what: str, hint: str, *, sync: bool) -> None:
    """Create ``path`` (0700) when missing and write a file in it (``sync``:
    4 KiB, flushed to the disk, which tells a full one). Raises StateDirUnusable."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StateDirUnusable(f"{what} {path} is a file, not a directory; {hint}") from None
    except OSError as e:
        raise StateDirUnusable(f"cannot create {what} {path} ({e.strerror}); {hint}") from None
    if not path.is_dir():
        raise StateDirUnusable(f"{what} {path} is not a directory; {hint}")
    probe = path / f".write-check-{os.getpid()}"
    try:
        with open(probe, "xb") as f:
            if sync:
                f.write(b"x" * 4096)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        raise StateDirUnusable(f"cannot write in {what} {path} ({e.strerror}); {hint}") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def check_state_files(path: Path) -> None:
    """Read back the pins file and every run journal in ``path`` (small
    files), so a damaged one is told before the port is touched, not after
    the login. Raises StateFileDamaged naming the file and how to move it
    aside. (Link journals are checked when their port is taken.)"""
    from hwprobe.appliance import pins

    pins.read_pins(path / "pins.json")
    runs = path / "runs"
    found = sorted(runs.glob("*.json")) if runs.is_dir() else []
    if found:
        from hwprobe.procedure.runjournal import RunJournal

        for run in found:
            RunJournal(run)
