"""A recovery path as a checklist: cold spare, virtual appliance, temporary
hosted site, SaaS outage.

The steps are the vendor's procedure's (``hwprobe.runbook.checklists.checklist``), in its
order, each ending with where the procedure says it (section and place); notes (facts the
procedure states) have no tick box; bringup's own help, filled with the loaded
sheet's values, is the indented "bringup:" line under a step. The technician
ticks steps (Space). Steps the triage's answers rule out are listed as not for
this incident. The cold spare leads into the bring-up flow (^g: the same
engine applies the sheet to the spare). The virtual appliance shows the sheet's
network values ready to type on its console. The hosted site says whether the
sheet notes where the backup password is kept. Hosted site and SaaS outage
write to today's incident timeline (the triage's too): each entry is stamped
with the time, and the whole is written as plain text, ready to paste into a
support case.
"""
from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from hwprobe.runbook.checklists import Checklist, ChecklistItem, Timeline, backup_note_text, checklist
from hwprobe.settings.areas import AREAS

from ..widgets.fields import Field
from .paths import PathScreen, incident_name

TIMELINE_PATHS = ("hosted", "saas")
SHOWN_ENTRIES = 4


def item_prompt(n: int, item: ChecklistItem) -> Text:
    """One item as the list shows it: ``[x] 2. (you) text (l.43)`` and, when
    bringup has help of its own, ``    bringup: help`` under it; a note is
    `` -  note: text (l.26)``. ``n`` is the step's number (0 for a note)."""
    if item.who == "note":
        prompt = Text(f" -  note: {item.text} ({item.ref})")
    else:
        who = "bringup" if item.who == "tool" else "you"
        prompt = Text(f"[{'x' if item.done else ' '}] {n}. ({who}) {item.text} ({item.ref})")
    if item.text.startswith("WARNING"):
        prompt.stylize("bold")
    if item.help:
        prompt.append(f"\n    bringup: {item.help}", style="italic")
    return prompt


def numbered(items: list[ChecklistItem]) -> list[int]:
    """Each item's step number (notes are not counted: 0)."""
    out, n = [], 0
    for item in items:
        n += item.who != "note"
        out.append(0 if item.who == "note" else n)
    return out


def console_values(settings) -> list[tuple[str, str]]:
    """The network values to type on a virtual appliance's console, from the sheet."""
    missing = "not in the sheet"
    first = settings.ips[0] if settings is not None and settings.ips else None
    rows = [("NIC", first.nic.upper() if first else missing),
            ("Address", first.address if first else missing),
            ("Netmask", first.netmask if first else missing)]
    for name in ("gateway", "dns", "hostname"):         # in the order the console's menu asks
        typed = AREAS[name].typed
        rows.append((typed.label, (typed.text(settings) if settings else "") or missing))
    return rows


