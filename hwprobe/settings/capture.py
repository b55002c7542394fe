"""Turn what a healthy appliance holds into settings for a sheet (``capture``)."""
from __future__ import annotations

from hwprobe.settings.areas import AREAS, Areas
from hwprobe.appliance.state import ApplianceState, Settings


def settings_from_state(state: ApplianceState, areas: Areas = AREAS) -> Settings:
    """The sheet-worthy part of ``state``, area by area: every address except
    link-local ones (the factory address is not a production setting), global
    configuration, routes, NTP, syslog and SMTP (never a password). Tables the
    appliance leaves empty are written as empty, so ``apply`` restores them as
    they were."""
    settings = Settings(model=state.model, serial=state.serial)
    for area in areas:
        area.capture(state, settings)
    return settings
