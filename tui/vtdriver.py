"""Textual's Linux driver, writing only what $TERM's terminfo entry has (see
tui/terminfo.py). Used by the console at TERM=linux, vt100, vt220..."""
from __future__ import annotations

import os

from textual.drivers.linux_driver import LinuxDriver

from .terminfo import UNFINISHED, for_term


class TerminfoDriver(LinuxDriver):
    """Textual's Linux driver, writing only what ``$TERM``'s entry has."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._terminfo = for_term(os.environ.get("TERM", "vt100"))
        self._pending = ""
        if self._terminfo.colors == 0:
            self._app.no_color = True       # vt100, vt220: attributes only, as NO_COLOR

    def write(self, data: str) -> None:
        data = self._pending + data
        cut = UNFINISHED.search(data)        # a sequence split across two writes
        self._pending = data[cut.start():] if cut else ""
        data = data[:cut.start()] if cut else data
        if data:
            super().write(self._terminfo.filter(data))

    def stop_application_mode(self) -> None:
        super().stop_application_mode()
        if "rmcup" not in self._terminfo.has and self._terminfo.clear:
            super().write("\x1b[m" + self._terminfo.clear)   # no alternate screen to leave
            self.flush()
