"""The run journal of one appliance: what runs did to it, step by step, on disk.

One JSON file per appliance (``<state dir>/runs/mac-<MAC>.json``, named by
what identifies it: see ``LoggingIn.appliance_key``),
rewritten atomically: when a run started and finished, each step's status
as it starts and ends (for the report and the console's "continue where
you left off"), and the first-login password change as it is sent and once
it landed, so a re-run after a kill knows the password changed; and each
finish step (certificate, site software, /login backup) before and after
it is sent, so a re-run converges and never imports or restores twice. No
secret is ever written to it.

Small on purpose: the state directory's check reads every run journal
before the port is touched, without loading the engine.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from hwprobe.constants import state_dir
from hwprobe.errors import StateDirUnusable, StateFileDamaged
from hwprobe.fsutil import atomic_write, read_state_file


class RunJournal:
    """What a run did, step by step, on disk (atomic rewrites; no secrets)."""

    def __init__(self, path: Path):
        """Reads ``path`` when it exists. Raises StateFileDamaged (naming the
        file and how to move it aside) when it cannot be read as a journal."""
        self.path = path
        self.data: dict = {"steps": {}, "events": []}
        losing = ("no longer knows what an earlier run did to this appliance (its password "
                  "change included: give the password in force in BRINGUP_PASSWORD)")
        data = read_state_file(path, "run journal", dict, losing)
        if data is not None:
            steps = data.setdefault("steps", {})
            if not (isinstance(steps, dict) and all(isinstance(v, dict) for v in steps.values())
                    and isinstance(data.setdefault("events", []), list)):
                raise StateFileDamaged(f"the run journal {path} is damaged (its steps are not "
                                       f"records). Move it aside and run again: `mv {path} "
                                       f"{path}.bad`; bringup then {losing}. Nothing was changed.")
            self.data = data
        self._lock = threading.Lock()
        self._sent = False      # a change was journalled as going out in this process

    @classmethod
    def for_appliance(cls, ident: str) -> "RunJournal":
        """The journal of the appliance named ``ident`` (mac-MAC, cert-..., ...)."""
        safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in ident)
        return cls(state_dir() / "runs" / f"{safe}.json")

    def record(self, **fields) -> None:
        """Set ``fields`` at the journal's top level and write it. Raises
        what ``_write`` raises."""
        with self._lock:
            self.data.update(fields)
            self._write(sending=(fields.get("password_change") or {}).get("status") == "sending")

    def step(self, step) -> None:
        """Write where ``step`` (an engine Step) stands now. Raises what
        ``_write`` raises."""
        with self._lock:
            self.data["steps"][step.key] = {
                "status": step.status, "after": step.after, "message": step.message,
                "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            self._write(sending=step.status == "applying")

    def finish_step(self, key: str, **fields) -> None:
        """Write where finish step ``key`` stands (its status and what the
        next run needs to converge: a fingerprint, when a restart began)."""
        with self._lock:
            self.data.setdefault("finish", {})[key] = {
                **fields, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "epoch": time.time()}
            # a finish step is journalled before it is sent: from here a
            # failed write means part of the run may have landed
            self._write(sending=True)

    def finished_step(self, key: str) -> dict:
        """What the journal says of finish step ``key`` ({} when nothing)."""
        entry = self.data.get("finish", {})
        entry = entry.get(key) if isinstance(entry, dict) else None
        return dict(entry) if isinstance(entry, dict) else {}

    def _write(self, *, sending: bool = False) -> None:
        """Write the journal; ``sending``: it says a change goes out next (it
        is written before the change is sent). Raises StateDirUnusable (exit
        3) when it cannot be written and no change went out yet in this run,
        else the OSError (exit 1: part of the run landed)."""
        try:
            atomic_write(self.path, json.dumps(self.data, indent=2, default=str), mode=0o644)
        except OSError as exc:
            if self._sent:
                raise
            raise StateDirUnusable(
                f"cannot write the run journal {self.path} ({exc.strerror or exc}): nothing "
                f"was changed on the appliance; set BRINGUP_STATE_DIR to a writable "
                f"directory and run again") from exc
        self._sent = self._sent or sending
