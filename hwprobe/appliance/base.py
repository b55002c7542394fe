"""The one interface both appliance drivers implement (web and console).

A driver is opened, logs in, reads the appliance's whole state as an
``ApplianceState`` and changes one thing at a time. Every method raises only
errors from ``hwprobe.errors``: Unreachable, LoginFailed (with tries_left),
LockedOut, PasswordChangeRequired, PasswordRefused, ValidationRefused (the
appliance's own message), SessionExpired, CertificateChanged.

Drivers never retry a refused password by themselves, and never send a change
twice on their own: when the line drops while a change is being sent, the
Unreachable they raise carries ``applied`` (True, False, or None when they
could not tell), found by re-reading the appliance. ``open()`` may be called
again on an open driver (it does nothing), so ``connect_*()`` + ``with`` is fine. A driver that cannot do
an operation (the console has no NTP, syslog or SMTP) lists what it can in
``capabilities``; the engine skips the rest and says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hwprobe.appliance.state import ApplianceState, IpAddress, Route, SmtpSettings


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

    def open(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "ApplianceDriver": ...
    def __exit__(self, *exc) -> None: ...

    def login(self, username: str, password: str) -> LoginResult: ...
    def change_password(self, current: str, new: str) -> None: ...
    def read_state(self) -> ApplianceState: ...
    def read_back(self) -> ApplianceState: ...      # re-reads only what changes touched

    def add_ip(self, ip: IpAddress) -> None: ...
    def remove_ip(self, ip: IpAddress) -> None: ...
    def set_global(self, *, hostname: str | None = None, default_gateway: str | None = None,
                   dns_servers: list[str] | None = None) -> None: ...    # one save
    def set_hostname(self, hostname: str) -> None: ...
    def set_default_gateway(self, gateway: str) -> None: ...
    def set_dns_servers(self, servers: list[str]) -> None: ...
    def add_route(self, route: Route) -> None: ...
    def remove_route(self, route: Route) -> None: ...
    def set_ntp_servers(self, servers: list[str]) -> None: ...
    def set_syslog(self, servers: list[str], fmt: str, each=None) -> None: ...
    def set_smtp(self, smtp: SmtpSettings, password: str | None) -> None: ...
    def send_test_email(self) -> str: ...
