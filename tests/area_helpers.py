"""Setting one settings area through a real driver, as the engine sends its step.

``send(driver, "dns", dns_servers=[...])`` builds a ``Settings`` from the
keyword arguments and sends what it asks of the area through the area's own
module (hwprobe/settings/areas/), which tells the driver which page-map
section to save or which table row to add: the drivers offer only those
generic operations. An area the settings leave empty (a gateway of "" to
clear it) is still sent: its form is saved with the empty value.
"""
from __future__ import annotations

from hwprobe.appliance.state import ApplianceState, Settings
from hwprobe.settings.area import Change
from hwprobe.settings.areas import AREAS


def send(driver, area: str, *, smtp_password: str | None = None, **fields) -> None:
    """Send area ``area`` of ``Settings(**fields)`` through ``driver``, planned
    against an appliance that holds nothing yet. Raises the driver's errors."""
    settings = Settings(**fields)
    row = AREAS[area]
    for _, after in row.wanted(settings) or [(None, None)]:
        row.send_to(driver, Change(after, ApplianceState(), settings, smtp_password))


def read_state(driver) -> ApplianceState:
    """The appliance behind ``driver``, read whole (``AREAS.read_state``)."""
    return AREAS.read_state(driver)
