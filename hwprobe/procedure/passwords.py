"""Which password the procedure uses, and how it asks a face for one.

Passwords come from the environment or from the technician, never argv:
BRINGUP_PASSWORD (the appliance's password in force), BRINGUP_NEW_PASSWORD
(set at the forced first-login change), BRINGUP_SMTP_PASSWORD (the sheet's
e-mail relay). What the environment does not give, the procedure asks for
through a ``Prompter``: each face implements it (a terminal prompt for the
headless commands, bringup/headless.py). The console asks by its Log in
fields instead: it fills Password with ``offered_password()`` and logs in
with what is typed. The policy is written here once:

- the new password is checked against the password rule before anything is
  sent; asked twice, the two must match;
- the SMTP password is needed only when the sheet's relay logs in, and not
  for a dry run;
- the new password is asked (when BRINGUP_NEW_PASSWORD does not give it)
  only once the appliance asks for the change, after it was found;
- the password in force: BRINGUP_PASSWORD, else asked. No lockout try is
  spent on a guess: the factory password is offered (Enter, or with no
  terminal to ask at) only for an appliance bringup has reason to think is
  factory-fresh: found on a factory address (or over its local console), with
  no run journal saying an earlier run changed it (``PasswordHint``).
  Anywhere else, with nobody to ask, the command says to set BRINGUP_PASSWORD
  and exits 2 (BadInput), having sent nothing.

Every refusal is raised before anything is sent to the appliance.

Imports ``typing``: keep it off ``bringup probe``'s path (the session
imports this module only when it logs in).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hwprobe.appliance import password_rule
from hwprobe.constants import ENV_NEW_PASSWORD, ENV_PASSWORD, ENV_SMTP_PASSWORD, FACTORY_PASSWORD
from hwprobe.errors import BadInput, LoginFailed, PasswordRefused

if TYPE_CHECKING:
    from hwprobe.appliance.state import Settings


class Prompter(Protocol):
    """How the procedure asks the technician for what it needs (a face implements it)."""

    def secret(self, question: str) -> str | None:
        """The technician's answer to ``question``, typed without echo; None
        (or "") when nobody can answer (no terminal)."""

    def tell(self, text: str) -> None:
        """Show the technician ``text`` (not a note of the run's report)."""


@dataclass
class PasswordHint:
    """What the run journal says about this appliance's password."""

    certain: bool                        # an earlier run sent the change and saw it land
    at: str = ""

    def sentence(self) -> str:
        how = "changed" if self.certain else "was changing (it may not have landed)"
        return f"an earlier run {how} this appliance's password at {self.at}"


@dataclass
class LoginOutcome:
    """What logging in did."""

    password: str                        # the password in force now
    changed_password: bool = False       # the forced change was made now
    change_pending: bool = False         # a dry run left the forced change undone


def hint_from(journal_data) -> PasswordHint | None:
    """The password hint a run journal's data holds, or None."""
    change = journal_data.get("password_change") if isinstance(journal_data, dict) else None
    if not isinstance(change, dict) or change.get("status") not in ("sending", "done"):
        return None
    return PasswordHint(change.get("status") == "done", str(change.get("at", "")))


def new_password(prompter: Prompter, user: str) -> str | None:
    """The new password for a forced first-login change: BRINGUP_NEW_PASSWORD,
    else asked twice (Enter: none). Returns None when none is given. Raises
    BadInput (the two differ) or PasswordRefused (against the rule)."""
    value = new_password_from_environment(user)
    if not value:
        value = prompter.secret("New appliance password (if the appliance asks for one): ")
        if value:
            again = prompter.secret("New appliance password again: ")
            if value != again:
                raise BadInput("the two new passwords differ; nothing was changed")
            _check_rule(value, user, "the new password", "the appliance's password was not "
                        "changed; nothing was saved")
    return value or None


def new_password_from_environment(user: str) -> str | None:
    """BRINGUP_NEW_PASSWORD, or None; read before anything is sent (a run that
    changes nothing but must get past a forced change to read the pages,
    capture, takes it from there only). Raises PasswordRefused when it is
    against the rule."""
    value = os.environ.get(ENV_NEW_PASSWORD) or None
    if value:
        _check_rule(value, user, f"{ENV_NEW_PASSWORD}: the new password",
                    "nothing was sent to the appliance")
    return value


def _check_rule(value: str, user: str, what: str, unchanged: str) -> None:
    """PasswordRefused naming ``what`` and every part of the rule it misses."""
    problems = password_rule.problems(value, user)
    if problems:
        raise PasswordRefused(f"{what} " + "; ".join(problems) + f" ({unchanged})")


def needs_smtp_password(settings: "Settings") -> bool:
    """The sheet's e-mail relay logs in with a password."""
    return bool(settings.smtp and settings.smtp.auth == "password")


def smtp_password_given() -> str | None:
    """BRINGUP_SMTP_PASSWORD, or None."""
    return os.environ.get(ENV_SMTP_PASSWORD) or None


def smtp_password(prompter: Prompter, settings: "Settings", dry_run: bool) -> str | None:
    """The SMTP relay's password when the sheet needs one: from the variable
    or asked; without either, BadInput (exit 2) before anything is touched."""
    value = smtp_password_given()
    if value or not needs_smtp_password(settings) or dry_run:
        return value
    value = prompter.secret(f"SMTP password for {settings.smtp.username}: ")
    if not value:
        raise BadInput(f"the sheet's [smtp] logs in to {settings.smtp.relay} as "
                       f"{settings.smtp.username!r}: give its password in {ENV_SMTP_PASSWORD} "
                       f"(or at the prompt); nothing was changed")
    return value


def offered_password(hint: PasswordHint | None, *, changed_before: bool = False,
                     factory_fresh: bool = True) -> str:
    """The password a face offers before the technician types one:
    BRINGUP_PASSWORD, else the factory password for an appliance that may be
    factory-fresh (``factory_fresh``: found on a factory address) unless an
    earlier run changed it (``hint``, or the face knows it: ``changed_before``),
    else ""."""
    return os.environ.get(ENV_PASSWORD) or (
        FACTORY_PASSWORD if factory_fresh and not changed_before and hint is None else "")


def current_password(prompter: Prompter, user: str, hint: PasswordHint | None,
                     new_password: str | None, note, *, factory_fresh: bool = True,
                     where: str = "the appliance") -> str:
    """The appliance's password to log in with: BRINGUP_PASSWORD; else, when
    no earlier run changed it, asked, the factory password being the answer
    to Enter (or to no terminal) only when ``factory_fresh``; else the new
    password given for this run (``note`` says so), or asked. Raises
    BadInput, before anything is sent, when nobody gives it and the factory
    password is not to be tried (an earlier run changed it, or ``where`` is
    not a factory address): a guess would spend a lockout try."""
    value = os.environ.get(ENV_PASSWORD)
    if value:
        return value
    if hint is None and factory_fresh:
        return prompter.secret(f"Appliance password for {user} "
                               f"(Enter: the factory password): ") or FACTORY_PASSWORD
    if hint is None:
        value = prompter.secret(f"Appliance password for {user} at {where}: ")
        if value:
            return value
        raise BadInput(f"no password for {user} at {where}: set {ENV_PASSWORD} to the "
                       f"appliance's password (or run on a terminal, to be asked); the "
                       f"factory password is tried only on a factory address, as a guess "
                       f"would spend a lockout try; nothing was sent to the appliance")
    if new_password:
        note(f"{hint.sentence()}: logging in with the new password ({ENV_NEW_PASSWORD})")
        return new_password
    sentence = hint.sentence()
    value = prompter.secret(f"{sentence[0].upper()}{sentence[1:]}. "
                            f"Appliance password for {user}: ")
    if value:
        return value
    raise BadInput(f"{sentence}: set {ENV_PASSWORD} to that password (or run on a terminal, "
                   f"to be asked; the factory password is not tried: it would spend a lockout "
                   f"try); nothing was sent to the appliance")


def refused(exc: LoginFailed, hint: PasswordHint | None, password: str,
            new_password: str | None) -> LoginFailed:
    """``exc`` with its words completed for a terminal: that bringup does not
    retry, and, when the password tried was the new one of a change that may
    not have landed, that the factory password may still be in force. How
    many tries are left is said once, in the appliance's own words (the
    drivers read ``tries_left`` from them)."""
    more = ""
    if hint is not None and not hint.certain and password == new_password:
        more = (f"; {hint.sentence()}: if it did not, the factory password is still in "
                f"force ({ENV_PASSWORD}={FACTORY_PASSWORD})")
    exc.args = (f"{exc}{more}; bringup does not retry a password by itself",)
    return exc
