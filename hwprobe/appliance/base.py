"""The one interface both appliance drivers implement (web and console).

A driver is opened, logs in, reads the page-map sections it is asked for as
``Section`` views and changes one form or one table row at a time. It knows
pages, forms, menus and prompts, never settings: which section holds what,
and what to send to it, is the settings areas' (``hwprobe.settings.areas``),
which turn sections into an ``ApplianceState`` and a sheet's values into
saves. Every method raises only errors from ``hwprobe.errors``: Unreachable,
LoginFailed (with tries_left), LockedOut, PasswordChangeRequired,
PasswordRefused, ValidationRefused (the appliance's own message),
SessionExpired, CertificateChanged, PageMismatch.

Drivers never retry a refused password by themselves, and never send a change
twice on their own: when the line drops while a change is being sent, the
Unreachable they raise carries ``applied`` (True, False, or None when they
could not tell), found by re-reading the appliance. ``open()`` may be called
again on an open driver (it does nothing), so ``connect_*()`` + ``with`` is
fine. A driver that cannot set an area (the console has no NTP, syslog or
SMTP) lists what it can in ``capabilities``; the engine skips the rest and
says so.

Values given to ``save``, ``add_row`` and ``remove_row`` are keyed by the
section's page-map keys: a string as it is, a number as its digits, None as
empty, a list as the driver writes lists (one entry per line on the web,
comma separated on the console), and for a key whose field is one per server
slot ("syslog_server_{n}") a list with one value per slot. A value under a
key naming a password is written only to the form, masked everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from hwprobe.appliance.section import Section


class EveryArea(frozenset):
    """The capabilities of a driver that can set every settings area (the
    web): holds any area's name, so a new area needs no change here."""

    def __contains__(self, area: object) -> bool:
        return True


# a capability is a settings area's name: the driver can set that area
ALL_CAPABILITIES: frozenset[str] = EveryArea()


@dataclass
class LoginResult:
    change_required: bool       # the appliance opens no page until the password changes
    message: str = ""


@runtime_checkable
class ApplianceDriver(Protocol):
    kind: str                               # "web" | "console"
    capabilities: frozenset[str]
    software_version: str                   # as Status > Basics shows it, once read

    def open(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "ApplianceDriver": ...
    def __exit__(self, *exc) -> None: ...

    def login(self, username: str, password: str) -> LoginResult: ...
    def change_password(self, current: str, new: str) -> None: ...

    # the sections this driver can show, each read once now (the web checks
    # each page against the page map first: PageMismatch before any change)
    def read(self, sections: Sequence[str]) -> dict[str, Section]: ...
    # the same after changes: only what a change touched is read again
    def read_back(self, sections: Sequence[str]) -> dict[str, Section]: ...
    def layout(self, section: str) -> Mapping[str, Any]: ...     # as this firmware has it
    def page_name(self, section: str) -> str: ...                # as the menu names it

    def save(self, section: str, values: Mapping[str, Any]) -> None: ...     # one form, one save
    def add_row(self, section: str, table: str, values: Mapping[str, Any],
                match: str) -> None: ...
    def remove_row(self, section: str, table: str, values: Mapping[str, Any],
                   match: str) -> None: ...
    def send_test_email(self) -> str: ...


def written(value: Any, join: str) -> str:
    """``value`` as a driver writes it into one field: lists joined by ``join``."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return join.join(written(v, join) for v in value)
    return str(value)
