"""Walking the finish steps for one appliance: ``run_finish`` (the session's
``finish()``), ``plan_finish`` (what each would do, sending nothing), and
``resume_pending`` (a run killed while the appliance restarted waits for it
before it logs in).

The context every step module gets (``FinishContext``): the session (its
driver, target, notes), the checked kit, the secrets, the run journal of the
appliance, the restart deadline, and the faces' callbacks: ``on_step(step)``
when a step changes, ``on_progress(Progress)`` for uploads (bytes) and
restarts (seconds waited, against the deadline).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from hwprobe.constants import RESTART_DEADLINE
from hwprobe.errors import BringupError
from hwprobe.procedure.finish.steps import (
    FAILED, NOT_TRIED_STOPPED, PENDING, RUNNING, SKIPPED, STOPPED, WOULD,
    FinishFailed, FinishStep, new_steps, step_modules)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.procedure.finish.inputs import FinishSecrets, KitInputs
# "Session" in the annotations is hwprobe.procedure.session.BringupSession,
# not imported: the session runs the finish, never the other way round


@dataclass
class Progress:
    """How far a long part of a step is: bytes of an upload, or seconds
    waited for a restart against the deadline (``unit``)."""

    step: str
    what: str
    done: float
    total: float | None
    unit: str = "bytes"             # "bytes" | "seconds"


def progress_line(progress: Progress, rate: float | None) -> str:
    """A Progress in words for a face: bytes, ``rate`` (bytes a second, as
    the face measured it) and time left; or time waited against the deadline."""
    if progress.unit == "seconds":
        waited = int(progress.done)
        return (f"{waited // 60}:{waited % 60:02d} waited, at most "
                f"{int(progress.total or 0) // 60} min")
    total = progress.total or 0
    speed = f", {rate / 1e6:.1f} MB/s" if rate else ""
    left = f", {(total - progress.done) / rate:.0f} s left" if rate and total else ""
    return f"{progress.done / 1e6:.1f} of {total / 1e6:.1f} MB{speed}{left}"


def intents(inputs: "KitInputs") -> list[FinishStep]:
    """The finish steps with what each will do, from the kit alone (before
    any secret is given or anything read: the console's rows)."""
    steps = new_steps()
    for module, step in zip(step_modules(), steps):
        step.message = module.intent(inputs)
    return steps


@dataclass
class FinishResult:
    steps: list[FinishStep]
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    stopped: bool = False       # stopped when asked (Ctrl-C, a signal): the rest not tried

    @property
    def ok(self) -> bool:
        """Every step done, already so, planned (a dry run) or not needed
        here; not a run that was stopped or left a step not tried."""
        return not self.stopped and not any(s.undone for s in self.steps)

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.steps]


