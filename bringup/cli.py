"""The ``bringup`` command line.

Exit status (DESIGN.md): 0 done, 1 failed, 2 bad input, 3 needs privileges.
Each sub-command lives in its own module and provides ``register(subparsers)``;
the module's handler receives the parsed arguments and returns an exit status.
This module imports no UI code at import time: the console's module is loaded
only when the console is asked for.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from hwprobe.errors import BringupError, SheetInvalid

from hwprobe.helptext import card_text

EPILOG = card_text() + """

Passwords are never taken on the command line: bringup asks for them, or reads
BRINGUP_PASSWORD (current appliance password), BRINGUP_NEW_PASSWORD (the new
one at first login) and BRINGUP_SMTP_PASSWORD.

Start here on a real appliance:   sudo bringup
Practise on a simulated one:      sudo bringup demo
"""


def version_text() -> str:
    """``bringup X`` from the installed package's metadata (pyproject.toml is the
    one source), then the Python and the key dependencies it runs with."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    deps = ", ".join(f"{name} {v(name)}" for name in
                     ("textual", "rich", "scapy", "pyroute2", "pyserial", "requests",
                      "cryptography", "netifaces-plus"))
    return (f"bringup {v('bringup')}\n"
            f"Python {platform.python_version()} ({sys.executable}) on {platform.machine()}\n"
            f"{deps}")


class _Version(argparse.Action):
    """--version, read only when asked for (metadata look-ups cost every start)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with 'bringup: error: ...' (bad input, nothing changed)."""


# which module registers each command, so `bringup probe` imports only what it runs
COMMAND_OF = {
    "demo": "bringup.commands.console", "probe": "bringup.commands.probe",
    "apply": "bringup.commands.apply", "capture": "bringup.commands.apply",
    "restore-link": "bringup.commands.link", "ports": "bringup.commands.link",
    "failover": "bringup.commands.runbook", "readiness": "bringup.commands.runbook",
    "runbook": "bringup.commands.runbook", "lab": "bringup.commands.lab",
    "sim": "bringup.commands.lab", "verify": "bringup.commands.verify",
    "survey": "bringup.commands.survey",
}
CONSOLE_MODULE = "bringup.commands.console"   # `bringup` alone: the console
# every command module, in the order --help lists them
COMMAND_MODULES = tuple(dict.fromkeys(COMMAND_OF.values()))
ROOT_OPTIONS_WITH_VALUE = ("--sheet", "--iface", "--lab")


def _modules_for(argv: list[str] | None) -> tuple[str, ...]:
    """The command modules a command line needs: all of them for help or for
    anything not recognised (so errors list every command), else the console's
    and the named command's."""
    if argv is None or "-h" in argv or "--help" in argv:
        return COMMAND_MODULES
    words, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in ROOT_OPTIONS_WITH_VALUE:
            skip = True
        elif not token.startswith("-"):
            words.append(token)
            break
    if not words:
        return (CONSOLE_MODULE,)
    if words[0] in COMMAND_OF:
        return tuple(dict.fromkeys((CONSOLE_MODULE, COMMAND_OF[words[0]])))
    return COMMAND_MODULES


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bringup",
        description="Bring a replacement B Series appliance online from this laptop.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version, the Python and the key libraries, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _modules_for(argv):
        importlib.import_module(name).register(sub, parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(list(sys.argv[1:] if argv is None else argv))
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if getattr(args, "passes_through", False):   # `bringup sim --help`: the simulator's own
            args.sim_argv = [*unknown, *args.sim_argv]
        else:
            parser.error("unrecognized arguments: " + " ".join(unknown))
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = getattr(parser, "default_handler", None)
        if handler is None:
            parser.print_help()
            return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("bringup: interrupted", file=sys.stderr)
        return 130                   # 128 + SIGINT, as a shell reports it
    except SheetInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(f"bringup: {n} problem{'s' if n != 1 else ''} in the settings sheet; "
              "nothing was sent to the appliance", file=sys.stderr)
        return exc.exit_status
    except BringupError as exc:
        print(f"bringup: {exc}", file=sys.stderr)
        return exc.exit_status


if __name__ == "__main__":
    sys.exit(main())
