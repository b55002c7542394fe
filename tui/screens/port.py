"""Step 2: which laptop port goes to the appliance; take it over.

Taking it over starts the run's bring-up session (``hwprobe.procedure.session``), the
one ``bringup apply`` uses: its journal and port lock, and from here on its
probe, driver, login, run and report. Whatever happens later, the app gives
the port back through it.
"""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from hwprobe.port import interfaces, recovery
from hwprobe.errors import PortRefused

from ..messages import PortGivenBack, PortNotTaken, PortsListed, PortTaken
from ..widgets.safe import cell
from .base import StepScreen


class PortScreen(StepScreen):
    STEP = "port"
    CSS_PATH = "port.tcss"
    HINT = ("Plug the laptop's Ethernet port into the appliance's NIC1 (the first "
            "port). Pick that laptop port below; Enter takes it over.")
    BINDINGS = [
        Binding("enter", "take", "Take over", id="take", key_display="Enter", priority=True),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("ctrl+f", "force", "Take anyway", id="force", key_display="^f"),
    ]

    def compose_body(self) -> ComposeResult:
        table = DataTable(id="ports", cursor_type="row", zebra_stripes=False)
        table.add_columns("Port", "Cable", "Addresses", "Note")
        yield table
        yield Static("", id="warning", markup=False)
        self.ports: list = []
        self.refused: str | None = None

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        if self.session.takeover is not None:
            self.say(f"Giving {self.session.takeover.iface} back before choosing again...")
            self.app.action_give_back()
        else:
            self.list_ports()

    def port_given_back(self, message: PortGivenBack) -> None:
        self.say(f"{message.iface} given back.")
        self.list_ports()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ports")
    def list_ports(self) -> None:
        notes: list[str] = []
        try:  # a run that died left a port taken over: put it back first
            recovery.restore_from_journal(on_note=notes.append)
        except Exception as exc:  # noqa: BLE001 - listing must still work
            notes.append(f"could not check the journal: {exc}")
        ports = interfaces.list_ports()
        self.post_message(PortsListed(ports))
        for note in notes:
            self.app.call_from_thread(self.app.notify, note)

    def on_ports_listed(self, message: PortsListed) -> None:
        self.ports = message.ports
        table = self.query_one(DataTable)
        table.clear()
        want = self.app.options.iface
        for port in self.ports:
            note = []
            if port.default_route:
                note.append("DEFAULT ROUTE")
            if port.global_address:
                note.append("network address")
            if port.kind == "wireless":
                note.append("wireless")
            v4 = [a for a in port.addresses if ":" not in a]
            v6 = len(port.addresses) - len(v4)
            shown = ", ".join(v4) + (f" +{v6} IPv6" if v6 else "")
            table.add_row(cell(port.name), "yes" if port.carrier else "no", cell(shown.strip(" ,") or "-"),
                          "DEFAULT ROUTE" if port.default_route else
                          ", ".join(note) or "", key=port.name)
        if not self.ports:
            self.say("No Ethernet port found: plug in a USB Ethernet adapter, then r.", "warning")
            return
        names = [p.name for p in self.ports]
        if want in names:
            table.move_cursor(row=names.index(want))
        else:
            best = [i for i, p in enumerate(self.ports) if not p.warnings() and p.carrier]
            table.move_cursor(row=best[0] if best else 0)
        if want and want not in names:
            # the port asked for on the command line is not here: say so, never
            # pick another in its place without a word
            self.say(f"--iface {want}: no such Ethernet port on this laptop (ports: "
                     f"{', '.join(names)}). Arrows choose, Enter takes the port over.",
                     "warning")
            return
        self.say(f"{len(self.ports)} port(s). Arrows choose, Enter takes the port over.")
        if self.session.resuming and want in names:
            self.action_take()

    def _current(self):
        table = self.query_one(DataTable)
        if not self.ports or table.cursor_row is None or table.cursor_row >= len(self.ports):
            return None
        return self.ports[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        port = self._current()
        warning = self.query_one("#warning", Static)
        self.refused = None
        self.refresh_bindings()
        if port is None:
            return
        words = port.warnings()
        warning.update("WARNING: " + "; ".join(words) if words else "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_take()

    def action_take(self, force: bool = False) -> None:
        from hwprobe.procedure.session import BringupSession, Target

        port = self._current()
        if port is None:
            return
        self.say(f"Taking over {port.name}: saving its settings, then "
                 f"{self.app.options.laptop_address}/24, no gateway...")
        # the session exists before its worker starts: from now on the app's
        # ways out (quit, a signal, run_app's last word) give the port back
        # through it, even while the takeover is still under way
        bringup = BringupSession(Target(
            iface=port.name, laptop_address=self.app.options.laptop_address,
            force_port=force or self.app.options.force, console_timeout=15.0,
            listen_seconds=self.app.options.listen_seconds,
            handle_signals=False))          # a worker: the app handles the signals
        bringup.kit = self.session.kit_folder      # its outcome and report: the finish too
        self.session.bringup = bringup
        self.take(bringup)

    def action_force(self) -> None:
        self.action_take(force=True)

    def action_refresh(self) -> None:
        self.list_ports()

    def check_action(self, action: str, parameters):
        if action == "force":
            return self.refused is not None
        return super().check_action(action, parameters)

    @work(thread=True, exclusive=True, exit_on_error=False, group="takeover")
    def take(self, bringup) -> None:
        iface = bringup.target.iface
        try:
            takeover = bringup.take_port()
        except PortRefused as exc:
            self.post_message(PortNotTaken(iface, str(exc)))
            return
        self.post_message(PortTaken(iface, takeover.address, list(takeover.heeded)))

    def on_port_not_taken(self, message: PortNotTaken) -> None:
        self.session.bringup = None
        self.refused = message.iface
        self.refresh_bindings()
        self.say(f"{message.iface} refused. ^f takes it over anyway (cuts the laptop off "
                 "that network).", "warning")
        self.query_one("#warning", Static).update(message.text)

    def on_port_taken(self, message: PortTaken) -> None:
        self.session.port_notes = message.notes
        self.app.goto("find")

    def worker_failed(self, group: str, text: str) -> None:
        if group == "takeover":             # nothing is held: the session gave it back
            self.session.bringup = None
        super().worker_failed(group, text)
