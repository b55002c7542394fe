"""Step 1: the settings sheet saved from the old appliance (or none: by hand)."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from hwprobe.errors import SheetInvalid
from hwprobe.appliance.state import Settings

from ..widgets.fields import Field, PathSuggester
from .base import StepScreen


class StartScreen(StepScreen):
    STEP = "start"
    CSS_PATH = "start.tcss"
    HINT = ("Type the path of the settings sheet saved from the old appliance, or of its "
            "recovery kit's folder (Right arrow completes); ^n: the settings by hand.")
    BINDINGS = [
        Binding("enter", "next", "Next", id="next", key_display="Enter", priority=True),
        Binding("ctrl+n", "by_hand", "No sheet: by hand", id="by-hand", key_display="^n"),
        Binding("ctrl+o", "other_paths", "Other paths", id="other-paths", key_display="^o"),
        # rare (an office visit): said in the offer below and in the palette, not the footer
        Binding("ctrl+r", "recovery_kit", "Take a recovery kit", id="recovery-kit",
                key_display="^r", show=False),
        # a kit's summary is taller than 80x24 leaves it: the status line says so
        Binding("pagedown", "scroll_summary(1)", "More", show=False),
        Binding("pageup", "scroll_summary(-1)", "Back up", show=False),
    ]
    PATHS_OFFER = ("Not a new appliance? ^o: failover, cold spare, virtual appliance, RMA, "
                   "hosted site, SaaS outage, readiness. Nothing failed yet? ^r takes a "
                   "recovery kit from the healthy appliance.")

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("Settings sheet", classes="label")
            yield Field(self.session.sheet_path or "", id="sheet",
                        placeholder="e.g. ~/sheets/support.toml", suggester=PathSuggester())
        with VerticalScroll(classes="body", id="summary-box"):
            yield Static("", id="summary", markup=False)
        yield Static(self.PATHS_OFFER, id="paths-offer", markup=False)

    def on_mount(self) -> None:
        if self.session.kit_folder:
            self.query_one("#sheet", Field).value = self.session.kit_folder
            self.load(self.session.kit_folder)
        elif self.session.sheet_path:
            self.load(self.session.sheet_path)
        self.query_one("#sheet", Field).focus()

    def load(self, path: str) -> bool:
        """Load and show the sheet; True when it is good."""
        from hwprobe.settings.sheet import load_sheet, summarize   # after the first frame

        summary = self.query_one("#summary", Static)
        self.session.settings = None
        if not path.strip():
            summary.update("")
            self.say("Type a sheet's path, or ^n to enter the settings by hand.", "warning")
            return False
        full = Path(path.strip()).expanduser()
        if full.is_dir():
            return self.load_kit(full)
        if self.session.kit_folder:
            self.session.kit_folder = None
            self.refresh_step_bar()
        try:
            settings = load_sheet(full)
        except SheetInvalid as exc:
            summary.update("\n".join(exc.problems))
            summary.set_classes("-problems")
            self.say(f"The sheet has {len(exc.problems)} problem(s): fix them in the file, "
                     "then Enter to load it again.", "error")
            return False
        except OSError as exc:
            summary.update("")
            self.say(f"{full}: {exc.strerror or exc}", "error")
            return False
        self.session.settings = settings
        self.session.sheet_path = str(full)
        summary.set_classes("")
        summary.update("The sheet will set:\n" + "\n".join(f"  {line}" for line in summarize(settings)))
        self._loaded("Sheet loaded. Enter: go on to the laptop port.")
        return True

    def load_kit(self, folder: Path) -> bool:
        """A recovery kit's folder: its sheet, and the Site step after Restore."""
        from hwprobe.errors import BringupError
        from hwprobe.procedure.finish.run import intents
        from hwprobe.procedure.finish.inputs import read_inputs
        from hwprobe.settings.sheet import load_sheet, summarize

        summary = self.query_one("#summary", Static)
        self.session.kit_folder = None
        self.refresh_step_bar()
        try:
            inputs = read_inputs(folder, "", certificate=False, check_hashes=False)
            settings = load_sheet(inputs.path("sheet"))
        except SheetInvalid as exc:
            summary.update("\n".join(exc.problems))
            summary.set_classes("-problems")
            self.say(f"The kit's sheet has {len(exc.problems)} problem(s).", "error")
            return False
        except BringupError as exc:
            summary.update("")
            self.say(str(exc), "error")
            return False
        a = inputs.kit.manifest.appliance
        self.session.settings = settings
        self.session.sheet_path = str(inputs.path("sheet"))
        self.session.kit_folder = str(folder)
        summary.set_classes("")
        summary.update("\n".join(
            [f"Recovery kit of {a.get('model')} {a.get('serial')} ({a.get('hostname')}), "
             f"taken {inputs.kit.manifest.taken}.", "The sheet will set:"]
            + [f"  {line}" for line in summarize(settings)]
            + ["Then the Site step will:"]
            + [f"  {s.title}: {s.message}" for s in intents(inputs)]))
        self.refresh_step_bar()
        self._loaded("Kit loaded. Enter: go on to the laptop port.")
        return True

    def _loaded(self, text: str) -> None:
        """Say ``text``; once laid out, also that PgDn shows what the summary
        holds below the screen's edge (a kit's, on a small terminal)."""
        self.say(text, "success")
        box = self.query_one("#summary-box", VerticalScroll)
        box.scroll_home(animate=False)

        def more() -> None:
            # (a resumed run has gone on to the port by now: nothing to say)
            if self.is_current and box.max_scroll_y > 0:
                self.say(f"{text} PgDn/PgUp: the rest of the summary.", "success")
        self.call_after_refresh(more)

    def action_scroll_summary(self, direction: int) -> None:
        box = self.query_one("#summary-box", VerticalScroll)
        if direction > 0:
            box.scroll_page_down(animate=False)
        else:
            box.scroll_page_up(animate=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def action_next(self) -> None:
        field = self.query_one("#sheet", Field)
        typed = str(Path(field.value.strip()).expanduser())
        loaded = self.session.settings is not None and typed in (
            self.session.sheet_path, self.session.kit_folder)
        if loaded or self.load(field.value):
            if loaded:
                self.app.goto("port")

    def action_other_paths(self) -> None:
        """The other recovery paths (a sheet typed but not loaded yet is loaded first)."""
        typed = self.query_one("#sheet", Field).value.strip()
        if typed and str(Path(typed).expanduser()) not in (self.session.sheet_path,
                                                           self.session.kit_folder):
            self.load(typed)
        self.app.open_path("paths")

    def action_recovery_kit(self) -> None:
        """Take a recovery kit from a healthy appliance (before anything fails)."""
        self.app.open_path("kit")

    def action_by_hand(self) -> None:
        self.session.settings = Settings()
        self.session.sheet_path = None
        self.session.kit_folder = None
        self.app.goto("port")

    def resume_from(self, previous: dict) -> None:
        """Continue a run that did not finish: reload its sheet (or kit), go
        to its port."""
        if previous.get("kit") and self.load(previous["kit"]):
            self.app.session.resuming = True
            self.app.goto("port")
        elif previous.get("sheet") and self.load(previous["sheet"]):
            self.app.session.resuming = True
            self.app.goto("port")
        elif not previous.get("sheet"):
            self.app.session.resuming = True
            self.action_by_hand()
