"""What each finish step is, as the faces and the report see it, and the
table of finish steps in the order they run.

A step module (certificate.py, site_software.py, login_backup.py) has
``KEY``, ``TITLE``, ``PAGE`` (where on the appliance), ``plan(ctx)`` (what
it would do, for a dry run and the console's rows before Enter, sending
nothing) and ``run(ctx, step)`` (does it; sets the step's status and
message; raises FinishFailed when it cannot be done, a BringupError when the
appliance stops answering).
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field

from hwprobe.errors import BringupError

# statuses; STOPPED: at work when the run was stopped (in flight: the next
# run reads where it stood from the run journal and goes on from there)
PENDING, RUNNING, DONE, ALREADY, SKIPPED, FAILED, WOULD, STOPPED = (
    "pending", "running", "done", "already", "skipped", "failed", "would", "stopped")
NOT_TRIED_STOPPED = "not tried: the run was stopped"
# the order is the documented one: certificates, then the software that
# needs them, then /login
MODULES = ("certificate", "site_software", "login_backup")


class FinishFailed(BringupError):
    """A finish step could not be done; the message says where and why, and
    what the appliance was left holding."""


@dataclass
class FinishStep:
    """One finish step as it stands."""

    key: str
    title: str
    page: str
    status: str = PENDING
    message: str = ""       # done: what was done; skipped: why; failed: where and why
    detail: list[str] = field(default_factory=list)     # the detail pane, the report
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def undone(self) -> bool:
        """Not done: failed, stopped, at work, not started, or not tried
        (a step skipped because it is not needed here is not undone)."""
        return (self.status in (PENDING, RUNNING, FAILED, STOPPED)
                or (self.status == SKIPPED and self.message.startswith("not tried")))

    @property
    def finished(self) -> bool:
        return self.status in (DONE, ALREADY, SKIPPED, FAILED, WOULD, STOPPED)


def step_modules(only: tuple[str, ...] | None = None) -> list:
    """The step modules, in the order they run (``only``: those keys)."""
    return [importlib.import_module(f"hwprobe.procedure.finish.{name}") for name in MODULES
            if only is None or name in only]


def new_steps(only: tuple[str, ...] | None = None) -> list[FinishStep]:
    return [FinishStep(m.KEY, m.TITLE, m.PAGE) for m in step_modules(only)]
