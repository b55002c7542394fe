"""Step 7 with a recovery kit: the finish of the site (certificate, site
software, /login backup), after Restore.

One row per finish step (hwprobe/procedure/finish/: what each will do, then
its status and what it did, or why not), Space opens the row whole (the
Restore step's detail pane), Enter starts the finish. Uploads and restarts
show a progress bar with bytes, rate and time left, or time waited against
the deadline. The secrets come from the environment or from the fields here
(shown only when the environment does not give them); they never leave
memory. Quitting while the appliance restarts says the run can be resumed;
the next start offers to, and lands here. Ctrl-C (or ^x) while the finish
is at work asks whether to stop after the step in flight (as Apply does);
stopped, the report lists what was done, what was in flight and what is left.

The finish is the bring-up session's (``BringupSession.finish``), as in
``bringup apply --kit``: the kit checked before anything is sent, every
step journalled, the run's one report written at the end.
"""
from __future__ import annotations

import copy
import os
import threading
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Static

from hwprobe.constants import ENV_KIT_SECRETS
from hwprobe.safetext import shown

from ..messages import FinishEnded, FinishProgressed, FinishStepChanged
from ..profile import to_ascii
from ..widgets.bars import AsciiBar
from ..widgets.fields import Field, SecretField
from .base import StepScreen, StopsAfterStep
from .change_detail import ChangeDetail

STATUS = {"pending": "[ ] to do", "running": "[>] at work", "done": "[x] done",
          "already": "[=] as it is", "skipped": "[-] skipped", "failed": "[!] FAILED",
          "would": "[ ] would", "stopped": "[>] stopped"}
STATUS_WIDTH = max(len(x) for x in STATUS.values())
# field id -> (label, environment variable, secret)
SECRETS = {
    "certificate_passphrase": ("Key passphrase", ENV_KIT_SECRETS["certificate_passphrase"], True),
    "backup_password": ("Backup password", ENV_KIT_SECRETS["backup_password"], True),
    "api_client_id": ("API client id", ENV_KIT_SECRETS["api_client_id"], False),
    "api_secret": ("API secret", ENV_KIT_SECRETS["api_secret"], True),
}
PROGRESS_EVERY = 0.2        # seconds between progress messages from the worker


class _Fields:
    """The secrets as the fields hold them (the finish's Prompter)."""

    def __init__(self, values: dict[str, str]):
        self.values = values

    def secret(self, question: str) -> str | None:
        from hwprobe.procedure.finish.inputs import QUESTIONS

        key = next((k for k, q in QUESTIONS.items() if q == question), None)
        return self.values.get(key) or None if key else None


