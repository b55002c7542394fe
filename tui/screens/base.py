"""What every step screen shares: the session, the step bar, the status line,
and the one place worker failures are turned into words a technician can use.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from hwprobe.errors import BringupError

from ..widgets.safe import lines
# the session and the progress file live in tui/session.py; named here too
# because every screen imports them from its base
from ..session import (STEP_TITLES, STEPS, Session, clear_progress,  # noqa: F401
                       load_progress, progress_path, save_progress)


def explain(error: BaseException | None, group: str) -> str:
    """An error in words a technician can act on."""
    if error is None:
        return f"{group}: stopped"
    if isinstance(error, BringupError):
        return str(error)
    if isinstance(error, PermissionError):
        return ("not allowed: bringup needs root to change the laptop port and "
                "send probes (start it with sudo)")
    if isinstance(error, OSError):
        return f"{group} failed: {error.strerror or error}"
    return f"{group} failed unexpectedly: {type(error).__name__}: {error}"


class StepBar(Static):
    """Top line: step n of N and its title."""


def _after_typing(cls, name: str) -> None:
    """Make a priority Enter action wait for the keys already typed into a text
    field: a priority binding runs as soon as Enter arrives, ahead of letters
    still queued for the field (a pasted password followed by Enter would be
    read empty). Deferred onto the field's own queue, it runs after them."""
    original = getattr(cls, name)
    if getattr(original, "after_typing", False):
        return

    def action(self, *args):
        from textual.widgets import Input

        field = self.focused
        if isinstance(field, Input) and field.has_class("-own-enter"):
            # a field whose Enter does its own thing (the serial pane's Device
            # opens the device): submit it rather than go on to the next step
            field.call_later(field.action_submit)
            return None
        if isinstance(field, Input):
            field.call_later(original, self, *args)
            return None
        return original(self, *args)

    action.after_typing = True
    action.__doc__ = original.__doc__
    setattr(cls, name, action)


class FramedScreen(Screen):
    """A screen of the console: a title bar, a hint, the body, a status line and
    the footer. Subclasses set HINT, write compose_body() and frame_title()."""

    HINT = ""
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", key_display="Esc"),
    ]

    @property
    def session(self) -> Session:
        return self.app.session

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.key == "enter" and binding.priority:
                _after_typing(cls, f"action_{binding.action}")

    def frame_title(self) -> str:
        return ""

    def bar_text(self) -> str:
        lab = f"  [demo lab {self.app.options.lab}]" if self.app.options.lab else ""
        return f" bringup  {self.frame_title()}{lab}"

    def refresh_step_bar(self) -> None:
        """Say the title again (a kit loaded adds the Site step: "of 8")."""
        self.query_one("#stepbar", StepBar).update(self.bar_text())

    def compose(self) -> ComposeResult:
        yield StepBar(self.bar_text(), id="stepbar", markup=False)
        yield Static(self.HINT, id="hint", markup=False)
        yield from self.compose_body()
        yield Static("", id="status", markup=False)
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def say(self, text: str, level: str = "info") -> None:
        """Show one line in the status line (level: info, warning, error, success)."""
        status = self.query_one("#status", Static)
        status.set_classes(f"-{level}")
        status.update(lines(text))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker.group, explain(event.worker.error, event.worker.group))

    def worker_failed(self, group: str, text: str) -> None:
        """A worker of this screen raised; the text is already in technician words."""
        self.say(text, "error")


class StepScreen(FramedScreen):
    """A step of the flow. Subclasses set STEP and HINT and write compose_body()."""

    STEP = "start"

    def frame_title(self) -> str:
        steps = self.session.steps()
        n = [k for k, _ in steps].index(self.STEP) + 1
        return f"Step {n} of {len(steps)}: {STEP_TITLES[self.STEP]}"

    def action_back(self) -> None:
        self.app.go_back(self.STEP)

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "back":
            return self.STEP not in ("start", "done")
        return True


class StopsAfterStep:
    """A step whose worker sends one step after another (Apply, the finish
    of the site): Ctrl-C, ^x answered yes, or a signal stops it after the
    step in flight (tui/app.py asks). The screen sets ``stopping``,
    ``quit_after`` and ``cancel`` (a threading.Event its worker watches) in
    compose_body, ``WORK`` (what the question says is at work) and
    ``STOPPING`` (what the status line says then)."""

    WORK = ""
    STOPPING = ""

    def stop_note(self) -> str:
        """What the question adds while the work goes on (nothing here)."""
        return ""

    def stop_after_step(self, then_quit: bool = False) -> None:
        """The step in flight ends, the rest is left for the next run; with
        ``then_quit`` the console leaves once the run's report is written."""
        self.stopping = True
        self.quit_after = self.quit_after or then_quit
        self.cancel.set()
        self.say(self.STOPPING, "warning")
