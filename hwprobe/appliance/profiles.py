"""Does a settings sheet fit the appliance's firmware profile?

The profile (``[profiles.NAME]`` of the page map) is picked from the software
version Status > Basics shows; its limits are checked before the first change
so that a sheet the appliance cannot hold changes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from hwprobe.errors import BadInput
from hwprobe.appliance.pagemap import profile_for
from hwprobe.appliance.state import one_list, syslog_targets

if TYPE_CHECKING:
    from hwprobe.appliance.state import Settings


class SheetDoesNotFit(BadInput):
    """The sheet holds more than this appliance's firmware takes; nothing was changed."""


def check_fits(settings: "Settings", version: str) -> str | None:
    """Raise SheetDoesNotFit naming each limit the sheet goes beyond. Returns
    the profile's name, or None when no profile claims ``version`` (then
    nothing is checked here; the pages' own answers still are)."""
    found = profile_for(version or "")
    if found is None:
        return None
    name, prof = found
    problems = []
    servers = list(settings.syslog_servers or [])
    if len(servers) > prof["syslog_servers"]:
        problems.append(f"this appliance takes {prof['syslog_servers']} syslog servers; the "
                        f"sheet has {len(servers)} ([syslog].servers)")
    targets = syslog_targets(settings)
    asked = sorted({t.format for t in targets} - set(prof["syslog_formats"]))
    if asked:
        problems.append(f"this appliance's syslog formats are {', '.join(prof['syslog_formats'])};"
                        f" the sheet asks for {', '.join(asked)} ([syslog] format)")
    elif not prof.get("syslog_per_server") and not one_list(targets):
        problems.append("this appliance takes one syslog format for all its servers, each on "
                        "port 514; the sheet gives each server its own ("
                        + ", ".join(f"{t.server}:{t.port} {t.format}" for t in targets)
                        + "; [[syslog]])")
    smtp = settings.smtp
    if smtp is not None and smtp.encryption not in prof["smtp_encryption"]:
        problems.append(f"this appliance's e-mail encryption is "
                        f"{', '.join(prof['smtp_encryption'])}; the sheet asks for "
                        f"{smtp.encryption} ([smtp].encryption)")
    if problems:
        raise SheetDoesNotFit(f"the sheet does not fit this appliance (software {version}, "
                              f"firmware profile {name}): " + "; ".join(problems)
                              + ". Nothing was changed.")
    return name
