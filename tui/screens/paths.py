"""The triage and the recovery paths offered from the start screen (^o), and
what their screens share.

The triage asks what failed and what the site has (failover partner, cold
spare, recent snapshot, support contract), shows the order of paths the
vendor's procedure prescribes (``hwprobe.runbook.checklists.triage``), marks it in the
list, and writes the answers on today's incident timeline.

Hardware bring-up is the seven-step flow; the other paths (failover, cold
spare, virtual appliance, RMA, hosted site, SaaS outage, readiness) each open
one screen on top of the start screen. Escape always goes back one screen.
The checklists and the words come from ``hwprobe.runbook.checklists`` (runbook.toml).
Which screen opens for which path, and going back to the start, are the
app's (``BringupApp.open_path``, ``back_to_start``): screens ask the app.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from hwprobe.runbook.checklists import FAILED, PATH_ORDER, PATHS

from ..widgets.choice import Choice
from .base import FramedScreen

READINESS_TITLE = "Readiness: prepare in advance (sheet age, kit list)"
READINESS_SUMMARY = ("Before anything fails: is the settings sheet complete and recent, "
                     "and is the kit packed?")
PATH_KEYS = (*PATH_ORDER, "readiness")


def short_path(path: str) -> str:
    """``path`` with the home directory written as ``~``."""
    home = str(Path.home())
    return "~" + path[len(home):] if path.startswith(home + "/") else path


def path_title(key: str) -> str:
    return READINESS_TITLE if key == "readiness" else PATHS[key]["title"]


class PathScreen(FramedScreen):
    """A recovery path's screen. Subclasses set TITLE_TEXT and HINT and write
    compose_body(); Escape goes back one screen."""

    TITLE_TEXT = ""

    def frame_title(self) -> str:
        return self.TITLE_TEXT

    def action_back(self) -> None:
        self.app.pop_screen()


NOT_ANSWERED = ("", "not answered")
YES_NO = [NOT_ANSWERED, ("yes", "yes"), ("no", "no")]
FACT_LABELS = {"failover": "Failover partner", "spare": "Cold spare",
               "snapshot": "Recent snapshot", "contract": "Support contract"}


def ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


class PathsScreen(PathScreen):
    """The triage (what failed, what the site has) above every recovery path,
    one per line. The triage's answers mark the procedure's order of paths in
    the list and go on the incident timeline; Enter or a path's number opens it."""

    TITLE_TEXT = "Recovery paths: what failed?"
    CSS_PATH = "paths.tcss"
    HINT = ("Answer with Left/Right (Up/Down: next question), or pick a path below "
            "(Enter, or its number). Esc: back to the settings sheet.")
    BINDINGS = [
        Binding("enter", "open", "Open", id="open-path", key_display="Enter", priority=True),
        Binding("down", "next_question", "Next question", id="next-question", show=False),
        Binding("up", "previous_question", "Previous question", id="previous-question",
                show=False),
        *(Binding(str(n), f"open_number({n})", f"Open path {n}", id=f"open-path-{n}", show=False)
          for n in range(1, len(PATH_KEYS) + 1)),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.triage = None              # hwprobe.runbook.checklists.Triage once every answer is in
        self.recorded = ""              # the last answers written on the timeline

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body", id="paths-body"):
            with Horizontal(classes="row"):
                yield Label("What failed", classes="label")
                yield Choice([NOT_ANSWERED, *FAILED.items()], id="failed")
            for fact, label in FACT_LABELS.items():
                with Horizontal(classes="row", id=f"row-{fact}"):
                    yield Label(label, classes="label")
                    yield Choice(YES_NO, id=fact)
            yield Static("", id="order", markup=False)
            yield OptionList(*[Option(self.option_text(n, key), id=key)
                               for n, key in enumerate(PATH_KEYS, 1)], id="paths", compact=True)
            yield Static("", id="path-summary", markup=False)
            sheet = self.session.sheet_path
            yield Static(f"Settings sheet: {short_path(sheet)}"
                         if sheet and self.session.settings is not None
                         else "Settings sheet: none loaded (Esc, type its path, ^o again)",
                         id="sheet-note", markup=False)

    def option_text(self, n: int, key: str) -> str:
        place = ([i for i, s in enumerate(self.triage.order, 1) if s.path == key]
                 if self.triage else [])
        return f"{n}  {path_title(key)}" + (f"  <- {ordinal(place[0])}" if place else "")

    def on_mount(self) -> None:
        paths = self.query_one("#paths", OptionList)
        paths.highlighted = 0
        self._show_triage()
        self.query_one("#failed", Choice).focus()

    # --- the triage ------------------------------------------------------------------
    def answers(self) -> tuple[str, dict]:
        failed = self.query_one("#failed", Choice).value
        answers = {fact: {"yes": True, "no": False}.get(self.query_one(f"#{fact}", Choice).value)
                   for fact in FACT_LABELS}
        return failed, answers

    def on_choice_changed(self, event: Choice.Changed) -> None:
        event.stop()
        self._show_triage()

    def _show_triage(self) -> None:
        from hwprobe.runbook.checklists import ASKED, missing_answers, triage

        failed, answers = self.answers()
        for fact in FACT_LABELS:
            self.query_one(f"#row-{fact}").display = bool(failed) and fact in ASKED[failed]
        order = self.query_one("#order", Static)
        self.triage = None
        if not failed:
            order.update("The procedure's order of paths shows once these are answered.")
        elif missing_answers(failed, answers):
            left = [FACT_LABELS[f] for f in missing_answers(failed, answers)]
            order.update("Still to answer: " + ", ".join(left) + ".")
        else:
            self.triage = triage(failed, answers)
            lines = ["The procedure's order: " + ", then ".join(
                str(PATH_KEYS.index(s.path) + 1) for s in self.triage.order)
                + " (marked below; Enter opens the 1st)."]
            lines += [f"Note: {note}" for note in self.triage.notes]
            order.update("\n".join(lines))
        paths = self.query_one("#paths", OptionList)
        for n, key in enumerate(PATH_KEYS, 1):
            paths.replace_option_prompt(key, self.option_text(n, key))
        if self.triage is not None:
            paths.highlighted = PATH_KEYS.index(self.triage.order[0].path)
            self._record()

    def _record(self) -> None:
        """Write the answers and the order on today's incident timeline (once
        per set of answers). A disk error is shown, never raised."""
        from hwprobe.runbook.checklists import Timeline

        text = self.triage.answers_text()
        if text == self.recorded:
            return
        try:
            timeline = Timeline(incident_name())
            timeline.add(text)
            timeline.add(self.triage.order_text())
        except (OSError, ValueError) as exc:
            self.say(f"The incident timeline could not be written: {exc}", "error")
            return
        self.recorded = text
        first = self.triage.order[0].path
        self.say(f"Answers on the incident timeline. 1st: {path_title(first)}.", "success")

    def facts(self) -> dict:
        return dict(self.triage.facts) if self.triage else {}

    # --- moving and opening ------------------------------------------------------------
    def _questions(self) -> list:
        return [c for c in self.query(Choice) if c.parent.display]

    def action_next_question(self) -> None:
        questions = self._questions()
        if self.focused in questions:
            at = questions.index(self.focused)
            if at + 1 < len(questions):
                questions[at + 1].focus()
            else:
                self.query_one("#paths", OptionList).focus()

    def action_previous_question(self) -> None:
        questions = self._questions()
        if self.focused in questions and questions.index(self.focused) > 0:
            questions[questions.index(self.focused) - 1].focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        key = event.option.id
        self.query_one("#path-summary", Static).update(
            READINESS_SUMMARY if key == "readiness" else PATHS[key]["summary"])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.app.open_path(event.option.id, self.facts())

    def action_open(self) -> None:
        paths = self.query_one("#paths", OptionList)
        if self.focused in self._questions():
            if self.triage is not None:
                self.app.open_path(self.triage.order[0].path, self.facts())
            else:
                unanswered = [c for c in self._questions() if not c.value]
                unanswered[0].focus()
                self.say("Still to answer: " + str(unanswered[0].parent.query_one(Label)
                                                    .render()) + ".", "warning")
            return
        if paths.highlighted is not None:
            self.app.open_path(PATH_KEYS[paths.highlighted], self.facts())

    def action_open_number(self, number: int) -> None:
        self.app.open_path(PATH_KEYS[number - 1], self.facts())


def incident_name() -> str:
    """Today's incident timeline: the triage and the checklists write to it."""
    import datetime as dt

    return f"incident-{dt.date.today():%Y%m%d}"