class FinishContext:
    """What a finish step works with; see the module docstring."""

    def __init__(self, session: "Session", inputs: "KitInputs",
                 secrets: "FinishSecrets", *, dry_run: bool = False,
                 restart_deadline: float = RESTART_DEADLINE,
                 on_step: Callable[[FinishStep], None] | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 cancel: threading.Event | None = None, hostname_check: bool = True,
                 only: tuple[str, ...] | None = None):
        self.session, self.inputs, self.secrets = session, inputs, secrets
        self.dry_run, self.restart_deadline, self.cancel = dry_run, restart_deadline, cancel
        self.on_step = on_step or (lambda step: None)
        self.on_progress = on_progress or (lambda progress: None)
        self.hostname_check = hostname_check
        self.only = only                    # these steps alone (restore-login: the backup)
        self.journal = session.run_journal()
        self.notes: list[str] = []
        session.keep_secret(*secrets.values())

    # --- where -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return str(self.session.target.address)

    @property
    def port(self) -> int:
        return self.session.target.https_port

    @property
    def device(self) -> str | None:
        """The laptop port every connection goes through, when it is held."""
        return self.session.target.iface if self.session.takeover is not None else None

    def driver(self):
        return self.session.connect()

    # --- the journal and the faces ----------------------------------------------------
    def record(self, key: str, **fields) -> None:
        self.journal.finish_step(key, **fields)

    def recorded(self, key: str) -> dict:
        return self.journal.finished_step(key)

    def progress(self, step: str, what: str, done: float, total: float | None,
                 unit: str = "bytes") -> None:
        try:
            self.on_progress(Progress(step, what, done, total, unit))
        except OSError:         # a dropped terminal must not stop the finish
            pass

    def wait_for(self, step: str, check: Callable[[], bool], *, since: float, what: str,
                 showing: str) -> float:
        """Wait for a restart: ``check()`` every second until it is True, the
        face told ``showing`` with the time waited; RestartTimeout naming
        ``what`` at the deadline. Returns the seconds waited since ``since``."""
        from hwprobe.procedure.finish.waiting import wait_until

        return wait_until(check, since=since, deadline=self.restart_deadline, what=what,
                          on_tick=lambda waited, total: self.progress(
                              step, showing, waited, total, "seconds"),
                          cancel=self.cancel, every=1.0)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.session.note(text)

    # --- the clients of the other interfaces ---------------------------------------------
    def certificate_sha(self) -> str:
        return self.inputs.certificate.sha256

    def api_client(self):
        """The /login API client of the backup's API account, pinned to the
        certificate the appliance presents now (the kit's, once it is the
        default), through the laptop port. The caller closes it."""
        from hwprobe.appliance.failover import FailoverClient

        client = FailoverClient(self.address, self.port, client_id=self.secrets.api_client_id,
                                client_secret=self.secrets.api_secret)
        client.pin_to(self.session.fingerprint, self.device)
        return client

    def login_admin(self):
        """/login's administrative interface, pinned like the web driver."""
        from hwprobe.appliance.loginadmin import LoginAdmin

        return LoginAdmin(self.address, self.port, fingerprint=self.session.fingerprint,
                          device=self.device)

    def appliance_answers(self) -> bool:
        """The appliance's HTTPS answers a handshake now (not restarting)."""
        from hwprobe.procedure.finish.waiting import appliance_answers

        return appliance_answers(self.session)


def run_finish(session: "Session", inputs: "KitInputs", secrets: "FinishSecrets",
               **options) -> FinishResult:
    """Run each finish step in order (``options``: FinishContext's). A step
    that fails marks the ones after it skipped (each needs the one before:
    the site software needs the certificate, /login the site software).
    Returns the FinishResult (also ``session.finish_result``). An error that
    ends the run (the appliance stops answering, the port is lost) is raised
    after the result is kept, the step it happened in marked failed.
    ``cancel`` set (the console's Ctrl-C answered "stop"): the step in flight
    ends, or stops waiting for a restart (marked stopped: in flight), and
    the rest is not tried (``stopped``). A signal (Stopped, KeyboardInterrupt)
    marks the step at work stopped and the rest not tried, then is raised."""
    ctx = FinishContext(session, inputs, secrets, **options)
    result = FinishResult(new_steps(ctx.only), dry_run=ctx.dry_run, notes=ctx.notes)
    session.finish_result = result
    if ctx.dry_run:
        return _planned(ctx, result)
    for module, step in zip(step_modules(ctx.only), result.steps):
        if _cancelled(ctx):
            result.stopped = True
            _skip_rest(ctx, result, step, NOT_TRIED_STOPPED, including=True)
            break
        step.status = RUNNING
        ctx.on_step(step)
        started = time.monotonic()
        try:
            module.run(ctx, step)
        except FinishFailed as exc:
            step.status, step.message = FAILED, str(exc)
        except BringupError as exc:
            step.seconds = round(time.monotonic() - started, 3)
            if _cancelled(ctx):
                # asked to stop while the step waited (a restart): it is in
                # flight, its journal entry says where it stood for the next run
                _stopped(ctx, result, step, str(exc))
                break
            step.status, step.message = FAILED, str(exc)
            ctx.on_step(step)
            _skip_rest(ctx, result, step, "not tried: the run ended before it")
            raise
        except (KeyboardInterrupt, SystemExit):     # a signal (hwprobe/stopping.py)
            step.seconds = round(time.monotonic() - started, 3)
            _stopped(ctx, result, step, "stopped by a signal while at work: the next run "
                                        "goes on from where its journal says it stood, "
                                        "sending nothing twice")
            raise
        step.seconds = round(time.monotonic() - started, 3)
        ctx.on_step(step)
        if step.status == FAILED:
            _skip_rest(ctx, result, step, f"not tried: it needs the {step.title.lower()} step")
            break
        if _cancelled(ctx) and step is not result.steps[-1]:
            # stopped after the step in flight, as asked: the rest is left
            result.stopped = True
            _skip_rest(ctx, result, step, NOT_TRIED_STOPPED)
            break
    return result


