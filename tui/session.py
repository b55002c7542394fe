"""The console session: what the steps hand to one another, and where the
flow is (for "continue where you left off").

Every attribute is declared here with its type (``slots``: assigning one that
is not declared raises AttributeError). Only the app's and the screens'
message handlers, on the console's own thread, change it: a worker thread
posts a message saying what it found (``tui/messages.py``) and never assigns
an attribute itself.

The procedure itself (the laptop port, the probe, the driver, logging in,
the run, the report) is the core's one bring-up session,
``hwprobe.procedure.session.BringupSession``, the same object ``bringup apply`` uses:
``bringup`` holds it, and what it knows (the port held, the appliance chosen,
the open driver, the run's result and report) is read from it, never copied.
Its methods run in the screens' workers, as the core's API allows.

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
    from hwprobe.appliance.base import ApplianceDriver
    from hwprobe.procedure.engine import RunResult
    from hwprobe.port.takeover import Takeover
    from hwprobe.port.probe import Responder
    from hwprobe.procedure.session import BringupSession
    from hwprobe.appliance.state import ApplianceState, Settings

STEPS = (
    ("start", "Settings sheet"),
    ("port", "Laptop port"),
    ("find", "Find the appliance"),
    ("login", "Log in"),
    ("network", "Network"),
    ("restore", "Restore"),
    ("site", "Site"),               # the finish of the site: only with a recovery kit
    ("done", "Done"),
)
STEP_TITLES = dict(STEPS)


@dataclass(slots=True)
class Session:
    """Everything the steps hand to one another. Passwords live here in memory
    only (to log in again after a session expires); they are never written."""

    # Settings sheet
    sheet_path: str | None = None
    lab: str | None = None                   # the demo lab practised in (None: the field)
    settings: Settings | None = None
    # the procedure, from the Laptop port step on (one per port taken)
    bringup: BringupSession | None = None
    port_notes: list[str] = field(default_factory=list)
    # Find
    cable_nic: str = "nic1"                  # where the technician was told to patch
    cable_nic_known: bool = False            # ...until Log in read it off the appliance
    # Log in
    console_device: str | None = None        # log in over this local console; None: web
    username: str = "admin"
    password: str | None = None
    password_changed: bool = False  # this run made the first-login change
    state: ApplianceState | None = None      # read after login
    # Restore and Done
    incomplete: list[str] = field(default_factory=list)   # steps failed or skipped (exit 1)
    # a recovery kit (its folder; the sheet is its sheet): the Site step finishes the site
    kit_folder: str | None = None
    # the flow
    done: set[str] = field(default_factory=set)
    resuming: bool = False                   # continuing a run that did not finish
    resumed_from: dict[str, Any] | None = None   # that run's progress file
    drafts: dict[str, Any] = field(default_factory=dict)  # typed per step (memory only)

    # --- what the bring-up session knows, read from it --------------------------------
    @property
    def takeover(self) -> Takeover | None:
        """The takeover while it holds the laptop port, else None."""
        takeover = self.bringup.takeover if self.bringup is not None else None
        return takeover if takeover is not None and takeover.record is not None else None

    @property
    def iface(self) -> str | None:
        """The laptop port chosen (held or given back)."""
        return self.bringup.target.iface if self.bringup is not None else None

    @property
    def laptop_address(self) -> str | None:
        return self.bringup.laptop_address if self.bringup is not None else None

    @property
    def responder(self) -> Responder | None:
        """The probe's answer the technician chose."""
        return self.bringup.responder if self.bringup is not None else None

    @property
    def address(self) -> str | None:
        """The appliance's (factory) address."""
        return self.bringup.target.address if self.bringup is not None else None

    @property
    def driver(self) -> ApplianceDriver | None:
        """The open appliance driver, web or local console."""
        return self.bringup.driver if self.bringup is not None else None

    @property
    def result(self) -> RunResult | None:
        return self.bringup.run_result if self.bringup is not None else None

    @property
    def report(self) -> tuple[Path, Path] | None:
        """(markdown path, json path) of the run's report, once written."""
        return self.bringup.report_paths if self.bringup is not None else None

    def steps(self) -> tuple[tuple[str, str], ...]:
        """The steps of this run: the Site step only with a kit."""
        return tuple(s for s in STEPS if s[0] != "site" or self.kit_folder)

    def after_restore(self) -> str:
        """The step after Restore: Site with a kit, else Done."""
        return "site" if self.kit_folder else "done"

    def left_undone(self) -> list[str]:
        """Titles of the steps not finished, in order (Done itself excluded)."""
        out = [title for key, title in self.steps() if key != "done" and key not in self.done]
        if self.result is not None:
            missing = [s.title for s in self.result.steps if s.status in ("failed", "skipped")]
            out += [f"not applied: {t}" for t in missing]
        finish = self.bringup.finish_result if self.bringup is not None else None
        if finish is not None:
            out += [f"not finished: {s.title}" for s in finish.steps if s.undone]
        return out

    def last_words(self, notes: list[str]) -> tuple[str, int]:
        """What the console prints as it ends (``notes``, then what is left
        undone, not applied or not finished) and its exit status: 0 only
        when the appliance holds the whole sheet (and with a kit, the site
        is finished), as `bringup apply` counts it; else 1."""
        left = [] if "done" in self.done else self.left_undone()
        lines = list(notes)
        if left:
            lines.append("Left undone: " + "; ".join(left))
        if self.incomplete and not left:
            lines.append("Not applied (see the report): " + "; ".join(self.incomplete))
        finish = self.bringup.finish_result if self.bringup is not None else None
        unfinished = [x.title for x in finish.steps if x.undone] if finish is not None else []
        if unfinished and not left:
            lines.append("Not finished (see the report): " + "; ".join(unfinished))
        return "\n".join(lines), 0 if not left and not self.incomplete and not unfinished else 1


