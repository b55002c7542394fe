"""Step 3: find the appliance on its factory addresses, live.

The table fills in as answers arrive. When nothing answers, the technician is
told which NIC to move the cable to, and the search starts again by itself as
soon as the cable is back in (carrier returns on the laptop port). In a demo
the screen says how the simulated cable is moved: m, or ^p and "Demo lab:
move the cable to NIC2". Meanwhile the session listens on the cable
("Listening..." and a countdown) and each thing it heard becomes a row:
Enter on a device heard at an address of its own probes it there (the port
moves into its network), Enter again logs in; the other rows say what to do
(a switch, DHCP, IPv6 only).
The search is the bring-up session's (``BringupSession.probe``), the one
``bringup probe`` and ``bringup apply`` use; which answer is offered first,
which NIC to try next, whether to listen and what to say of what was heard
are the procedure's (hwprobe/procedure/finding.py, listening.py).
"""
from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Static

from hwprobe.procedure.finding import best_responder, other_nic

from hwprobe.safetext import nic_name

from ..messages import (CarrierChanged, HeardProbed, LabCableMoved, ListenFinished, ListenTick,
                        ProbeAnswer, ProbeFinished)
from ..widgets.safe import cell, lines
from ..widgets.serial_pane import SerialPane
from .base import StepScreen


def short_fp(fingerprint: str | None, width: int = 23) -> str:
    """The first bytes of a SHA-256 fingerprint, enough to compare by eye."""
    if not fingerprint:
        return "-"
    hexdigits = fingerprint.replace(":", "").upper()
    pairs = [hexdigits[i:i + 2] for i in range(0, len(hexdigits), 2)]
    text = ":".join(pairs)
    return text if len(text) <= width else text[:width - 3] + "..."


# what a heard row shows in the table's last column (the whole sentence is in
# the advice below the table while the row is highlighted)
HEARD_CELL = {"ipv4": "heard: Enter probes", "switch": "a switch, not it",
              "dhcp": "asks for DHCP", "ipv6": "IPv6 only", "other": "no address heard"}


