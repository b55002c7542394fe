"""The recovery paths offered from the start screen (^o), and what their
screens share.

Hardware bring-up is the seven-step flow; the other paths (failover, cold
spare, virtual appliance, RMA, hosted site, SaaS outage, readiness) each open
one screen on top of the start screen. Escape always goes back one screen.
The checklists and the words come from ``hwprobe.runbook`` (runbook.toml).
Which screen opens for which path, and going back to the start, are the
app's (``BringupApp.open_path``, ``back_to_start``): screens ask the app.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hwprobe.runbook import PATH_ORDER, PATHS

from .base import FramedScreen

READINESS_TITLE = "Readiness: prepare in advance (sheet age, kit list)"
READINESS_SUMMARY = ("Before anything fails: is the settings sheet complete and recent, "
                     "and is the kit packed?")
PATH_KEYS = (*PATH_ORDER, "readiness")


def short_path(path: str) -> str:
    """``path`` with the home directory written as ``~``."""
    home = str(Path.home())
    return "~" + path[len(home):] if path.startswith(home + "/") else path


def path_title(key: str) -> str:
    return READINESS_TITLE if key == "readiness" else PATHS[key]["title"]


class PathScreen(FramedScreen):
    """A recovery path's screen. Subclasses set TITLE_TEXT and HINT and write
    compose_body(); Escape goes back one screen."""

    TITLE_TEXT = ""

    def frame_title(self) -> str:
        return self.TITLE_TEXT

    def action_back(self) -> None:
        self.app.pop_screen()


class PathsScreen(PathScreen):
    """Every recovery path, one per line; Enter or its number opens it."""

    TITLE_TEXT = "Recovery paths"
    CSS_PATH = "paths.tcss"
    HINT = ("What happened? Choose the path (Up/Down and Enter, or its number). "
            "Esc goes back to the settings sheet.")
    BINDINGS = [
        Binding("enter", "open", "Open", id="open-path", key_display="Enter", priority=True),
        *(Binding(str(n), f"open_number({n})", f"Open path {n}", id=f"open-path-{n}", show=False)
          for n in range(1, len(PATH_KEYS) + 1)),
    ]

    def compose_body(self) -> ComposeResult:
        options = [Option(f"{n}  {path_title(key)}", id=key)
                   for n, key in enumerate(PATH_KEYS, 1)]
        yield OptionList(*options, id="paths", compact=True)
        yield Static("", id="path-summary", markup=False)
        sheet = self.session.sheet_path
        yield Static(f"Settings sheet: {short_path(sheet)}"
                     if sheet and self.session.settings is not None else "Settings sheet: none loaded (Esc, type its path, ^o again)",
                     id="sheet-note", markup=False)

    def on_mount(self) -> None:
        paths = self.query_one("#paths", OptionList)
        paths.highlighted = 0
        paths.focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = event.option.id
        self.query_one("#path-summary", Static).update(
            READINESS_SUMMARY if key == "readiness" else PATHS[key]["summary"])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.app.open_path(event.option.id)

    def action_open(self) -> None:
        paths = self.query_one("#paths", OptionList)
        if paths.highlighted is not None:
            self.app.open_path(PATH_KEYS[paths.highlighted])

    def action_open_number(self, number: int) -> None:
        self.app.open_path(PATH_KEYS[number - 1])
