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