def _cancelled(ctx: FinishContext) -> bool:
    return ctx.cancel is not None and ctx.cancel.is_set()


def _stopped(ctx: FinishContext, result: FinishResult, step: FinishStep, why: str) -> None:
    """``step`` was at work when the run was stopped: in flight; the rest
    is left for the next run."""
    step.status, step.message = STOPPED, why
    result.stopped = True
    ctx.on_step(step)
    _skip_rest(ctx, result, step, NOT_TRIED_STOPPED)


def _skip_rest(ctx: FinishContext, result: FinishResult, after: FinishStep, why: str, *,
               including: bool = False) -> None:
    """Mark the steps after ``after`` (and it too, ``including``) that did
    not start skipped, saying ``why``."""
    first = result.steps.index(after) + (0 if including else 1)
    for step in result.steps[first:]:
        if step.status == PENDING:
            step.status, step.message = SKIPPED, why
            ctx.on_step(step)


def _planned(ctx: FinishContext, result: FinishResult) -> FinishResult:
    for module, step in zip(step_modules(ctx.only), result.steps):
        step.status = WOULD
        step.message, step.detail = module.plan(ctx)
        ctx.on_step(step)
    return result


def plan_finish(session: "Session", inputs: "KitInputs", secrets: "FinishSecrets",
                **options) -> FinishResult:
    """What each finish step would do, reading the appliance when it can
    and sending nothing that changes it."""
    return run_finish(session, inputs, secrets, **{**options, "dry_run": True})


def to_come() -> FinishResult:
    """The finish of a run with a kit that has not started it yet: every
    step pending (a run that stops before it leaves them all)."""
    steps = new_steps()
    for step in steps:
        step.message = "not started: the run had not reached the finish"
    return FinishResult(steps)


def not_tried(why: str) -> FinishResult:
    """A finish that did not start (the network settings did not all land)."""
    steps = new_steps()
    for step in steps:
        step.status, step.message = SKIPPED, why
    return FinishResult(steps)


def resume_pending(session: "Session", *, restart_deadline: float = RESTART_DEADLINE,
                   on_progress: Callable[[Progress], None] | None = None,
                   cancel: threading.Event | None = None) -> bool:
    """When this appliance's run journal says an earlier run was killed
    while the appliance restarted after a site software install, wait for it
    to answer again (bounded by ``restart_deadline`` from when it began),
    then find it afresh (its certificate). Returns True when it waited.
    RestartTimeout when it does not come back in time."""
    from hwprobe.procedure.finish.waiting import appliance_answers, wait_until

    if session.target.console or not session.target.address:
        return False
    entry = session.run_journal().finished_step("site_software")
    if entry.get("status") not in ("installing", "restarting"):
        return False
    if appliance_answers(session):
        return False
    session.note("the last run was stopped while the appliance installed its site software: "
                 "waiting for it to come back")

    def tick(waited: float, total: float) -> None:
        if on_progress is not None:
            on_progress(Progress("site_software", "waiting for the appliance to restart",
                                 waited, total, "seconds"))

    wait_until(lambda: appliance_answers(session), since=float(entry.get("epoch", time.time())),
               deadline=restart_deadline, what="the appliance to restart after installing the "
               "site software", on_tick=tick, cancel=cancel)
    if session.takeover is not None:
        session.probe(timeout=2.0)          # its certificate, now it answers
    return True
