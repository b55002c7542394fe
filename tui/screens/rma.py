"""Hardware failure and RMA: the request form, FRU or whole unit, the deadline.

Every problem ``hwprobe.runbook.rma.check`` finds is shown under its field (live once
the technician has tried to write the request). Whether the failed part ships
as a field-replaceable unit or the whole unit goes back is shown as typed.
^g writes the request (Markdown and JSON) under the state directory's ``rma/``
and shows both paths; ^o records that the replacement is operational today
and shows the date the failed unit is due back (two weeks later) with the
procedure's warning that it is invoiced at list price after that. Above the
form: the procedure's steps for a hardware failure, in its order (restore the
service first; repair on site; then the RMA), each with its line.
"""
from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from hwprobe.errors import BadInput
from hwprobe.runbook import rma
from hwprobe.constants import state_dir
from hwprobe.runbook.checklists import PATHS, checklist

from ..widgets.choice import Choice
from ..widgets.fields import Field
from .paths import PathScreen

PART_CHOICES = [("", "choose the failed part"), *((p, p) for p in rma.PARTS)]
INTERNATIONAL = [("", "outside the US: choose"),
                 ("repair_and_return", f"repair-and-return (up to {rma.REPAIR_WEEKS} weeks)"),
                 ("replace", "replace (VAT may apply)")]
VAT_CONSENT = [("", "international replacement: choose"),
               ("yes", "documented consent to pay VAT fees is sent")]
# (field of RmaRequest, label, placeholder or the choices)
FIELDS = (
    ("contact_name", "Contact name", "who support calls back"),
    ("email", "E-mail", "e.g. tech@example.net"),
    ("phone", "Phone", "with country code"),
    ("shipping_address", "Ship to", "street, city, postcode"),
    ("country", "Country", "e.g. United States"),
    ("serial", "Serial number", "Status > Basics, or the label"),
    ("model", "Model", "e.g. B400"),
    ("failed_part", "Failed part", PART_CHOICES),
    ("vat_number", "VAT number", "if necessary: an international replacement"),
    ("international_choice", "International", INTERNATIONAL),
    ("vat_consent", "VAT consent", VAT_CONSENT),
    ("description", "What happened", "one line for support"),
)
FIELD_NAMES = [name for name, _, _ in FIELDS]


def procedure_text() -> str:
    """The procedure's steps for a hardware failure, compact: under each of
    its sections' headings, each step with its place there."""
    from .checklist import numbered

    c = checklist("rma")
    lines = ["The procedure (Hardware; RMA), in order:"]
    form_step, section = 0, ""
    for n, item in zip(numbered(c.items), c.items):
        if item.section != section:
            section = item.section
            lines.append(f"{section}:")
        head = " -  note:" if n == 0 else f"{n:>2}."
        lines.append(f"{head} {item.text} ({item.place})")
        form_step = form_step or (n if item.who == "tool" else 0)
    lines.append(f"The request for support (step {form_step}):")
    return "\n".join(lines)


