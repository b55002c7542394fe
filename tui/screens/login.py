"""Step 4: log in with the factory credentials and set the new password.

Two ways in, same fields: the web interface (HTTPS to the found address), or
the appliance's local console over a serial line when the web interface does
not answer (^o switches; the choice is offered by Find when nothing answers
HTTPS, and here when the web interface is unreachable). Over the console the
pane below shows the console's transcript as it arrives, passwords masked.
The steps after this one run the same engine through whichever driver
logged in; what the console cannot set is skipped with a pointer to the web.
Connecting (pinned to the certificate Find saw, per address and MAC) and the
first login with its password change go through the run's bring-up session,
as in ``bringup apply``: its run journal tells a re-run that an earlier run
already changed the password, so the factory one is not offered again (the
password filled in is the procedure's offer, hwprobe/procedure/passwords.py).
"""
from __future__ import annotations

import os

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from hwprobe.appliance import password_rule
from hwprobe.constants import ENV_PASSWORD, FACTORY_USER
from hwprobe.errors import (CertificateChanged, LockedOut, LoginFailed, PasswordChangeRequired,
                            PasswordRefused, Unreachable)
from hwprobe.procedure.passwords import offered_password

from ..messages import LoggedIn, LoginRefused
from ..widgets import drafts
from ..widgets.fields import Field, SecretField
from ..widgets.serial_pane import SerialFeed, SerialPane, default_console_device
from .base import StepScreen

REMINDER = ("Store the new password safely now (password manager or sealed envelope): "
            "bringup writes it nowhere, and the password it replaces stops working.")
TYPED = ("device", "user", "new", "again")      # kept when stepping back (memory only)


RULE_COLUMNS = 3      # parts of the password rule per line


def rule_marks(checks: list[tuple[str, bool]]) -> Content:
    """The password rule, part by part, each on a fixed line and column with
    ``[x]`` (met) or ``[ ]`` (missed) before it: as the technician types, only a
    mark changes, which a serial line carries in a few bytes."""
    names = [name for name, _ in checks]
    widths = [max(len(n) for n in names[col::RULE_COLUMNS]) + 7 for col in range(RULE_COLUMNS)]
    parts: list = []
    for index, (name, ok) in enumerate(checks):
        col = index % RULE_COLUMNS
        if index and not col:
            parts.append("\n")
        parts.append(("[x]", "$text-success") if ok else ("[ ]", "$text-error bold"))
        last = col == RULE_COLUMNS - 1 or index == len(checks) - 1
        parts.append(f" {name}" if last else f" {name}".ljust(widths[col] - 3))
    return Content.assemble(*parts)


