"""Offered at start when a run stopped before Done (crash, power loss, SIGKILL)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from .base import STEP_TITLES


class ResumeScreen(ModalScreen[dict | None]):
    """Continue from the journal (c) or start over (n); dismisses with the
    previous progress, or None."""

    CSS_PATH = "resume.tcss"
    BINDINGS = [
        Binding("c", "go_on", "Continue", id="continue"),
        Binding("n", "start_over", "Start over", id="start-over"),
        Binding("escape", "start_over", "Start over", id="resume-escape", show=False),
    ]

    def __init__(self, previous: dict) -> None:
        super().__init__()
        self.previous = previous

    def compose(self) -> ComposeResult:
        p = self.previous
        done = ", ".join(STEP_TITLES.get(k, k) for k in p.get("done", [])) or "nothing yet"
        text = (
            f"A run stopped before it finished ({p.get('at', 'earlier')}).\n\n"
            f"  settings sheet : {p.get('sheet') or 'entered by hand'}\n"
            f"  laptop port    : {p.get('iface') or '-'}\n"
            f"  appliance      : {p.get('address') or 'not found yet'}\n"
            f"  it was at      : {STEP_TITLES.get(p.get('step'), p.get('step'))}\n"
            f"  finished       : {done}\n\n"
            "The laptop port is put back from the journal either way.\n"
            "Steps the appliance already holds are not applied twice.\n\n"
            "c  continue from there        n  start over"
        )
        with Vertical(id="resume-box"):
            yield Static(text, markup=False)

    def action_go_on(self) -> None:
        self.dismiss(self.previous)

    def action_start_over(self) -> None:
        self.dismiss(None)
