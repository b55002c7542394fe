"""Recovery kit, "prepare in advance": take everything a replacement will
need from the healthy appliance, at the office, before anything fails.

The same job as ``bringup kit`` (hwprobe/procedure/kit.py): the sheet, the
/login backup through the backup API, the certificate with its key and chain,
the site's update file when given, and the manifest last; then the kit is
checked as ``readiness --kit`` checks it. The secrets live in their fields
only (filled from the environment when it gives them): never logged, never
written. A run that fails leaves nothing in the folder and says why.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from hwprobe.constants import ENV_KIT_SECRETS, ENV_PASSWORD
from hwprobe.settings import validate as v

from ..messages import KitDone, KitProgress, KitStage
from ..widgets.bars import AsciiBar
from ..widgets.fields import Field, PathSuggester, SecretField
from .paths import PathScreen, short_path

KIT_TITLE = "Recovery kit: take one from the healthy appliance"
# field id -> (label, environment variable, secret)
FIELDS = {
    "kit-address": ("Appliance", None, False),
    "kit-folder": ("Kit folder", None, False),
    "kit-update": ("Update file", None, False),
    "kit-password": ("/appliance pass", ENV_PASSWORD, True),
    "kit-client-id": ("API client id", ENV_KIT_SECRETS["api_client_id"], False),
    "kit-secret": ("API secret", ENV_KIT_SECRETS["api_secret"], True),
    "kit-backup": ("Backup password", ENV_KIT_SECRETS["backup_password"], True),
    "kit-passphrase": ("Key passphrase", ENV_KIT_SECRETS["certificate_passphrase"], True),
}
PLACEHOLDERS = {"kit-address": "its address, e.g. 198.51.100.20",
                "kit-folder": "a new folder, e.g. ~/kits/support",
                "kit-update": "optional: the site's update file from the portal",
                "kit-client-id": "/login > Management > API Configuration",
                "kit-backup": "protects the /login backup",
                "kit-passphrase": "protects the exported key"}
PROGRESS_EVERY = 0.1        # seconds between progress messages (a gigabyte is 4000 blocks)


class _Fields:
    """The password the procedure asks for, from its field (the Prompter)."""

    def __init__(self, password: str, tell):
        self.password, self.tell = password, tell

    def secret(self, question: str) -> str | None:
        return self.password or None


class KitScreen(PathScreen):
    """The fields, ^y takes the kit (progress bar), then readiness's verdict."""

    TITLE_TEXT = KIT_TITLE
    CSS_PATH = "kit.tcss"
    HINT = ("Fill in the fields (Enter: next), then ^y takes the kit: sheet, /login backup, "
            "certificate with key, manifest. Esc: back.")
    BINDINGS = [
        Binding("ctrl+y", "take", "Take the kit", id="take-kit", key_display="^y"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self.result = None          # the last KitResult
        self.report = None          # readiness's KitReport of it
        self._started: dict[str, tuple[float, int]] = {}   # per file: when, bytes then

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            for key, (label, env, secret) in FIELDS.items():
                value = os.environ.get(env, "") if env else ""
                with Horizontal(classes="row"):
                    yield Label(label, classes="label")
                    kind = SecretField if secret else Field
                    extra = {"suggester": PathSuggester()} if key in ("kit-folder",
                                                                      "kit-update") else {}
                    yield kind(value, id=key, placeholder=PLACEHOLDERS.get(key, ""), **extra)
            yield Static("", id="kit-stage", markup=False)
            yield AsciiBar(id="kit-bar")
            with VerticalScroll(id="kit-box"):
                yield Static("", id="kit-result", markup=False)

    def on_mount(self) -> None:
        first_empty = next((f for f in self.query(Field) if not f.value
                            and f.id != "kit-update"), None)
        (first_empty or self.query_one("#kit-address", Field)).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def value(self, key: str) -> str:
        field = self.query_one(f"#{key}", Field)
        return field.value if isinstance(field, SecretField) else field.value.strip()

    def _inputs(self) -> dict | None:
        """Every field, or None (and which one, on the status line) when one is missing."""
        got = {key: self.value(key) for key in FIELDS}
        problem = v.check_ipv4(got["kit-address"]) if got["kit-address"] else \
            "type the healthy appliance's address"
        missing = next((k for k, val in got.items() if not val and k != "kit-update"), None)
        if problem:
            missing = "kit-address"
        elif missing:
            problem = f"{FIELDS[missing][0]}: needed"
        elif got["kit-update"] and not Path(got["kit-update"]).expanduser().is_file():
            missing, problem = "kit-update", f"{got['kit-update']}: no such file"
        if missing:
            self.say(f"{FIELDS[missing][0]}: {problem}" if missing == "kit-address" else problem,
                     "warning")
            self.query_one(f"#{missing}", Field).focus()
            return None
        return got

    # --- actions -----------------------------------------------------------------------
    def action_take(self) -> None:
        if self.busy:
            self.say("Still taking the kit...", "warning")
            return
        got = self._inputs()
        if got is None:
            return
        self.busy = True
        self._started = {}
        self.query_one("#kit-result", Static).update("")
        self.query_one(AsciiBar).progress = 0.0
        self.say(f"Taking the kit from {got['kit-address']}...")
        self.take(got)

    # --- the worker: never touches a widget ----------------------------------------------
    # the description is fixed: by default Textual writes the arguments (secrets) into it
    @work(thread=True, exclusive=True, exit_on_error=False, group="kit",
          description="take the recovery kit")
    def take(self, got: dict) -> None:
        from hwprobe.procedure.kit import KitSecrets, take_kit
        from hwprobe.procedure.session import BringupSession, Target
        from hwprobe.runbook.kitcheck import check_kit

        worker = get_current_worker()
        last = [0.0]

        def progress(what: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or (total and done >= total):
                last[0] = now
                self.post_message(KitProgress(what, done, total))

        secrets = KitSecrets(got["kit-client-id"], got["kit-secret"], got["kit-backup"],
                             got["kit-passphrase"])
        folder = Path(got["kit-folder"]).expanduser()
        update = Path(got["kit-update"]).expanduser() if got["kit-update"] else None
        prompter = _Fields(got["kit-password"], lambda text: None)
        target = Target(address=got["kit-address"], handle_signals=False)
        with BringupSession(target, on_note=lambda t: self.post_message(KitStage(t))) as session:
            result = take_kit(session, prompter, folder, secrets, update_file=update,
                              taken_by="bringup console",
                              on_stage=lambda t: self.post_message(KitStage(t)),
                              on_progress=progress)
        self.post_message(KitStage("checking the kit as readiness does"))
        report = check_kit(folder, secrets.certificate_passphrase)
        if not worker.is_cancelled:
            self.post_message(KitDone(result, report))

    # --- answers -----------------------------------------------------------------------
    def on_kit_stage(self, message: KitStage) -> None:
        self.query_one("#kit-stage", Static).update(message.text)

    def on_kit_progress(self, message: KitProgress) -> None:
        """The bar, with bytes, rate and time left (from this file's first block)."""
        now = time.monotonic()
        started = self._started.setdefault(message.what, (now, message.done))
        rate = (message.done - started[1]) / max(now - started[0], 1e-3)
        bar = self.query_one(AsciiBar)
        bar.progress = message.done / message.total if message.total else 0.0
        total = f" of {message.total / 1e6:.1f} MB" if message.total else ""
        left = (f", {(message.total - message.done) / rate:.0f} s left"
                if message.total and rate > 0 and now > started[0] else "")
        speed = f", {rate / 1e6:.0f} MB/s" if now > started[0] else ""
        self.query_one("#kit-stage", Static).update(
            f"{message.what}: {message.done / 1e6:.1f} MB{total}{speed}{left}")

    def on_kit_done(self, message: KitDone) -> None:
        self.busy = False
        self.result, self.report = message.result, message.report
        m = message.result.manifest
        a = m.appliance
        lines = [f"Kit written to {short_path(str(message.result.folder))} "
                 f"({len(m.files)} files and the manifest)",
                 f"{a.get('model')} {a.get('serial')}, software {a.get('software_version')}, "
                 f"{a.get('hostname')}, role {a.get('failover_role')}"]
        lines += [f"[x] {fact}" for fact in message.report.facts]
        lines += list(message.report.problems)
        self.query_one("#kit-result", Static).update("\n".join(lines))
        self.query_one(AsciiBar).progress = 1.0
        self.query_one("#kit-stage", Static).update("done")
        if message.report.ok:
            self.say("The kit is complete and fit. Keep it with the site's records.", "success")
        else:
            self.say(f"The kit was written but readiness found {len(message.report.problems)} "
                     "problem(s): above.", "warning")

    def worker_failed(self, group: str, text: str) -> None:
        self.busy = False
        self.query_one("#kit-result", Static).update(text)
        self.query_one("#kit-stage", Static).update("")
        self.say("No kit was taken (why: above); nothing of this try is left in the folder.",
                 "error")
