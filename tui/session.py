"""The console session: what the steps hand to one another, and where the
flow is (for "continue where you left off").

Every attribute is declared here with its type (``slots``: assigning one that
is not declared raises AttributeError). Only the app's and the screens'
message handlers, on the console's own thread, change it: a worker thread
posts a message saying what it found (``tui/messages.py``) and never assigns
an attribute itself.

Imports no Textual, and the core's types only for the type checker, so
importing it costs nothing at start-up.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwprobe.constants import state_dir

if TYPE_CHECKING:
    from hwprobe.drivers.base import ApplianceDriver
    from hwprobe.engine import RunResult
    from hwprobe.link import Takeover
    from hwprobe.probe import Responder
    from hwprobe.state import ApplianceState, Settings

STEPS = (
    ("start", "Settings sheet"),
    ("port", "Laptop port"),
    ("find", "Find the appliance"),
    ("login", "Log in"),
    ("network", "Network"),
    ("restore", "Restore"),
    ("done", "Done"),
)
STEP_TITLES = dict(STEPS)


@dataclass(slots=True)
class Session:
    """Everything the steps hand to one another. Passwords live here in memory
    only (to log in again after a session expires); they are never written."""

    # Settings sheet
    sheet_path: str | None = None
    settings: Settings | None = None
    # Laptop port
    iface: str | None = None
    takeover: Takeover | None = None         # while the port is held
    laptop_address: str | None = None
    port_notes: list[str] = field(default_factory=list)
    # Find
    cable_nic: str = "nic1"                  # where the technician was told to patch
    responder: Responder | None = None       # the answer the technician chose
    address: str | None = None               # the appliance's factory address
    # Log in
    console_device: str | None = None        # log in over this local console; None: web
    driver: ApplianceDriver | None = None    # open appliance driver after login
    username: str = "admin"
    password: str | None = None
    state: ApplianceState | None = None      # read after login
    # Restore and Done
    result: RunResult | None = None
    report: tuple[Path, Path] | None = None  # (markdown path, json path)
    incomplete: list[str] = field(default_factory=list)   # steps failed or skipped (exit 1)
    # the flow
    done: set[str] = field(default_factory=set)
    resuming: bool = False                   # continuing a run that did not finish
    resumed_from: dict[str, Any] | None = None   # that run's progress file
    drafts: dict[str, Any] = field(default_factory=dict)  # typed per step (memory only)

    def left_undone(self) -> list[str]:
        """Titles of the steps not finished, in order (Done itself excluded)."""
        out = [title for key, title in STEPS if key != "done" and key not in self.done]
        if self.result is not None:
            missing = [s.title for s in self.result.steps if s.status in ("failed", "skipped")]
            out += [f"not applied: {t}" for t in missing]
        return out


# --- progress file: lets the next start offer "continue where you left off" -------

def progress_path() -> Path:
    return state_dir() / "console-progress.json"


def save_progress(session: Session, step: str) -> None:
    """Record where the flow is (no passwords). Errors are ignored: losing the
    resume offer is better than stopping the technician."""
    data = {"sheet": session.sheet_path, "iface": session.iface, "address": session.address,
            "step": step, "done": sorted(session.done), "pid": os.getpid(),
            "at": time.strftime("%Y-%m-%d %H:%M")}
    try:
        path = progress_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass


def load_progress() -> dict | None:
    """The progress a run that did not finish left behind, or None."""
    try:
        data = json.loads(progress_path().read_text())
    except (OSError, ValueError):
        return None
    pid = data.get("pid")
    if pid and pid != os.getpid() and Path(f"/proc/{pid}").exists():
        return None  # another console is running right now
    return data if data.get("step") not in (None, "done") else None


def clear_progress() -> None:
    try:
        progress_path().unlink()
    except OSError:
        pass
