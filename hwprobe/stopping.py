"""Signals at every moment of a command: SIGINT, SIGTERM and SIGHUP end
bringup with one line and the status 128 + the signal (docs/exit-status.md).

``guard()`` is the first thing the ``bringup`` command does, before its
heavy imports. Until a run begins, a signal ends the process at once: one
line on stderr, the terminal's settings as they were at the start (a
password prompt turns echo off), exit 128 + n. Nothing has been changed
then, so nothing needs putting back, and no import left half done can turn
Ctrl-C into a traceback.

``run_begins()`` is called before the first change (a ``BringupSession``
entered on the main thread, ``restore-link``, a lab being made): from then
on a signal raises ``Stopped`` where the main thread is, so every ``with``
on the way out gives the laptop port back and the command writes its
report. The takeover defers a signal while it changes the port
(hwprobe/port/takeover.py); ``critical()`` does the same for other work that
must not stop half way.

Signals blocked when the process started (the bundle's first start blocks
them across its re-exec into the unpacked files: scripts/pex-preamble.py)
are unblocked once the handlers are in place, so one sent meanwhile is
heard then.

Pure standard library, already loaded when Python starts: importing it
costs nothing.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from hwprobe.errors import Stopped

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Guard:
    installed = False
    run_begun = False
    terminal: tuple | None = None       # (fd, termios attributes) at the start
    undo: bytes = b""                   # written to the terminal on the way out
    deferred: list[int] = []            # signals held back by critical()
    depth = 0
    last_words = None                   # callable(words, status): the run log's last lines


def guard() -> None:
    """Install the handlers (main thread only; harmless to repeat)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if _Guard.terminal is None:
        _Guard.terminal = _terminal_settings()
    for sig in SIGNALS:
        signal.signal(sig, _on_signal)
    _Guard.installed = True
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def run_begins() -> None:
    """From now on a signal raises ``Stopped`` in the main thread (the way
    out gives the port back and writes the report) instead of ending the
    process at once. One-way: a run that began has something to report."""
    _Guard.run_begun = True


def when_ending(last_words) -> None:
    """``last_words(words, status)`` is called when a signal ends the
    process at once (the run log records it); what it raises is ignored."""
    _Guard.last_words = last_words


def on_the_way_out(data: bytes) -> None:
    """Bytes to write to the terminal when a signal ends the process at once
    (the console's: leave the alternate screen, show the cursor)."""
    _Guard.undo = data


@contextlib.contextmanager
def critical():
    """Work that must not stop half way (putting a port back, the password
    change and its record): a signal that arrives inside waits until the
    end, then acts as the handler in place then would have (ours, or the
    takeover's, which asks ``deferring`` first)."""
    _Guard.depth += 1
    try:
        yield
    finally:
        _Guard.depth -= 1
    if _Guard.depth == 0 and _Guard.deferred:
        signum = _Guard.deferred[0]
        _Guard.deferred.clear()
        handler = signal.getsignal(signum)
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            end_now(signum)


def deferring(signum: int) -> bool:
    """True inside ``critical()``: the signal is kept for its end (a
    handler calls this first and returns when it says so)."""
    if _Guard.depth > 0:
        _Guard.deferred.append(signum)
        return True
    return False


def _on_signal(signum: int, _frame) -> None:
    if deferring(signum):
        return
    if _Guard.run_begun:
        raise Stopped(signum)
    end_now(signum)


def end_now(signum: int) -> None:
    """End the process at once: the terminal as it was, one line, 128 + n."""
    fd_attrs = _Guard.terminal
    if fd_attrs is not None:
        try:
            import termios

            termios.tcsetattr(fd_attrs[0], termios.TCSANOW, fd_attrs[1])
        except (ImportError, OSError, ValueError):
            pass
    with contextlib.suppress(OSError):
        if _Guard.undo:
            os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, _Guard.undo)
    words = Stopped(signum).words
    with contextlib.suppress(OSError):
        os.write(2, f"bringup: {words}; nothing was changed\n".encode())
    if _Guard.last_words is not None:
        with contextlib.suppress(Exception):
            _Guard.last_words(words, 128 + signum)
    os._exit(128 + signum)


def _terminal_settings() -> tuple | None:
    """(fd, termios attributes) of the terminal on standard input, if any."""
    try:
        if not os.isatty(0):
            return None
        import termios

        return 0, termios.tcgetattr(0)
    except (ImportError, OSError, ValueError):
        return None
