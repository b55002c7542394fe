"""Offered at start when a run stopped before Done (crash, power loss, SIGKILL).

While the offer shows, a laptop port the stopped run left taken over is put
back from the link journal (whatever the technician answers): the dialog says
which port and what it holds again. Continuing goes back through the Port step,
which takes the port over afresh, and on from there; the engine re-reads the
appliance, so steps it already holds are not applied twice.
"""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..messages import PortPutBack
from .base import STEP_TITLES, STEPS, explain


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
        done = ", ".join(title for key, title in STEPS if key in p.get("done", [])) \
            or "nothing yet"
        text = (
            f"A run stopped before it finished ({p.get('at', 'earlier')}).\n\n"
            + (f"  recovery kit   : {p['kit']}\n" if p.get("kit") else
               f"  settings sheet : {p.get('sheet') or 'entered by hand'}\n")
            + f"  laptop port    : {p.get('iface') or '-'}\n"
            f"  appliance      : {p.get('address') or 'not found yet'}\n"
            f"  it was at      : {STEP_TITLES.get(p.get('step'), p.get('step'))}\n"
            f"  finished       : {done}\n"
        )
        tail = ("Steps the appliance already holds are not applied twice.\n"
                + ("Its password was changed: type the new one at Log in.\n"
                   if "login" in p.get("done", []) else "")
                + "\nc  continue from there        n  start over")
        with Vertical(id="resume-box"):
            yield Static(text, markup=False)
            yield Static("Checking the link journal for a port left taken over...",
                         id="resume-port", markup=False)
            yield Static(tail, markup=False)

    def on_mount(self) -> None:
        # after the first frame: reading the journal loads netlink (pyroute2)
        self.call_after_refresh(self.put_port_back)

    @work(thread=True, exclusive=True, exit_on_error=False, group="journal")
    def put_port_back(self) -> None:
        from hwprobe.port import recovery

        notes: list[str] = []
        recovery.restore_from_journal(on_note=notes.append)
        self.post_message(PortPutBack(notes))

    def on_port_put_back(self, message: PortPutBack) -> None:
        put_back = [n for n in message.notes if " put back: " in n]
        self.query_one("#resume-port", Static).update(
            "\n".join(f"Laptop port {n}" for n in put_back) if put_back
            else "\n".join(message.notes) or "No laptop port was left taken over.")

    def on_worker_state_changed(self, event) -> None:
        if event.state.name == "ERROR" and event.worker.group == "journal":
            self.query_one("#resume-port", Static).update(
                "Could not put the laptop port back: "
                + explain(event.worker.error, "the link journal")
                + " (`bringup restore-link` tries again)")

    def action_go_on(self) -> None:
        self.app.session.resumed_from = self.previous
        self.dismiss(self.previous)

    def action_start_over(self) -> None:
        self.dismiss(None)
