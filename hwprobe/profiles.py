"""Does a settings sheet fit the appliance's firmware profile?

The profile (``[profiles.NAME]`` of the page map) is picked from the software
version Status > Basics shows; its limits are checked before the first change
so that a sheet the appliance cannot hold changes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import BadInput
from .pagemap import profile_for

if TYPE_CHECKING:
    from .state import Settings


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
    fmt = settings.syslog_format
    if servers and fmt and fmt not in prof["syslog_formats"]:
        problems.append(f"this appliance's syslog formats are {', '.join(prof['syslog_formats'])};"
                        f" the sheet asks for {fmt} ([syslog].format)")
    if problems:
        raise SheetDoesNotFit(f"the sheet does not fit this appliance (software {version}, "
                              f"firmware profile {name}): " + "; ".join(problems)
                              + ". Nothing was changed.")
    return name
