"""The console profile's display writes only the cells that changed, and what
the terminal then shows is what Textual painted (replayed into a small
terminal model: cursor moves, styles, text)."""
from __future__ import annotations

import re

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import LayoutUpdate
from textual.geometry import Region
from textual.strip import Strip

from tui.shadow import ShadowScreen

W, H = 20, 3
TOKEN = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[([\d;]*)m|([^\x1b])")
BLUE = Style.parse("white on blue")
BOLD = Style.parse("bold yellow")


class Terminal:
    """An emulated W x H terminal: each cell is (character, SGR in force)."""

    def __init__(self):
        self.cells = [[(" ", "")] * W for _ in range(H)]
        self.y = self.x = 0
        self.sgr = ""

    def feed(self, data: str) -> None:
        for move_y, move_x, sgr, char in TOKEN.findall(data):
            if move_y:
                self.y, self.x = int(move_y) - 1, int(move_x) - 1
            elif char:
                self.cells[self.y][self.x] = (char, self.sgr)
                self.x += 1
            else:
                self.sgr = "" if sgr in ("", "0") else sgr.removeprefix("0;")

    def text(self) -> list[str]:
        return ["".join(c for c, _ in row) for row in self.cells]


def paint(lines: list[list[Segment]], y: int = 0) -> LayoutUpdate:
    return LayoutUpdate([[Strip(line)] for line in lines], Region(0, y, W, len(lines)))


def screen(title: str, body: str) -> LayoutUpdate:
    return paint([[Segment(title.ljust(W), BLUE)], [Segment(body.ljust(W))],
                  [Segment("^q Quit".ljust(W), BOLD)]])


def console() -> Console:
    return Console(width=W, height=H, color_system="standard", force_terminal=True)


def test_an_update_that_repaints_the_same_screen_writes_nothing_and_a_keystroke_one_cell():
    shadow, term, con = ShadowScreen(), Terminal(), console()
    first = shadow.render(screen("Step 1 of 7", "Sheet: "), con)
    term.feed(first)
    assert term.text() == ["Step 1 of 7".ljust(W), "Sheet: ".ljust(W), "^q Quit".ljust(W)]
    assert term.cells[0][0] == ("S", BLUE._make_ansi_codes(con._color_system))
    assert shadow.render(screen("Step 1 of 7", "Sheet: "), con) == ""
    typed = shadow.render(screen("Step 1 of 7", "Sheet: a"), con)
    term.feed(typed)
    assert term.text()[1] == "Sheet: a".ljust(W)
    assert len(typed) < 20, typed          # one move and one character, not the line
    moved = shadow.render(screen("Step 2 of 7", "Port: lan0"), con)
    term.feed(moved)
    assert term.text() == ["Step 2 of 7".ljust(W), "Port: lan0".ljust(W), "^q Quit".ljust(W)]
    assert "Quit" not in moved and "Step" not in moved     # unchanged cells are not sent


def test_a_partial_update_and_a_forgotten_screen_are_drawn_right():
    shadow, term, con = ShadowScreen(), Terminal(), console()
    term.feed(shadow.render(screen("Step 4 of 7", "New: ****"), con))
    term.feed(shadow.render(paint([[Segment("New: *****".ljust(W))]], y=1), con))
    assert term.text()[1] == "New: *****".ljust(W)
    # ^l (line noise, a reset terminal): everything is sent again
    shadow.forget()
    noisy = Terminal()
    noisy.feed(shadow.render(screen("Step 4 of 7", "New: *****"), con))
    assert noisy.text() == term.text() and noisy.cells == term.cells
