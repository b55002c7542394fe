"""Asked when the technician quits (^x, or Ctrl-C) with work unfinished: the
port is taken over, or some steps are done but not all. ``y`` quits (the port
is given back), ``n`` or Esc goes back to the step. While Apply or the
finish of the site runs the question is whether to stop after the step in
flight (``applying``: what is at work, "Applying"): ``y`` stops there (the
rest is left for the next run, which resumes), ``n`` goes on."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class QuitScreen(ModalScreen[bool]):
    """Dismisses with True to quit, False to stay."""

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    #quit-box { width: 64; height: auto; padding: 1 2; border: round $warning; background: $surface; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Quit", id="quit-yes"),
        Binding("n", "answer(False)", "Stay", id="quit-no"),
        Binding("escape", "answer(False)", "Stay", id="quit-escape", show=False),
    ]

    def __init__(self, left: list[str], port: str | None, note: str = "", *,
                 applying: str = "") -> None:
        super().__init__()
        self.left = left
        self.port = port
        self.note = note            # what the step at work says of leaving now
        self.applying = applying

    def compose(self) -> ComposeResult:
        if self.applying:
            lines = [f"{self.applying}: stop after the step in flight, or go on?", "",
                     "Stopped, the steps not sent yet are left for the next run, which "
                     "resumes: what landed is read back, not done twice. The report "
                     "says what was done and what is left."]
        else:
            lines = ["Quit with the bring-up unfinished?", ""]
            if self.left:
                lines.append("Not done yet: " + ", ".join(self.left))
        if self.note:
            lines.append(self.note)
        if self.port:
            lines.append(f"The laptop port {self.port} is given back as it was.")
        lines += ["", "y  stop after this step   n  go on" if self.applying
                  else "y  quit        n  stay"]
        with Vertical(id="quit-box"):
            yield Static("\n".join(lines), id="quit-text")

    def action_answer(self, quit_: bool) -> None:
        self.dismiss(quit_)
