"""Turn what a healthy appliance holds into settings for a sheet (``capture``)."""
from __future__ import annotations

import ipaddress
from dataclasses import replace

from .state import ApplianceState, Settings

LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


def settings_from_state(state: ApplianceState) -> Settings:
    """The sheet-worthy part of ``state``: every address except link-local ones
    (the factory address is not a production setting), global configuration,
    routes, NTP, syslog and SMTP (never a password). Tables the appliance leaves
    empty are written as empty, so ``apply`` restores them as they were."""
    ips = [ip for ip in state.ips if ipaddress.IPv4Address(ip.address) not in LINK_LOCAL]
    smtp = replace(state.smtp, password_set=False) if state.smtp else None
    if smtp is not None and smtp.auth != "password":
        smtp.username = ""
    return Settings(
        model=state.model, serial=state.serial, ips=ips, hostname=state.hostname,
        default_gateway=state.default_gateway, dns_servers=list(state.dns_servers),
        routes=list(state.routes), ntp_servers=list(state.ntp_servers or []),
        syslog_servers=list(state.syslog_servers or []),
        syslog_format=state.syslog_format or "rfc5424", smtp=smtp,
    )
