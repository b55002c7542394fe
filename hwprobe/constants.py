"""Field constants from DESIGN.md. All of them can be overridden by flags."""
from __future__ import annotations

import os
from pathlib import Path

FACTORY_ADDRESSES = ("169.254.1.1", "169.254.1.2", "169.254.1.3", "169.254.1.4")
LAPTOP_ADDRESS = "169.254.1.254"
LAPTOP_PREFIX = 24
FALLBACK_ADDRESSES = tuple(f"169.254.1.{n}" for n in range(200, 254))
HTTPS_PORT = 443
HTTP_PORT = 80
FACTORY_USER = "admin"
FACTORY_PASSWORD = "password"
SERIAL_BAUD = 115200
LOCKOUT_ATTEMPTS = 5
LOCKOUT_SECONDS = 300
NICS = ("nic1", "nic2")

ENV_PASSWORD = "BRINGUP_PASSWORD"
ENV_NEW_PASSWORD = "BRINGUP_NEW_PASSWORD"
ENV_SMTP_PASSWORD = "BRINGUP_SMTP_PASSWORD"
ENV_LOGIN_PASSWORD = "BRINGUP_LOGIN_PASSWORD"
# the secrets of a recovery kit (taken, checked and finished with: issues 22, 23)
ENV_KIT_SECRETS = {"api_client_id": "BRINGUP_API_CLIENT_ID", "api_secret": "BRINGUP_API_SECRET",
                   "backup_password": "BRINGUP_BACKUP_PASSWORD",
                   "certificate_passphrase": "BRINGUP_CERTIFICATE_PASSPHRASE"}
# the finish (issue 23): a new site's first /login account once the site
# software is installed (modelled, docs/DESIGN.md), and how long bringup waits
# for the appliance to come back from an install (a real one: 15 to 60 minutes)
LOGIN_FIRST_USER = "admin"
LOGIN_FIRST_PASSWORD = "password"
RESTART_DEADLINE = 75 * 60.0


def state_dir() -> Path:
    """Where journals, reports and transcripts go.

    ``$BRINGUP_STATE_DIR`` wins (tests use it); root uses /var/lib/bringup;
    everyone else ``$XDG_STATE_HOME/bringup`` (~/.local/state/bringup).
    """
    env = os.environ.get("BRINGUP_STATE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/bringup")
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "bringup"


def netns_inode() -> int:
    """Inode of this thread's network namespace (what ``ip netns identify`` uses)."""
    import threading

    # /proc/self/ns/net is the main thread's; a thread moved by setns differs
    return os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net").st_ino


def link_journal_file(iface: str, netns: int | None = None) -> Path:
    """Where a port's link journal is kept (``hwprobe.port.journal`` writes it;
    ``bringup probe`` looks for one before it starts any ARP early)."""
    return state_dir() / "links" / f"ns{netns if netns is not None else netns_inode()}-{iface}.json"
