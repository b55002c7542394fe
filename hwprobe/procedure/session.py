"""One bring-up session: the procedure, walked the same way by every face.

``bringup apply``, ``capture``, ``probe``, ``verify``, ``survey`` and the
console's screens all use a ``BringupSession``; none of them takes the laptop
port, searches, builds a driver or decides which password to try by itself,
so every promise DESIGN.md makes is kept in this one place. In the order of
the procedure:

- ``take_port()``: the laptop port with its journal and the cross-process
  port lock (a second run is refused and told the first one's pid);
- ``probe()``: the one search (who answers on the factory addresses, the
  cable's MAC and the certificate fingerprint the technician saw);
  ``choose()`` the appliance to set up; ``find()`` both, as the headless
  commands do (hwprobe/procedure/finding.py); when nothing answers,
  ``after_silence()`` listens and names what is on the cable, keeps a capture,
  and ``reach()`` moves the port to an appliance heard on an earlier site's
  address (hwprobe/procedure/listening.py);
- ``connect()``: the web driver pinned to the probe's fingerprint (pins kept
  per address and MAC, so the next box on the same factory address is not a
  "changed certificate"), or the local console;
- ``login()``: the first login and the forced password change, journalled in
  the run journal of this appliance, so a re-run after a kill knows the
  password changed; a dry run leaves the change pending. ``log_in()`` first
  finds the password in force (environment, run journal, asked through the
  face's ``Prompter``) (hwprobe/procedure/login.py, passwords.py);
- ``preview()``: read the appliance, check the sheet against its firmware's
  limits, plan; ``run()``: the same, then apply with wire checks (a new
  address must answer ARP with its NIC's MAC on the laptop port), read back,
  and record this appliance's certificate for each production address it
  now holds (``record_certificate``: the next verify there trusts it);
- ``write_report()``: every run that ends writes one, saying where it stopped;
- ``close()`` (and ``with``): logs out and gives the port back whatever was
  raised, at any stage.

Usable from a worker thread (the console) as from the main thread: pass
``handle_signals=False`` in the Target for a worker.

Errors: every failure is a BringupError (BadInput exit 2, NeedsPrivileges 3,
LinkError/PortBusy, Unreachable, CertificateChanged, LoginFailed, ...). Any
error raised inside ``with BringupSession(...)`` leaves the port as it was.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

TYPE_CHECKING = False           # (typing itself costs every bringup start)

from hwprobe import redact, stopping
from hwprobe.errors import BadInput, BringupError, PageMismatch
from hwprobe.procedure.finding import Finding
from hwprobe.procedure.listening import Listening
from hwprobe.procedure.login import LoggingIn
from hwprobe.procedure.target import Target
from hwprobe.safetext import nic_name

if TYPE_CHECKING:
    from hwprobe.appliance.base import ApplianceDriver
    from hwprobe.procedure.engine import Plan, RunResult, Step
    from hwprobe.procedure.finish.inputs import FinishSecrets, KitInputs
    from hwprobe.procedure.finish.run import FinishResult
    from hwprobe.procedure.outcome import Outcome
    from hwprobe.procedure.passwords import LoginOutcome
    from hwprobe.procedure.runjournal import RunJournal
    from hwprobe.port.takeover import Takeover
    from hwprobe.port.heard import Listened
    from hwprobe.port.probe import Responder
    from hwprobe.appliance.state import ApplianceState, Settings

__all__ = ["BringupSession", "Target"]

Note = Callable[[str], None]


@dataclass
class BringupSession(Finding, Listening, LoggingIn):
    """The procedure for one appliance; see the module docstring (the steps
    before the plan are written in finding.py, listening.py and login.py)."""

    target: Target
    on_note: Note | None = None
    on_bytes: Callable[[bytes], None] | None = None     # the console's byte feed
    takeover: "Takeover | None" = None
    responder: "Responder | None" = None
    driver: "ApplianceDriver | None" = None
    fingerprint: str | None = None
    mac_seen: str | None = None          # the MAC the laptop saw answer (probe or neighbours)
    login_outcome: "LoginOutcome | None" = None
    run_result: "RunResult | None" = None
    report_paths: tuple[Path, Path] | None = None
    unwritten_report: str | None = None   # the Markdown, when the disk was full
    finish_result: "FinishResult | None" = None     # the finish of a site (a kit)
    kit: str | None = None      # the recovery kit this run finishes the site from (its folder)
    expected_fingerprint: str | None = None   # the certificate this run made the default
    stage: str = "taking the port"
    password_change: str | None = None    # "sending", "done" (this run) or "pending" (dry run)
    settings: "Settings | None" = None    # the sheet this run applies (for its report)
    notes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    search_frames: list = field(default_factory=list)   # the last search's ARP frames
    listened: "Listened | None" = None                  # the listen after a silent search
    capture: str | None = None                          # the pcap written for Support
    _journal: "RunJournal | None" = None

    # --- words -------------------------------------------------------------------
    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.on_note is not None:
            try:
                self.on_note(text)
            except OSError:     # a dropped terminal must not stop a give-back
                pass

    def keep_secret(self, *values: str | None) -> None:
        """Passwords this run knows: kept out of its report and the run log."""
        self.secrets.extend(v for v in values if v)
        redact.remember(*values)

    # --- plan, apply, read back -----------------------------------------------------------
    def read_state(self) -> "ApplianceState":
        """The appliance as it is now (after login)."""
        from hwprobe.settings.areas import AREAS

        self.stage = "reading the appliance"
        try:
            return AREAS.read_state(self.connect())
        except PageMismatch as exc:
            if self.target.iface:       # the survey needs the same way in as this run
                here = f"--address {self.target.address}`"
                exc.args = (str(exc).replace(here, f"--address {self.target.address} "
                                                   f"--iface {self.target.iface}`"),)
            raise

    def _state_to_plan_from(self, settings: "Settings") -> "ApplianceState":
        """The appliance as it is now, the sheet checked against its firmware
        profile's limits (before the first change: issue 13). Before a forced
        password change that a dry run left pending no page opens: then a
        factory appliance, and the run's notes say so. Raises SheetDoesNotFit
        (BadInput), what ``read_state()`` raises."""
        if self.login_outcome is not None and self.login_outcome.change_pending:
            from hwprobe.appliance.state import ApplianceState

            self.note("the plan assumes a factory appliance: no page opens before the "
                      "password change, so nothing could be read")
            return ApplianceState()
        from hwprobe.settings.areas import check_fits

        state = self.read_state()       # the plan is made from this same read
        self.stage = "checking the sheet against the appliance's firmware"
        check_fits(settings, state.software_version)
        self._check_path(settings, state)
        return state

    def _check_path(self, settings: "Settings", state: "ApplianceState") -> None:
        """Raise BadInput, before the first change, when a route of the sheet
        would cut the appliance off from the laptop's port halfway through
        the run (an earlier site's address on a network the sheet routes
        elsewhere). Over the local console no route is in the way."""
        takeover = self.takeover
        if takeover is None or self.target.console or not self.target.address:
            return
        from hwprobe.settings.areas.routes import cutting_routes

        cut = cutting_routes(settings, state, self.target.address, str(takeover.address),
                             int(takeover.prefix))
        if cut:
            raise BadInput("; ".join(cut) + ". Apply over the appliance's local console "
                           "instead (--console DEVICE; in the console, ^o at Find), where no "
                           "route is in the way, or "
                           "from its factory address after a factory reset. Nothing was "
                           "changed.")

    def preview(self, settings: "Settings", *, smtp_password_given: bool = False
                ) -> tuple["ApplianceState", "Plan"]:
        """What a run would do, sending nothing: the appliance read, the sheet
        checked against its firmware (as ``run()`` checks it), and the plan.
        ``smtp_password_given``: the run will have the relay's password.
        Returns (state, plan). Raises SheetDoesNotFit (BadInput) and what
        reading the appliance raises."""
        from hwprobe.procedure.engine import plan

        state = self._state_to_plan_from(settings)
        return state, plan(state, settings, smtp_password_given=smtp_password_given)

    def run(self, settings: "Settings", *, smtp_password: str | None = None,
            dry_run: bool = False, on_step: Callable[["Step"], None] | None = None,
            cancel: threading.Event | None = None) -> "RunResult":
        """Plan, apply what differs (with wire checks when the port is held),
        read back. Returns the RunResult; an error that ends the run is
        raised after the partial result is kept for the report."""
        from hwprobe.procedure.engine import Engine

        self.keep_secret(smtp_password)
        self.settings = settings
        state = self._state_to_plan_from(settings)
        engine = Engine(self.connect(), settings, smtp_password=smtp_password,
                        on_step=on_step,
                        wire_check=self.wire_check if self.takeover is not None else None,
                        journal=self.run_journal())
        self.stage = "applying"
        try:
            result = engine.run(dry_run=dry_run, cancel=cancel, state=state)
        except BaseException:   # an error, a full disk, a signal: the report says how far
            self.run_result = engine.partial_result(dry_run)
            raise
        self.run_result = result
        if not dry_run:
            self.record_certificate(result)
        self.stage = "done"
        return result

    def record_certificate(self, result: "RunResult") -> None:
        """Pin this appliance's certificate for each production address the
        run set on it and read back: bringup put the address there, so the
        next verify, survey, kit or failover on it trusts this appliance (a
        pin of the box that had the address before is replaced, not taken
        for a changed certificate). Over the local console no certificate is
        known: nothing is recorded. Raises OSError (the state dir)."""
        state = result.state_after
        if not self.fingerprint or state is None:
            return
        from hwprobe.appliance import pins
        from hwprobe.appliance.pinning import normalize_fingerprint, where
        from hwprobe.constants import FACTORY_ADDRESSES
        from hwprobe.procedure.engine import UNCHANGED, VERIFIED

        held = {ip.address for ip in state.ips}
        for step in result.steps:
            after = step.after if step.area == "ip" and isinstance(step.after, dict) else {}
            address = after.get("address")
            if address and address in held and address not in FACTORY_ADDRESSES \
                    and step.status in (VERIFIED, UNCHANGED):
                key = where(address, self.target.https_port)     # as the web driver asks
                if pins.pinned_fingerprint(key) != normalize_fingerprint(self.fingerprint):
                    pins.pin_fingerprint(key, self.fingerprint)
                    self.note(f"certificate of this appliance recorded for {address} "
                              f"(SHA-256 {self.fingerprint}): verify, survey, kit and "
                              f"failover there trust it")

    # --- the finish of a site (a recovery kit) ---------------------------------------------
    def finish(self, inputs: "KitInputs", secrets: "FinishSecrets", **options) -> "FinishResult":
        """After the network settings: the certificate, the site software and
        the /login backup, from the kit (hwprobe/procedure/finish/). Returns
        the FinishResult (kept for the report, also when an error ends the
        run: it is raised after). ``options``: dry_run, restart_deadline,
        on_step, on_progress, cancel."""
        from hwprobe.procedure.finish.run import run_finish

        self.stage = "finishing the site"
        result = run_finish(self, inputs, secrets, **options)
        self.stage = "done"
        return result

    # --- the report ------------------------------------------------------------------------
    def write_report(self, *, sheet: str | None, error: BaseException | None = None,
                     kit: str | None = None) -> tuple[Path, Path]:
        """Write this run's report (Markdown and JSON; never a password), also
        for a run that ended early: it then says where it stopped and why.
        Returns the paths; raises OSError when the state dir cannot be written
        (a full disk): ``unwritten_report`` then holds the Markdown, for the
        terminal. ``kit``: the recovery kit's folder (default ``self.kit``);
        with one, the finish steps are in the report and its first line."""
        from hwprobe.procedure.report import build, render, write_report

        run = self.run_result
        notes = list(self.notes)
        nic = self.cable_nic()
        if nic:
            notes.append(f"your cable is in {nic_name(nic)}")
        where = self.target.address or "-"
        if self.target.console:
            where = f"{where} (local console {self.target.console})"
        rep = build(run, address=where, fingerprint=self.fingerprint, macs=self.macs(),
                    sheet=sheet,
                    driver=getattr(self.driver, "kind", "console" if self.target.console
                                   else "web"),
                    cable_nic=nic, notes=notes, factory_fresh=self.factory_fresh,
                    capture=self.capture,
                    stopped=None if error is None and self.stage == "done" else self.stage,
                    error=None if error is None else _why(error),
                    password_change=self.password_change, wanted=self.wanted(),
                    finish=self.finish_so_far(), kit=kit or self.kit)
        try:
            self.report_paths = write_report(rep, secrets=self.secrets)
        except OSError:
            self.unwritten_report = render(rep, self.secrets)[0]
            raise
        return self.report_paths

    def macs(self) -> list[str]:
        """Every MAC known of this appliance (lower case, sorted): the one the
        laptop saw answer, and its NICs' as read from it. What identifies it
        in its report, for ``verify`` to find the report again."""
        found = {self.cable_mac or self.mac_seen or ""}
        state = self.run_result.state_after if self.run_result else None
        found.update(n.mac for n in (state.nics if state else []))
        return sorted({m.lower() for m in found if m})

    def outcome(self, error: BaseException | None = None) -> "Outcome":
        """What this run came to (hwprobe/procedure/outcome.py), in the words
        of its report's first line: ready, not applied, stopped or a dry run."""
        from hwprobe.procedure.outcome import outcome

        return outcome(self.run_result,
                       stopped=None if error is None and self.stage == "done" else self.stage,
                       why=None if error is None else _why(error),
                       password_change=self.password_change, wanted=self.wanted(),
                       finish=self.finish_so_far())

    def finish_so_far(self) -> "FinishResult | None":
        """The finish of this run as it stands: its result once it started;
        with a kit before then, every step still to come; None without a kit."""
        if self.finish_result is not None or not self.kit:
            return self.finish_result
        from hwprobe.procedure.finish.run import to_come

        return to_come()

    def wanted(self) -> list[str]:
        """Every change the sheet of this run asks, by title (for the report
        of a run that stopped before its plan); [] when no sheet is known."""
        if self.settings is None:
            return []
        from hwprobe.settings.areas import AREAS

        return [area.title(after) for area in AREAS for _key, after in area.wanted(self.settings)]

    # --- the end ------------------------------------------------------------------------------
    def close(self) -> None:
        """Log out and give the port back (whatever happened before). Raises
        LinkError only when the port could not be put back."""
        self.close_driver()
        self.give_back()

    def __enter__(self) -> "BringupSession":
        if self.target.handle_signals:
            # from here a signal stops the run the way out of this `with`:
            # the port given back, the report written (hwprobe/stopping.py)
            stopping.run_begins()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _why(error: BaseException) -> str:
    """What stopped a run, in words: a signal's ("interrupted (Ctrl-C)"), or
    the error's message."""
    from hwprobe.errors import Stopped

    if isinstance(error, KeyboardInterrupt):
        error = Stopped(2)
    return error.words if isinstance(error, Stopped) else str(error)
