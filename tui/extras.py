"""What a practice lab adds to the console, handed in by the command line.

The console does not import the simulator: ``bringup demo`` (the composition
root, ``bringup/commands/console.py``) builds a ``LabExtras`` for its lab and
passes it in ``ConsoleOptions.extras``. In the field there is none.
"""
from __future__ import annotations

from typing import Protocol


class LabExtras(Protocol):
    """The demo lab's extras: its name, moving the cable, its console pty,
    and its production network, when it has one (``bringup demo --production``)."""

    name: str
    production: bool        # the lab has a production network to verify on

    def move_cable(self, nic: str) -> None:
        """Move the lab's patch cable to ``nic`` ("nic1" or "nic2"); raises
        BringupError when the lab is gone."""

    def console_device(self) -> str | None:
        """The lab appliance's local console (a pty path), or None."""

    def join_production(self) -> str:
        """Put the laptop port on the lab's production network (its cable on
        the production segment, an address there), as the technician moves the
        laptop there after the cables; returns the laptop's address on it. Raises BringupError (no production network,
        the lab is gone)."""
