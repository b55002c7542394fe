"""The procedure's way in: connect to the chosen appliance (the web interface
pinned to the certificate the probe saw, or the local console) and log in,
the forced first-login password change included.

``LoggingIn`` is a part of ``BringupSession`` (hwprobe/procedure/session.py),
written here so that each file holds one job; it uses the session's
``target``, ``responder``, ``cable_mac``, ``mac_seen``, ``takeover``,
``driver``, ``fingerprint``, ``login_outcome``, ``stage``, ``on_bytes``,
``note()``, ``keep_secret()`` and ``_journal``.

Which password is used, and how a face is asked for one, is
hwprobe/procedure/passwords.py; the run journal that remembers a password
change is hwprobe/procedure/runjournal.py.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from hwprobe import stopping
from hwprobe.errors import BadInput, CertificateChanged, LoginFailed, PasswordChangeRequired

TYPE_CHECKING = False           # (typing itself costs every bringup start)
if TYPE_CHECKING:
    from hwprobe.appliance.base import ApplianceDriver
    from hwprobe.procedure.passwords import LoginOutcome, PasswordHint, Prompter
    from hwprobe.procedure.runjournal import RunJournal


class LoggingIn:
    """Connecting and logging in; see the module docstring."""

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
        if not self.target.console:
            from hwprobe.port.neighbours import neighbour_mac

            # the MAC that answered: the probe's, else the laptop's neighbour
            # table now that the connection was made (on-link only)
            self.mac_seen = self.cable_mac or neighbour_mac(self.target.address)
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
        if r is None or not (r.fingerprint_sha256 or self.expected_fingerprint):
            return None
        from hwprobe.appliance import pins
        from hwprobe.appliance.pinning import normalize_fingerprint

        key = f"{self.target.address}@{r.mac.lower()}"
        seen = self.expected_fingerprint or r.fingerprint_sha256
        kept = pins.pinned_fingerprint(key)
        changed = kept is not None and kept != normalize_fingerprint(seen)
        if changed and self._finish_set(seen):
            pins.pin_fingerprint(key, seen)
            self.note(f"certificate of {self.target.address} (MAC {r.mac}): SHA-256 {seen}, "
                      "the site's, as an earlier run's finish made it the default: the pin "
                      "moved to it")
            return seen
        if changed and not self.target.trust_new_certificate:
            raise CertificateChanged(kept, seen)
        if kept is None or changed:
            pins.pin_fingerprint(key, seen)
            self.note(f"certificate of {self.target.address} (MAC {r.mac}): SHA-256 {seen} - "
                      f"trusted for this appliance from now on")
        return seen

    def _finish_set(self, seen: str) -> bool:
        """This appliance's run journal says the finish made the certificate
        ``seen`` the default (a run killed right after it did)."""
        from hwprobe.appliance.pinning import normalize_fingerprint

        entry = self.run_journal().finished_step("certificate")
        return (entry.get("status") in ("making default", "not served", "done")
                and entry.get("sha256") == normalize_fingerprint(seen))

    def move_pin(self, sha256: str, why: str) -> None:
        """The appliance presents the certificate ``sha256`` because this run
        made it the default: keep it as this appliance's pin (an expected
        change, not a "certificate changed" stop) and open the web session
        again on it, logged in with the password in force. Raises what
        ``connect()`` and ``login()`` raise."""
        from hwprobe.appliance import pins
        from hwprobe.appliance.pinning import format_fingerprint, where

        shown = format_fingerprint(sha256)
        r = self.responder
        pins.pin_fingerprint(f"{self.target.address}@{r.mac.lower()}" if r is not None
                             else where(str(self.target.address), self.target.https_port), sha256)
        self.expected_fingerprint = shown
        self.note(f"certificate of {self.target.address}: now SHA-256 {shown} ({why}); "
                  "bringup's pin moved to it")
        repin = getattr(self.driver, "repin", None)
        if repin is not None:           # the web session goes on over the new certificate
            repin(sha256)
            self.fingerprint = shown
            self._record_moved_pin()
            return
        password = self.login_outcome.password if self.login_outcome is not None else None
        self.close_driver()
        self.connect()
        if password is not None:
            self.login(password)
        self._record_moved_pin()

    def _record_moved_pin(self) -> None:
        """The production addresses this run pinned the certificate for get
        the new one too (verify there, after the cables move, trusts it)."""
        record = getattr(self, "record_certificate", None)
        if record is not None and self.run_result is not None:
            record(self.run_result)

    def trust_on_first_use(self) -> str:
        """The certificate the target presents, checked against the pin kept
        for its address (trusted and kept when there is none: said in a
        note); for an interface bringup reaches without the web driver (a
        hosted site's /login). Returns its fingerprint (also ``fingerprint``).
        Raises CertificateChanged, Unreachable."""
        from hwprobe.appliance import pins
        from hwprobe.appliance.pinning import fetch_fingerprint, normalize_fingerprint, where

        key = where(str(self.target.address), self.target.https_port)
        seen = fetch_fingerprint(str(self.target.address), self.target.https_port)
        kept = pins.pinned_fingerprint(key)
        if kept and kept != normalize_fingerprint(seen) and not self.target.trust_new_certificate:
            raise CertificateChanged(kept, seen)
        if kept != normalize_fingerprint(seen):
            pins.pin_fingerprint(key, seen)
            self.note(f"certificate of {self.target.address}: SHA-256 {seen} - trusted from now on")
        self.fingerprint = seen
        return seen

    def failover_client(self, client_id: str | None, client_secret: str | None):
        """The command-API client for the target (an appliance of a failover
        pair on its production address), its HTTPS pinned to the certificate
        bringup keeps for that address (the one a kit, verify or a run that
        moved the appliance there recorded), else to the one seen now, which
        is kept from then on. Returns a hwprobe.appliance.failover.FailoverClient;
        the caller closes it. Raises CertificateChanged (another certificate
        than the one kept, unless the target trusts a new one), Unreachable."""
        from hwprobe.appliance.failover import FailoverClient

        if not self.target.address:
            raise BadInput("give the appliance's --address")
        self.stage = "connecting"
        self.keep_secret(client_secret)
        client = FailoverClient(self.target.address, self.target.https_port,
                                client_id=client_id, client_secret=client_secret)
        client.pin_to(self.trust_on_first_use())
        return client

    # --- the run journal of this appliance --------------------------------------------
    def appliance_key(self) -> str:
        """How this appliance's run journal is named: by what identifies it,
        whatever address it is on (every new box shares the factory ones, and
        bringup moves it to a production one): the MAC the laptop saw answer
        (the probe's, else the neighbour table's once connected), else its
        certificate; over the local console, the console device."""
        return journal_key(console=self.target.console, mac=self.cable_mac or self.mac_seen,
                           fingerprint=self.fingerprint, address=self.target.address)

    def run_journal(self) -> "RunJournal":
        from hwprobe.procedure.runjournal import RunJournal

        if self._journal is None:
            self._journal = RunJournal.for_appliance(self.appliance_key())
        return self._journal

    def may_be_factory_fresh(self, hint: "PasswordHint | None") -> bool:
        """Whether bringup has reason to think the appliance is factory-fresh,
        so that the factory password is not a guess: it is on a factory
        address (or reached over its local console, with no address, as a
        new box is) and no run journal of it (``hint``) says an earlier run
        changed its password."""
        from hwprobe.constants import FACTORY_ADDRESSES

        return hint is None and (not self.target.address
                                 or self.target.address in FACTORY_ADDRESSES)

    def password_hint(self) -> "PasswordHint | None":
        """What an earlier run of this appliance did to its password, or None.
        Needs the probe (or connect) first, so the right journal is read.
        Raises StateFileDamaged when the run journal cannot be read."""
        from hwprobe.procedure.passwords import hint_from

        return hint_from(self.run_journal().data)

    # --- logging in ------------------------------------------------------------------
    def login(self, password: str, new_password: str | None = None, *,
              dry_run: bool = False,
              ask_new_password: Callable[[], str | None] | None = None) -> "LoginOutcome":
        """Log in as the target's user; when the appliance forces a change,
        set ``new_password`` (else the one ``ask_new_password()`` gives, asked
        only then), journalled before it is sent and after it landed. A dry
        run leaves a forced change pending and says so.

        Raises LoginFailed (tries left), LockedOut, PasswordRefused,
        PasswordChangeRequired (a change is forced and no new password given),
        what ``ask_new_password`` raises (BadInput)."""
        from hwprobe.procedure.passwords import LoginOutcome

        driver = self.connect()
        self.stage = "logging in"
        self.keep_secret(password, new_password)
        result = driver.login(self.target.user, password)
        outcome = LoginOutcome(password=password)
        if result.change_required:
            if not dry_run and not new_password and ask_new_password is not None:
                new_password = ask_new_password()
                self.keep_secret(new_password)
            if dry_run:
                outcome.change_pending = True
                self.password_change = "pending"
                self.note("the appliance asks for a new password at first login: a real "
                          "run would set it now (dry run: left unchanged)")
            elif not new_password:
                raise PasswordChangeRequired(
                    "the appliance requires a new password before any page opens: "
                    "give one at the prompt or in BRINGUP_NEW_PASSWORD")
            else:
                journal = self.run_journal()
                # a signal waits for the change and its record: a run stopped
                # here would leave the next one guessing which password is in force
                with stopping.critical():
                    journal.record(password_change={"status": "sending", "at": _now()})
                    self.password_change = "sending"    # for a report if it stops now
                    driver.change_password(password, new_password)
                    self.password_change = "done"
                    journal.record(password_change={"status": "done", "at": _now()})
                outcome.password, outcome.changed_password = new_password, True
        self.login_outcome = outcome
        return outcome

    def log_in(self, prompter: "Prompter", new_password: str | None, *,
               dry_run: bool = False, ask_new_password: bool = False) -> "LoginOutcome":
        """Connect and log in with the password in force, asked through
        ``prompter`` when the environment does not give it (after the
        connection, so this appliance's run journal is the one read; the
        factory password only for an appliance that may be factory-fresh);
        the forced change too, unless a dry run, with ``new_password`` or,
        with ``ask_new_password``, the one asked through ``prompter`` once the
        appliance asks for it. Returns the outcome. Raises what ``connect()``
        and ``login()`` raise, a LoginFailed in words for a terminal (tries
        left; the factory password when a change may not have landed), and
        BadInput when the password is needed and not given."""
        from hwprobe.procedure import passwords

        self.connect()
        self.stage = "logging in"
        hint = self.password_hint()
        password = passwords.current_password(
            prompter, self.target.user, hint, new_password, self.note,
            factory_fresh=self.may_be_factory_fresh(hint), where=str(self.target.address))
        ask = None
        if ask_new_password:
            def ask():
                return passwords.new_password(prompter, self.target.user)
        try:
            outcome = self.login(password, new_password, dry_run=dry_run, ask_new_password=ask)
        except LoginFailed as exc:
            passwords.refused(exc, hint, password, new_password)
            raise
        if outcome.changed_password:
            prompter.tell("appliance password changed at first login: store the new one safely")
        return outcome


def journal_key(*, console: str | None = None, mac: str | None = None,
                fingerprint: str | None = None, address: str | None = None) -> str:
    """The name of an appliance's run journal (``LoggingIn.appliance_key``):
    the console device, else the MAC the laptop saw answer, else the
    certificate, else the address."""
    if console:
        return f"console-{console}"
    if mac:
        return f"mac-{mac.lower()}"
    if fingerprint:
        return f"cert-{fingerprint.replace(':', '')[:16].lower()}"
    return str(address)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
