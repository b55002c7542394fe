"""After the cables move: the appliance proves each restored service works.

Offered on the Done screen (v) where there is a production network (in a
demo, only with ``bringup demo --production``: there the simulated
technician's laptop joins it first). Logs in on the production address with the
password of this run, pinned to the certificate the run trusted, and shows
each check as hwprobe.procedure.verify runs it: reached or NOT REACHED, in the
appliance's own words. The verify report is written beside the run's report.
"""
from __future__ import annotations

import ipaddress

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from hwprobe.safetext import shown

from ..messages import VerifyChecked, VerifyFinished
from .base import FramedScreen


class VerifyScreen(FramedScreen):
    HINT = ("Cables on the production switch? This laptop on the production network? "
            "Enter: the appliance tests its DNS, NTP, syslog and e-mail.")
    BINDINGS = [
        Binding("enter", "verify", "Verify", id="verify", key_display="Enter", priority=True),
        Binding("escape", "back", "Back", id="back", key_display="Esc"),
    ]

    def __init__(self):
        super().__init__()
        self.result = None
        self.running = False
        self.lines: list[str] = []

    def frame_title(self) -> str:
        return "Verify: is every restored service reached?"

    def compose_body(self) -> ComposeResult:
        from hwprobe.procedure.verify import production_address

        # a demo's laptop joins the production network on NIC1's segment
        nic = "nic1" if self.app.options.extras is not None else self.session.cable_nic
        address = production_address(self.session.settings, nic)
        yield Input(address, placeholder="production address", id="address")
        with VerticalScroll(classes="body"):
            yield Static("", id="checks", markup=False)

    def action_back(self) -> None:
        if not self.running:
            self.app.pop_screen()

    def action_verify(self) -> None:
        if self.running:
            return
        self.running = True
        self.lines = []
        self.query_one("#checks", Static).update("")
        address = self.query_one("#address", Input).value.strip()
        try:
            ipaddress.IPv4Address(address)
        except ValueError:          # nothing sent: say what the field needs
            self.running = False
            self.say(f"Address: {shown(address) or 'empty'} is not an IPv4 address: type the "
                     "appliance's production address, then Enter.", "error")
            self.query_one("#address", Input).focus()
            return
        self.say(f"Logging in on {address} and testing each service...")
        self.run_verify(address)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def run_verify(self, address: str) -> None:
        """Log in on ``address`` (through a bring-up session, as ``bringup
        verify`` does) and run every check; each result is posted as it comes."""
        from hwprobe.procedure.session import BringupSession, Target
        from hwprobe.procedure.verify import VerifyResult, add_to_run_report, to_text, verify, write_report

        s = self.session
        extras = self.app.options.extras
        if extras is not None:
            # a demo: the simulated technician moves the laptop to production
            joined = extras.join_production()
            self.post_message(VerifyChecked(f"Demo lab: the laptop joined the production "
                                            f"network as {joined}."))
        with BringupSession(Target(address=address, user=s.username,
                                   handle_signals=False)) as production:
            # pinned to the certificate this run trusted: the session keeps
            # the pin per address and the MAC the probe saw (or the one the
            # finish made the default since)
            production.responder = s.responder
            production.expected_fingerprint = (s.bringup.expected_fingerprint
                                               if s.bringup is not None else None)
            production.login(s.password or "")
            result = verify(production.driver, s.settings, address, mac=production.mac_seen,
                            fingerprint=production.fingerprint, on_check=lambda c:
                            self.post_message(VerifyChecked(to_text(VerifyResult("", [c]))[0])))
        md, _ = write_report(result, sheet=s.sheet_path, secrets=[s.password or ""])
        add_to_run_report(result, run_report=s.report[0] if s.report else None,
                          secrets=[s.password or ""])
        self.post_message(VerifyFinished(result, str(md)))

    def on_verify_checked(self, message: VerifyChecked) -> None:
        self.lines.append(message.line)
        self.query_one("#checks", Static).update("\n".join(self.lines))

    def on_verify_finished(self, message: VerifyFinished) -> None:
        self.running = False
        self.result = result = message.result
        missed = result.not_reached
        if result.ok:
            self.say(f"Every service reached. Report: {message.report}", "success")
        else:
            self.say(f"{len(missed)} NOT reached: "
                     + ", ".join(f"{c.service} {c.target}" for c in missed), "error")

    def worker_failed(self, group: str, text: str) -> None:
        self.running = False
        self.say(text, "error")
