"""NetworkManager and the laptop port, through nmcli.

``manages(iface) -> (managed, why)``: whether NetworkManager manages the
port (``why`` says why there is nothing to hand off when it does not). It
is asked only when a NetworkManager process runs in this network namespace;
one that runs but does not answer raises LinkError (it could take the port
back at any moment).

``set_managed(iface, managed) -> None | problem``: tell NetworkManager to
leave the port alone, or to manage it again; returns what went wrong.

``settle(iface) -> words``: once the port is handed back, wait up to
NM_SETTLE seconds for NetworkManager to pick it up, and say its state.

nmcli is always read with LC_ALL=C; a call that takes longer than
NM_TIMEOUT seconds counts as no answer.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

from hwprobe.errors import LinkError
from hwprobe.port import owners as portowners

NM_TIMEOUT = 5.0          # seconds an nmcli call may take before NM counts as not answering
NM_SETTLE = 5.0           # seconds to wait for NM to pick the port up again at give-back


def _nmcli(*args: str) -> subprocess.CompletedProcess | None:
    exe = shutil.which("nmcli")
    if exe is None:
        return None
    # nmcli translates states ("unmanaged" is "nicht verwaltet" in German):
    # read it in one fixed locale, whatever the technician's is
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LC_ALL"] = "C"
    try:
        return subprocess.run([exe, *args], capture_output=True, text=True,
                              timeout=NM_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess([exe, *args], 1, "", str(exc) or "timed out")


def _process() -> int | None:
    """pid of a NetworkManager running in this network namespace, if any."""
    return next((pid for pid, comm, _a, _s in portowners._processes()
                 if comm == "NetworkManager"), None)


def manages(iface: str) -> tuple[bool, str]:
    """(managed, why) from ``nmcli -t -f DEVICE,STATE device``, asked only when
    a NetworkManager process runs in this network namespace. Raises LinkError
    when NetworkManager runs here but does not answer: it could take the
    port back at any moment."""
    if shutil.which("nmcli") is None:
        return False, "NetworkManager is not installed here (no nmcli): nothing to hand off"
    if _process() is None:
        # no NetworkManager in this network namespace: nothing could answer
        # nmcli, so it is not run (a fork and exec on every takeover)
        return False, ("NetworkManager is installed but not running (no NetworkManager "
                       "process in this network namespace): nothing to hand off")
    res = _nmcli("-t", "-f", "DEVICE,STATE", "device")
    if res is None:
        return False, "NetworkManager is not installed here (no nmcli): nothing to hand off"
    if res.returncode != 0:
        why = ((res.stderr or res.stdout).strip().splitlines() or ["no answer"])[-1]
        pid = _process()
        if pid is not None:
            raise LinkError(f"NetworkManager runs (pid {pid}) but does not answer ({why}), "
                            f"so it cannot be asked to leave {iface} alone and could undo "
                            f"the takeover; nothing was changed. Restart it (sudo systemctl "
                            f"restart NetworkManager) or stop it, then try again")
        return False, f"NetworkManager is installed but not running ({why}): nothing to hand off"
    for line in res.stdout.splitlines():
        device, _, state = line.replace("\\:", "\0").partition(":")
        if device.replace("\0", ":") == iface:
            if state.strip() == "unmanaged":
                return False, f"NetworkManager does not manage {iface}: nothing to hand off"
            return True, ""
    return False, f"NetworkManager does not know {iface}: nothing to hand off"


def set_managed(iface: str, managed: bool) -> str | None:
    """Tell NetworkManager; returns None on success, else what went wrong."""
    res = _nmcli("device", "set", iface, "managed", "yes" if managed else "no")
    if res is None:
        return "nmcli has gone"
    if res.returncode != 0:
        return (res.stderr or res.stdout).strip() or f"nmcli exit {res.returncode}"
    return None


def _state(iface: str) -> str:
    res = _nmcli("-t", "-f", "GENERAL.STATE", "device", "show", iface)
    if res is None or res.returncode != 0:
        return ""
    # "GENERAL.STATE:100 (connected)"
    return res.stdout.strip().partition(":")[2]


def settle(iface: str) -> str:
    """NM's state for the port once it has picked it up again (``managed yes``
    returns at once): waits up to NM_SETTLE seconds for it to leave the
    unmanaged/disconnected states, and says what it is."""
    deadline = time.monotonic() + NM_SETTLE
    state = ""
    while time.monotonic() < deadline:
        state = _state(iface)
        code = state.split(" ", 1)[0]
        if code.isdigit() and int(code) >= 40:     # prepare .. activated
            if int(code) == 100:
                break
        time.sleep(0.05)
    return state.partition("(")[2].rstrip(")") or state or "no state reported"
