"""What a practice lab adds to the console, handed in by the command line.

The console does not import the simulator: ``bringup demo`` (the composition
root, ``bringup/commands/console.py``) builds a ``LabExtras`` for its lab and
passes it in ``ConsoleOptions.extras``. In the field there is none.
"""
from __future__ import annotations

from typing import Protocol


class LabExtras(Protocol):
    """The demo lab's extras: its name, moving the cable, its console pty."""

    name: str

    def move_cable(self, nic: str) -> None:
        """Move the lab's patch cable to ``nic`` ("nic1" or "nic2"); raises
        BringupError when the lab is gone."""

    def console_device(self) -> str | None:
        """The lab appliance's local console (a pty path), or None."""