class SiteScreen(StopsAfterStep, StepScreen):
    STEP = "site"
    CSS_PATH = "site.tcss"
    HINT = ("The finish from the kit: the certificate, the site software, the /login backup. "
            "Enter starts it; each step says what it did. Space: a row whole.")
    BINDINGS = [
        Binding("enter", "start", "Finish the site", id="finish-site", key_display="Enter",
                priority=True),
        Binding("space", "detail", "Details", id="site-detail", key_display="Space"),
    ]
    # Ctrl-C: the finish step in flight ends (an upload, an import), a wait
    # for a restart ends at once (the next run waits for it), the rest is left
    WORK = "Finishing"
    STOPPING = ("Stopping after the finish step in flight; the rest is left for the next "
                "run, which resumes...")

    def compose_body(self) -> ComposeResult:
        self.running = self.finished = False
        self.stopping = False                 # asked to stop after the step in flight
        self.quit_after = False               # ...and then to leave the console
        self.steps: list = []
        self.waiting_restart = False
        self.cancel = threading.Event()
        self._started: dict[str, tuple[float, float]] = {}
        self.unreadable = ""
        self.inputs = self._kit_inputs()
        needs = self._needs()
        for key, (label, env, secret) in SECRETS.items():
            if key in needs and not os.environ.get(env):
                with Horizontal(classes="row"):
                    yield Label(label, classes="label")
                    yield (SecretField if secret else Field)("", id=f"site-{key}")
        table = DataTable(id="site-steps", cursor_type="row")
        yield table
        yield Static("", id="site-progress", markup=False)
        yield AsciiBar(id="site-bar")

    def _kit_inputs(self):
        """The kit as far as it can be read without a secret (None: unreadable)."""
        from hwprobe.errors import BringupError
        from hwprobe.procedure.finish.inputs import read_inputs

        settings = self.session.settings
        try:
            return read_inputs(self.session.kit_folder, "", certificate=False, check_hashes=False,
                               sheet_hostname=getattr(settings, "hostname", None))
        except BringupError as exc:
            self.unreadable = str(exc)
            return None

    def _needs(self) -> tuple[str, ...]:
        from hwprobe.procedure.finish.inputs import needs

        return needs(self.inputs.kit) if self.inputs is not None else ()

    def on_mount(self) -> None:
        from hwprobe.procedure.finish.run import intents

        table = self.query_one(DataTable)
        room = max(30, self.app.size.width - 2 - 2 - 3 * 2 - STATUS_WIDTH - 14)
        table.add_column("Finish step", key="title", width=14)
        table.add_column("What it does", key="message", width=room)
        table.add_column("Status", key="status", width=STATUS_WIDTH)
        if self.inputs is None:
            self.say(f"The kit cannot be read: {self.unreadable}", "error")
            return
        self._fill(intents(self.inputs))
        first = next(iter(self.query(Field)), None)
        (first or table).focus()
        if self.session.incomplete:
            self.say("The network settings did not all land (see Restore): the finish needs "
                     "them. Esc goes back; Enter goes on to Done without the finish.", "warning")
        else:
            self.say("Enter finishes the site" + (": fill in the fields first."
                                                  if first else "."))

    def _fill(self, steps) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        self.steps = list(steps)
        for step in self.steps:
            table.add_row(Text(step.title), Text(to_ascii(shown(step.message))),
                          Text(STATUS.get(step.status, step.status)), key=step.key, height=None)
        table.move_cursor(row=min(cursor, len(self.steps) - 1))

    # --- the detail pane (the Restore step's, each line of the step) -------------------
    def detail_text(self, index: int) -> str:
        """Row ``index`` whole: its status, where, what it did or why not,
        and every detail line (the detail pane)."""
        step = self.steps[index]
        lines = [f"{step.title} ({index + 1} of {len(self.steps)}): "
                 f"{STATUS.get(step.status, step.status)}", f"Where: {step.page}", "",
                 step.message or "(nothing yet)"]
        if step.detail:
            lines += [""] + [f"- {line}" for line in step.detail]
        return "\n".join(to_ascii(shown(line)) for line in lines)

    def move_to(self, index: int) -> int:
        index = max(0, min(index, len(self.steps) - 1))
        self.query_one(DataTable).move_cursor(row=index)
        return index

    def action_detail(self) -> None:
        if self.steps:
            self.app.push_screen(FinishDetail(self, self.query_one(DataTable).cursor_row))

    # --- starting -------------------------------------------------------------------------
    def _secrets(self) -> dict[str, str] | None:
        got = {}
        for key in self._needs():
            label, env, _ = SECRETS[key]
            fields = self.query(f"#site-{key}")
            value = fields.first().value if fields else os.environ.get(env, "")
            if not value:
                self.say(f"{label}: needed for the finish.", "warning")
                if fields:
                    fields.first().focus()
                return None
            got[key] = value
        return got

    def on_input_submitted(self, event) -> None:
        event.stop()
        self.focus_next()

    def action_start(self) -> None:
        if self.running:
            return
        if self.finished or self.session.incomplete or self.inputs is None:
            self.app.goto("done")
            return
        values = self._secrets()
        if values is None:
            return
        self.running = True
        self.query_one(DataTable).focus()
        self.say("Checking the kit, then finishing the site...")
        self.finish(self.session.bringup, self.session.kit_folder, self.session.sheet_path,
                    values)

    # the description is fixed: by default Textual writes the arguments (secrets) into it
    @work(thread=True, exclusive=True, exit_on_error=False, group="finish",
          description="finish the site")
    def finish(self, bringup, folder: str, sheet: str | None, values: dict) -> None:
        from hwprobe.errors import BringupError
        from hwprobe.procedure.finish.inputs import finish_secrets, read_inputs

        last = [0.0]

        def progress(p) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or (p.total and p.done >= p.total):
                last[0] = now
                self.post_message(FinishProgressed(copy.copy(p)))

        secrets = finish_secrets(_Fields(values), self.inputs.kit)
        bringup.keep_secret(*secrets.values())
        inputs = read_inputs(folder, secrets.certificate_passphrase,
                             sheet_hostname=self.inputs.hostname)
        try:
            result = bringup.finish(inputs, secrets, cancel=self.cancel, on_progress=progress,
                                    on_step=lambda s: self.post_message(
                                        FinishStepChanged(copy.copy(s))))
        except BringupError as exc:
            self.post_message(FinishEnded(bringup.finish_result, _report(bringup, sheet, folder,
                                                                         exc), str(exc)))
            raise
        self.post_message(FinishEnded(result, _report(bringup, sheet, folder)))

    # --- answers ----------------------------------------------------------------------
    def on_finish_step_changed(self, message: FinishStepChanged) -> None:
        step = message.step
        if step.status == "running" and not step.message:     # keep saying what it does
            step.message = next((x.message for x in self.steps if x.key == step.key), "")
        self.steps = [step if x.key == step.key else x for x in self.steps]
        self._fill(self.steps)              # the rows' heights follow their new words
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(step.key))
        if step.status == "running":
            self.say(f"{step.title}: at work...")
            self.query_one(AsciiBar).progress = 0.0
            self.query_one("#site-progress", Static).update("")
        elif step.status == "failed":
            self.say(f"{step.title}: {step.message}", "error")

    def on_finish_progressed(self, message: FinishProgressed) -> None:
        from hwprobe.procedure.finish.run import progress_line

        p = message.progress
        now = time.monotonic()
        started = self._started.setdefault(p.what, (now, p.done))
        rate = ((p.done - started[1]) / (now - started[0])
                if p.unit == "bytes" and now > started[0] else None)
        self.waiting_restart = p.unit == "seconds"
        self.query_one(AsciiBar).progress = p.done / p.total if p.total else 0.0
        self.query_one("#site-progress", Static).update(
            to_ascii(f"{p.what}: {progress_line(p, rate)}"))

    def on_finish_ended(self, message: FinishEnded) -> None:
        self.running = self.waiting_restart = False
        if self.quit_after:     # stopped as asked: the report is written, now leave
            self.app.action_quit_console()
            return
        result = message.result
        if message.note:
            return                      # worker_failed says why, next
        self.finished = True
        self.query_one("#site-progress", Static).update("")
        if result is not None and result.ok:
            self.query_one(AsciiBar).progress = 1.0
            self.say("The site is finished. Enter: done.", "success")
        else:
            self.say("Not every finish step was done: see the rows (Space). Enter: done.",
                     "error")

    def worker_failed(self, group: str, text: str) -> None:
        self.running = self.waiting_restart = False
        super().worker_failed(group, text + " - Enter tries again; nothing is sent twice.")

    def stop_note(self) -> str:
        """What the Quit question adds while the finish is at work."""
        if self.waiting_restart:
            return ("The appliance is restarting. Quitting now is safe: the run can be "
                    "resumed - the next start offers to continue and comes back to this step.")
        return ""

    def on_unmount(self) -> None:
        self.cancel.set()


def _report(bringup, sheet: str | None, kit: str, error: BaseException | None = None):
    try:
        return bringup.write_report(sheet=sheet, error=error, kit=kit)
    except OSError:
        return None


class FinishDetail(ChangeDetail):
    """The Restore step's detail pane, showing a finish step whole."""

    def show(self) -> None:
        self.query_one("#detail-body", Static).update(self.restore.detail_text(self.index))
        self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)

    def on_mount(self) -> None:
        self.query_one("#detail-keys", Static).update("Up/Down rows  PgUp/PgDn scroll  Esc close")
        super().on_mount()
