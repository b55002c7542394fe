"""The ``bringup`` command line.

Exit status (docs/exit-status.md): 0 done, 1 failed, 2 bad input, 3 needs
privileges, 130 interrupted (128 + the signal).
Each sub-command lives in its own module and provides ``register(subparsers)``;
the module's handler receives the parsed arguments and returns an exit status.
This module imports no UI code at import time: the console's module is loaded
only when the console is asked for.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import threading
import time

from hwprobe.errors import BringupError, SheetInvalid

from hwprobe.safetext import shown, shown_lines

EPILOG_TAIL = """

Passwords are never taken on the command line: bringup asks for them, or reads
BRINGUP_PASSWORD (current appliance password), BRINGUP_NEW_PASSWORD (the new
one at first login) and BRINGUP_SMTP_PASSWORD.

Start here on a real appliance:   sudo bringup
Practise on a simulated one:      sudo bringup demo

More: `bringup man` (the sheet format, every exit status, what bringup changes
on the laptop; also offline), `sudo bringup install-extras` (man page and
bash/zsh completion); in the source: docs/sheet.md, docs/exit-status.md,
docs/laptop.md. Run log: bringup.log in the state directory (-v, -q: how much
is said here).
"""


def epilog() -> str:
    """The root --help's epilog: the quick card, then how passwords are given
    and where to read more (built when help is asked for, not at every start)."""
    from hwprobe.helptext import card_text

    return card_text() + EPILOG_TAIL


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


def add_verbosity(parser: argparse.ArgumentParser, *, root: bool = False) -> None:
    """-v/--verbose (repeatable) and -q/--quiet, before or after the command
    name: a sub-command's default must not undo the root's, hence SUPPRESS."""
    default = 0 if root else argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="say more: what the drivers do (-vv: every request); "
                            "all of it is in the run log anyway")
    group.add_argument("-q", "--quiet", dest="verbose", action="store_const", const=-1,
                       default=default, help="only errors and results")


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


# which module registers each command, so `bringup probe` imports only what it runs
COMMAND_OF = {
    "demo": "bringup.commands.console", "probe": "bringup.commands.probe",
    "apply": "bringup.commands.apply", "capture": "bringup.commands.apply",
    "restore-link": "bringup.commands.link", "ports": "bringup.commands.link",
    "failover": "bringup.commands.runbook", "readiness": "bringup.commands.runbook",
    "runbook": "bringup.commands.runbook", "lab": "bringup.commands.lab",
    "sim": "bringup.commands.lab", "verify": "bringup.commands.verify",
    "survey": "bringup.commands.survey", "kit": "bringup.commands.kit",
    "restore-login": "bringup.commands.finish",
    "man": "bringup.commands.extras", "completion": "bringup.commands.extras",
    "install-extras": "bringup.commands.extras",
}
CONSOLE_MODULE = "bringup.commands.console"   # `bringup` alone: the console
# every command module, in the order --help lists them
COMMAND_MODULES = tuple(dict.fromkeys(COMMAND_OF.values()))
ROOT_OPTIONS_WITH_VALUE = ("--sheet", "--kit", "--iface", "--lab", "--listen")


def _modules_for(argv: list[str] | None) -> tuple[str, ...]:
    """The command modules a command line needs: all of them for help or for
    anything not recognised (so errors list every command), else the console's
    and the named command's."""
    if argv is None or "-h" in argv or "--help" in argv:
        return COMMAND_MODULES
    word = _command_word(argv)
    if word is None:
        return (CONSOLE_MODULE,)
    if word in COMMAND_OF:
        return tuple(dict.fromkeys((CONSOLE_MODULE, COMMAND_OF[word])))
    return COMMAND_MODULES


