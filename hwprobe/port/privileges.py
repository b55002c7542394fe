"""Which network capabilities this process holds, and how to get the missing ones.

Its own module so that the probe and the port takeover can both ask without
importing each other.
"""
from __future__ import annotations

import os
import sys

from hwprobe.errors import NeedsPrivileges

_CAPS = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13}


def missing_privileges(needed=("CAP_NET_ADMIN", "CAP_NET_RAW")) -> list[str]:
    """The capabilities in ``needed`` this process lacks (empty when all held)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("CapEff:"):
                eff = int(line.split()[1], 16)
                return [c for c in needed if not eff >> _CAPS[c] & 1]
    except OSError:
        pass
    return [] if os.geteuid() == 0 else list(needed)


def require_privileges(needed=("CAP_NET_ADMIN", "CAP_NET_RAW"), what="take over a port"):
    """Raise NeedsPrivileges (exit 3) naming each missing capability and how to
    grant it; returns None when everything is held."""
    missing = missing_privileges(needed)
    if missing:
        python = os.path.realpath(sys.executable)
        raise NeedsPrivileges(
            f"to {what} bringup needs {' and '.join(needed)}; missing: "
            f"{', '.join(missing)}. Run it as root (sudo bringup ...), or grant "
            f"them once: sudo setcap cap_net_admin,cap_net_raw+ep {python}")
