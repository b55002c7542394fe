"""Write only what changed on the terminal (the console profile's display).

Textual repaints whole regions: a widget that changes height repaints the
screen below it, a keystroke in an Input repaints the Input's whole line, and
every styled run is sent as ``ESC[...m text ESC[0m``. On a 115200-baud serial
line or a KVM that is most of what the technician waits for. ``ShadowScreen``
keeps what the terminal shows, cell by cell (character and style), compares
each update of the compositor with it, and sends only the cells that differ:
short gaps are written through rather than jumped (a cursor move costs ~8
bytes), and a style is sent only when it changes from the previous cell.

Anything that may have put other bytes on the terminal (^l redraw, a resize, a
terminal reset) must call ``forget()``: the next update is then sent whole.
"""
from __future__ import annotations

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.segment import ControlType
from rich.style import Style
from textual._compositor import CompositorUpdate

_GAP = 6              # unchanged cells written through rather than jumped over
_RESET = "\x1b[0m"


class ShadowScreen:
    """What the terminal shows, and the shortest way to change it."""

    def __init__(self) -> None:
        self.width = self.height = 0
        self._cells: list[list[tuple[str, Style | None] | None]] = []
        self._codes: dict[Style | None, str] = {}

    def forget(self, width: int | None = None, height: int | None = None) -> None:
        """Take nothing as shown any more (the next update is sent whole)."""
        if width is not None and height is not None:
            self.width, self.height = width, height
        self._cells = [[None] * self.width for _ in range(self.height)]

    def wrap(self, update: CompositorUpdate) -> CompositorUpdate:
        """``update`` as an update that sends only what differs from the screen."""
        return _Diffed(self, update)

    def _sgr(self, style: Style | None, color_system: ColorSystem | None) -> str:
        codes = self._codes.get(style)
        if codes is None:
            codes = style._make_ansi_codes(color_system) if style and color_system else ""
            self._codes[style] = codes
        return codes

    def render(self, update: CompositorUpdate, console: Console) -> str:
        """The terminal bytes that bring the screen to what ``update`` paints."""
        width, height = console.size
        if (width, height) != (self.width, self.height):
            self.forget(width, height)
        new: dict[int, dict[int, tuple[str, Style | None]]] = {}
        x = y = 0
        for segment in update.__rich_console__(console, console.options):
            text, style, control = segment
            if control:
                for code in control:
                    if code[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = code[1], code[2]
                continue
            if text == "\n" or not 0 <= y < height:
                continue
            row = new.setdefault(y, {})
            for char in text:
                size = cell_len(char)
                if 0 <= x < width:
                    row[x] = (char, style)
                    if size == 2 and x + 1 < width:
                        row[x + 1] = ("", style)     # the right half of a wide glyph
                x += size
        color_system = console._color_system
        out: list[str] = []
        shown = ""                                    # SGR codes in force on the terminal
        for y in sorted(new):
            row, cells = new[y], self._cells[y]
            changed = [x for x in sorted(row) if cells[x] != row[x]]
            if not changed:
                continue
            runs: list[list[int]] = [[changed[0], changed[0]]]
            for x in changed[1:]:
                if x - runs[-1][1] <= _GAP and all(
                        c in row or cells[c] is not None
                        for c in range(runs[-1][1] + 1, x)):
                    runs[-1][1] = x
                else:
                    runs.append([x, x])
            for start, end in runs:
                out.append(f"\x1b[{y + 1};{start + 1}H")
                for x in range(start, end + 1):
                    cell = row.get(x) or cells[x]
                    char, style = cell
                    codes = self._sgr(style, color_system)
                    if codes != shown:
                        out.append(f"\x1b[0;{codes}m" if codes else _RESET)
                        shown = codes
                    out.append(char)
                    cells[x] = cell
        if shown:
            out.append(_RESET)
        return "".join(out)


class _Diffed(CompositorUpdate):
    """A compositor update sent through a ShadowScreen."""

    def __init__(self, shadow: ShadowScreen, update: CompositorUpdate):
        self.shadow, self.update = shadow, update

    def __rich_console__(self, console, options):
        return self.update.__rich_console__(console, options)

    def render_segments(self, console: Console) -> str:
        return self.shadow.render(self.update, console)
