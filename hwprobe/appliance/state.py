"""Typed shapes of what an appliance holds, shared by the drivers, the sheet
and the engine.

Both appliance drivers (web and console) return an ``ApplianceState``; a settings
sheet loads into a ``Settings``; the engine diffs one against the other.
Addresses are dotted-quad strings; netmasks are always dotted-quad (a sheet's
``prefix`` is converted on load).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IpAddress:
    nic: str            # "nic1" | "nic2"
    address: str
    netmask: str
    vlan: int | None = None


@dataclass(frozen=True)
class Route:
    destination: str    # "203.0.113.128/25"
    gateway: str
    nic: str


@dataclass(frozen=True)
class NicInfo:
    name: str           # "nic1"
    mac: str            # lower case, colon separated
    link: bool


@dataclass(frozen=True)
class SyslogServer:
    """One syslog server as the newer firmware holds it (each its own port and
    format); "tls" is syslog over TLS (RFC 5425)."""

    server: str
    port: int = 514
    format: str = "rfc5424"     # rfc5424 | bsd | tls


DEFAULT_SYSLOG_PORTS = {"rfc5424": 514, "bsd": 514, "tls": 6514}


@dataclass
class SmtpSettings:
    relay: str = ""
    port: int = 25
    encryption: str = "none"        # tls | starttls | ssl | none (which ones: the firmware's)
    auth: str = "none"              # none | password
    username: str = ""
    from_address: str = ""
    admin_contacts: list[str] = field(default_factory=list)
    password_set: bool = False      # read-only: the appliance holds a password


@dataclass
class Settings:
    """What a settings sheet holds (and what ``capture`` reads off an appliance)."""

    model: str = ""
    serial: str = ""
    ips: list[IpAddress] = field(default_factory=list)
    hostname: str = ""
    default_gateway: str = ""
    dns_servers: list[str] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    ntp_servers: list[str] | None = None
    syslog_servers: list[str] | None = None
    syslog_format: str | None = None        # None with syslog_each: the servers' formats differ
    # per-server syslog settings (a format 2 sheet's [[syslog]], the newer
    # firmware's page); None: every server of syslog_servers on its format's
    # default port in syslog_format. When set, syslog_servers lists the same hosts.
    syslog_each: list[SyslogServer] | None = None
    smtp: SmtpSettings | None = None
    # [failover]: how this site moves traffic to the backup (shared_ip | dns | nat),
    # the peer's address and the shared IPs; None when the site has no pair
    failover: dict | None = None
    # [backup]: {"note": where the /login backup's password is kept (hosted-site
    # restore); never the password itself}; None when the sheet does not say
    backup: dict | None = None
    # the value of each settings area that has no field above, by its sheet
    # table: an area added as one module (hwprobe/settings/areas/) keeps its
    # value here, the sheet's and the appliance's alike
    tables: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApplianceState(Settings):
    """Everything a driver reads off the appliance."""

    software_version: str = ""
    base_version: str = ""          # Status > Basics' base software version
    system_time: str = ""
    nics: list[NicInfo] = field(default_factory=list)


def syslog_targets(s: Settings) -> list[SyslogServer]:
    """Each syslog server of ``s`` with its port and format, whichever way the
    settings hold them (one list and format, or per server)."""
    if s.syslog_each is not None:
        return list(s.syslog_each)
    fmt = s.syslog_format or "rfc5424"
    return [SyslogServer(h, DEFAULT_SYSLOG_PORTS.get(fmt, 514), fmt) for h in s.syslog_servers or []]


def one_list(targets: list[SyslogServer]) -> bool:
    """True when ``targets`` fit the one-list layout: one format, default ports."""
    return (len({t.format for t in targets}) <= 1
            and all(t.port == DEFAULT_SYSLOG_PORTS.get(t.format, 514) for t in targets))
