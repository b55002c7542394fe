"""Step 4: log in with the factory credentials and set the new password."""
from __future__ import annotations

import os

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from hwprobe import password_rule
from hwprobe.constants import ENV_PASSWORD, FACTORY_PASSWORD, FACTORY_USER
from hwprobe.errors import LockedOut, LoginFailed, PasswordChangeRequired, PasswordRefused

from ..messages import LoggedIn, LoginRefused
from ..widgets.fields import Field, SecretField
from ..widgets.serial_pane import SerialPane
from .base import StepScreen

REMINDER = ("Store the new password safely now (password manager or sealed envelope): "
            "bringup writes it nowhere, and the factory password stops working.")


class LoginScreen(StepScreen):
    STEP = "login"
    CSS_PATH = "login.tcss"
    HINT = ("The factory credentials are filled in. Type the appliance's new password "
            "twice; the rule is checked as you type.")
    BINDINGS = [
        Binding("ctrl+l", "login", "Log in", id="login", key_display="^l"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(classes="row"):
                yield Label("Appliance", classes="label")
                yield Static(self.session.address or "-", id="where", markup=False)
            with Horizontal(classes="row"):
                yield Label("User", classes="label")
                yield Field(FACTORY_USER, id="user")
            with Horizontal(classes="row"):
                yield Label("Password", classes="label")
                yield SecretField(os.environ.get(ENV_PASSWORD) or FACTORY_PASSWORD, id="password")
            with Horizontal(classes="row"):
                yield Label("New password", classes="label")
                yield SecretField("", id="new")
            yield Static("", id="rule", classes="problem", markup=False)
            with Horizontal(classes="row"):
                yield Label("Again", classes="label")
                yield SecretField("", id="again")
            yield Static("", id="match", classes="problem", markup=False)
            yield Static(REMINDER, id="reminder", markup=False)
            yield Static("", id="tries", markup=False)
        yield SerialPane()

    def on_mount(self) -> None:
        self.query_one("#new", Field).focus()
        self._check()

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Field).value

    def _check(self) -> bool:
        """Show the rule and the match as typed; True when the new password may be sent."""
        new, again = self._value("new"), self._value("again")
        rule = self.query_one("#rule", Static)
        match = self.query_one("#match", Static)
        problems = password_rule.problems(new, self._value("user")) if new else []
        if not new:
            rule.update("needs 8+ characters: upper and lower case, a digit, a symbol")
            rule.set_classes("problem")
        elif problems:
            rule.update("; ".join(problems))
            rule.set_classes("problem")
        else:
            rule.update("meets the appliance's rule")
            rule.set_classes("problem -ok")
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
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("user", "password", "new", "again"):
            event.stop()
            if event.input.id == "again":
                self.action_login()
            else:
                self.focus_next()

    def action_login(self) -> None:
        if not self._check():
            self.say("Fix the new password first (rule and match are shown under it).", "warning")
            return
        self.say(f"Logging in to {self.session.address}...")
        self.query_one("#tries", Static).update("")
        self.login(self._value("user"), self._value("password"), self._value("new") or None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def login(self, user: str, password: str, new: str | None) -> None:
        from hwprobe.drivers.web import WebDriver
        from hwprobe.engine import first_login

        driver = self.session_driver()
        try:
            result = first_login(driver, user, password, new)
        except LockedOut as exc:
            self.post_message(LoginRefused(str(exc), 0, True))
            return
        except LoginFailed as exc:
            self.post_message(LoginRefused(str(exc), exc.tries_left, False))
            return
        except (PasswordChangeRequired, PasswordRefused) as exc:
            self.post_message(LoginRefused(str(exc), None, False))
            return
        self.session.username = user
        self.session.password = new if result.change_required else password
        self.session.state = driver.read_state()
        self.post_message(LoggedIn(result.change_required, self.session.state))

    def session_driver(self):
        """The open web driver for the found appliance (opened once)."""
        from hwprobe.drivers.web import WebDriver

        driver = getattr(self.app.session, "driver", None)
        if driver is None or driver.address != self.session.address:
            # pin the certificate the technician saw on the Find step: every new
            # appliance sits on the same factory addresses, so a pin stored by
            # address would belong to the previous box
            seen = getattr(self.session.responder, "fingerprint_sha256", None)
            driver = WebDriver(self.session.address, pinned_fingerprint=seen,
                               use_journal=seen is None)
            driver.open()
            self.app.session.driver = driver
        return driver

    def on_login_refused(self, message: LoginRefused) -> None:
        tries = self.query_one("#tries", Static)
        if message.locked:
            tries.update("The account is locked: wait for the lockout to end, then ^l.")
        elif message.tries_left is not None:
            tries.update(f"{message.tries_left} tries left before the account locks.")
        self.say(message.text, "error")
        self.query_one("#password", Field).focus()

    def on_logged_in(self, message: LoggedIn) -> None:
        if message.changed_password:
            self.app.notify("New password set. " + REMINDER, timeout=8)
        elif self._value("new"):
            self.app.notify("The appliance did not ask for a new password: "
                            "the one you logged in with stays.", timeout=8)
        self.app.goto("network")