# --- progress file: lets the next start offer "continue where you left off" -------

def progress_path() -> Path:
    return state_dir() / "console-progress.json"


def port_mac(iface: str | None) -> str | None:
    """The MAC of laptop port ``iface`` in this network namespace, or None
    (no such port, or it cannot be read). Never raises."""
    if not iface:
        return None
    from hwprobe.errors import BringupError
    from hwprobe.port import interfaces

    try:
        return next((p.mac.lower() for p in interfaces.list_ports() if p.name == iface), None)
    except (OSError, BringupError):
        return None


def save_progress(session: Session, step: str) -> None:
    """Record where the flow is (no passwords), with what it ran on: the
    laptop port's name and MAC and the demo lab, if any, so that only the
    same port (in the same lab, or in the field) is offered to continue.
    Errors are ignored: losing the resume offer is better than stopping the
    technician."""
    from hwprobe.port.journal import process_start

    data = {"sheet": session.sheet_path, "kit": session.kit_folder, "iface": session.iface,
            "port_mac": port_mac(session.iface), "lab": session.lab,
            "address": session.address, "step": step, "done": sorted(session.done),
            "pid": os.getpid(), "pid_start": process_start(os.getpid()),
            "at": time.strftime("%Y-%m-%d %H:%M")}
    _write_progress(data)


def release_progress() -> None:
    """The console is leaving, its run unfinished: the progress stays but no
    longer names this console as running, so a console started while this
    one still ends offers to continue at once. Errors are ignored."""
    try:
        data = json.loads(progress_path().read_text())
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.pop("pid", None) is not None:
        data.pop("pid_start", None)
        _write_progress(data)


def _write_progress(data: dict) -> None:
    try:
        path = progress_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass


def load_progress(lab: str | None = None) -> dict | None:
    """The progress a run that did not finish left behind, or None. Only a
    run on this very laptop port is offered: the same demo lab (``lab``; None
    in the field) and a port of the same name with the same MAC here. A run
    in a lab since taken down, or in another lab, is not (its port is gone,
    or a new one has another MAC), nor a run whose port cannot be read, nor
    one whose console still runs."""
    try:
        data = json.loads(progress_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("step") in (None, "done"):
        return None
    from hwprobe.port.journal import process_running

    pid, start = data.get("pid"), data.get("pid_start")
    # another console is at work on it right now (not one that has ended but
    # is not reaped yet, nor a later process that got its pid)
    if (type(pid) is int and pid != os.getpid()
            and process_running(pid, start if isinstance(start, str) else "")):
        return None
    if data.get("lab") != lab:
        return None
    if data.get("iface") and (not data.get("port_mac")
                              or port_mac(data["iface"]) != data["port_mac"]):
        return None
    return data


def clear_progress() -> None:
    try:
        progress_path().unlink()
    except OSError:
        pass
