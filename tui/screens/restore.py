"""Step 6: the diff (appliance now vs the sheet), then apply with read-back.

Each step is ticked only after the engine has read the value back off the
appliance and found it equal to the sheet. Over the local console (when the
web interface does not answer) the same engine runs; what the console cannot
set (routes, NTP, syslog, SMTP) is shown as skipped, to be set on the web
interface, and ^t shows the console's transcript.

Each row says its whole change (``hwprobe.settings.wording``: the words the report,
``apply`` and the Done screen use); after the run a Read back column says what
the appliance holds now. Space opens the selected row's every field, before,
after and read back (``change_detail.py``); Enter stays "apply", as the hint
says, so a technician reading a row never sends the changes by accident.

The preview and the run are the bring-up session's (``BringupSession.preview``
and ``run``), as in ``bringup apply``: the sheet checked against the
appliance's firmware before the table is shown, the same wire checks (an
address just added must answer ARP from its NIC's MAC on the laptop port),
the run journal of this appliance (its address and MAC), and a report
written for every run that ends, saying where it stopped when it did not
finish.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import replace

from rich.text import Text

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from hwprobe.procedure import passwords
from hwprobe.settings import wording
from hwprobe.settings.areas import AREAS
from hwprobe.safetext import shown

from ..messages import PlanReady, RunFinished, StepUpdated
from ..profile import to_ascii
from ..widgets.bars import AsciiBar
from ..widgets.fields import SecretField
from ..widgets.serial_pane import SerialFeed, SerialPane
from .base import StepScreen, StopsAfterStep

# the report's marks ([x] [=] [!] [-]), short so the changes keep the width
STATUS = {
    "pending": "[ ] to do",
    "applying": "[>] sending",
    "verified": "[x] read back",
    "unchanged": "[=] as it is",
    "failed": "[!] FAILED",
    "skipped": "[-] skipped",
    "web only": "[-] web only",
}
STATUS_WIDTH = max(len(x) for x in STATUS.values())


def _text(words: str) -> Text:
    return Text(to_ascii(shown(words)))


def _lines(words: str | None) -> str | None:
    """Appliance text shown as sent, line by line (a list field's entries)."""
    return None if words is None else "\n".join(to_ascii(shown(x)) for x in words.split("\n"))


UNREAD = "Nothing can be applied: why is said above. r reads the appliance again."


class RestoreScreen(StopsAfterStep, StepScreen):
    STEP = "restore"
    CSS_PATH = "restore.tcss"
    HINT = ("What the appliance holds now against the sheet. Enter applies the "
            "differences; each is ticked only after it is read back. Space: a row whole.")
    BINDINGS = [
        Binding("enter", "apply", "Apply", id="apply", key_display="Enter", priority=True),
        Binding("space", "detail", "Details", id="detail", key_display="Space"),
        Binding("r", "reread", "Read again", id="reread"),
    ]
    # Ctrl-C: the step in flight ends (sent and read back), the rest is left
    WORK = "Applying"
    STOPPING = ("Stopping after the step in flight; the rest is left for the next run, "
                "which resumes...")

    def compose_body(self) -> ComposeResult:
        self.plan = None
        self.running = False
        self.stopping = False                 # asked to stop after the step in flight
        self.quit_after = False               # ...and then to leave the console
        self.cancel = threading.Event()
        self.finished = False
        self.warned_smtp = False
        self.stopped_report: tuple | None = None    # the report of a run that ended early
        self.unread: str | None = None        # why the preview could not be made
        self.steps: list = []                 # the rows, in order, with their latest status
        self.held = None                      # the appliance as read back after the run
        settings = self.session.settings
        self.needs_smtp_password = bool(settings is not None
                                        and passwords.needs_smtp_password(settings)
                                        and "smtp" in self.capabilities
                                        and not passwords.smtp_password_given())
        with Horizontal(classes="row", id="smtp-row"):
            yield Label("SMTP password", classes="label")
            yield SecretField("", id="smtp-password",
                              placeholder="for the e-mail relay (Enter to skip)")
        table = DataTable(id="steps", cursor_type="row")
        self._columns(table)
        yield table
        yield AsciiBar(id="overall")
        yield Static("", id="extras", markup=False)
        if self.via_console:
            feed = self.session.driver.on_bytes
            if not isinstance(feed, SerialFeed):
                feed = self.session.driver.on_bytes = SerialFeed()
            yield SerialPane(feed)

    def _columns(self, table: DataTable, read_back: bool = False) -> None:
        """The change, whole: it wraps rather than being cut, and wider terminals
        give it their width; after the run it shares it with the read back."""
        columns = 3 if read_back else 2
        room = max(40, self.app.size.width - 2 - 2 - 2 * columns - STATUS_WIDTH)
        change = room * 11 // 20 if read_back else room
        table.add_column("Change: now -> from the sheet", key="title", width=change)
        if read_back:
            table.add_column("Read back", key="held", width=room - change)
        table.add_column("Status", width=STATUS_WIDTH, key="status")

    def _status(self, step) -> str:
        if step.status in ("pending", "skipped") and step.area not in self.capabilities:
            return STATUS["web only"] if step.changed else STATUS["unchanged"]
        if step.status == "pending" and not step.changed:
            return STATUS["unchanged"]
        return STATUS.get(step.status, step.status)

    def _fill(self, steps, held=None) -> None:
        """(Re)build the table: one row per step, the read back column when
        ``held`` (the appliance after the run) is given."""
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        self._columns(table, read_back=held is not None)
        self.steps, self.held = list(steps), held
        for step in self.steps:
            cells = [_text(wording.step_change(step))]
            if held is not None:
                cells.append(_text(self._held(step)))
            table.add_row(*cells, Text(self._status(step)), key=step.key, height=None)
        if self.steps:
            table.move_cursor(row=min(cursor, len(self.steps) - 1))

    def _held(self, step) -> str:
        """What the appliance holds for ``step`` as read back after the run; the
        local console shows no syslog or e-mail: what it cannot set is not read."""
        if step.area not in self.capabilities:
            return "not read: web only"
        return wording.read_back(step, AREAS[step.area].present(self.held, step.key))

    def on_resize(self, event) -> None:
        if self.steps:                    # the columns follow the terminal's new width
            self._fill(self.steps, self.held)

    def detail_of(self, index: int) -> tuple[str, list]:
        """Row ``index``'s heading (area, where, status) and every field (the
        detail pane)."""
        step = self.steps[index]
        area = AREAS[step.area]
        if self.held is None:
            rows = wording.detail(step)
        elif step.area not in self.capabilities:
            rows = [replace(r, read_back="not read: web only") for r in wording.detail(step, None)]
        else:
            rows = wording.detail(step, area.present(self.held, step.key))
        safe = [type(r)(*(_lines(x) for x in (r.label, r.now, r.sheet, r.read_back)))
                for r in rows]
        heading = (f"{area.label} ({index + 1} of {len(self.steps)}): {self._status(step)}\n"
                   f"Page: {area.page}")
        return heading, safe

    def move_to(self, index: int) -> int:
        """Put the table's cursor on row ``index`` (kept in range); returns it."""
        index = max(0, min(index, len(self.steps) - 1))
        self.query_one(DataTable).move_cursor(row=index)
        return index

    def action_detail(self) -> None:
        """Every field of the selected row, before, after and read back."""
        if not self.steps:
            self.say("Still reading the appliance...")
            return
        from .change_detail import ChangeDetail

        self.app.push_screen(ChangeDetail(self, self.query_one(DataTable).cursor_row))

    @property
    def capabilities(self) -> frozenset[str]:
        """What the logged-in driver can set (the console: the basics only)."""
        from hwprobe.appliance.base import ALL_CAPABILITIES

        return getattr(self.session.driver, "capabilities", ALL_CAPABILITIES)

    @property
    def via_console(self) -> bool:
        return getattr(self.session.driver, "kind", "web") == "console"

    def _web_only(self, steps) -> list[str]:
        return [step.title for step in steps if step.changed
                and step.area not in self.capabilities]

    def on_mount(self) -> None:
        self.query_one("#smtp-row").display = self.needs_smtp_password
        self.query_one("#smtp-password" if self.needs_smtp_password else "#steps").focus()
        self.read_plan(self.session.bringup, self.session.settings)

    def smtp_password(self) -> str | None:
        if not self.needs_smtp_password:
            return passwords.smtp_password_given()
        return self.query_one("#smtp-password", SecretField).value or None

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan")
    def read_plan(self, bringup, settings) -> None:
        # the run's own preview: the sheet checked against the firmware too
        state, plan = bringup.preview(settings, smtp_password_given=self.needs_smtp_password)
        self.post_message(PlanReady(state, plan))

    def on_plan_ready(self, message: PlanReady) -> None:
        self.plan = message.plan
        self._fill(self.plan.steps)
        changes = len(self.plan.changes)
        self._show_extras()
        if changes:
            web = len(self._web_only(self.plan.steps))
            via = (f" over the local console ({web} only on the web interface)"
                   if self.via_console else "")
            self.say(f"{changes} of {len(self.plan.steps)} settings differ. Enter applies them{via}.")
        else:
            self.finished = True
            then = "the Site step" if self.session.kit_folder else "done"
            self.say(f"The appliance already matches the sheet. Enter: {then}.", "success")

    def _show_extras(self) -> None:
        lines = []
        if self.plan.extras:        # the appliance's own text: escaped, never dropped
            lines.append("Left alone (not in the sheet): "
                         + ", ".join(to_ascii(shown(x)) for x in self.plan.extras))
        web = self._web_only(self.plan.steps)
        if web:
            lines.append("Not possible over the local console - set it on the web interface "
                         "when it answers: " + "; ".join(to_ascii(shown(x)) for x in web))
        self.query_one("#extras", Static).update("\n".join(lines))

    def action_apply(self) -> None:
        if self.running:
            return
        if self.finished:
            self.app.goto(self.session.after_restore())
            return
        if self.plan is None:
            if self.unread:         # the preview failed: say so again, not "still reading"
                self.say(UNREAD, "error")
            else:
                self.say("Still reading the appliance...")
            return
        if self.needs_smtp_password and not self.smtp_password() and not self.warned_smtp:
            self.warned_smtp = True
            self.query_one("#smtp-password").focus()
            self.say("The sheet's e-mail relay needs its password: type it, or Enter "
                     "again to leave SMTP undone.", "warning")
            return
        self.running = True
        self.stopping = False
        self.cancel = threading.Event()
        self.refresh_bindings()
        # the password is taken; from here keys (Space: details) go to the table
        self.query_one("#steps").focus()
        self.say("Applying; every value is read back before it is ticked...")
        self.apply(self.session.bringup, self.session.settings, self.session.sheet_path,
                   self.smtp_password(), self.session.kit_folder, self.cancel)

    def action_reread(self) -> None:
        if not self.running:
            self.finished = False
            self.unread = None
            self.read_plan(self.session.bringup, self.session.settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group="apply")
    def apply(self, bringup, settings, sheet: str | None, smtp_password: str | None,
              kit: str | None = None, cancel: threading.Event | None = None) -> None:
        from hwprobe.errors import BringupError

        try:
            result = bringup.run(settings, smtp_password=smtp_password, cancel=cancel,
                                 on_step=lambda step: self.post_message(StepUpdated(copy.copy(step))))
        except BringupError as exc:
            # the run ended early: its report says where it stopped, then the
            # error is shown as every worker's is
            self.post_message(RunFinished(bringup.run_result, self._report(bringup, sheet, exc),
                                          note=str(exc)))
            raise
        # with a kit the Site step goes on and writes the run's one report;
        # a run that did not all land, or was stopped, goes no further: now
        landed = result.ok and not result.stopped and not any(
            x.status in ("failed", "skipped") for x in result.steps)
        report = None if kit and landed else bringup.write_report(sheet=sheet, kit=kit)
        self.post_message(RunFinished(result, report))

    @staticmethod
    def _report(bringup, sheet: str | None, error: BaseException) -> tuple | None:
        try:
            return bringup.write_report(sheet=sheet, error=error)
        except OSError:
            return None

    def on_step_updated(self, message: StepUpdated) -> None:
        step = message.step
        table = self.query_one(DataTable)
        if step.key not in table.rows:
            return
        self.steps = [step if x.key == step.key else x for x in self.steps]
        table.update_cell(step.key, "status", Text(self._status(step)))
        if step.status in ("applying", "failed"):
            table.move_cursor(row=table.get_row_index(step.key))
        if step.status == "failed":
            self.say(f"{step.title}: {step.message}", "error")
        elif step.status == "applying" and self.via_console:
            self.say(f"{step.title}: typing it on the local console (^t shows it)...")
        if self.plan is not None:
            changes = [x.key for x in self.plan.changes]
            for x in self.plan.steps:
                if x.key == step.key:
                    x.status = step.status
            done = sum(1 for x in self.plan.steps if x.key in changes
                       and x.status in ("verified", "failed", "skipped"))
            self.query_one(AsciiBar).progress = done / max(len(changes), 1)

    def on_run_finished(self, message: RunFinished) -> None:
        self.running = False
        if self.quit_after:          # stopped as asked: the report is written, now leave
            self.session.incomplete = [x.title for x in (message.result.steps
                                                         if message.result else [])
                                       if x.status in ("failed", "skipped")]
            self.app.action_quit_console()
            return
        result = message.result
        if result is not None:
            self._show_read_back(result)
            failed = [x.key for x in result.steps if x.status == "failed"]
            table = self.query_one(DataTable)
            if failed and failed[0] in table.rows:    # wrapped rows scroll: show the first
                table.move_cursor(row=table.get_row_index(failed[0]))
        if message.note:                # stopped early: worker_failed shows why, next
            self.stopped_report = message.report
            if result is not None:
                self.session.incomplete = [x.title for x in result.steps
                                           if x.status in ("failed", "skipped")]
            return
        self.finished = True
        self.session.incomplete = [x.title for x in result.steps
                                   if x.status in ("failed", "skipped")]
        applied = len(result.applied)
        changed = len([x for x in result.steps if x.changed])
        web = self._web_only(result.steps)
        if result.ok and web:
            self.say(f"{applied} of {changed} change(s) applied and read back over the local "
                     f"console; {len(web)} left for the web interface. Enter: done.", "warning")
        elif result.ok:
            then = "the Site step" if self.session.kit_folder else "done"
            self.say(f"{applied} of {changed} change(s) applied and read back. Enter: {then}.",
                     "success")
        else:
            failed = [x.title for x in result.steps if x.status == "failed"]
            self.say(f"{len(failed)} step(s) failed: see the table. r re-reads, "
                     "Enter goes on.", "error")

    def _show_read_back(self, result) -> None:
        """Every row gains what the appliance holds now, as read back after the run."""
        if result.state_after is not None:
            self._fill(result.steps, result.state_after)

    def worker_failed(self, group: str, text: str) -> None:
        if group == "plan":
            # why is often longer than the status line's two rows: whole, above it
            self.unread = text
            self.query_one("#extras", Static).update(text)
            text = UNREAD
        elif group == "apply":
            self.running = False
            if self.stopped_report:
                text += f" (report: {self.stopped_report[0]})"
        super().worker_failed(group, text)
