"""Failover pair, the primary is down: the procedure's three steps (its
section "Failover and Spare B Series Appliances", steps 1-3, in bringup's words).

Shows the procedure's steps (move the traffic, the backup takes the primary
role, check the clients), with the way this site moves traffic from the
sheet's [failover] table. It reads the backup's role and health first (on
opening, when the peer and API client are known): when the backup already
holds the primary role (automatic failover) it says so, ticks step 2 and sends
nothing. Otherwise ^y makes it primary with the command API
(``hwprobe.appliance.failover.promote``): the
appliance's own XML answer is shown, and the new role is confirmed by reading
health again. The API secret lives in its field only: never logged, never
written. Errors (wrong secret, no answer, an ``<error>`` answer) change nothing
and say so.
"""
from __future__ import annotations

import os

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from hwprobe.settings import validate as v
from hwprobe.runbook.checklists import PATHS, sheet_values

from ..messages import HealthRead, PromoteDone
from ..widgets.choice import Tick
from ..widgets.fields import Field, SecretField
from ..widgets.safe import lines as safe_lines
from .paths import PathScreen

ENV_CLIENT_ID = "BRINGUP_API_CLIENT_ID"
ENV_SECRET = "BRINGUP_API_SECRET"
ALREADY_PRIMARY = ("is already the primary: nothing to promote. Next: step 3, check that "
                   "the clients work again.")
SYNC_NOTE = "Sync first: it needs the old primary to answer, and disconnects its users."
XML_WIDTH = 74


def _role(role: str | None) -> str:
    """PRIMARY or BACKUP, bringup's spelling of the two roles; any other
    answer exactly as the appliance gave it (no case change of its text)."""
    return role.upper() if role in ("primary", "backup") else (role or "?")


def describe_health(h) -> str:
    """One line: role, /check_health, version, last data sync."""
    status = h.last_data_sync_status
    return (f"role {_role(h.role)}, /check_health "
            f"{'200 healthy' if h.healthy else '500 NOT healthy'}, version {h.version or '?'}, "
            f"last sync {h.last_data_sync_time or 'never'}"
            + (f" ({status})" if status and status != "never" else ""))


def xml_lines(xml: str) -> list[str]:
    """The appliance's XML answer, whole, cut into screen-wide pieces (a long
    namespace would otherwise wrap word by word over three lines)."""
    out = []
    for line in xml.strip().splitlines():
        out += [line[i:i + XML_WIDTH] for i in range(0, len(line), XML_WIDTH)] or [""]
    return out