class ChecklistScreen(PathScreen):
    """The checklist of path ``key`` (cold_spare, virtual, hosted, saas)."""

    CSS_PATH = "checklist.tcss"
    BINDINGS = [
        Binding("space", "tick", "Tick step", id="tick", key_display="Space"),
        Binding("ctrl+g", "bring_up", "Bring-up: apply sheet", id="bring-up", key_display="^g"),
    ]

    def __init__(self, key: str, facts: dict | None = None) -> None:
        super().__init__()
        self.key = key
        self.facts = facts or {}
        self.checklist: Checklist | None = None
        self.timeline: Timeline | None = None
        self.timeline_text_path = None

    def compose(self) -> ComposeResult:
        s = self.session
        self.checklist = checklist(self.key, s.settings,
                                   getattr(s.settings, "failover", None) if s.settings else None,
                                   facts=self.facts)
        self.TITLE_TEXT = self.checklist.title
        self.HINT = (self.checklist.summary + " Space ticks a step; (...): where the "
                     "procedure says it.")
        yield from super().compose()

    def compose_body(self) -> ComposeResult:
        c = self.checklist
        with VerticalScroll(classes="body", id="checklist-body"):
            yield OptionList(*[Option(item_prompt(n, item), id=f"item-{i}",
                                      disabled=item.who == "note")
                               for i, (n, item) in enumerate(zip(numbered(c.items), c.items))],
                             id="items", compact=True)
            if c.skipped:
                yield Static("Not for this incident (triage):\n" + "\n".join(
                    f" - {item.text} ({item.ref})" for item in c.skipped),
                    id="skipped", markup=False)
            if self.key == "virtual":
                values = console_values(self.session.settings)
                yield Static("bringup: from the sheet, to type on the virtual console:\n" + "\n".join(
                    f"  {label:<12} {value}" for label, value in values),
                    id="values", markup=False)
            if self.key in TIMELINE_PATHS:
                with Horizontal(classes="row"):
                    yield Label("Timeline entry", classes="label")
                    yield Field("", id="entry",
                                placeholder="what was done (Enter adds it with the time)")
                yield Static("", id="timeline", markup=False)
                yield Static("", id="timeline-file", markup=False)

    def on_mount(self) -> None:
        items = self.query_one("#items", OptionList)
        items.highlighted = next((i for i, item in enumerate(self.checklist.items)
                                  if item.who != "note"), None)
        items.focus()
        if self.key == "cold_spare":
            self.say("^g applies the saved sheet to the spare (the bring-up flow).")
        if self.key == "hosted":
            noted = bool((getattr(self.session.settings, "backup", None) or {}).get("note"))
            self.say(backup_note_text(self.session.settings)[0].upper()
                     + backup_note_text(self.session.settings)[1:] + ".",
                     "success" if noted else "warning")
        if self.key in TIMELINE_PATHS:
            name = incident_name()
            try:
                self.timeline = Timeline(name)
            except (OSError, ValueError) as exc:
                self.say(f"The incident timeline cannot be read: {exc}", "error")
                return
            self.timeline_text_path = self.timeline.path.with_suffix(".txt")
            self._show_timeline()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "bring_up":
            return self.key == "cold_spare"
        return True

    # --- ticks -----------------------------------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._toggle(event.option_index)

    def action_tick(self) -> None:
        items = self.query_one("#items", OptionList)
        if items.has_focus and items.highlighted is not None:
            self._toggle(items.highlighted)

    def _toggle(self, index: int) -> None:
        item = self.checklist.items[index]
        if item.who == "note":
            return
        item.done = not item.done
        self.query_one("#items", OptionList).replace_option_prompt_at_index(
            index, item_prompt(numbered(self.checklist.items)[index], item))
        if self.timeline is not None:
            self.add_entry(("Done: " if item.done else "Not done after all: ") + item.text)

    # --- incident timeline -------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "entry":
            event.stop()
            if event.value.strip():
                self.add_entry(event.value.strip())
                event.input.value = ""

    def add_entry(self, text: str) -> None:
        """Stamp ``text`` with the time, add it to the timeline, and write the
        pasteable text file again. A disk error is shown, never raised."""
        try:
            self.timeline.add(text)
            self.write_timeline_text()
        except OSError as exc:
            self.say(f"The timeline could not be written: {exc.strerror or exc}", "error")
            return
        self._show_timeline()
        self.query_one("#checklist-body", VerticalScroll).scroll_end(animate=False)
        self.say(f"Added to the timeline ({len(self.timeline.entries)} entries).", "success")

    def write_timeline_text(self):
        """Write the timeline as plain text beside its record; returns the path."""
        path = self.timeline_text_path
        tmp = path.with_suffix(".txt.tmp")
        tmp.write_text(self.timeline.to_text("Incident timeline"))
        os.replace(tmp, path)
        return path

    def _show_timeline(self) -> None:
        entries = self.timeline.entries
        shown = [f"{e['at'][11:16]}  {e['text']}" for e in entries[-SHOWN_ENTRIES:]]
        if len(entries) > SHOWN_ENTRIES:
            shown.insert(0, f"({len(entries) - SHOWN_ENTRIES} earlier)")
        self.query_one("#timeline", Static).update("\n".join(shown) or "No entries yet.")
        where = (f"For the support case, paste: {self.timeline_text_path}"
                 if entries else "The text for the support case is written with the first entry.")
        self.query_one("#timeline-file", Static).update(where)

    # --- cold spare: into the bring-up flow ------------------------------------------------
    def action_bring_up(self) -> None:
        """Back to the start screen and on into the bring-up flow with the loaded
        sheet; without one, the start screen asks for it."""
        start = self.app.back_to_start()
        if self.session.settings is not None and self.session.sheet_path:
            self.app.call_later(self.app.goto, "port")
        else:
            start.say("Cold spare: type the saved sheet's path, then Enter applies it to "
                      "the spare.", "warning")
