"""``bringup`` (the full-screen console) and ``bringup demo``.

Imports no Textual at module level: ``bringup probe --help`` must stay fast.
"""
from __future__ import annotations

import os
import subprocess
import sys

from tui.options import add_console_arguments


def register(sub, root) -> None:
    root.set_defaults(handler=None)
    root.default_handler = _console
    add_console_arguments(root)
    p = sub.add_parser(
        "demo",
        help="the console against a simulated appliance in a lab (needs root)",
        description="Start a lab (a simulated appliance in network namespaces), run the "
                    "console inside its laptop namespace, and take the lab down on exit.",
    )
    p.add_argument("--name", default="demo", help="lab name (default: demo)")
    p.add_argument("--appliance-address", default="169.254.1.3",
                   help="factory address the simulated appliance answers on (default: 169.254.1.3)")
    p.add_argument("--answers-on", default="nic1", choices=("nic1", "nic2", "both"))
    p.add_argument("--plug", default="nic1", choices=("nic1", "nic2"))
    p.add_argument("--shell", action="store_true",
                   help="open a shell in the laptop namespace instead of the console")
    p.add_argument("--keep-lab", action="store_true",
                   help="leave the lab up when the console ends (take it down with "
                        "`bringup lab down --name NAME`)")
    p.set_defaults(handler=_demo)


def _console(args) -> int:
    from bringup.console import run_console

    return int(run_console(args) or 0)


def _example_sheet() -> str:
    """The example settings sheet shipped with bringup (the demo starts with it)."""
    from pathlib import Path

    import bringup_assets

    return str(Path(bringup_assets.__file__).with_name("example-sheet.toml"))


def _demo(args) -> int:
    from simulator import lab as labmod
    from bringup.commands.lab import describe

    labmod.down(args.name)  # a demo left over from a crash
    lab = labmod.up(name=args.name, appliance_address=args.appliance_address,
                    answers_on=args.answers_on, plug=args.plug)
    try:
        print(describe(lab), flush=True)
        env = dict(os.environ)
        env["BRINGUP_LAB"] = lab.name
        if not args.shell:
            argv = [sys.executable, "-m", "bringup", "--lab", lab.name]
            if not getattr(args, "sheet", None):
                args.sheet = _example_sheet()
            for flag in ("sheet", "iface"):
                if getattr(args, flag, None):
                    argv += [f"--{flag}", getattr(args, flag)]
            if getattr(args, "console_profile", None) is not None:
                argv.append("--console-profile" if args.console_profile else "--no-console-profile")
        else:
            print(f"\nA shell in the laptop namespace ({lab.laptop_ns}); the appliance is at "
                  f"{lab.appliance_address}. Give lan0 an address first:\n"
                  f"  ip addr add 169.254.1.254/24 dev lan0\n"
                  f"  curl -k https://{lab.appliance_address}/appliance/\n"
                  f"Leave the shell (exit) to take the lab down.\n", flush=True)
            argv = [os.environ.get("SHELL", "/bin/sh")]
        return subprocess.call(["ip", "netns", "exec", lab.laptop_ns, *argv], env=env)
    finally:
        if getattr(args, "keep_lab", False):
            print(f"lab {lab.name} left up: `bringup lab down --name {lab.name}` removes it")
        else:
            labmod.down(lab.name)
            print(f"lab {lab.name} taken down")