class FailoverScreen(PathScreen):
    """Read the backup's health (^r) and make it primary (^y)."""

    TITLE_TEXT = PATHS["failover"]["title"]
    CSS_PATH = "failover.tcss"
    HINT = "bringup reads the backup's role first (^r); ^y makes it primary if it is not."
    BINDINGS = [
        Binding("ctrl+r", "read_health", "Read health", id="read-health", key_display="^r"),
        Binding("ctrl+y", "make_primary", "Make primary", id="make-primary", key_display="^y"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.health = None          # the last Health read
        self.result = None          # the last PromoteResult
        self.busy = False

    @property
    def site(self) -> dict:
        settings = self.session.settings
        return (getattr(settings, "failover", None) or {}) if settings is not None else {}

    def steps_text(self) -> str:
        """The procedure's three steps (Failover and Spare B Series Appliances),
        with this site's way of moving traffic from the sheet and, once health
        was read, whether the backup already holds the primary role."""
        site = self.site
        values = sheet_values(self.session.settings, site)
        values["peer_address"] = "the Peer address below"
        method = site.get("method")
        methods = PATHS["failover"]["methods"]
        move = (f"this site (sheet): {methods[method].format_map(values)}" if method in methods
                else "this site: not in the sheet ([failover] method); shared IP, DNS swing "
                     "or NAT swing")
        h = self.health
        if self.result is not None and self.result.ok:
            role = "[x] 2. Backup promoted: set_failover_role sent, role read back. (step 2.2)"
        elif h is not None and h.role == "primary":
            role = ("[x] 2. The backup already holds the primary role (Automatic Failover "
                    "takes it by itself): nothing to promote. (step 2.1)")
        else:
            role = ("[ ] 2. The backup takes the primary role: by itself (Automatic Failover, "
                    "step 2.1), or Become Primary / the API: ^y (step 2.2)")
        return "\n".join([
            "[ ] 1. Send the clients' traffic to the backup. (step 1)",
            f"    bringup: {move}", role,
            "[ ] 3. Check the clients work again, then repair the failed one. (step 3)"])

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(self.steps_text(), id="steps", markup=False)
            with Horizontal(classes="row"):
                yield Label("Peer address", classes="label")
                yield Field(self.site.get("peer_address", ""), id="peer",
                            placeholder="the backup appliance, e.g. 198.51.100.21")
            with Horizontal(classes="row"):
                yield Label("API client id", classes="label")
                yield Field(os.environ.get(ENV_CLIENT_ID, ""), id="client-id",
                            placeholder="/login > Management > API Configuration")
            with Horizontal(classes="row"):
                yield Label("API secret", classes="label")
                yield SecretField(os.environ.get(ENV_SECRET, ""), id="secret")
            with Horizontal(classes="row"):
                yield Label("Data sync", classes="label")
                yield Tick("Sync data first (leave off when the primary is down)",
                           id="sync-first")
            yield Static(SYNC_NOTE, id="sync-note", markup=False)
            with VerticalScroll(id="answer-box"):
                yield Static("", id="answer", markup=False)

    def on_mount(self) -> None:
        first_empty = next((f for f in self.query(Field) if not f.value), None)
        (first_empty or self.query_one("#peer", Field)).focus()
        if first_empty is None:         # the procedure's step 2 starts with: is it primary yet?
            self.action_read_health()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _inputs(self) -> tuple[str, str, str] | None:
        """Peer, client id, secret; None (and why, on the status line) when one is missing."""
        peer = self.query_one("#peer", Field).value.strip()
        cid = self.query_one("#client-id", Field).value.strip()
        secret = self.query_one("#secret", Field).value
        problem = v.check_ipv4(peer) if peer else "type the backup appliance's address"
        if problem:
            self.say(f"Peer address: {problem}", "warning")
            self.query_one("#peer", Field).focus()
            return None
        if not cid or not secret:
            self.say("Type the API client id and secret (/login > Management > API "
                     "Configuration).", "warning")
            self.query_one("#client-id" if not cid else "#secret", Field).focus()
            return None
        return peer, cid, secret

    def _answer(self, text: str) -> None:
        # the appliance's own answer (its XML, host name, version): escaped, never dropped
        self.query_one("#answer", Static).update(safe_lines(text))
        self.query_one("#answer-box", VerticalScroll).scroll_home(animate=False)

    # --- actions -----------------------------------------------------------------------
    def _waiting(self) -> bool:
        """True (and says so) while the appliance has not answered the last request."""
        if self.busy:
            self.say("Still waiting for the appliance's answer...", "warning")
        return self.busy

    def action_read_health(self) -> None:
        if self._waiting():
            return
        inputs = self._inputs()
        if inputs:
            self.busy = True
            self.say(f"Reading the health of {inputs[0]}...")
            self.read_health(*inputs)

    def action_make_primary(self) -> None:
        if self._waiting():
            return
        if self.health is not None and self.health.role == "primary":
            self.say(ALREADY_PRIMARY, "success")
            return
        inputs = self._inputs()
        if inputs:
            self.busy = True
            sync = self.query_one("#sync-first", Tick).value
            self.say(f"Making {inputs[0]} primary"
                     + (" (data sync first)..." if sync else " (no data sync)..."))
            self.make_primary(*inputs, sync)

    # --- workers: never touch a widget ----------------------------------------------------
    # the description is fixed: by default Textual writes the arguments (the secret) into it
    @work(thread=True, exclusive=True, exit_on_error=False, group="failover",
          description="read the appliance's health")
    def read_health(self, address: str, client_id: str, secret: str) -> None:
        from hwprobe.procedure.session import BringupSession, Target

        client = BringupSession(Target(address=address)).failover_client(client_id, secret)
        try:
            health = client.health()
        finally:
            client.close()
        if not get_current_worker().is_cancelled:
            self.post_message(HealthRead(address, health))

    @work(thread=True, exclusive=True, exit_on_error=False, group="failover",
          description="make the appliance primary")
    def make_primary(self, address: str, client_id: str, secret: str, sync_first: bool) -> None:
        from hwprobe.appliance.failover import promote
        from hwprobe.procedure.session import BringupSession, Target

        client = BringupSession(Target(address=address)).failover_client(client_id, secret)
        try:
            result = promote(client, data_sync_first=sync_first)
        finally:
            client.close()
        if not get_current_worker().is_cancelled:
            self.post_message(PromoteDone(address, result))

    # --- answers ---------------------------------------------------------------------------
    def on_health_read(self, message: HealthRead) -> None:
        self.busy = False
        self.health = message.health
        self._answer(f"{message.address}: {describe_health(message.health)}")
        self.query_one("#steps", Static).update(self.steps_text())
        if message.health.role == "primary":
            self.say(f"{message.address} " + ALREADY_PRIMARY, "success")
        else:
            self.say(f"{message.address} is the {message.health.role or 'unknown role'}: "
                     "^y makes it primary.", "info")

    def on_promote_done(self, message: PromoteDone) -> None:
        self.busy = False
        r = self.result = message.result
        if r.already_primary:
            self.health = r.before
            self._answer(f"{message.address}: {describe_health(r.before)}\nNothing was sent.")
            self.query_one("#steps", Static).update(self.steps_text())
            self.say(f"{message.address} " + ALREADY_PRIMARY, "success")
            return
        lines = [f"Before: {describe_health(r.before)}", "The appliance answered:",
                 *(f"  {line}" for line in xml_lines(r.answer.xml))]
        if r.after is not None and r.answer.ok:
            self.health = r.after
            lines.append(f"Read again: {describe_health(r.after)}")
        self._answer("\n".join(lines))
        if r.ok:
            self.query_one("#steps", Static).update(self.steps_text())
            self.say(f"Confirmed: {message.address} is now the primary. Next: check the "
                     "clients (step 3).", "success")
        elif r.answer.ok:
            role = r.after.role if r.after is not None else "?"
            self.say(f"The appliance said it changed role, but reading health again shows "
                     f"role {role}: check it before moving traffic.", "error")
        else:
            self.say(f"Not changed: {r.answer.message}", "error")

    def worker_failed(self, group: str, text: str) -> None:
        self.busy = False
        self._answer(text)
        self.say("Nothing was changed (why: above).", "error")
