"""One exception tree for everything bringup does.

Every error carries ``exit_status`` (DESIGN.md: 0 done, 1 failed, 2 bad input,
3 needs privileges) and a message written for the technician: what happened,
where, and what to do next.
"""
from __future__ import annotations


class BringupError(Exception):
    """Base of every error bringup reports to the technician."""

    exit_status = 1


# --- input and privileges -------------------------------------------------

class BadInput(BringupError):
    """The technician's input is wrong; nothing was changed."""

    exit_status = 2


class SheetInvalid(BadInput):
    """A settings sheet has problems; ``problems`` lists every one of them as
    ``FILE:LINE: [table].key: what is wrong``."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NeedsPrivileges(BringupError):
    """Root, CAP_NET_ADMIN or CAP_NET_RAW is missing."""

    exit_status = 3


# --- the laptop port --------------------------------------------------------

class LinkError(BringupError):
    """The laptop port could not be taken over or given back."""


class PortRefused(LinkError):
    """The chosen port carries the laptop's default route or a global address."""

    exit_status = 2


class PortBusy(LinkError):
    """Another bringup holds the laptop port (``pid`` when it can be told)."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


class ProbeTimeout(BringupError):
    """Nothing answered on the factory addresses within the timeout."""


# --- the appliance -----------------------------------------------------------

class ApplianceError(BringupError):
    """Base for errors reaching or talking to the appliance."""


class Unreachable(ApplianceError):
    """The appliance did not answer (connection refused, reset or timed out).

    ``applied`` is set after a dropped change: True when a re-read shows it
    landed, False when it did not, None when that could not be told."""

    applied: bool | None = None


class CertificateChanged(ApplianceError):
    """The appliance's TLS certificate is not the one pinned on first use."""

    def __init__(self, expected: str, got: str):
        self.expected, self.got = expected, got
        super().__init__(
            f"the appliance's certificate changed: expected SHA-256 {expected}, "
            f"got {got}. If the appliance was re-imaged or given a new "
            f"certificate on purpose, run again with --trust-new-certificate."
        )


class LoginFailed(ApplianceError):
    """User name or password refused. ``tries_left`` is how many attempts remain
    before lockout (None when the appliance does not say)."""

    def __init__(self, message: str, tries_left: int | None = None):
        self.tries_left = tries_left
        super().__init__(message)


class LockedOut(LoginFailed):
    """Too many failed logins: the account is locked for ``seconds``."""

    def __init__(self, message: str, seconds: int | None = None):
        self.seconds = seconds
        super().__init__(message, tries_left=0)


class PasswordChangeRequired(ApplianceError):
    """The appliance will open no page until the password is changed."""


class PasswordRefused(ApplianceError):
    """The new password breaks the appliance's rule; the message says which part."""

    exit_status = 2


class ValidationRefused(ApplianceError):
    """The appliance refused a value with its own message; nothing was saved."""

    def __init__(self, message: str, page: str | None = None, field: str | None = None):
        self.page, self.field = page, field
        super().__init__(message)


class PageMismatch(ApplianceError):
    """A page does not hold a field the firmware profile's page map names; the
    driver stops before the first change. ``page``, ``field`` and ``version``
    say where and on which software."""

    def __init__(self, message: str, page: str = "", field: str = "", version: str = ""):
        self.page, self.field, self.version = page, field, version
        super().__init__(message)


class SessionExpired(ApplianceError):
    """The appliance ended the session (idle timeout or restart)."""


class ReadBackMismatch(ApplianceError):
    """A value read back after a change differs from what was sent."""

    def __init__(self, step: str, expected, got):
        self.step, self.expected, self.got = step, expected, got
        super().__init__(f"{step}: read back {got!r}, expected {expected!r}")