class LoginScreen(StepScreen):
    STEP = "login"
    CSS_PATH = "login.tcss"
    HINT = ("The factory credentials are filled in. Type the appliance's new password "
            "twice; the rule is checked as you type ([x] met, [ ] missing).")
    CHANGED_HINT = ("This appliance's factory password was already changed: type the "
                    "password set then in Password; New password is not needed.")
    # found on an address that is not a factory one (an earlier site's, heard at Find)
    EARLIER_HINT = ("Not on a factory address, so not factory-fresh: type the password its "
                    "earlier site set in Password; New password only if it asks for one.")
    # the password in force handed to bringup in BRINGUP_PASSWORD (filled in)
    GIVEN_HINT = ("Password is filled in from BRINGUP_PASSWORD. Type the appliance's new "
                  "password twice; the rule is checked as you type ([x] met, [ ] missing).")
    GIVEN_EARLIER_HINT = ("Not on a factory address, so not factory-fresh: Password is filled "
                          "in from BRINGUP_PASSWORD; New password only if it asks for one.")
    CONSOLE_HINT = ("Over the appliance's local console (serial, 115200 8N1 unless Baud and "
                    "Flow say otherwise). Check the device, type the new password twice; "
                    "^g logs in.")
    BINDINGS = [
        Binding("ctrl+g", "login", "Log in", id="login", key_display="^g"),
        Binding("ctrl+o", "use_console", "Local console", id="use-console", key_display="^o"),
        Binding("ctrl+o", "use_web", "Web interface", id="use-web", key_display="^o"),
        Binding("ctrl+n", "trust_new_certificate", "Trust new certificate", id="trust-new",
                key_display="^n"),
    ]
    #: set when the last login stopped on a changed certificate: only then is
    #: ^n offered (the console's --trust-new-certificate, asked for by a key)
    certificate_changed: CertificateChanged | None = None

    @property
    def via_console(self) -> bool:
        return self.session.console_device is not None

    def compose_body(self) -> ComposeResult:
        typed = drafts.recall(self.session, self.STEP, {})
        logged_in = self.session.password is not None
        resumed = self.session.resumed_from or {}
        self.hint = None if logged_in else self._password_hint()
        self.changed_before = not logged_in and (
            "login" in resumed.get("done", []) or self.hint is not None)
        bringup = self.session.bringup
        self.factory_fresh = bringup is None or bringup.may_be_factory_fresh(self.hint)
        password = self.session.password or offered_password(
            self.hint, changed_before=self.changed_before, factory_fresh=self.factory_fresh)
        with Vertical(classes="body"):
            with Horizontal(classes="row"):
                if self.via_console:
                    yield Label("Console", classes="label")
                    yield Field(typed.get("device") or self.session.console_device or "",
                                id="device", placeholder="/dev/ttyUSB0, /dev/ttyS0 or a pty")
                    target = self.session.bringup.target if self.session.bringup else None
                    yield Label("Baud", classes="-short")
                    yield Field(str(target.baud if target else 115200), id="serial-baud")
                    yield Label("Flow", classes="-short")
                    yield Field(target.flow if target else "none", id="serial-flow")
                else:
                    yield Label("Appliance", classes="label")
                    yield Static(self.session.address or "-", id="where", markup=False)
            with Horizontal(classes="row"):
                yield Label("User", classes="label")
                yield Field(typed.get("user") or self.session.username or FACTORY_USER, id="user")
            with Horizontal(classes="row"):
                yield Label("Password", classes="label")
                yield SecretField(password, id="password")
            with Horizontal(classes="row"):
                yield Label("New password", classes="label")
                yield SecretField("" if logged_in else typed.get("new", ""), id="new")
            yield Static(rule_marks(password_rule.checks("")), id="rule")
            with Horizontal(classes="row"):
                yield Label("Again", classes="label")
                yield SecretField("" if logged_in else typed.get("again", ""), id="again")
            yield Static("", id="match", classes="problem", markup=False)
            yield Static(REMINDER, id="reminder", markup=False)
            yield Static("", id="tries", markup=False)
        feed = self.session.bringup.on_bytes if self.session.bringup is not None else None
        self.feed = feed if isinstance(feed, SerialFeed) else SerialFeed()
        yield SerialPane(self.feed if self.via_console else None, opened=self.via_console)

    def on_mount(self) -> None:
        if self.via_console:
            self.query_one("#hint", Static).update(self.CONSOLE_HINT)
            self.set_class(True, "-console")
        if self.session.password is not None:
            self.say("Logged in already: ^g logs in again with the current password.")
        if self.changed_before and not self._value("password"):
            if not self.via_console:
                self.query_one("#hint", Static).update(self.CHANGED_HINT)
            sentence = self.hint.sentence() if self.hint is not None else ""
            why = (sentence[:1].upper() + sentence[1:] if sentence
                   else "The run that stopped changed the password")
            self.say(f"{why}: type that one in Password, then ^g.", "warning")
            self.query_one("#password", Field).focus()
        elif not self.factory_fresh and not self._value("password") and not self.via_console:
            self.query_one("#hint", Static).update(self.EARLIER_HINT)
            self.query_one("#password", Field).focus()
        else:
            if (self.session.password is None and not self.via_console
                    and os.environ.get(ENV_PASSWORD)):
                self.query_one("#hint", Static).update(
                    self.GIVEN_HINT if self.factory_fresh else self.GIVEN_EARLIER_HINT)
            self.query_one("#new" if self.factory_fresh else "#password", Field).focus()
        self._check()

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Field).value

    def _check(self) -> bool:
        """Show the rule and the match as typed; True when the new password may be sent."""
        new, again = self._value("new"), self._value("again")
        match = self.query_one("#match", Static)
        checks = password_rule.checks(new, self._value("user"))
        problems = [name for name, ok in checks if not ok]
        self.query_one("#rule", Static).update(rule_marks(checks))
        if again and again != new:
            match.update("the two new passwords differ")
            match.set_classes("problem")
        elif again and not problems:
            match.update("the two match")
            match.set_classes("problem -ok")
        else:
            match.update("")
        return not new or (not problems and new == again)

    def on_input_changed(self, event: Input.Changed) -> None:
        if not self.is_mounted:
            return
        drafts.keep(self.session, self.STEP, {
            name: self._value(name) for name in TYPED if self.query(f"#{name}")})
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("device", "user", "password", "new", "again"):
            event.stop()
            if event.input.id == "again":
                self.action_login()
            else:
                self.focus_next()

    def _password_hint(self):
        """What the run journal of the chosen appliance says about its
        password (a run killed after the change), or None. Never raises."""
        bringup = self.session.bringup
        if bringup is None or not (bringup.target.address or self.via_console):
            return None
        try:
            return bringup.password_hint()
        except (OSError, ValueError):
            return None

    # --- logging in -----------------------------------------------------------------
    def action_login(self) -> None:
        if not self._check():
            self.say("Fix the new password first (rule and match are shown under it).", "warning")
            return
        self.query_one("#tries", Static).update("")
        user, password, new = self._value("user"), self._value("password"), self._value("new")
        bringup = self.session.bringup
        device = None
        if self.via_console:
            device = self._value("device").strip()
            if not device:
                self.say("Type the console's device first (such as /dev/ttyUSB0).", "warning")
                self.query_one("#device", Field).focus()
                return
            line = self._line_settings()
            if line is None:
                return
            self.session.console_device = device
            self.say(f"Logging in on the local console {device}...")
        else:
            line = None
            self.say(f"Logging in to {self.session.address}...")
        bringup.target.user = user
        bringup.on_bytes = self.feed if device else None
        self.login(bringup, device, user, password, new or None, line)

    def _line_settings(self) -> tuple[int, str] | None:
        """(baud, flow) from the console row; None (and said) when one is wrong."""
        from hwprobe.procedure import argcheck

        from ..widgets.serial_pane import FLOWS

        try:
            baud = argcheck.baud(self._value("serial-baud").strip() or "115200")
        except Exception as exc:  # noqa: BLE001 - argparse's type error carries the words
            self.say(f"Baud: {exc}", "warning")
            self.query_one("#serial-baud", Field).focus()
            return None
        flow = self._value("serial-flow").strip().lower() or "none"
        if flow not in FLOWS:
            self.say(f"Flow: {flow!r} is not none, rtscts or xonxoff", "warning")
            self.query_one("#serial-flow", Field).focus()
            return None
        return baud, flow

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def login(self, bringup, device: str | None, user: str, password: str,
              new: str | None, line: tuple[int, str] | None = None) -> None:
        target = bringup.target
        if line is not None and (target.baud, target.flow) != line:
            bringup.close_driver()           # reopened at the new speed below
            target.baud, target.flow = line
        bringup.use_console(device)          # closes the other way in (logs it out)
        if self.session.kit_folder and device is None:
            self._wait_for_a_restart(bringup)
        try:
            outcome = bringup.login(password, new)
        except LockedOut as exc:
            self.post_message(LoginRefused(str(exc), 0, True))
            return
        except LoginFailed as exc:
            self.post_message(LoginRefused(str(exc), exc.tries_left, False))
            return
        except (PasswordChangeRequired, PasswordRefused) as exc:
            self.post_message(LoginRefused(str(exc), None, False))
            return
        state = bringup.read_state()
        self.post_message(LoggedIn(outcome.changed_password, state, user, outcome.password))

    def _wait_for_a_restart(self, bringup) -> None:
        """A run stopped while the appliance restarted after installing its
        site software (its run journal says so): wait for it first."""
        from hwprobe.procedure.finish.run import progress_line, resume_pending

        def tick(p) -> None:
            self.app.call_from_thread(self.say, "The appliance is restarting after installing "
                                      "its site software (an earlier run): waiting, "
                                      + progress_line(p, None))

        resume_pending(bringup, on_progress=tick)

    def on_login_refused(self, message: LoginRefused) -> None:
        tries = self.query_one("#tries", Static)
        if message.locked:
            tries.update("The account is locked: wait for the lockout to end, then ^g.")
        elif message.tries_left is not None:
            tries.update(f"{message.tries_left} tries left before the account locks.")
        self.say(message.text, "error")
        self.query_one("#password", Field).focus()

    def on_logged_in(self, message: LoggedIn) -> None:
        self.session.username = message.username
        self.session.password = message.password
        self.session.password_changed = self.session.password_changed or message.changed_password
        self.session.state = message.state
        drafts.forget(self.session, self.STEP)
        self._learn_cable_nic(message.state)
        if message.changed_password:
            self.app.notify("New password set. " + REMINDER, timeout=8)
        elif self._value("new"):
            self.app.notify("The appliance did not ask for a new password: "
                            "the one you logged in with stays.", timeout=8)
        self.app.goto(self._next_step())

    def _next_step(self) -> str:
        """Network, or the Site step when resuming a run that stopped there
        (the network settings it had applied are on the appliance)."""
        resumed = self.session.resumed_from or {}
        if (self.session.kit_folder and resumed.get("step") == "site"
                and "restore" in resumed.get("done", [])):
            self.session.done.update(("network", "restore"))
            return "site"
        return "network"

    def _learn_cable_nic(self, state) -> None:
        """The appliance's NICs are known now: which one the cable is in (by
        the MAC that answered at Find), whatever the technician was told."""
        bringup = self.session.bringup
        nic = bringup.cable_nic(state) if bringup is not None else None
        if nic is not None:
            self.session.cable_nic = nic
            self.session.cable_nic_known = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if (event.state == WorkerState.ERROR and event.worker.group == "login"
                and isinstance(event.worker.error, CertificateChanged)):
            super().on_worker_state_changed(event)
            self.certificate_changed = event.worker.error
            self.refresh_bindings()
            error = event.worker.error
            self.query_one("#tries", Static).update(
                f"Certificate SHA-256 was {error.expected[:16]}..., is now {error.got[:16]}...")
            self.say("The certificate changed since it was trusted; nothing was sent. If the "
                     "box was re-imaged on purpose, ^n trusts the new one; else check the cable.",
                     "error")
            event.prevent_default()         # the base screens' handler would say it again
            return
        if (event.state == WorkerState.ERROR and event.worker.group == "login"
                and isinstance(event.worker.error, Unreachable) and not self.via_console):
            super().on_worker_state_changed(event)
            self.say(f"{event.worker.error} - ^o: log in over the local console instead.",
                     "error")
            event.prevent_default()
            return

    # --- which way in ---------------------------------------------------------------
    def action_trust_new_certificate(self) -> None:
        if self.certificate_changed is None:
            return
        self.session.bringup.target.trust_new_certificate = True
        self.certificate_changed = None
        self.refresh_bindings()
        self.say("The new certificate will be trusted for this appliance from now on: "
                 "^g logs in.", "warning")

    def check_action(self, action: str, parameters):
        if action == "trust_new_certificate":
            return self.certificate_changed is not None
        if action == "use_console":
            return not self.via_console
        if action == "use_web":
            return self.via_console and self.session.address is not None
        return super().check_action(action, parameters)

    def action_use_console(self) -> None:
        self.session.console_device = (self.session.console_device
                                       or default_console_device(self.app))
        self.app.switch_screen(LoginScreen())

    def action_use_web(self) -> None:
        self.session.console_device = None
        self.app.switch_screen(LoginScreen())

    def palette_commands(self):
        if not self.via_console:
            yield SystemCommand("Use the local console (serial)",
                                "Log in and set the basic settings over the appliance's console",
                                self.action_use_console)
        elif self.session.address is not None:
            yield SystemCommand("Use the web interface", f"Log in to {self.session.address}",
                                self.action_use_web)
