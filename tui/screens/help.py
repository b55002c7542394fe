"""A step's help, whole: the ``HELP`` text of the screen it was opened from,
in a box that scrolls (the Keys panel shows only its first lines at 80x24).
Esc, q or ? closes it; the arrows and PgUp/PgDn scroll it."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


class HelpScreen(ModalScreen[None]):
    """``text`` (Markdown, bringup's own words: no outside text goes in it)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help-box { width: 78; max-width: 100%; height: 90%; border: round $primary;
                background: $surface; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_subtitle = "Esc closes; the arrows scroll"
            yield Markdown(self.text, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
