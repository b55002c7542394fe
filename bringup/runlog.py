"""How much bringup says, and the run log it keeps.

``setup(verbosity, terminal=True)`` is called once per command (cli.main):

- the run log, ``<state dir>/bringup.log`` (mode 0600), gets every line the
  drivers and the session log (``hwprobe.*``, e.g. "the session on ... expired;
  logging in again"), what bringup says on stderr, each command line and its
  exit status, and the traceback of anything unexpected. Each line starts with
  a UTC timestamp and the pid. It rotates at ``LOG_BYTES`` with ``LOG_KEEP``
  old files (bringup.log.1 ... .4). Every line is masked with hwprobe.redact
  first: no password is ever written. A state directory that cannot be
  written means no run log, never a failed command.
- standard error shows warnings by default; ``-v`` adds what the drivers log
  (info), ``-vv`` their debug lines too (each request); ``-q`` (verbosity -1)
  keeps only errors and drops bringup's running commentary (``say``).
  ``terminal=False`` (the full-screen console) shows nothing on stderr, which
  would tear the screen.

``say(text)`` prints ``bringup: text`` on stderr unless quiet, and logs it.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from hwprobe import redact
from hwprobe.constants import (ENV_NEW_PASSWORD, ENV_PASSWORD, ENV_SMTP_PASSWORD, state_dir)
from hwprobe.safetext import shown_lines

LOG_NAME = "bringup.log"
LOG_BYTES = 1_000_000
LOG_KEEP = 4
SECRET_VARIABLES = (ENV_PASSWORD, ENV_NEW_PASSWORD, ENV_SMTP_PASSWORD, "BRINGUP_API_SECRET")
OURS = ("hwprobe", "bringup", "tui")    # the loggers whose info and debug lines are kept

log = logging.getLogger("bringup")
SHOWN = {"shown": True}     # a record already printed for the technician: the run log only
_quiet = False
_installed: list[logging.Handler] = []


class _RunLogFile(logging.FileHandler):
    """The run log: created 0600 (it names appliances and addresses), also the
    fresh file after a rotation. Once it passes ``maxBytes`` it becomes
    ``bringup.log.1`` (the older ones move up to ``backupCount``) and a new
    one starts: RotatingFileHandler's rule, without importing
    logging.handlers (pickle, queue, socket: 4 ms of every start)."""

    def __init__(self, filename, maxBytes: int, backupCount: int, encoding=None, errors=None):
        self.maxBytes, self.backupCount = maxBytes, backupCount
        super().__init__(filename, mode="a", encoding=encoding, errors=errors)

    def _open(self):
        # never through a symbolic link: the run log is a regular file or nothing
        fd = os.open(self.baseFilename,
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        """Write one line, formatted (and masked) once; rotate first when it
        would reach ``maxBytes``."""
        try:
            line = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            if self.stream.tell() + len(line) >= self.maxBytes > 0:
                self._rotate()
            self.stream.write(line)
            self.flush()
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - a full disk must not stop a give-back
            self.handleError(record)

    def _rotate(self) -> None:
        self.stream.close()
        self.stream = None
        for n in range(self.backupCount - 1, 0, -1):
            older = f"{self.baseFilename}.{n}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{n + 1}")
        if self.backupCount > 0:
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()


class _Stderr(logging.StreamHandler):
    """Whatever sys.stderr is at the time of the line (a test's capture, or the
    terminal), not the stream there was when bringup started."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _Masked(logging.Formatter):
    """A formatter whose output has every known secret masked."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        return redact.mask(super().format(record))


def log_path() -> Path:
    return state_dir() / LOG_NAME


def setup(verbosity: int = 0, *, terminal: bool = True) -> Path | None:
    """Install the run log and the stderr handler; returns the log's path, or
    None when it cannot be written. Safe to call again (handlers are replaced)."""
    global _quiet
    _quiet = verbosity < 0
    redact.remember(*(os.environ.get(v) for v in SECRET_VARIABLES))
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    root.setLevel(logging.DEBUG)
    for name in OURS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in ("urllib3", "asyncio", "scapy", "pyroute2", "markdown_it"):
        logging.getLogger(name).setLevel(logging.WARNING)   # their chatter is not ours

    path, why = _open_file(root)
    if path is None and terminal and not _quiet:
        # the run goes on, but the technician learns that it leaves no log
        try:
            print(f"bringup: warning: cannot write the run log {log_path()} ({why}): this "
                  f"run is not logged there (BRINGUP_STATE_DIR moves it)", file=sys.stderr,
                  flush=True)
        except OSError:
            pass
    if terminal:
        err = _Stderr()
        err.setLevel({-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
            max(-1, min(verbosity, 2)), logging.DEBUG))
        err.setFormatter(_Masked("bringup: %(message)s"))
        err.addFilter(lambda record: not getattr(record, "shown", False))  # printed already
        err.addFilter(_ours_or_warning)     # -vv is bringup's every step, not a library's
        root.addHandler(err)
        _installed.append(err)
    return path


def _ours_or_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in OURS


def _open_file(root: logging.Logger) -> tuple[Path | None, str]:
    """Install the run log's handler; returns (its path, "") or (None, why
    it cannot be written)."""
    path = log_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = _RunLogFile(path, maxBytes=LOG_BYTES, backupCount=LOG_KEEP, encoding="utf-8",
                              errors="backslashreplace")
    except OSError as exc:
        return None, exc.strerror or str(exc)
    handler.setLevel(logging.DEBUG)
    # a library may set its own loggers' levels when it is imported (pyroute2
    # does, and then logs every netlink message): only its warnings are kept
    handler.addFilter(_ours_or_warning)
    handler.setFormatter(_Masked("%(asctime)s.%(msecs)03dZ %(process)d %(levelname)s "
                                 "%(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"))
    handler.handleError = lambda record: None      # a full disk must not stop a give-back
    root.addHandler(handler)
    _installed.append(handler)
    return path, ""


def quiet() -> bool:
    return _quiet


def say(text: str) -> None:
    """``bringup: text`` on stderr (unless -q) and in the run log; never raises."""
    log.info("%s", text, extra=SHOWN)
    if _quiet:
        return
    try:
        # the text may quote the appliance: data, never terminal control
        print(f"bringup: {shown_lines(text)}", file=sys.stderr, flush=True)
    except OSError:  # the terminal went away (SIGHUP): keep giving the port back
        pass