class RmaScreen(PathScreen):
    """The RMA request form."""

    TITLE_TEXT = PATHS["rma"]["title"]
    CSS_PATH = "rma.tcss"
    HINT = ("Fill in the request (Tab or Enter: next field; Left/Right: choices). ^g writes "
            "it for support; ^o when the replacement is operational.")
    BINDINGS = [
        Binding("ctrl+g", "write", "Write request", id="write-request", key_display="^g"),
        Binding("ctrl+o", "operational", "Operational today", id="operational",
                key_display="^o"),
    ]
    today = staticmethod(dt.date.today)

    def __init__(self) -> None:
        super().__init__()
        self.tried = False              # problems shown live once a write was tried
        self.problem_rows: set[str] = set()     # fields whose problem row has shown
        self.written: tuple | None = None
        self.operational_on: dt.date | None = None

    def compose_body(self) -> ComposeResult:
        settings = self.session.settings
        prefill = {"model": getattr(settings, "model", "") or "",
                   "serial": getattr(settings, "serial", "") or ""}
        with VerticalScroll(classes="body", id="form"):
            yield Static(procedure_text(), id="procedure", markup=False)
            for name, label, hint in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(label, classes="label")
                    if isinstance(hint, list):
                        yield Choice(hint, id=name)
                    else:
                        yield Field(prefill.get(name, ""), id=name, placeholder=hint)
                yield Static("", id=f"{name}-problem", classes="problem", markup=False)
        yield Static("", id="eligibility", markup=False)
        yield Static("", id="written", markup=False)

    def on_mount(self) -> None:
        self.query_one("#contact_name", Field).focus(scroll_visible=False)
        self._check()       # the procedure's steps stay in view until the first Tab

    # --- the form ------------------------------------------------------------------------
    def request(self) -> rma.RmaRequest:
        """The form as an RmaRequest (with the operational date once recorded)."""
        values = {}
        for name in FIELD_NAMES:
            widget = self.query_one(f"#{name}")
            values[name] = widget.value
        req = rma.RmaRequest(**values)
        if self.operational_on is not None:
            req = rma.mark_operational(req, self.operational_on)
        return req

    def _check(self) -> list[tuple[str, str]]:
        """Show eligibility, and (after a first write) every problem at its field."""
        req = self.request()
        problems = rma.check(req)
        by_field: dict[str, list[str]] = {}
        for name, text in problems:
            by_field.setdefault(name, []).append(text)
        for name in FIELD_NAMES:
            box = self.query_one(f"#{name}-problem", Static)
            shown = self.tried and name in by_field
            box.update("; ".join(by_field.get(name, [])) if shown else "")
            # a problem row, once shown, stays (empty when fixed): a row that
            # came and went as the field is typed would move every field below
            if shown:
                self.problem_rows.add(name)
            box.display = name in self.problem_rows
        e = rma.eligibility(req)
        if req.model.strip() and req.failed_part:
            text = ("FRU: " if e.fru else "Whole unit: ") + e.summary + "\n" + " ".join(e.notes)
            if not e.fru and req.country.strip():
                text += " " + rma.shipping_note(req)
        else:
            text = ("FRU or whole unit: shown once the model and the failed part are filled in "
                    f"({', '.join(rma.FRU_PARTS)}: disk and power supply ship as parts).")
        self.query_one("#eligibility", Static).update(text)
        return problems

    def on_input_changed(self, event: Input.Changed) -> None:
        self._check()

    def on_choice_changed(self, event: Choice.Changed) -> None:
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    # --- actions ---------------------------------------------------------------------------
    def action_write(self) -> None:
        self.tried = True
        problems = self._check()
        if problems:
            first = next(name for name in FIELD_NAMES if name in dict(problems))
            self.query_one(f"#{first}").focus()
            self.say(f"Not written: {len(problems)} problem(s), each shown under its field.",
                     "error")
            return
        self._write(self.request())

    def _write(self, req: rma.RmaRequest) -> None:
        try:
            self.written = rma.write_request(req, state_dir() / "rma")
        except OSError as exc:
            self.say(f"The request could not be written: {exc.strerror or exc}", "error")
            return
        except BadInput as exc:         # its file's place holds a link, a device...
            self.say(f"The request was not written: {exc}", "error")
            return
        md, js = self.written
        lines = [f"Request: {md}", f"   JSON: {js}"]
        if req.return_by:
            lines.insert(0, rma.return_warning(req))
        self.query_one("#written", Static).update("\n".join(lines))
        self.say("Request written: send the Markdown file (or its text) to support.", "success")

    def action_operational(self) -> None:
        """Record today as the day the replacement went live; show the return date."""
        self.operational_on = self.today()
        req = self.request()
        text = rma.return_warning(req)
        if self.written is not None and not rma.check(req):
            self._write(req)          # the request on disk carries the dates too
            self.say(text, "success")
        else:
            self.query_one("#written", Static).update(text)
            self.say(text + " The dates go into the request when it is written.", "success")
