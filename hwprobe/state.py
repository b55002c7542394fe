"""Typed shapes shared by the drivers, the sheet and the engine.

Both appliance drivers (web and console) return an ``ApplianceState``; a settings
sheet loads into a ``Settings``; the engine diffs one against the other.
Addresses are dotted-quad strings; netmasks are always dotted-quad (a sheet's
``prefix`` is converted on load).
"""
from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class SmtpSettings:
    relay: str = ""
    port: int = 25
    encryption: str = "none"        # tls | starttls | none
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
    syslog_format: str | None = None
    smtp: SmtpSettings | None = None
    # [failover]: how this site moves traffic to the backup (shared_ip | dns | nat),
    # the peer's address and the shared IPs; None when the site has no pair
    failover: dict | None = None
    # [backup]: {"note": where the /login backup's password is kept (hosted-site
    # restore); never the password itself}; None when the sheet does not say
    backup: dict | None = None


@dataclass
class ApplianceState(Settings):
    """Everything a driver reads off the appliance."""

    software_version: str = ""
    system_time: str = ""
    nics: list[NicInfo] = field(default_factory=list)
