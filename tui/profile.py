"""The console profile: what the console looks like on a KVM or serial line.

A Linux virtual console (TERM=linux), a VT terminal or a serial line has 16
colours, a font without block or box-drawing glyphs, often no mouse, and every
byte may cross a 115200-baud line. In that profile the console uses the
``ansi-dark`` theme, no cursor blink, no animation, no mouse, and plain ASCII
only: ASCII borders and scrollbars by design (``profile.tcss``), plus a last
line filter that folds any glyph that still slips through (a message from the
appliance, say) into ASCII so the terminal never shows garbage.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rich.segment import Segment
from textual.filter import LineFilter
from textual.scrollbar import ScrollBarRender

CONSOLE_TERMS = ("linux", "vt100", "vt102", "vt220", "vt320", "vt420", "ansi", "dumb")
_SERIAL_TTY = re.compile(r"^/dev/(ttyS|ttyUSB|ttyACM|ttyAMA|ttymxc|ttyO|hvc)\d+$")
CONSOLE_CSS = Path(__file__).with_name("profile.tcss")


@dataclass(frozen=True)
class Profile:
    """Which face the console wears, and why (the reason is shown in the palette)."""

    console: bool
    reason: str

    @property
    def theme(self) -> str:
        return "ansi-dark" if self.console else "textual-dark"


def _tty_name(fd: int) -> str | None:
    try:
        return os.ttyname(fd)
    except OSError:
        return None


def detect(forced: bool | None = None, term: str | None = None,
           tty: str | None = None) -> Profile:
    """Choose the profile: ``forced`` (--console-profile / --no-console-profile)
    wins; otherwise the console profile when TERM is a VT or Linux console, or
    when the terminal is a serial line. Never raises."""
    if forced is not None:
        return Profile(forced, "asked for on the command line")
    term = os.environ.get("TERM", "") if term is None else term
    if term.split("-")[0] in CONSOLE_TERMS:
        return Profile(True, f"TERM={term}")
    tty = _tty_name(1) if tty is None else tty
    if tty and _SERIAL_TTY.match(tty):
        return Profile(True, f"serial line {tty}")
    return Profile(False, f"TERM={term or 'unset'}")


# --- ASCII -----------------------------------------------------------------

_NAMED = {
    "\u2022": "*", "\u25cf": "*", "\u2026": ".", "\u2018": "'", "\u2019": "'",
    "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " ",
    "\u2191": "^", "\u2193": "v", "\u2190": "<", "\u2192": ">", "\u25b2": "^",
    "\u25bc": "v", "\u25b6": ">", "\u25c0": "<", "\u2713": "x", "\u2714": "x",
    "\u00d7": "x", "\u00b7": ".", "\u2500": "-",
}


@lru_cache(maxsize=4096)
def ascii_char(char: str) -> str:
    """One plain-ASCII stand-in for ``char``, as many cells wide as it is."""
    if char.isascii():
        return char
    from rich.cells import cell_len

    width = max(cell_len(char), 1)
    if char in _NAMED:
        return _NAMED[char] * width
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        if "HORIZONTAL" in name and "VERTICAL" not in name:
            return "-"
        if "VERTICAL" in name and "HORIZONTAL" not in name:
            return "|"
        return "+"
    if name.startswith(("LOWER ONE EIGHTH", "LOWER ONE QUARTER")):
        return "_"
    if name.startswith(("UPPER ONE EIGHTH", "UPPER HALF")):
        return "-"
    if "BLOCK" in name and ("LEFT" in name or "RIGHT" in name):
        return "|"
    if "BLOCK" in name or "SHADE" in name:
        return "#"
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if len(decomposed) == width:
        return decomposed
    return "?" * width


def to_ascii(text: str) -> str:
    """``text`` with every non-ASCII character folded to ASCII of the same width."""
    if text.isascii():
        return text
    return "".join(ascii_char(c) for c in text)


class AsciiFilter(LineFilter):
    """Folds every rendered glyph into ASCII. ``folded`` keeps each character it
    had to replace, so a test can prove the screens are ASCII by design."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
        self.folded: set[str] = set()

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        out = []
        for seg in segments:
            text = seg.text
            if seg.control or text.isascii():
                out.append(seg)
                continue
            self.folded.update(c for c in text if not c.isascii())
            out.append(Segment(to_ascii(text), seg.style, seg.control))
        return out


class AsciiScrollBarRender(ScrollBarRender):
    """Scrollbars drawn with colour alone: no eighth-block glyphs."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


class NoColorFilter(LineFilter):
    """NO_COLOR: no colours at all, the terminal's own foreground on its own
    background (bold, underline and reverse stay). Textual's greyscale filter
    turns the ANSI theme's default colours into black on black."""

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        return [seg if seg.control or seg.style is None
                else Segment(seg.text, seg.style.without_color, seg.control)
                for seg in segments]
