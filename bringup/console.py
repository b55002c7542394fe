"""Building the console: the one factory the command line and the tests use.

The composition root: it parses the console's options, and when practising in
a demo lab it hands the console the lab's extras (move the cable, the lab's
console pty) through ``tui.extras.LabExtras``, so the face never imports the
simulator.
"""
from __future__ import annotations

import argparse

from tui.app import BringupApp, ConsoleOptions, parse_options, run_app


class SimulatorLabExtras:
    """``LabExtras`` for a lab made by ``bringup lab up`` / ``bringup demo``."""

    def __init__(self, name: str):
        self.name = name

    @property
    def production(self) -> bool:
        """The lab has a production network (False when the lab is gone)."""
        from simulator import lab
        from simulator.netns import LabError

        try:
            return bool(lab.get(self.name).production)
        except LabError:
            return False

    def move_cable(self, nic: str) -> None:
        from bringup.commands.lab import simulator_errors
        from simulator import lab

        with simulator_errors():
            lab.plug(self.name, nic)

    def join_production(self) -> str:
        from bringup.commands.lab import simulator_errors
        from simulator import lab, production

        with simulator_errors():
            # the laptop's cable goes where the production network's
            # servers and gateway are (NIC1's segment), as a technician
            # plugs the laptop into the production switch
            if lab.get(self.name).plug != "nic1":
                lab.plug(self.name, "nic1")
            return production.join(self.name)

    def console_device(self) -> str | None:
        from bringup.commands.lab import simulator_errors
        from simulator import lab

        with simulator_errors():
            return lab.get(self.name).console


def make_app(argv: list[str] | argparse.Namespace | ConsoleOptions | None = None) -> BringupApp:
    """Build the console the way ``bringup`` does; argv as on the command line.

    Raises SystemExit(2) from argparse for bad options.
    """
    if isinstance(argv, ConsoleOptions):
        options = argv
    elif isinstance(argv, argparse.Namespace):
        options = ConsoleOptions.from_args(argv)
    else:
        options = parse_options(list(argv or []))
    if options.lab and options.extras is None:
        options.extras = SimulatorLabExtras(options.lab)
    return BringupApp(options)


def run_console(argv: list[str] | argparse.Namespace | None = None) -> int:
    """Run the console full-screen; returns its exit status."""
    return run_app(make_app(argv))
