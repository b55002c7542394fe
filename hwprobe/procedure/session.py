"""One bring-up session: the procedure, walked the same way by every path.

``bringup apply``, ``capture``, ``probe`` and the console's screens all use a
``BringupSession``; none of them takes the laptop port or builds a driver by
itself, so every promise DESIGN.md makes is kept in this one place:

- ``take_port()``: the laptop port with its journal and the cross-process
  port lock (a second run is refused and told the first one's pid);
- ``probe()``: the one search (hwprobe/port/search.py), for every face: who
  answers on the factory addresses, the cable's MAC and the certificate
  fingerprint the technician saw;
- ``connect()``: the web driver pinned to the probe's fingerprint (pins kept
  per address and MAC, so the next box on the same factory address is not a
  "changed certificate"), or the local console;
- ``login()``: the first login and the forced password change, journalled in
  the run journal of this appliance, so a re-run after a kill knows the
  password changed; a dry run leaves the change pending;
- ``run()``: plan, apply with wire checks (a new address must answer ARP with
  its NIC's MAC on the laptop port), read back;
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

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

TYPE_CHECKING = False           # (typing itself costs every bringup start)

from hwprobe import redact
from hwprobe.constants import FACTORY_ADDRESSES, FACTORY_USER, LAPTOP_ADDRESS, LAPTOP_PREFIX, SERIAL_BAUD
from hwprobe.errors import (BadInput, BringupError, CertificateChanged, PageMismatch,
                     PasswordChangeRequired)

if TYPE_CHECKING:
    from hwprobe.appliance.base import ApplianceDriver, LoginResult
    from hwprobe.procedure.engine import RunResult, Step
    from hwprobe.procedure.runjournal import RunJournal
    from hwprobe.port.link import Takeover
    from hwprobe.port.probe import ProbeResult, Responder
    from hwprobe.port.search import Search
    from hwprobe.appliance.state import ApplianceState, IpAddress, Settings

Note = Callable[[str], None]


@dataclass
class Target:
    """What the technician pointed bringup at (flags or console fields)."""

    iface: str | None = None             # laptop port to take over (None: use the laptop as is)
    laptop_address: str = LAPTOP_ADDRESS
    laptop_prefix: int = LAPTOP_PREFIX
    force_port: bool = False
    address: str | None = None           # the appliance's address (web)
    console: str | None = None           # the appliance's local console (device, rfc2217://...)
    baud: int = SERIAL_BAUD
    flow: str = "none"                   # the console's flow control: none, rtscts, xonxoff
    console_timeout: float = 10.0
    https_port: int = 443
    user: str = FACTORY_USER
    trust_new_certificate: bool = False
    handle_signals: bool = True          # main thread: SIGINT/TERM/HUP give the port back

    def check(self) -> None:
        """Everything about the target that can be told before touching the
        port. Raises BadInput (exit 2, nothing changed)."""
        if not self.address and not self.console and not self.iface:
            raise BadInput("give the appliance's --address, or --iface PORT to search the "
                           "factory addresses on that port (or --console DEV)")
        if self.address:
            try:
                addr = ipaddress.IPv4Address(self.address)
            except ValueError:
                raise BadInput(f"--address {self.address}: not an IPv4 address") from None
            if self.iface and not self.console:
                try:
                    net = ipaddress.IPv4Interface(
                        f"{self.laptop_address}/{self.laptop_prefix}").network
                except ValueError:
                    raise BadInput(f"--laptop-address {self.laptop_address}: not an IPv4 "
                                   f"address") from None
                if addr not in net:
                    raise BadInput(
                        f"--address {addr} is not on the laptop port's network {net}: with "
                        f"--iface {self.iface} the port gets {self.laptop_address}/"
                        f"{self.laptop_prefix}, no gateway, and could not reach it. For an "
                        f"appliance already on its production address, leave out --iface.")


@dataclass
class LoginOutcome:
    """What logging in did."""

    password: str                        # the password in force now
    changed_password: bool = False       # the forced change was made now
    change_pending: bool = False         # a dry run left the forced change undone
    result: "LoginResult | None" = None


@dataclass
class PasswordHint:
    """What the run journal says about this appliance's password."""

    changed: bool                        # an earlier run sent (or made) the change
    certain: bool                        # ... and saw it succeed
    at: str = ""

    def sentence(self) -> str:
        how = "changed" if self.certain else "was changing (it may not have landed)"
        return f"an earlier run {how} this appliance's password at {self.at}"


