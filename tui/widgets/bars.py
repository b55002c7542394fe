"""An ASCII progress bar: ``[#####.....]`` works on every terminal font."""
from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class AsciiBar(Static):
    """Progress 0.0-1.0 drawn as ``[####....]``, sized to the widget."""

    progress: reactive[float] = reactive(0.0)

    def render(self) -> str:
        width = max(self.size.width - 2, 4)
        filled = int(round(width * max(0.0, min(1.0, self.progress))))
        return "[" + "#" * filled + "." * (width - filled) + "]"
