"""Step 7: what was done, where the report is, the laptop port given back,
what the technician does next, and each setting as read back off the
appliance, in the words of the Restore rows (``hwprobe.settings.wording``)."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from hwprobe.settings import wording
from hwprobe.settings.areas import AREAS
from hwprobe.procedure.report import next_steps
from hwprobe.safetext import shown

from ..messages import PortGivenBack
from ..profile import to_ascii
from .base import StepScreen, clear_progress


class DoneScreen(StepScreen):
    """The headline is the run's outcome (hwprobe/procedure/outcome.py), as
    the report's first line and ``apply``'s last line say it: only a run
    that applied and read back every change says the cables may move."""

    STEP = "done"
    _verify_offered: bool | None = None
    CSS_PATH = "done.tcss"
    HINT = "The appliance is on its production settings. What is left is yours:"
    BINDINGS = [
        Binding("enter", "finish", "Finish", id="finish", key_display="Enter", priority=True),
        Binding("v", "verify", "Verify after the cables move", id="verify"),
    ]

    def compose(self) -> ComposeResult:
        bringup = self.session.bringup
        if bringup is not None:
            bringup.kit = bringup.kit or self.session.kit_folder
        # nothing applied and no finish (the appliance already matched the
        # sheet): no outcome to tell; with a finish, its steps are told
        ran = bringup is not None and (bringup.run_result is not None
                                       or bringup.finish_result is not None)
        self.outcome = bringup.outcome() if ran else None
        if self.outcome is not None:        # the headline follows the result
            self.HINT = shown(self.outcome.headline)
        yield from super().compose()

    def compose_body(self) -> ComposeResult:
        s = self.session
        result = s.result
        lines = []
        if self.outcome is not None:
            # its advice is the first of the next steps, below
            lines += [shown(line) for line in self.outcome.lines()[1:]
                      if line not in self.outcome.advice]
        if result is not None:
            web = [x.title for x in result.steps if x.status == "skipped"
                   and "web interface" in (x.message or "")]
            if web:
                lines.append("Set on the web interface when it answers (the local console "
                             "cannot): " + "; ".join(shown(t) for t in web))
        device = getattr(s.driver, "device", None) if getattr(s.driver, "kind", "") == "console" \
            else None
        lines.append(f"Appliance: {s.address or '-'}"
                     + (f" over the local console {device}" if device else "")
                     + ((f" (password changed as {s.username})" if s.password_changed
                         else f" (logged in as {s.username})") if s.password else ""))
        finish = s.bringup.finish_result if s.bringup is not None else None
        if finish is not None:
            # a step not done is told by the outcome's lines above: once
            told = self.outcome is not None and not self.outcome.ready
            lines += [to_ascii(shown(f"Finish: {step.title}: {step.status} - {step.message}"))
                      for step in finish.steps if not (told and step.undone)]
        if s.report:
            lines.append(f"Report: {s.report[0]}")
        if not self.can_verify():
            lines.append("Verify (v) needs a production network to reach the restored "
                         "services: this demo has none (`bringup demo --production` adds one).")
        todo = next_steps(self.outcome, None if finish is None else {"steps": finish.to_json()})
        steps = ["Next steps:"] + [f" {i}. {shown(text)}" for i, text in enumerate(todo, 1)]
        with VerticalScroll(classes="body"):
            yield Static("\n".join(lines), id="summary", markup=False)
            yield Static("", id="port", markup=False)
            yield Static("\n".join(steps), id="next-steps", markup=False)
            yield Static(self._read_back(result), id="read-back", markup=False)

    @staticmethod
    def _read_back(result) -> str:
        """Each step as the Restore rows said it, marked as the report marks it,
        with what the appliance holds when that is not what the sheet asked."""
        held = result.state_after if result is not None else None
        if held is None:
            return ""
        lines = ["Read back from the appliance:"]
        for step in result.steps:
            now = AREAS[step.area].present(held, step.key)
            lines.append(" " + to_ascii(shown(wording.step_line(step, now))))
        return "\n".join(lines)

    def on_mount(self) -> None:
        clear_progress()
        if getattr(self.session.driver, "kind", "") == "console":
            self.log_out_of_console(self.session.bringup)
        port = self.query_one("#port", Static)
        if self.session.takeover is not None:
            port.update(f"Giving {self.session.takeover.iface} back...")
            self.app.action_give_back()
        else:
            port.update("Laptop port: given back." if self.session.iface else "")

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-logout")
    def log_out_of_console(self, bringup) -> None:
        """Log out of the appliance's local console: nobody finds it logged in."""
        if bringup.driver is not None:
            bringup.driver.on_bytes = None
        bringup.close_driver()

    def port_given_back(self, message: PortGivenBack) -> None:
        self.query_one("#port", Static).update(
            f"Laptop port {message.iface} given back as it was. You can unplug it.")
        if self.outcome is None or self.outcome.ready:
            self.say("Done. Enter leaves bringup.", "success")
        else:
            self.say("Not finished: see above. Enter leaves bringup.", "error")

    def can_verify(self) -> bool:
        """Verify is offered where there is a production network: always in
        the field, in a demo only when its lab has one (asked of the lab once:
        the footer asks again at every refresh)."""
        if self._verify_offered is None:
            extras = self.app.options.extras
            self._verify_offered = extras is None or bool(extras.production)
        return self._verify_offered

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "verify":       # after the cables move: only once a run says READY
            return self.can_verify() and (self.outcome is None or self.outcome.ready)
        return super().check_action(action, parameters)

    def action_verify(self) -> None:
        """Once the cables have moved: the appliance tests each restored service."""
        from .verify import VerifyScreen

        self.app.push_screen(VerifyScreen())

    def action_finish(self) -> None:
        self.app.action_quit_console()
