"""The console session's transcript: every line with a timestamp.

``< `` lines came from the appliance, ``> `` lines were typed (passwords as
``********``), ``# `` lines are notes. Received text is masked (``scrub``)
a whole line at a time, so a password echoed back one byte per read is masked
too; control characters are written escaped (``hwprobe.safetext``); a line
longer than ``MAX_LINE`` is written in parts. The file
is 0600 in a 0700 directory: it may show what the technician typed.
"""
from __future__ import annotations

import datetime
import os
import re
import time
from pathlib import Path

from hwprobe.constants import state_dir
from hwprobe.safetext import shown

MASK = "********"
MAX_LINE = 8192               # characters of one line held before it is written in parts


class Transcript:
    """A timestamped record of a console session: ``< `` lines came from the
    appliance, ``> `` lines were typed (passwords as ********)."""

    def __init__(self, path: Path, device: str, settings: int | str,
                 scrub=lambda text: text, held_back=lambda text: 0):
        """``settings``: the line as the technician set it ("115200 8N1, RTS/CTS");
        a bare baud rate means 8N1. ``held_back(text)``: how many characters at
        its end may be a password still arriving."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        self.path = path
        self._scrub = scrub
        self._held_back = held_back      # how much of a line's end may be a password arriving
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._file = open(fd, "a", encoding="utf-8", buffering=1)
        self._partial = ""
        if isinstance(settings, int):
            settings = f"{settings} 8N1"
        self._write("#", f"console {device} at {settings}, opened")

    @staticmethod
    def _stamp() -> str:
        return datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")

    def _write(self, mark: str, text: str) -> None:
        if not self._file.closed:
            self._file.write(f"{self._stamp()} {mark} {shown(text)}\n")

    def received(self, text: str) -> None:
        self._partial += text
        *done, self._partial = re.split(r"\r?\n", self._partial)
        for line in done:
            self._write("<", self._scrub(line.replace("\r", "")))
        if len(self._partial) > MAX_LINE:
            # an endless line (a console that never stops and never ends a
            # line): written in parts, so memory stays bounded; a part never
            # ends inside a password still arriving
            keep = self._held_back(self._partial)
            head, self._partial = self._partial[:len(self._partial) - keep], \
                self._partial[len(self._partial) - keep:]
            self._write("<", self._scrub(head.replace("\r", "")) + " [the line goes on]")

    def sent(self, text: str) -> None:
        self.flush_partial()
        self._write(">", text)

    def note(self, text: str) -> None:
        self.flush_partial()
        self._write("#", text)

    def flush_partial(self) -> None:
        if self._partial:
            self._write("<", self._scrub(self._partial.replace("\r", "")))
            self._partial = ""

    def close(self) -> None:
        if not self._file.closed:
            self.note("closed")
            self._file.close()


def default_transcript_path() -> Path:
    """STATE/transcripts/console-YYYYmmdd-HHMMSS-PID.log (one session each;
    a second session in the same file is appended after its own header)."""
    return state_dir() / "transcripts" / time.strftime(f"console-%Y%m%d-%H%M%S-{os.getpid()}.log")