class FindScreen(StepScreen):
    STEP = "find"
    CSS_PATH = "find.tcss"
    HINT = "Looking for the appliance on its factory addresses..."
    HELP = """\
## Find the appliance

bringup asks the factory addresses 169.254.1.1-.4 by ARP on the laptop port,
then HTTPS on whoever answers. **Enter** logs in to the highlighted answer.

**Nothing answers.** Move the cable to the other NIC: the search starts again
by itself when the cable is back in (**^r** searches again now). Meanwhile
bringup listens on the cable (*Listening...*, a few seconds) and lists what
it heard, one row each; the line under the table says more of the row:

- **A device at an address of its own** (203.0.113.40/24): most likely an
  appliance holding an earlier site's address. **Enter** probes it there (the
  laptop port takes a free address next to it), **Enter** again logs in.
- **A switch** (LLDP or CDP: its name and port): the cable is in a switch
  port, not the appliance. Patch the laptop straight into NIC1.
- **DHCP discovers**: the appliance is set to DHCP and nothing gives it an
  address. Set its address over the local console (**^o**).
- **IPv6 link-local only**: the device is up with no IPv4 address.
- **Nothing speaks on this cable**: the appliance may still be booting. Wait,
  then **^r**; or try the other NIC.
- **No carrier**: the cable is out or dead: check both ends and the link
  lights. Nothing is listened for.

What the search and the listen saw is kept as a capture (pcap) in the state
directory for Support; the report names it. (**?** shows this help.)
"""
    BINDINGS = [
        Binding("enter", "next", "Log in", id="next", key_display="Enter", priority=True),
        Binding("ctrl+r,r", "probe_again", "Search again", id="probe-again", key_display="^r"),
        Binding("ctrl+o", "use_console", "Local console", id="use-console", key_display="^o"),
        # a demo only: what a technician does by hand in the field
        Binding("m", "move_cable", "Move cable", id="demo-move-cable"),
        Binding("question_mark,f1", "help", "Help: what the rows mean", id="find-help",
                key_display="?", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        table = DataTable(id="answers", cursor_type="row")
        table.add_columns("Address", "MAC", "RTT", "HTTPS", "Certificate SHA-256")
        yield table
        # what the takeover did that the technician should know (an address
        # moved aside, a DHCP client stopped, another port on this network)
        notes = "\n".join(f"Port: {n}" for n in self.session.port_notes)
        yield Static(notes, id="port-notes", markup=False).set_class(not notes, "-empty")
        yield Static("", id="advice", markup=False)
        yield SerialPane()

    def on_mount(self) -> None:
        self.responders: dict[str, object] = {}     # row key -> the answer on that row
        self.heard: dict[str, object] = {}          # row key -> a thing heard on the cable
        self._cancel = threading.Event()
        self._watcher = None
        self._probing = False
        self.listening = False
        self._advice = self._capture = ""
        self.no_https = False           # a search ended with no HTTPS: offer the console
        table = self.query_one(DataTable)
        for address in self.app.options.addresses:
            table.add_row(cell(address), "", "", "", "waiting", key=address)
        table.focus()
        self.start_probe()

    def on_unmount(self) -> None:
        self._cancel.set()
        self._stop_watcher()

    # --- probing -------------------------------------------------------------------
    def start_probe(self) -> None:
        nic = nic_name(self.session.cable_nic)
        self.query_one("#hint", Static).update(
            f"Cable in the appliance's {nic}. Asking "
            f"{self.app.options.addresses[0]}-{self.app.options.addresses[-1].split('.')[-1]} "
            f"(ARP, then HTTPS)..."
        )
        self.advise("")
        self.responders.clear()
        table = self.query_one(DataTable)
        for key in self.heard:          # what was heard may be gone: listened to again
            table.remove_row(key)
        self.heard.clear()
        self.listening = False
        for address in self.app.options.addresses:
            for col, value in enumerate(("", "", "", "asking...")):
                table.update_cell_at((table.get_row_index(address), col + 1), value)
        self._cancel.set()
        self._cancel = threading.Event()
        self._probing = True
        self.say(f"Searching through {nic_name(self.session.cable_nic)}...")
        self.probe(self.session.bringup, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe")
    def probe(self, bringup, cancel: threading.Event) -> None:
        result = bringup.probe(tuple(self.app.options.addresses),
                               timeout=self.app.options.probe_timeout,
                               on_answer=lambda r: self.post_message(ProbeAnswer(r)),
                               check_https=True, cancel=cancel)
        if not cancel.is_set():
            self.post_message(ProbeFinished(result))

    def on_probe_answer(self, message: ProbeAnswer) -> None:
        from hwprobe.port.probe import rtt_words      # the probe already imported it

        r = message.responder
        self.responders[r.address] = r
        table = self.query_one(DataTable)
        if r.address not in table.rows:
            table.add_row(cell(r.address), "", "", "", "", key=r.address)
        row = table.get_row_index(r.address)
        https = {True: "yes", False: "no", None: "..."}.get(getattr(r, "https_ok", None), "?")
        conflict = " CONFLICT" if getattr(r, "conflict_macs", None) else ""
        values = (r.mac + conflict, rtt_words(r.rtt_ms),
                  https, short_fp(getattr(r, "fingerprint_sha256", None)))
        for col, value in enumerate(values):
            table.update_cell_at((row, col + 1), cell(value), update_width=True)
        table.move_cursor(row=row)

    def on_probe_finished(self, message: ProbeFinished) -> None:
        self._probing = False
        self.no_https = not any(getattr(r, "https_ok", False) for r in message.result.responders)
        self.refresh_bindings()
        table = self.query_one(DataTable)
        for r in message.result.responders:
            if r.address not in self.responders:
                self.on_probe_answer(ProbeAnswer(r))
        for address in self.app.options.addresses:
            if address not in self.responders:
                table.update_cell_at((table.get_row_index(address), 4), "no answer",
                                     update_width=True)
        found = list(self.responders.values())
        if not found:
            self._nothing_answered()
            return
        self._stop_watcher()
        best = best_responder(found)
        table.move_cursor(row=table.get_row_index(best.address))
        if len(found) > 1:
            self.say(f"{len(found)} addresses answered: pick one, Enter logs in.", "warning")
        elif getattr(best, "https_ok", False):
            # which NIC the cable is in is known only once the appliance's
            # NICs are read (after logging in): the MAC is what is known now
            self.say(f"Found the appliance at {best.address} (MAC {best.mac}). "
                     "Enter: log in.", "success")
        elif self._restarting(best):
            self.say(f"{best.address} is restarting after installing its site software (a "
                     "run that stopped): Enter waits for it, then logs in.", "warning")
        else:
            self.say(f"{best.address} answers ARP but not HTTPS (still booting?). r searches "
                     "again; ^o sets the basics over the local console.", "warning")
        if getattr(best, "conflict_macs", None):
            self.query_one("#advice", Static).update(
                f"Two devices answer for {best.address}: is another appliance on this cable?")

    def _nothing_answered(self) -> None:
        tried = self.session.cable_nic
        other = other_nic(tried)
        self.session.cable_nic = other
        demo = ""
        if self.app.options.extras is not None:
            # nobody stands at a simulated appliance: say how the demo moves it
            demo = (f"\nDemo lab: press m to move the cable to {other.upper()} (or ^p, then "
                    f"'Demo lab: move the cable to {other.upper()}').")
        self.advise(
            f"Nothing answered through {tried.upper()}.\n"
            f"Move the cable on the appliance from {tried.upper()} to {other.upper()} "
            f"(the other port). The search starts again by itself when the cable is back in."
            + demo
        )
        self.say(f"Waiting for the cable in {other.upper()}... ("
                 + ("m: move it; " if demo else "") + "^r: search now; ^o: use the "
                 "local console)", "warning")
        self.watch_cable()
        self.listening = True
        self.listen(self.session.bringup, self._cancel)

    # --- listening on the cable (the session decides; this only shows) ---------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="listen")
    def listen(self, bringup, cancel: threading.Event) -> None:
        from hwprobe.procedure.listening import advice

        listened = bringup.after_silence(
            on_tick=lambda left: self.post_message(ListenTick(left)), cancel=cancel, say=False)
        if cancel.is_set():
            return
        said = advice(listened, bringup.target.iface,
                      reach=lambda h: f"Enter on the row of {h.address} probes it there",
                      other_nic=self.session.cable_nic.upper(), again="search again (^r)")
        self.post_message(ListenFinished(listened, said, bringup.capture))

    def on_listen_tick(self, message: ListenTick) -> None:
        if self.listening and not self._probing:
            self.query_one("#hint", Static).update(
                f"Listening... {message.seconds_left:.0f} s: what is on this cable? "
                f"(move the cable, or ^r, to search again)")

    def on_listen_finished(self, message: ListenFinished) -> None:
        if not self.listening:
            return
        self.listening = False
        listened = message.listened
        table = self.query_one(DataTable)
        for n, heard in enumerate(listened.heard if listened is not None else []):
            key = f"heard:{n}"
            self.heard[key] = heard
            table.add_row(cell(heard.address or "-"), cell(heard.mac), "-", "-",
                          cell(HEARD_CELL.get(heard.kind, heard.kind)), key=key)
        self._capture = (f"Capture for Support: {message.capture}" if message.capture
                         else "")
        said = [*(listened.words() if listened is not None else []), *message.advice,
                self._capture]
        self.query_one("#hint", Static).update(
            "What is on this cable (? says what each row means):"
            if listened is not None and listened.carrier else "Nothing answered.")
        self.advise("\n".join(x for x in said if x))
        reachable = [k for k, h in self.heard.items() if getattr(h, "reachable", False)]
        if self.heard:              # the first row heard, the one to act on first
            table.move_cursor(row=table.get_row_index(reachable[0] if reachable
                                                      else next(iter(self.heard))))
        if reachable:
            self.say("A device was heard at an address of its own: Enter probes it there.",
                     "warning")
        elif message.advice:
            self.say(message.advice[0][:1].upper() + message.advice[0][1:] + ".", "warning")

    def advise(self, text: str) -> None:
        """The advice under the table (a heard row, while highlighted, shows its own)."""
        self._advice = text
        self.query_one("#advice", Static).update(lines(text))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._row_advice(str(event.row_key.value) if event.row_key is not None else "")

    def _row_advice(self, key: str) -> None:
        from hwprobe.procedure.listening import next_step

        heard = self.heard.get(key)
        text = self._advice
        if heard is not None:
            then = next_step(heard, lambda h: "Enter: log in." if key in self.responders
                             else "Enter: probe it at this address.")
            text = "\n".join(x for x in (heard.words(), then, self._capture) if x)
        self.query_one("#advice", Static).update(lines(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe")
    def probe_heard(self, bringup, key: str, address: str, prefix: int | None,
                    cancel: threading.Event) -> None:
        bringup.reach(address, prefix)
        result = bringup.probe((address,), timeout=self.app.options.probe_timeout,
                               check_https=True, cancel=cancel)
        if not cancel.is_set():
            self.post_message(HeardProbed(key, result))

    def on_heard_probed(self, message: HeardProbed) -> None:
        from hwprobe.port.probe import rtt_words

        self._probing = False
        key = message.address
        table = self.query_one(DataTable)
        if key not in table.rows:
            return
        row = table.get_row_index(key)
        heard = self.heard.get(key)
        if not message.result.responders:
            table.update_cell_at((row, 4), "no answer", update_width=True)
            self.say(f"{heard.address} did not answer from the laptop's new address.",
                     "warning")
            return
        r = message.result.responders[0]
        self.responders[key] = r
        self.no_https = not getattr(r, "https_ok", False)
        self.refresh_bindings()
        https = {True: "yes", False: "no", None: "..."}.get(getattr(r, "https_ok", None), "?")
        for col, value in enumerate((r.mac, rtt_words(r.rtt_ms), https,
                                     short_fp(getattr(r, "fingerprint_sha256", None)))):
            table.update_cell_at((row, col + 1), cell(value), update_width=True)
        self._stop_watcher()
        self._row_advice(key)
        self.say(f"{r.address} answers (MAC {r.mac}): not a factory address, so this "
                 f"appliance was not factory-fresh. Enter: log in.", "success")

    @work(thread=True, exclusive=True, exit_on_error=False, group="carrier")
    def watch_cable(self) -> None:
        from hwprobe.port.interfaces import CarrierWatcher

        self._stop_watcher()
        iface = self.session.iface
        self._watcher = CarrierWatcher(
            iface, lambda change: self.post_message(CarrierChanged(iface, change.carrier))
        ).start()

    def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def on_carrier_changed(self, message: CarrierChanged) -> None:
        self._cancel.set()              # a listen under way: the cable it heard is gone
        if not message.carrier:
            self.say(f"Cable out of {message.iface}. Plug it into "
                     f"{nic_name(self.session.cable_nic)}...", "warning")
            return
        if self._probing:
            return
        self.say("Cable back in: searching again...")
        self.start_probe()

    def _restarting(self, responder) -> bool:
        """The run journal of this appliance says a finish left it restarting."""
        if not self.session.kit_folder:
            return False
        from hwprobe.errors import BringupError
        from hwprobe.procedure.login import journal_key
        from hwprobe.procedure.runjournal import RunJournal

        try:
            entry = RunJournal.for_appliance(
                journal_key(mac=responder.mac)).finished_step("site_software")
        except (BringupError, OSError):
            return False
        return entry.get("status") in ("installing", "restarting")

    def worker_failed(self, group: str, text: str) -> None:
        if group in ("probe", "listen"):    # a way to search again stays open
            self._probing = self.listening = False
        super().worker_failed(group, text)

    # --- actions -----------------------------------------------------------------------
    def action_probe_again(self) -> None:
        self.start_probe()

    def action_next(self) -> None:
        table = self.query_one(DataTable)
        key = (str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
               if table.row_count and table.cursor_row is not None else "")
        heard = self.heard.get(key)
        if heard is not None and key not in self.responders:
            self._enter_on_heard(key, heard)
            return
        if not self.responders or not key:
            self.say("No appliance found yet: check the cable, or ^r to search again.",
                     "warning")
            return
        address = key
        responder = self.responders.get(address)
        if responder is None:
            self.say(f"{address} did not answer: choose an address that did.", "warning")
            return
        self.session.bringup.choose(responder)
        self.session.console_device = None      # log in on the web interface
        self.app.goto("login")

    def _enter_on_heard(self, key: str, heard) -> None:
        """Enter on a row of something heard: probe a device at its own
        address; anything else says what to do instead."""
        if not heard.reachable:
            self.say(heard.words(), "warning")
            return
        if self._probing:
            return
        self._cancel.set()
        self._cancel = threading.Event()
        self._probing = True
        self.query_one(DataTable).update_cell_at(
            (self.query_one(DataTable).get_row_index(key), 4), "asking...", update_width=True)
        self.say(f"Probing {heard.address}: the laptop port takes a free address next to it...")
        self.probe_heard(self.session.bringup, key, heard.address, heard.prefix, self._cancel)

    def action_use_console(self) -> None:
        """Log in over the appliance's local console (the web does not answer)."""
        from ..widgets.serial_pane import default_console_device

        table = self.query_one(DataTable)
        if self.responders and table.cursor_row is not None:
            address = str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
            if address in self.responders:   # the factory address stays left alone
                self.session.bringup.choose(self.responders[address])
        self.session.console_device = (self.session.console_device
                                       or default_console_device(self.app))
        self.app.goto("login")

    def check_action(self, action: str, parameters):
        if action == "use_console":
            return self.no_https
        if action == "move_cable":
            return self.app.options.extras is not None
        return super().check_action(action, parameters)

    # --- demo lab: move the cable without leaving the console ---------------------------
    def action_help(self) -> None:
        """?: this step's help, whole (what each row heard on the cable means)."""
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self.HELP))

    def palette_commands(self):
        yield SystemCommand("Help: what Find's rows mean (?)",
                            "Nothing answers, listening, a device, a switch, DHCP, no carrier",
                            self.action_help)
        yield SystemCommand("Use the local console (serial)",
                            "Log in and set the basic settings over the appliance's console",
                            self.action_use_console)
        if self.app.options.extras is not None:
            for nic in ("nic1", "nic2"):
                yield SystemCommand(f"Demo lab: move the cable to {nic.upper()}",
                                    "The simulated technician moves the patch cable",
                                    lambda nic=nic: self.move_lab_cable(nic))

    def action_move_cable(self) -> None:
        """Demo only: move the lab's cable to the NIC the search asks for (the
        other one, once nothing answered), as the technician would by hand."""
        if self.app.options.extras is not None:
            self.say(f"Demo lab: moving the cable to {self.session.cable_nic.upper()}...")
            self.move_lab_cable(self.session.cable_nic)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab")
    def move_lab_cable(self, nic: str) -> None:
        self.app.options.extras.move_cable(nic)
        self.post_message(LabCableMoved(nic))

    def on_lab_cable_moved(self, message: LabCableMoved) -> None:
        self.app.notify(f"Demo lab: the cable is now in {message.nic.upper()}.")
