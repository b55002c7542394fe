"""One exception tree for everything bringup does, and the exit-status
contract every command keeps.

Every error carries ``exit_status`` (one of ``EXIT_STATUSES``) and a message
written for the technician: what happened, where, and what to do next.
``exit_status_of(error)`` is the one place an ending becomes a status;
docs/exit-status.md states the same table for the technician (a test holds
the two together, and walks every command's refusals against it).
"""
from __future__ import annotations

# --- the exit-status contract ---------------------------------------------------
DONE = 0                 # everything asked was done
FAILED = 1               # a step failed, the appliance did not answer, a login was refused
BAD_INPUT = 2            # nothing was sent and the laptop port was not touched
NEEDS_PRIVILEGES = 3     # root or capabilities missing, or the state directory unusable
HANGUP = 129             # 128 + SIGHUP: the terminal went away
INTERRUPTED = 130        # 128 + SIGINT: Ctrl-C
BROKEN_PIPE = 141        # 128 + SIGPIPE: whoever read the output stopped reading
TERMINATED = 143         # 128 + SIGTERM

# status -> (its name, what was changed when a command ends with it)
EXIT_STATUSES: dict[int, tuple[str, str]] = {
    DONE: ("done", "what was asked"),
    FAILED: ("failed", "possibly part of it: the report lists what landed; running again "
                       "applies only what is still missing"),
    BAD_INPUT: ("bad input", "nothing: nothing was sent to the appliance and the laptop port "
                             "was not touched"),
    NEEDS_PRIVILEGES: ("needs privileges, or the state directory cannot be used", "nothing"),
    HANGUP: ("the terminal went away (SIGHUP)", "the laptop port was given back; a run that "
                                                 "had begun wrote its report"),
    INTERRUPTED: ("interrupted (Ctrl-C, SIGINT)", "the laptop port was given back; a run that "
                                                  "had begun wrote its report"),
    BROKEN_PIPE: ("the output's reader went away (SIGPIPE)", "the laptop port was given back; "
                                                             "a run that had begun wrote its "
                                                             "report"),
    TERMINATED: ("stopped (SIGTERM)", "the laptop port was given back; a run that had begun "
                                      "wrote its report"),
}


class BringupError(Exception):
    """Base of every error bringup reports to the technician."""

    exit_status = FAILED


# --- input and privileges -------------------------------------------------

class BadInput(BringupError):
    """The technician's input is wrong; nothing was changed."""

    exit_status = BAD_INPUT


class SheetInvalid(BadInput):
    """A settings sheet has problems; ``problems`` lists every one of them as
    ``FILE:LINE: [table].key: what is wrong``."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StateFileDamaged(BringupError):
    """A file bringup keeps in its state directory (a run journal, the pins
    file, a link journal) cannot be read: the message names it and says how
    to fix it by hand. Raised before anything is changed with it."""

    exit_status = NEEDS_PRIVILEGES


class NeedsPrivileges(BringupError):
    """Root, CAP_NET_ADMIN or CAP_NET_RAW is missing."""

    exit_status = NEEDS_PRIVILEGES


class StateDirUnusable(BringupError):
    """Journals, reports or the run journal cannot be written in the state
    directory: stopped before anything was changed."""

    exit_status = NEEDS_PRIVILEGES


class OutputClosed(BringupError):
    """Standard output's reader went away (``bringup ... | head -1``): the
    command ends quietly, as git and ip do, after giving the port back."""

    exit_status = BROKEN_PIPE

    def __init__(self) -> None:
        super().__init__("")


class Stopped(SystemExit):
    """A signal stopped bringup (SIGINT, SIGTERM, SIGHUP): ``signum``; the
    exit status (``code``) is 128 + signum. A SystemExit, so that nothing
    that catches Exception swallows it; every ``with`` still gives the laptop
    port back on its way out. ``said``: the line saying so was already
    written (the takeover notes it as it gives the port back)."""

    def __init__(self, signum: int, said: bool = False):
        super().__init__(128 + signum)
        self.signum, self.said = signum, said

    @property
    def words(self) -> str:
        """What stopped the run, in words."""
        return {2: "interrupted (Ctrl-C)", 15: "stopped by SIGTERM",
                1: "the terminal went away (SIGHUP)"}.get(self.signum,
                                                          f"stopped by signal {self.signum}")


# --- the laptop port --------------------------------------------------------

class LinkError(BringupError):
    """The laptop port could not be taken over or given back."""


class PortRefused(LinkError):
    """The chosen port carries the laptop's default route or a global address."""

    exit_status = BAD_INPUT


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

    exit_status = BAD_INPUT


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
        super().__init__(f"{step}: {self.words}")

    @property
    def words(self) -> str:
        """The difference alone, values in words: "read back X, expected Y"."""
        return f"read back {_in_words(self.got)}, expected {_in_words(self.expected)}"


def _in_words(value) -> str:
    """A value for a sentence: text as it is, None as "nothing", anything
    else as JSON (never a Python repr)."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, default=str)


def exit_status_of(error: BaseException | None) -> int:
    """The status a command ends with when ``error`` ends it (None: done).

    bringup's own errors carry theirs; a signal is 128 + its number; Ctrl-C
    arriving as KeyboardInterrupt is 130; a closed output is 141; any other
    error (a disk that filled under a run, a bug) is a failure."""
    if error is None:
        return DONE
    if isinstance(error, Stopped):
        return 128 + error.signum
    if isinstance(error, BringupError):
        return error.exit_status
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(error, SystemExit):
        return error.code if isinstance(error.code, int) else FAILED
    return FAILED
