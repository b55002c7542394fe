"""The ``bringup`` command line.

Exit status: the core's one contract (hwprobe/errors.py, as
docs/exit-status.md states it): 0 done, 1 failed, 2 bad input, 3 needs
privileges or the state directory, 128 + the signal when one stopped it,
141 when the output's reader went away. With ``--json`` an error is also
one JSON object on stdout, ``{"error": ..., "exit": N}``.
Each sub-command lives in its own module and provides ``register(subparsers)``;
the module's handler receives the parsed arguments and returns an exit status.
This module imports no UI code at import time: the console's module is loaded
only when the console is asked for. ``entry()`` hears signals from its first
line (hwprobe/stopping.py).
"""
from __future__ import annotations

from hwprobe import stopping      # first: signals are heard before the rest loads

import argparse
import importlib
import json
import os
import shlex
import sys
import threading
import time

from hwprobe.errors import (BAD_INPUT, BROKEN_PIPE, BringupError, OutputClosed, SheetInvalid,
                            Stopped, exit_status_of)

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
    """argparse that exits 2 with 'bringup: error: ...' (bad input, nothing
    changed); with --json on the command line, the error as JSON on stdout too."""

    def error(self, message: str):
        if _json_wanted:
            _json_error(f"{self.prog}: {message}", BAD_INPUT)
        super().error(message)


_json_wanted = False      # --json on the command line: errors as JSON on stdout too


def _json_error(message: str, status: int, **more) -> None:
    """``{"error": message, "exit": status}`` on stdout (a script reads it
    instead of parsing stderr); never raises."""
    try:
        print(json.dumps({"error": message, "exit": status, **more}), flush=True)
    except (OSError, ValueError):
        pass


def _tell(text: str) -> None:
    """A line on stderr; a closed stderr is no reason to stop (never raises)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


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
    global _json_wanted
    _json_wanted = "--json" in (sys.argv[1:] if argv is None else argv)
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

    def last_words(words: str, status: int) -> None:   # a signal before the run began
        runlog.log.info("%s; nothing was changed", words, extra=runlog.SHOWN)
        runlog.log.info("end: exit status %s after %.1f s", status, time.monotonic() - started,
                        extra=runlog.SHOWN)

    stopping.when_ending(last_words)
    runlog.log.info("start: bringup %s (uid %d)",
                    shlex.join(sys.argv[1:] if argv is None else argv), os.geteuid(),
                    extra=runlog.SHOWN)
    status = 1
    try:
        status = _run(handler, args)
        return status
    except SystemExit as exc:
        status = exit_status_of(exc)
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
    stopping.guard()
    command = _command_word(sys.argv[1:])
    try:
        status = main()
    except Stopped as exc:       # a second signal while the first one's line was said
        status = exc.code
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
    except (OutputClosed, BrokenPipeError):
        os._exit(BROKEN_PIPE)       # the reader went away: quietly, as git and ip do
    except (OSError, ValueError):
        sys.exit(status)            # Python's own exit says what went wrong
    os._exit(status if isinstance(status, int) else 1)


def _run(handler, args) -> int:
    """The handler's exit status; an error that ends it becomes its line on
    stderr (and, with --json, its JSON on stdout) and its status in the
    core's contract (hwprobe.errors.exit_status_of)."""
    from bringup.runlog import SHOWN, log

    try:
        return int(handler(args) or 0)
    except OutputClosed:
        # `bringup ... | head -1`: the reader went away; nothing more is said
        # (and Python's own last flush must not say it either)
        log.info("standard output closed by its reader", extra=SHOWN)
        _stdout_to_nowhere()
        return BROKEN_PIPE
    except (Stopped, KeyboardInterrupt) as exc:
        stop = exc if isinstance(exc, Stopped) else Stopped(2)
        log.info("%s", stop.words, extra=SHOWN)
        if not stop.said:
            _tell(f"bringup: {stop.words}")
        _json_error_if_wanted(args, stop.words, stop.code)
        return stop.code
    except SheetInvalid as exc:
        for problem in exc.problems:
            _tell(shown_lines(problem))
        n = len(exc.problems)
        log.error("%d problem(s) in the settings sheet:\n%s", n, "\n".join(exc.problems),
                  extra=SHOWN)
        summary = (f"{n} problem{'s' if n != 1 else ''} in the settings sheet; "
                   "nothing was sent to the appliance")
        _tell(f"bringup: {summary}")
        _json_error_if_wanted(args, summary, exc.exit_status, problems=exc.problems)
        return exc.exit_status
    except BringupError as exc:
        # the message may quote the appliance: its text is data, never terminal control
        _tell(f"bringup: {shown_lines(exc)}")
        log.error("%s (exit status %d)", exc, exc.exit_status, extra=SHOWN)
        _json_error_if_wanted(args, str(exc), exc.exit_status)
        return exc.exit_status
    except OSError as exc:
        # a disk that filled (or went read-only) under a run: the port is
        # already given back (every path holds it in a `with`)
        words = os_error_words(exc, args)
        _tell(f"bringup: {words}")
        log.error("%s", words, extra=SHOWN)
        _json_error_if_wanted(args, words, exit_status_of(exc))
        return exit_status_of(exc)


def _json_error_if_wanted(args, message: str, status: int, **more) -> None:
    if getattr(args, "json", False):
        _json_error(message, status, **more)


def _stdout_to_nowhere() -> None:
    """Point file descriptor 1 at /dev/null, so the interpreter's last flush
    of what is still buffered does not print a broken-pipe error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


class _DataOnly:
    """A text stream that writes any raw control character (ESC, C1, other C0
    but newline and tab) escaped: the last guard that appliance text never
    reaches the technician's terminal as control, whichever message quotes it.
    Standard output whose reader went away raises OutputClosed (the command
    ends quietly, 141); standard error's is ignored. Everything else is the
    wrapped stream's."""

    def __init__(self, stream, *, output: bool):
        self._stream = stream
        self._output = output

    def write(self, text: str) -> int:
        if not (text.isascii() and text.isprintable()):
            text = "".join(shown(c) if c in _CONTROLS else c for c in text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            return self._closed(len(text))

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed(0)

    def _closed(self, n: int) -> int:
        if self._output:
            raise OutputClosed() from None
        return n

    def __getattr__(self, name):
        return getattr(self._stream, name)


_CONTROLS = frozenset(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))) - {"\n", "\t"}


def _data_only_output() -> None:
    """Headless commands: stdout and stderr behind ``_DataOnly`` (the console
    draws its own screen, with every outside string made safe text)."""
    if not isinstance(sys.stdout, _DataOnly):
        sys.stdout = _DataOnly(sys.stdout, output=True)
    if not isinstance(sys.stderr, _DataOnly):
        sys.stderr = _DataOnly(sys.stderr, output=False)


def os_error_words(exc: OSError, args=None) -> str:
    """A sentence for a file bringup could not write (or read) mid-run; what
    it says of the appliance and the port fits the command (``args``): only
    a command that changes the appliance speaks of what landed, only one
    that took a port of giving it back."""
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
    tail = []
    if args is None or getattr(args, "command", None) == "apply":
        tail.append("what already landed on the appliance is not applied twice")
    if args is None or getattr(args, "iface", None):
        tail.append("the laptop port was given back")
    return shown_lines(f"could not use{where} ({what}): {advice}"
                       + (f"; {', and '.join(tail)}" if tail else ""))


if __name__ == "__main__":
    sys.exit(main())