def _command_word(argv: list[str]) -> str | None:
    """The first word of a command line that is not an option or a root
    option's value: the command's name (or a typo of one); None: the console."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ROOT_OPTIONS_WITH_VALUE:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bringup",
        description="Bring a replacement B Series appliance online from this laptop.",
        epilog=epilog() if argv is None or "-h" in argv or "--help" in argv else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version, the Python and the key libraries, and exit")
    # the parser of every command, for those that print the whole command line
    # (man, completion): handed to them, so no command imports this module
    parser.build_whole = build_parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _modules_for(argv):
        importlib.import_module(name).register(sub, parser)
    add_verbosity(parser, root=True)
    todo = list(_subparsers(parser))
    while todo:                           # every command and sub-command (lab up, ...)
        p = todo.pop()
        if p.get_default("passes_through"):
            continue                      # `bringup sim`: its options are the simulator's
        add_verbosity(p)
        todo += _subparsers(p)
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
    if getattr(args, "passes_through", False):
        return int(handler(args) or 0)
    from bringup import runlog

    console = handler is getattr(parser, "default_handler", None) and args.command is None
    if getattr(args, "command", None) not in (None, "demo", "lab", "sim"):
        _data_only_output()           # before the run log holds on to stderr
    runlog.setup(args.verbose, terminal=not console)
    started = time.monotonic()
    runlog.log.info("start: bringup %s (uid %d)",
                    shlex.join(sys.argv[1:] if argv is None else argv), os.geteuid(),
                    extra=runlog.SHOWN)
    status = 1
    try:
        status = _run(handler, args)
        return status
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
        raise
    except BaseException:
        runlog.log.exception("unexpected error", extra=runlog.SHOWN)
        raise
    finally:
        runlog.log.info("end: exit status %s after %.1f s", status, time.monotonic() - started,
                        extra=runlog.SHOWN)


# commands whose process ends at once once they are done (see entry())
QUICK_EXIT = frozenset(COMMAND_OF) - {"demo", "lab", "sim"}


def entry() -> None:
    """The ``bringup`` console script: ``main()``, then the process ends.

    After a headless command, the interpreter's own teardown (freeing every
    module: 15-40 ms, more than the probe's own give-back) is skipped: the
    atexit handlers run (the run log's flush among them), stdout and stderr
    are flushed, then ``os._exit``. Any live non-daemon thread, an error
    flushing, or the console/lab commands: the normal exit instead."""
    command = _command_word(sys.argv[1:])
    status = main()
    if command not in QUICK_EXIT or any(
            t.is_alive() and not t.daemon for t in threading.enumerate()
            if t is not threading.main_thread()):
        sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(status)            # Python's own exit says what went wrong
    os._exit(status if isinstance(status, int) else 1)


def _run(handler, args) -> int:
    """The handler's exit status; bringup's own errors become their message on
    stderr and their exit status (DESIGN.md), Ctrl-C becomes 130."""
    from bringup.runlog import SHOWN, log

    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        log.info("interrupted (Ctrl-C)", extra=SHOWN)
        print("bringup: interrupted", file=sys.stderr)
        return 130                   # 128 + SIGINT, as a shell reports it
    except SheetInvalid as exc:
        for problem in exc.problems:
            print(shown_lines(problem), file=sys.stderr)
        n = len(exc.problems)
        log.error("%d problem(s) in the settings sheet:\n%s", n, "\n".join(exc.problems),
                  extra=SHOWN)
        print(f"bringup: {n} problem{'s' if n != 1 else ''} in the settings sheet; "
              "nothing was sent to the appliance", file=sys.stderr)
        return exc.exit_status
    except BringupError as exc:
        # the message may quote the appliance: its text is data, never terminal control
        print(f"bringup: {shown_lines(exc)}", file=sys.stderr)
        log.error("%s (exit status %d)", exc, exc.exit_status, extra=SHOWN)
        return exc.exit_status
    except OSError as exc:
        # a disk that filled (or went read-only) under a run: the port is
        # already given back (every path holds it in a `with`)
        print(f"bringup: {os_error_words(exc)}", file=sys.stderr)
        log.error("%s", os_error_words(exc), extra=SHOWN)
        return 1


class _DataOnly:
    """A text stream that writes any raw control character (ESC, C1, other C0
    but newline and tab) escaped: the last guard that appliance text never
    reaches the technician's terminal as control, whichever message quotes it.
    Everything else is the wrapped stream's."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if not (text.isascii() and text.isprintable()):
            text = "".join(shown(c) if c in _CONTROLS else c for c in text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


_CONTROLS = frozenset(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))) - {"\n", "\t"}


def _data_only_output() -> None:
    """Headless commands: stdout and stderr behind ``_DataOnly`` (the console
    draws its own screen, with every outside string made safe text)."""
    if not isinstance(sys.stdout, _DataOnly):
        sys.stdout = _DataOnly(sys.stdout)
    if not isinstance(sys.stderr, _DataOnly):
        sys.stderr = _DataOnly(sys.stderr)


def os_error_words(exc: OSError) -> str:
    """A sentence for a file bringup could not write (or read) mid-run."""
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    what = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = ("free some space on that disk (or set BRINGUP_STATE_DIR to another "
                  "directory) and run again")
    elif exc.errno == errno.EROFS:
        advice = "set BRINGUP_STATE_DIR to a writable directory and run again"
    else:
        advice = "check that file and run again"
    return shown_lines(f"could not use{where} ({what}): {advice}; what already landed on "
                       f"the appliance is not applied twice, and the laptop port was given back")


if __name__ == "__main__":
    sys.exit(main())