@dataclass
class BringupSession:
    """The procedure for one appliance; see the module docstring."""

    target: Target
    on_note: Note | None = None
    on_bytes: Callable[[bytes], None] | None = None     # the console's byte feed
    takeover: "Takeover | None" = None
    probe_result: "ProbeResult | None" = None
    responder: "Responder | None" = None
    driver: "ApplianceDriver | None" = None
    fingerprint: str | None = None
    login_outcome: LoginOutcome | None = None
    run_result: "RunResult | None" = None
    report_paths: tuple[Path, Path] | None = None
    unwritten_report: str | None = None   # the Markdown, when the disk was full
    stage: str = "taking the port"
    notes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
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

    # --- the port ------------------------------------------------------------------
    @property
    def cable_mac(self) -> str | None:
        return self.responder.mac if self.responder is not None else None

    @property
    def laptop_address(self) -> str | None:
        return self.takeover.address if self.takeover is not None else None

    def take_port(self, on_port_up: Callable[[], None] | None = None,
                  on_claimed: Callable[[str], None] | None = None,
                  address_check=None) -> "Takeover | None":
        """Take the target's laptop port over (journal, lock); None without
        --iface. ``on_port_up``, ``on_claimed``: see ``Takeover`` (work that
        needs the link but no address, started before the address check; work
        that needs the address, started as soon as it is on), ``address_check``:
        see ``Takeover`` (the laptop address's ARP check, already started).
        Raises BadInput,
        PortRefused, PortBusy, NeedsPrivileges, LinkError, StateDirUnusable /
        StateFileDamaged (exit 3); the port is
        unchanged after any of them."""
        if not self.target.iface:
            return None
        if self.takeover is not None and self.takeover.record is not None:
            return self.takeover
        from hwprobe.procedure.argcheck import check_state_dir
        from hwprobe.port.link import Takeover

        # journals and reports must be writable before the port changes
        check_state_dir()

        self.stage = "taking the port"
        takeover = Takeover(self.target.iface, address=self.target.laptop_address,
                            prefix=self.target.laptop_prefix, force=self.target.force_port,
                            on_note=self.note, handle_signals=self.target.handle_signals,
                            on_port_up=on_port_up, on_claimed=on_claimed,
                            address_check=address_check)
        # kept before take() runs: a give-back from another thread (the console
        # quitting mid-takeover) then waits for take() on its lock and undoes it
        self.takeover = takeover
        try:
            takeover.take()
        except BaseException:
            self.takeover = None    # take() already put the port back
            raise
        return takeover

    def give_back(self) -> None:
        """Give the laptop port back exactly as it was (harmless to repeat).
        Raises LinkError when netlink refuses (its journal is then kept)."""
        takeover = self.takeover
        if takeover is not None:
            takeover.give_back()

    # --- finding the appliance ------------------------------------------------------
    def probe(self, addresses: tuple[str, ...] | None = None, *, timeout: float = 2.0,
              check_https: bool = True, on_answer: Callable | None = None,
              cancel: threading.Event | None = None,
              search: "Search | None" = None) -> "ProbeResult":
        """ARP for the appliance on the held port (the target's address, else
        the factory ones) and check HTTPS on whoever answers; remembers who
        answered for the pin and the wire checks, and chooses the target's
        address, else the first that answered. ``search``: one already
        started (``bringup probe``), whose result is taken instead. Returns
        the ProbeResult. Raises BringupError when no port is held, and what
        the probe raises (LinkError, NeedsPrivileges, OSError)."""
        from hwprobe.port.search import Search

        if self.takeover is None:
            raise BringupError("probe: no laptop port is held (give --iface)")
        self.stage = "finding the appliance"
        if search is None:
            if addresses is None:
                addresses = (self.target.address,) if self.target.address else FACTORY_ADDRESSES
            search = Search(self.target.iface, addresses, timeout, on_answer, cancel,
                            src=self.takeover.address, check_https=check_https)
        result = search.result()
        self.probe_result = result
        wanted = [r for r in result.responders if r.address == self.target.address]
        if wanted or (result.responders and not self.target.address):
            self.choose(wanted[0] if wanted else result.responders[0])
        return result

    def choose(self, responder: "Responder") -> None:
        """The appliance to talk to: one that answered the probe."""
        self.responder = responder
        self.target.address = responder.address
        self._journal = None

    # --- connecting -----------------------------------------------------------------
    def connect(self) -> "ApplianceDriver":
        """Open the driver: the local console when the target names one, else
        the web interface pinned to the certificate the probe saw. Returns the
        open driver. Raises Unreachable, CertificateChanged, BadInput."""
        if self.driver is not None:
            return self.driver
        self.stage = "connecting"
        if self.target.console:
            from hwprobe.appliance.console import ConsoleDriver

            driver = ConsoleDriver(self.target.console, baudrate=self.target.baud, flow=self.target.flow,
                                   timeout=self.target.console_timeout, on_bytes=self.on_bytes)
        else:
            from hwprobe.appliance.web import WebDriver

            pin = self._pin()
            # with the port held, the appliance is reached through it only,
            # whatever other ports of the laptop are on the same network
            device = self.target.iface if self.takeover is not None else None
            driver = WebDriver(self.target.address, port=self.target.https_port,
                               pinned_fingerprint=pin, use_journal=pin is None,
                               trust_new_certificate=self.target.trust_new_certificate,
                               device=device)
        try:
            driver.open()
        except BaseException:
            try:
                driver.close()
            except Exception:  # noqa: BLE001 - the first error is the one to tell
                pass
            raise
        self.driver = driver
        self.fingerprint = getattr(driver, "fingerprint", None)
        return driver

    def use_console(self, device: str | None) -> None:
        """Switch the way in (the console's ^o): closes the other driver."""
        if device == self.target.console:
            return
        self.close_driver()
        self.target.console = device
        self._journal = None

    def close_driver(self) -> None:
        """Log out and drop the driver (never raises)."""
        driver, self.driver = self.driver, None
        if driver is not None:
            try:
                driver.close()
            except Exception:  # noqa: BLE001 - leaving must not fail on a dead line
                pass

    def _pin(self) -> str | None:
        """The certificate pin for this run.

        Every new appliance answers on the same factory addresses, so a pin
        kept by address alone would call the next box's certificate "changed".
        With the port held the appliance's MAC is known: the pin is kept per
        address and MAC, and the fingerprint the probe just read is the one
        this run trusts. Raises CertificateChanged; BringupError naming the
        pins file when it is damaged."""
        r = self.responder
        if r is None or not r.fingerprint_sha256:
            return None
        from hwprobe.appliance import pins
        from hwprobe.appliance.pinning import normalize_fingerprint

        key = f"{self.target.address}@{r.mac.lower()}"
        seen = r.fingerprint_sha256
        kept = pins.pinned_fingerprint(key)
        changed = kept is not None and kept != normalize_fingerprint(seen)
        if changed and not self.target.trust_new_certificate:
            raise CertificateChanged(kept, seen)
        if kept is None or changed:
            pins.pin_fingerprint(key, seen)
            self.note(f"certificate of {self.target.address} (MAC {r.mac}): SHA-256 {seen} - "
                      f"trusted for this appliance from now on")
        return seen

    def failover_client(self, client_id: str | None, client_secret: str | None):
        """The command-API client for the target (an appliance of a failover
        pair on its production address), its HTTPS pinned on first use.
        Returns a hwprobe.appliance.failover.FailoverClient; the caller closes it."""
        from hwprobe.appliance.failover import FailoverClient

        if not self.target.address:
            raise BadInput("give the appliance's --address")
        self.stage = "connecting"
        self.keep_secret(client_secret)
        return FailoverClient(self.target.address, self.target.https_port,
                              client_id=client_id, client_secret=client_secret)

    # --- the run journal of this appliance --------------------------------------------
    def appliance_key(self) -> str:
        """How this appliance's run journal is named: the address and the MAC
        that answered (every new box shares the factory address), else the
        address and certificate, else the console device."""
        if self.target.console:
            return f"console-{self.target.console}"
        if self.cable_mac:
            return f"{self.target.address}@{self.cable_mac.lower()}"
        if self.fingerprint:
            return f"{self.target.address}@{self.fingerprint.replace(':', '')[:16].lower()}"
        return str(self.target.address)

    def run_journal(self) -> "RunJournal":
        from hwprobe.procedure.runjournal import RunJournal

        if self._journal is None:
            self._journal = RunJournal.for_appliance(self.appliance_key())
        return self._journal

    def password_hint(self) -> PasswordHint | None:
        """What an earlier run of this appliance did to its password, or None.
        Needs the probe (or connect) first, so the right journal is read."""
        data = self.run_journal().data
        change = data.get("password_change") if isinstance(data, dict) else None
        if not isinstance(change, dict) or change.get("status") not in ("sending", "done"):
            return None
        return PasswordHint(True, change.get("status") == "done", str(change.get("at", "")))

    # --- logging in ------------------------------------------------------------------
    def login(self, password: str, new_password: str | None = None, *,
              dry_run: bool = False) -> LoginOutcome:
        """Log in as the target's user; when the appliance forces a change,
        set ``new_password`` (journalled before it is sent and after it
        landed). A dry run leaves a forced change pending and says so.

        Raises LoginFailed (tries left), LockedOut, PasswordRefused,
        PasswordChangeRequired (a change is forced and no new password given)."""
        driver = self.connect()
        self.stage = "logging in"
        self.keep_secret(password, new_password)
        result = driver.login(self.target.user, password)
        outcome = LoginOutcome(password=password, result=result)
        if result.change_required:
            if dry_run:
                outcome.change_pending = True
                self.note("the appliance asks for a new password at first login: a real "
                          "run would set it now (dry run: left unchanged)")
            elif not new_password:
                raise PasswordChangeRequired(
                    "the appliance requires a new password before any page opens: "
                    "give one at the prompt or in BRINGUP_NEW_PASSWORD")
            else:
                journal = self.run_journal()
                journal.record(password_change={"status": "sending", "at": _now()})
                driver.change_password(password, new_password)
                journal.record(password_change={"status": "done", "at": _now()})
                outcome.password, outcome.changed_password = new_password, True
        self.login_outcome = outcome
        return outcome

    # --- plan, apply, read back -----------------------------------------------------------
    def read_state(self) -> "ApplianceState":
        """The appliance as it is now (after login)."""
        self.stage = "reading the appliance"
        try:
            return self.connect().read_state()
        except PageMismatch as exc:
            if self.target.iface:       # the survey needs the same way in as this run
                here = f"--address {self.target.address}`"
                exc.args = (str(exc).replace(here, f"--address {self.target.address} "
                                                   f"--iface {self.target.iface}`"),)
            raise

    def run(self, settings: "Settings", *, smtp_password: str | None = None,
            dry_run: bool = False, on_step: Callable[["Step"], None] | None = None,
            cancel: threading.Event | None = None) -> "RunResult":
        """Plan, apply what differs (with wire checks when the port is held),
        read back. Returns the RunResult; an error that ends the run is
        raised after the partial result is kept for the report."""
        from hwprobe.procedure.engine import Engine
        from hwprobe.appliance.state import ApplianceState

        self.keep_secret(smtp_password)
        state = None
        if self.login_outcome is not None and self.login_outcome.change_pending:
            # the appliance opens no page before the password change: plan
            # against a factory appliance, and say so
            state = ApplianceState()
            self.note("the plan assumes a factory appliance: no page opens before the "
                      "password change, so nothing could be read")
        else:
            # the firmware profile's limits, before the first change (issue 13)
            from hwprobe.appliance.profiles import check_fits

            state = self.read_state()       # the plan is made from this same read
            self.stage = "checking the sheet against the appliance's firmware"
            check_fits(settings, state.software_version)
        engine = Engine(self.connect(), settings, smtp_password=smtp_password,
                        on_step=on_step,
                        wire_check=self.wire_check if self.takeover is not None else None,
                        journal=self.run_journal())
        self.stage = "applying"
        try:
            result = engine.run(dry_run=dry_run, cancel=cancel, state=state)
        except (BringupError, OSError):     # OSError: the disk filled under the run journal
            self.run_result = engine.partial_result(dry_run)
            raise
        self.run_result = result
        self.stage = "done"
        return result

    def wire_check(self, ip: "IpAddress", state: "ApplianceState") -> str | None:
        """ARP the address just added from the laptop port; it must answer with
        the MAC of the NIC it was added on (only for the NIC the cable is in,
        and not through a VLAN). None when the wire agrees, else why not."""
        from hwprobe.procedure.engine import cable_nic
        from hwprobe.port.probe import probe

        if self.takeover is None or cable_nic(self.cable_mac, state) != ip.nic or ip.vlan:
            return None
        result = probe(self.target.iface, self.takeover.address, addresses=[ip.address],
                       timeout=1.0, check_https=False)
        want = next((n.mac for n in state.nics if n.name == ip.nic), None)
        if not result.responders:
            return f"{ip.address} does not answer ARP on the laptop port"
        got = result.responders[0].mac
        if want and got.lower() != want.lower():
            return f"{ip.address} answered from {got}, not {ip.nic.upper()} ({want})"
        return None

    def cable_nic(self) -> str | None:
        """Which of the appliance's NICs the laptop's cable is in, when known."""
        from hwprobe.procedure.engine import cable_nic

        state = self.run_result.state_after if self.run_result else None
        return cable_nic(self.cable_mac, state) if state else None

    # --- the report ------------------------------------------------------------------------
    def write_report(self, *, sheet: str | None, error: BaseException | None = None
                     ) -> tuple[Path, Path]:
        """Write this run's report (Markdown and JSON; never a password), also
        for a run that ended early: it then says where it stopped and why.
        Returns the paths; raises OSError when the state dir cannot be written
        (a full disk): ``unwritten_report`` then holds the Markdown, for the
        terminal."""
        from hwprobe.procedure.report import build, render, write_report

        run = self.run_result
        notes = list(self.notes)
        nic = self.cable_nic()
        if nic:
            notes.append(f"your cable is in {nic.upper()}")
        where = self.target.address or "-"
        if self.target.console:
            where = f"{where} (local console {self.target.console})"
        rep = build(run, address=where, fingerprint=self.fingerprint, sheet=sheet,
                    driver=getattr(self.driver, "kind", "console" if self.target.console
                                   else "web"),
                    cable_nic=nic, notes=notes,
                    stopped=None if error is None and self.stage == "done" else self.stage,
                    error=None if error is None else str(error),
                    password_change_pending=bool(self.login_outcome
                                                 and self.login_outcome.change_pending))
        try:
            self.report_paths = write_report(rep, secrets=self.secrets)
        except OSError:
            self.unwritten_report = render(rep, self.secrets)[0]
            raise
        return self.report_paths

    # --- the end ------------------------------------------------------------------------------
    def close(self) -> None:
        """Log out and give the port back (whatever happened before). Raises
        LinkError only when the port could not be put back."""
        self.close_driver()
        self.give_back()

    def __enter__(self) -> "BringupSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
