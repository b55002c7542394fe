"""The appliance's accounts: stored passwords, failed logins and lockout, and
the web sessions.

A password is kept as a salted PBKDF2 hash in the account record of
state.json (``{"salt", "hash", "must_change"}``). ``Lockout`` counts failed
logins per user and shuts the user out for a while once there are too many
(the web and the console share one counter: one ``Lockout`` per appliance).
``Sessions`` are the web interface's logged-in (or about to be) browsers.
The password rule and the factory numbers are in ``factory``.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

_HASH_ROUNDS = 20_000


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _HASH_ROUNDS).hex()


def new_account(password: str, must_change: bool) -> dict:
    """An account record for ``password`` (a fresh salt; the password itself
    is not kept), with the first-login change forced or not."""
    salt = secrets.token_hex(16)
    return {"salt": salt, "hash": _hash(password, salt), "must_change": must_change}


def password_matches(account: dict, password: str) -> bool:
    """True when ``password`` is the account's (compared in constant time)."""
    return secrets.compare_digest(_hash(password, account["salt"]), account["hash"])


@dataclass
class LoginOutcome:
    """What a login attempt gives: ``ok`` and whether the password must change
    first, or the message to show (with attempts left / seconds locked)."""

    ok: bool
    must_change: bool = False
    message: str = ""
    tries_left: int | None = None
    locked_seconds: int | None = None


class Lockout:
    """Failed logins per user: after ``attempts`` of them in a row the user is
    locked out for ``seconds``. Not thread-safe on its own: the appliance
    calls it under its lock."""

    def __init__(self, attempts: int, seconds: int):
        self.attempts, self.seconds = attempts, seconds
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def refusal(self, user: str, now: float) -> LoginOutcome | None:
        """The refusal while ``user`` is locked out, else None (a lockout that
        has run out is forgotten, its failures with it)."""
        until = self._locked_until.get(user, 0.0)
        if until > now:
            secs = math.ceil(until - now)
            return LoginOutcome(False, message=f"Account locked for {secs} seconds",
                                tries_left=0, locked_seconds=secs)
        if until:
            self._locked_until.pop(user, None)
            self._failures.pop(user, None)
        return None

    def succeeded(self, user: str) -> None:
        """A right password: the count of failures starts again."""
        self._failures.pop(user, None)

    def failed(self, user: str, now: float) -> LoginOutcome:
        """Count a wrong password; the refusal says how many tries are left,
        or that the account is now locked and for how long."""
        failures = self._failures.get(user, 0) + 1
        left = self.attempts - failures
        if left <= 0:
            self._failures.pop(user, None)
            self._locked_until[user] = now + self.seconds
            return LoginOutcome(
                False, tries_left=0, locked_seconds=self.seconds,
                message=f"Invalid user name or password. Account locked for "
                        f"{self.seconds} seconds")
        self._failures[user] = failures
        word = "attempt" if left == 1 else "attempts"
        return LoginOutcome(False, tries_left=left, message=(
            f"Invalid user name or password. {left} {word} remaining before lockout."))


class Sessions:
    """Web sessions: token -> {user, csrf, seen, authenticated}. Expire after
    ``idle`` seconds without a request; ``clear()`` ends every one."""

    def __init__(self, idle: float, clock: Callable[[], float] = time.monotonic):
        self.idle, self._clock = idle, clock
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}

    def new(self, user: str | None = None) -> tuple[str, dict]:
        token = secrets.token_urlsafe(24)
        session = {"user": user, "csrf": secrets.token_urlsafe(24), "seen": self._clock(),
                   "notice": ""}
        with self._lock:
            now = self._clock()
            self._sessions = {t: s for t, s in self._sessions.items() if now - s["seen"] <= self.idle}
            self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> dict | None:
        """The live session for ``token`` (its idle clock restarted), or None."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            now = self._clock()
            if session is None:
                return None
            if now - session["seen"] > self.idle:
                del self._sessions[token]
                return None
            session["seen"] = now
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
