"""Readiness, "prepare in advance": is the settings sheet complete and recent,
and what kit and site checks a recovery needs (``hwprobe.runbook.checklists.readiness``);
or, given a recovery kit's folder, is the kit fit (``hwprobe.runbook.kitcheck``,
as ``bringup readiness --kit``: its files are hashed in a worker)."""
from __future__ import annotations

import os
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from hwprobe.constants import ENV_KIT_SECRETS
from hwprobe.errors import SheetInvalid
from hwprobe.runbook.checklists import READINESS, readiness
from hwprobe.settings.sheet import load_sheet

from ..messages import KitChecked
from ..widgets.fields import Field, PathSuggester, SecretField
from .paths import READINESS_TITLE, PathScreen, short_path

ENV_PASSPHRASE = ENV_KIT_SECRETS["certificate_passphrase"]


def report_text(rep) -> str:
    """The readiness report as the screen shows it."""
    lines = [f"Sheet {rep.age_days} days old"
             + (f": older than {READINESS['max_sheet_age_days']} days, capture it again"
                if rep.too_old else " (fine)")]
    lines += [f"  [x] {part}" for part in rep.complete]
    lines += [f"  [ ] {part}  <- missing" for part in rep.missing]
    lines += ["Kit to bring:"] + [f"  [ ] {item}" for item in rep.kit]
    lines += ["Check at the site, before you need it:"] + [f"  [ ] {item}" for item in rep.site]
    return "\n".join(lines)


class ReadinessScreen(PathScreen):
    """The sheet's completeness and age, then the kit list."""

    TITLE_TEXT = READINESS_TITLE
    CSS_PATH = "readiness.tcss"
    HINT = ("A settings sheet, or a recovery kit's folder with its key passphrase, to check "
            "(Enter checks it; Right arrow completes a path).")
    BINDINGS = [
        Binding("enter", "check", "Check", id="check-sheet", key_display="Enter", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("Sheet or kit", classes="label")
            yield Field(short_path(self.session.sheet_path or ""), id="readiness-sheet",
                        placeholder="e.g. ~/sheets/support.toml or ~/kits/support",
                        suggester=PathSuggester())
        with Horizontal(classes="row"):
            yield Label("Key passphrase", classes="label")
            yield SecretField(os.environ.get(ENV_PASSPHRASE, ""), id="readiness-passphrase",
                              placeholder="a kit's certificate passphrase (not for a sheet)")
        with VerticalScroll(classes="body", id="readiness-box"):
            yield Static("", id="readiness", markup=False)

    def on_mount(self) -> None:
        self.query_one("#readiness-sheet", Field).focus()
        if self.session.sheet_path:
            self.action_check()
        else:
            self.query_one("#readiness", Static).update(
                "Kit to bring:\n" + "\n".join(f"  [ ] {item}" for item in READINESS["kit"]))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_check()

    def action_check(self) -> None:
        box = self.query_one("#readiness", Static)
        typed = self.query_one("#readiness-sheet", Field).value.strip()
        if not typed:
            self.say("Type the settings sheet's path to check it.", "warning")
            return
        path = Path(typed).expanduser()
        if path.is_dir():
            passphrase = self.query_one("#readiness-passphrase", Field).value
            if not passphrase:
                self.say("A kit: type its certificate passphrase to check it.", "warning")
                self.query_one("#readiness-passphrase", Field).focus()
                return
            box.update("")
            self.say(f"Checking the kit {short_path(str(path))} (every file is hashed)...")
            self.check_kit(path, passphrase)
            return
        try:
            self.report = readiness(path, load_sheet(path))
        except SheetInvalid as exc:
            box.update("\n".join(exc.problems))
            self.say(f"The sheet has {len(exc.problems)} problem(s): fix them in the file.",
                     "error")
            return
        except OSError as exc:
            box.update("")
            self.say(f"{path}: {exc.strerror or exc}", "error")
            return
        box.update(report_text(self.report))
        if self.report.ok:
            self.say("The sheet is complete and recent. Pack the kit below.", "success")
        else:
            self.say("Not ready: " + "; ".join(
                (["the sheet is too old"] if self.report.too_old else [])
                + [f"missing {m}" for m in self.report.missing]), "warning")

    # --- a recovery kit --------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="readiness",
          description="check the recovery kit")
    def check_kit(self, path: Path, passphrase: str) -> None:
        from hwprobe.runbook.kitcheck import check_kit

        self.post_message(KitChecked(check_kit(path, passphrase)))

    def on_kit_checked(self, message: KitChecked) -> None:
        report = message.report
        self.report = report
        lines = [f"Kit {short_path(report.folder)}:"] + [f"  [x] {fact}" for fact in report.facts]
        lines += [f"  [ ] {problem}" for problem in report.problems]
        self.query_one("#readiness", Static).update("\n".join(lines))
        if report.ok:
            self.say("The kit is complete and fit to bring a replacement up.", "success")
        else:
            self.say(f"Not fit: {len(report.problems)} problem(s), each above.", "warning")
