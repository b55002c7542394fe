"""Plan, apply, read back: the one engine behind the console and ``bringup apply``.

``plan(state, settings)`` diffs what the appliance holds against the settings
sheet, field by field, and returns the steps in a safe order (addresses before
the gateway that needs them, the network before the services that use it: the
order of the settings areas, hwprobe/settings/areas/).
``Engine.run()`` applies only the steps that differ and marks a step
``verified`` only when the read-back equals the sheet; a step whose read-back
differs is ``failed`` with the values seen.

Requests, because a slow appliance or line pays for each: the appliance is read
once for the plan; each form is saved once with all of its changes (host name,
gateway and DNS share Global Configuration); after the saves on one page, that
page alone is read again, and that read-back verifies every step saved there.
A save that failed is not verified, but its page is read again at the end (it
may have landed), and a refused joint save is sent again one value at a time to
tell which one the appliance refused.

Re-running after an interruption converges: the plan is made from what the
appliance holds *now*, so a step that landed before the interruption is
``unchanged`` the second time and nothing is applied twice. A run journal on
disk (hwprobe/procedure/runjournal.py) records each step as it starts and
ends, for the report and for the console's "continue where you left off".

Addresses on the appliance that the sheet does not name (the factory address
the laptop is talking to, above all) are listed as ``extras`` and left alone.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from hwprobe.appliance.base import ApplianceDriver
from hwprobe.errors import (ApplianceError, CertificateChanged, LoginFailed,
                     ReadBackMismatch, SessionExpired, Unreachable,
                     ValidationRefused)
from hwprobe.settings.area import Change
from hwprobe.settings.areas import AREAS, Areas
from hwprobe.appliance.state import ApplianceState, IpAddress, Settings
from hwprobe.safetext import nic_name

if TYPE_CHECKING:
    from hwprobe.procedure.runjournal import RunJournal

# step statuses
PENDING, UNCHANGED, APPLYING, VERIFIED, FAILED, SKIPPED = (
    "pending", "unchanged", "applying", "verified", "failed", "skipped",
)
STOPPED_HERE = "not applied: the run was stopped before it"
IN_FLIGHT = "sent when the run stopped, not read back: the next run reads it back"

@dataclass
class Step:
    """One change the sheet asks of the appliance.

    ``key`` is stable across runs ("ip:nic1:198.51.100.20", "gateway", "smtp");
    ``before``/``after`` are JSON-friendly values; ``changed`` says whether the
    appliance differs from the sheet (only those are applied).
    """

    key: str
    area: str               # capability: ip, hostname, gateway, dns, routes, ntp, syslog, smtp
    title: str
    page: str
    before: Any
    after: Any
    changed: bool
    status: str = PENDING
    message: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    steps: list[Step]
    extras: list[str] = field(default_factory=list)   # on the appliance, not in the sheet

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.changed]


@dataclass
class RunResult:
    steps: list[Step]
    extras: list[str]
    dry_run: bool
    state_before: ApplianceState | None
    state_after: ApplianceState | None
    started: float
    finished: float
    notes: list[str] = field(default_factory=list)
    journal_path: str | None = None
    in_flight: list[str] = field(default_factory=list)  # step keys sent when the run stopped
    stopped: bool = False               # stopped when asked (the console: stop after this step)

    @property
    def ok(self) -> bool:
        return not any(s.status == FAILED for s in self.steps)

    @property
    def applied(self) -> list[Step]:
        return [s for s in self.steps if s.status == VERIFIED]


# --- plan ---------------------------------------------------------------------

def plan(state: ApplianceState, settings: Settings, *, smtp_password_given: bool = False,
         areas: Areas = AREAS) -> Plan:
    """Diff ``state`` (read off the appliance) against ``settings`` (the sheet).

    Returns every step the sheet implies, in apply order (the order of the
    ``areas`` table), each marked ``changed`` when the appliance differs. A
    secret the sheet needs and the appliance lacks (the SMTP password, when
    one is given) makes its step a change. Never raises for differences.
    """
    steps: list[Step] = []
    for area in areas:
        for key, after in area.wanted(settings):
            before = area.present(state, key)
            step = Step(key, area.name, area.title(after), area.page, before, after,
                        not area.same(before, after))
            secret = area.secret
            if (secret and smtp_password_given and secret.wanted(settings)
                    and not secret.held(state)):
                if not step.changed:
                    step.title += f" ({secret.words})"
                step.changed = True
            steps.append(step)
    sheet_addrs = {ip.address for ip in settings.ips}
    extras = [f"{ip.address} {ip.netmask} on {nic_name(ip.nic)}" for ip in state.ips
              if ip.address not in sheet_addrs]
    return Plan(steps, extras)


# --- apply ----------------------------------------------------------------------

# errors after which no further step can be tried (LockedOut is a LoginFailed;
# SessionExpired comes only after the driver's one new login did not help)
RUN_ENDING = (Unreachable, CertificateChanged, LoginFailed, SessionExpired)

WireCheck = Callable[[IpAddress, ApplianceState], "str | None"]


class Engine:
    """Apply a settings sheet to one appliance through one driver.

    ``on_step(step)`` is called (from the calling thread) whenever a step changes
    status. ``wire_check(ip, state)`` — given when the tool holds the laptop
    port — is called after an address is added and returns None when the wire
    agrees, or a failure message.
    """

    def __init__(self, driver: ApplianceDriver, settings: Settings, *,
                 smtp_password: str | None = None,
                 on_step: Callable[[Step], None] | None = None,
                 wire_check: WireCheck | None = None,
                 journal: RunJournal | None = None, areas: Areas = AREAS):
        self.driver = driver
        self.areas = areas
        self.settings = settings
        self._smtp_password = smtp_password
        self.on_step = on_step or (lambda step: None)
        self.wire_check = wire_check
        self.journal = journal
        self._plan: Plan | None = None
        self._state: ApplianceState | None = None
        self._started = time.time()
        self._started_at: dict[str, float] = {}     # step key -> when it was sent

    def plan(self) -> tuple[ApplianceState, Plan]:
        state = self.areas.read_state(self.driver)
        return state, plan(state, self.settings, smtp_password_given=bool(self._smtp_password),
                                  areas=self.areas)

    def run(self, dry_run: bool = False, cancel: threading.Event | None = None,
            state: ApplianceState | None = None) -> RunResult:
        """Plan, apply what differs, read back. Returns a RunResult; a failed step
        does not stop the steps after it unless they depend on it (the gateway
        and routes need their address). Raises only for errors that end the run:
        Unreachable, CertificateChanged, LockedOut and the like (``partial_result``
        then says how far it got). ``state``: plan against this instead of
        reading the appliance (read just before through the same driver, or a
        factory state for a dry run before the first-login change)."""
        started = self._started = time.time()
        if state is None:
            state = self.areas.read_state(self.driver)
        the_plan = plan(state, self.settings, smtp_password_given=bool(self._smtp_password),
                                  areas=self.areas)
        self._plan, self._state = the_plan, state
        notes: list[str] = []
        if self.journal:
            self.journal.record(started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                dry_run=dry_run, finished=None)
        for step in the_plan.steps:
            step.status = PENDING if step.changed else UNCHANGED
            self.on_step(step)
        failed_ips: set[str] = set()
        for steps in self._by_page([s for s in the_plan.steps if s.changed]):
            sent: list[Step] = []
            for step in steps:
                if step.status != PENDING:      # went out in a save with an earlier one
                    continue
                if cancel is not None and cancel.is_set():
                    step.status, step.message = SKIPPED, STOPPED_HERE
                    self.on_step(step)
                    continue
                if step.area not in self.driver.capabilities:
                    step.status = SKIPPED
                    step.message = f"not available over the {self.driver.kind}: set it on the web interface"
                    self.on_step(step)
                    continue
                if dry_run:
                    continue
                blocked = self._blocked_by(step, failed_ips)
                if blocked:
                    step.status, step.message = SKIPPED, blocked
                    self.on_step(step)
                    continue
                sent += self._save(self._one_save(step, steps, failed_ips), state, failed_ips)
            if sent:
                state = self._read_back(sent, state, failed_ips)
                self._state = state
        # a save that failed may still have landed: its page is read again here
        state_after = (self._driver_read_back()
                       if any(s.status == FAILED for s in the_plan.steps) else state)
        result = RunResult(the_plan.steps, the_plan.extras, dry_run, None, state_after,
                           started, time.time(), notes,
                           str(self.journal.path) if self.journal else None,
                           stopped=cancel is not None and cancel.is_set() and any(
                               s.status == SKIPPED and s.message == STOPPED_HERE
                               for s in the_plan.steps))
        if self.journal:
            self.journal.record(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), ok=result.ok)
        return result

    def partial_result(self, dry_run: bool = False) -> RunResult | None:
        """How far a run that raised got: its steps as they stood (the one
        that was applying is marked failed and listed as in flight: it may
        have landed, the next run reads it back; the rest not applied), or
        None when it ended before the plan was made."""
        if self._plan is None:
            return None
        in_flight = []
        for step in self._plan.steps:
            if step.status == APPLYING:
                step.status = FAILED
                step.message = step.message or IN_FLIGHT
                in_flight.append(step.key)
            elif step.status == PENDING:
                step.status, step.message = SKIPPED, "not applied: the run ended before it"
        return RunResult(self._plan.steps, self._plan.extras, dry_run, None, self._state,
                         self._started, time.time(), [],
                         str(self.journal.path) if self.journal else None, in_flight)

    def _blocked_by(self, step: Step, failed_ips: set[str]) -> str:
        if self.areas[step.area].needs_addresses and failed_ips:
            return ("not applied: it needs an address that failed ("
                    + ", ".join(sorted(failed_ips)) + ")")
        return ""

    def _by_page(self, steps: list[Step]) -> list[list[Step]]:
        """``steps`` cut where the page their form is on changes (plan order
        keeps one page's steps together): each part is read back once."""
        groups: list[list[Step]] = []
        last = None
        for step in steps:
            spec = self.areas.pages.get(self.areas[step.area].section, {})
            page = spec.get("path") or spec.get("page") or step.page
            if not groups or page != last:
                groups.append([])
            groups[-1].append(step)
            last = page
        return groups

    def _one_save(self, step: Step, steps: list[Step], failed_ips: set[str]) -> list[Step]:
        """The steps that go out in one save with ``step``: with a form shared
        by several areas (Global Configuration), every pending step of it
        that may be sent; else ``step`` alone."""
        area = self.areas[step.area]
        if area.joint is None:
            return [step]
        return [s for s in steps if s.status == PENDING and self.areas[s.area].joint is not None
                and self.areas[s.area].section == area.section
                and s.area in self.driver.capabilities and not self._blocked_by(s, failed_ips)]

    def _save(self, steps: list[Step], state: ApplianceState,
              failed_ips: set[str]) -> list[Step]:
        """Send one save for ``steps``; returns those that went out and wait
        for their read-back. A refused or failed save marks its steps failed;
        a refused joint save is sent again one step at a time, to tell which
        value the appliance refused. Raises the errors that end the run."""
        for step in steps:
            step.status = APPLYING
            self._started_at[step.key] = time.monotonic()
            self.on_step(step)
            if self.journal:
                self.journal.step(step)
        try:
            if len(steps) == 1:
                self._send(steps[0], state)
            else:           # areas that share one form: one save of it with all their values
                values: dict[str, Any] = {}
                for step in steps:
                    values.update(self.areas[step.area].joint(self.settings))
                self.driver.save(self.areas[steps[0].area].section, values)
        except ValidationRefused as exc:
            if len(steps) > 1:
                for step in steps:
                    step.status = PENDING
                return [s for step in steps for s in self._save([step], state, failed_ips)]
            self._fail(steps, str(exc), failed_ips)
            return []
        except ApplianceError as exc:
            self._fail(steps, str(exc), failed_ips)
            if isinstance(exc, RUN_ENDING):
                raise
            return []
        for step in steps:
            if step.area == "ip" and self.wire_check is not None:
                problem = self.wire_check(IpAddress(**step.after), state)
                if problem:
                    mismatch = ReadBackMismatch(step.title, "an answer on the wire", problem)
                    self._fail([step], f"read back differs: {mismatch.words}", failed_ips)
        return [s for s in steps if s.status == APPLYING]

    def _read_back(self, sent: list[Step], state: ApplianceState,
                   failed_ips: set[str]) -> ApplianceState:
        """Read the page ``sent`` were saved on again and mark each verified
        when it shows the sheet's value, else failed with what it shows.
        Returns the state read (``state`` when it could not be read)."""
        try:
            state = self._driver_read_back()
        except ApplianceError as exc:
            self._fail(sent, str(exc), failed_ips)
            if isinstance(exc, RUN_ENDING):
                raise
            return state
        for step in sent:
            area = self.areas[step.area]
            got = area.present(state, step.key)
            secret = area.secret
            if (secret and self._smtp_password and secret.wanted(self.settings)
                    and not secret.held(state)):
                mismatch = ReadBackMismatch(step.title, f"{secret.words} set", f"no {secret.words}")
            elif not area.same(got, step.after):
                # in the area's words, as the Restore row says them: never a repr
                mismatch = ReadBackMismatch(step.title, self.areas.describe(step.area, step.after),
                                            self.areas.describe(step.area, got))
            else:
                step.status, step.message = VERIFIED, "read back"
                self._finished(step)
                continue
            self._fail([step], f"read back differs: {mismatch.words}", failed_ips)
        return state

    def _driver_read_back(self) -> ApplianceState:
        return self.areas.read_back(self.driver)

    def _fail(self, steps: list[Step], message: str, failed_ips: set[str]) -> None:
        for step in steps:
            step.status, step.message = FAILED, message
            if step.area == "ip":
                failed_ips.add(step.after["address"])
            self._finished(step)

    def _finished(self, step: Step) -> None:
        started = self._started_at.pop(step.key, None)
        step.seconds = round(time.monotonic() - started, 3) if started is not None else 0.0
        self.on_step(step)
        if self.journal:
            self.journal.step(step)

    def _send(self, step: Step, state: ApplianceState) -> None:
        self.areas[step.area].send_to(self.driver, Change(step.after, state, self.settings,
                                                          self._smtp_password))


def cable_nic(mac: str | None, state: ApplianceState) -> str | None:
    """Which NIC of the appliance owns ``mac`` (the MAC that answered the probe):
    "nic1", "nic2" or None when the appliance lists no such MAC."""
    if not mac:
        return None
    for nic in state.nics:
        if nic.mac.lower() == mac.lower():
            return nic.name
    return None
