"""Outside text for Textual: always a rich ``Text``, never a markup string.

Textual's DataTable reads a plain ``str`` cell as Rich markup with emoji codes,
so ``02:b5:ab:cd:00:02`` showed as ``02:b5:ab??00:02`` (``:ab:`` is an emoji
code). ``cell`` escapes control characters (``hwprobe.safetext.shown``) and
wraps the result so nothing in it is interpreted.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.filter import LineFilter

from hwprobe.safetext import shown, shown_lines


def cell(value) -> Text:
    """A table cell or one-line label showing ``value`` exactly as sent."""
    return Text(shown(value))


def lines(value) -> Text:
    """A multi-line label (an error text, a console screen) shown as sent."""
    return Text(shown_lines(value))


_CONTROLS = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)])


class ControlFilter(LineFilter):
    """The safety net under ``cell``/``lines``: drops any raw control character
    (C0, ESC, DEL, C1) still in a rendered line, so none reaches the terminal
    from a label nobody wrapped. They take no cells, so the layout is unchanged.
    Every label is meant to escape them first (shown as ``\x1b``, never
    dropped): ``dropped`` keeps each one this net had to take, so a test can
    prove no screen relied on it."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
        self.dropped: set[str] = set()

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        out = []
        for seg in segments:
            if seg.control or seg.text.isprintable():
                out.append(seg)
                continue
            self.dropped.update(c for c in seg.text if ord(c) in _CONTROLS)
            out.append(Segment(seg.text.translate(_CONTROLS), seg.style, seg.control))
        return out
