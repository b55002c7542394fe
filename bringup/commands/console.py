"""``bringup`` (the full-screen console) and ``bringup demo``.

Imports no Textual at module level: ``bringup probe --help`` must stay fast.
"""
from __future__ import annotations

import argparse
import os
import sys

from tui.options import add_console_arguments


def register(sub, root) -> None:
    root.set_defaults(handler=None)
    root.default_handler = _console
    add_console_arguments(root)
    p = sub.add_parser(
        "demo",
        help="the console against a simulated appliance in a lab (needs root)",
        description=DEMO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--name", default="demo", help="lab name (default: demo)")
    p.add_argument("--appliance-address", default="169.254.1.3", metavar="A",
                   help="factory address the simulated appliance answers on (default: "
                        "169.254.1.3); ADDRESS/PREFIX: one holding an earlier site's address "
                        "(203.0.113.40/24), which Find hears on the cable")
    p.add_argument("--answers-on", default="nic1", choices=("nic1", "nic2", "both"),
                   help="which of the appliance's NICs answer on the factory address "
                        "(default: nic1); nic2 with the cable in NIC1 practises moving the cable")
    p.add_argument("--plug", default="nic1", choices=("nic1", "nic2"),
                   help="which NIC the laptop's cable is in at the start (default: nic1)")
    p.add_argument("--production", action="store_true",
                   help="add the production network (DNS, NTP, syslog and e-mail servers at "
                        "the example sheet's addresses, both NICs cabled to it), so Done can "
                        "verify the restored services")
    p.add_argument("--shell", action="store_true",
                   help="open a shell in the laptop namespace instead of the console")
    p.add_argument("--keep-lab", action="store_true",
                   help="leave the lab up when the console ends (take it down with "
                        "`bringup lab down --name NAME`)")
    p.set_defaults(handler=_demo)


DEMO_HELP = """\
Practise on a simulated appliance: start a lab (the appliance in network
namespaces, cabled to a simulated laptop port, lan0), run the console inside
the lab's laptop namespace with the example sheet, and take the lab down when
the console ends.

Every demo starts from a factory-fresh appliance (password: password) with new
MACs, and keeps its journals, pins and reports in a state directory of its
own, emptied at each start (STATE/demo/NAME; the field's state is never read
or written). When the Find step asks to move the cable, m moves the lab's
patch cable (so does ^p, "Demo lab: move the cable to NIC2").

examples:
  sudo bringup demo
  sudo bringup demo --answers-on nic2          # practise moving the cable
  sudo bringup demo --production               # verify after the cables move
"""


HEADLESS_HINT = """\
Without a full-screen terminal, use the headless commands:
  sudo bringup probe --iface PORT                      # find the appliance
  sudo bringup apply --sheet FILE --address A --iface PORT
  bringup --help                                       # every command"""


def no_console_reason(env=None, stdin=None, stdout=None) -> str | None:
    """Why the full-screen console cannot run here, or None when it can: no
    terminal on standard input or output (a pipe, /dev/null, cron), or a TERM
    that cannot place the cursor (dumb, unset). Never raises."""
    env = os.environ if env is None else env
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout

    def tty(stream) -> bool:
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    if not tty(stdin) or not tty(stdout):
        which = "input" if not tty(stdin) else "output"
        return f"standard {which} is not a terminal"
    term = env.get("TERM", "")
    if term in ("", "dumb", "unknown"):
        return f"TERM={term or '(unset)'} cannot draw a full-screen console"
    return None


def _console(args) -> int:
    reason = no_console_reason()
    if reason:
        # Textual would write escape codes into the pipe and wait for keys forever
        print(f"bringup: the console needs a terminal: {reason}.\n{HEADLESS_HINT}",
              file=sys.stderr)
        return 2
    from bringup.console import run_console

    return int(run_console(args) or 0)


def _example_sheet() -> str:
    """The example settings sheet shipped with bringup (the demo starts with it)."""
    from pathlib import Path

    import bringup_assets

    return str(Path(bringup_assets.__file__).with_name("example-sheet.toml"))


def demo_state_dir(name: str):
    """The demo's own state directory (STATE/demo/NAME), emptied: practice
    never meets the field's run journals, certificate pins, reports or the
    console's "continue where you left off", nor an earlier demo's. Returns
    its path. Raises StateDirUnusable when it cannot be made."""
    import shutil

    from hwprobe.constants import state_dir
    from hwprobe.procedure.argcheck import check_state_dir

    path = state_dir() / "demo" / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_state_dir(path)
    return path


def _demo(args) -> int:
    from bringup.commands.lab import simulator_errors

    with simulator_errors():
        return _demo_in_lab(args)


def _demo_in_lab(args) -> int:
    from simulator import lab as labmod
    from simulator.labfile import secret_file
    from bringup.commands.lab import describe, given_appliance_password

    labmod.down(args.name)  # a demo left over from a crash
    practice = demo_state_dir(args.name)
    relay = None
    if args.production:
        import secrets

        # the lab's relay and the console share it: nobody reads a root-only file to practise
        relay = os.environ.get("BRINGUP_SMTP_PASSWORD") or secrets.token_urlsafe(12)
    used = "/" in (args.appliance_address or "")   # an earlier site's appliance
    earlier = given_appliance_password() if used else None
    lab = labmod.up(name=args.name, appliance_address=args.appliance_address,
                    answers_on=args.answers_on, plug=args.plug,
                    production=("nic1", "nic2") if args.production else None,
                    smtp_password=relay, appliance_password=earlier)
    if used and earlier is None:
        # it holds that site's password, the lab's own make: the console is handed
        # it (Log in fills it in), as a technician is handed it by the site
        earlier = secret_file(lab.dir, "appliance_password").read_text().strip()
    try:
        print(describe(lab), flush=True)
        print(f"  demo state           {practice} (emptied at each demo; the field's "
              f"journals, pins and reports are not used)", flush=True)
        env = dict(os.environ)
        env["BRINGUP_LAB"] = lab.name
        env["BRINGUP_STATE_DIR"] = str(practice)
        if relay:
            env["BRINGUP_SMTP_PASSWORD"] = relay
        if earlier:
            env["BRINGUP_PASSWORD"] = earlier
        if not args.shell:
            # -P: this bringup's console, never a `bringup` package that
            # happens to be in the folder the demo was started from
            argv = [sys.executable, "-P", "-m", "bringup", "--lab", lab.name]
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
        import subprocess

        return subprocess.call(["ip", "netns", "exec", lab.laptop_ns, *argv], env=env)
    finally:
        if getattr(args, "keep_lab", False):
            print(f"lab {lab.name} left up: `bringup lab down --name {lab.name}` removes it")
        else:
            labmod.down(lab.name)
            print(f"lab {lab.name} taken down")
