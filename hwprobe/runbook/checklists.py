"""The recovery runbook: paths as checklists, readiness, and the incident timeline.

The checklists are data (``runbook.toml`` beside this module). ``checklist()``
fills a path's steps with values from the settings sheet so the technician
reads them ready to type. ``readiness()`` checks a sheet is complete and recent
and lists the kit. ``Timeline`` records what was done and when, ready to paste
into a support case. No network code here.
"""
from __future__ import annotations

import datetime as dt
import json
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hwprobe.constants import state_dir
from hwprobe.fsutil import atomic_write
from hwprobe.appliance.state import Settings
from hwprobe.settings.areas import AREAS

_DATA = tomllib.loads(resources.files(__package__).joinpath("runbook.toml").read_text())
PATHS: dict = _DATA["paths"]
READINESS: dict = _DATA["readiness"]
PROCEDURE: dict = _DATA["procedure"]
FAILED: dict = _DATA["triage"]["failed"]
PATH_ORDER = ("hardware", "failover", "cold_spare", "virtual", "rma", "hosted", "saas")
# the procedure's sections the triage cites
FAILOVER, VIRTUAL, HARDWARE, HOSTED, RMA, INSTALL, SAAS = PROCEDURE["sections"]


def cite(section: str, place: str) -> str:
    """A place in the vendor's procedure, as bringup cites it (it does not
    ship the text): its title, the section's heading, and where in it."""
    return f"{PROCEDURE['title']}: {section}, {place}"


@dataclass
class ChecklistItem:
    who: str            # "tool" (bringup does it) | "tech" | "note" (a fact, no tick)
    text: str           # the procedure's step, in bringup's words
    help: str = ""      # bringup's own addition, filled from the sheet ("" if none)
    section: str = ""   # where in the procedure: its heading...
    place: str = ""     # ...and where under it ("step 3", "list 2, step 1", "paragraph 4")
    done: bool = False

    @property
    def ref(self) -> str:
        """Where the procedure says it: "Hardware Installation, list 1, step 3"."""
        return f"{self.section}, {self.place}"


@dataclass
class Checklist:
    key: str
    title: str
    summary: str
    items: list[ChecklistItem]
    skipped: list[ChecklistItem] = field(default_factory=list)   # left out by a triage answer


class _Blank(dict):
    def __missing__(self, key):
        return f"<{key}: not in the sheet>"


def sheet_values(settings: Settings | None, failover: dict | None = None) -> dict:
    """The placeholders a checklist's bringup help can use, from a sheet
    (missing ones say so)."""
    v = _Blank()
    if settings is not None:
        for area in AREAS:
            if area.placeholders is not None:
                v.update(area.placeholders(settings))
        if failover is None:
            failover = getattr(settings, "failover", None)
    failover = failover or {}
    method = failover.get("method")
    if failover.get("peer_address"):
        v["peer_address"] = failover["peer_address"]
    methods = PATHS["failover"]["methods"]
    if method in methods:
        v["failover_method_text"] = "this site (sheet): " + methods[method].format_map(v)
    else:
        v["failover_method_text"] = ("the sheet does not say how this site moves traffic "
                                     "([failover] method = shared_ip | dns | nat)")
    v["backup_password_text"] = backup_note_text(settings)
    return v


def backup_note_text(settings: Settings | None) -> str:
    """Whether the sheet records where the backup's password is kept."""
    note = (getattr(settings, "backup", None) or {}).get("note") if settings else None
    if note:
        return f"the sheet's note on the backup password: {note}"
    return "the sheet records no note on the backup password ([backup] note)"


def checklist(key: str, settings: Settings | None = None, failover: dict | None = None,
              facts: dict | None = None) -> Checklist:
    """Path ``key`` (see PATH_ORDER): the procedure's steps, in its order, each
    with bringup's help filled from the sheet. ``facts`` are triage answers
    (``snapshot``, ``cloud``: True/False/None); a step whose ``when`` fact is
    False goes to ``skipped``. KeyError for an unknown path."""
    p = PATHS[key]
    values = sheet_values(settings, failover)
    facts = facts or {}
    items, skipped = [], []
    for s in p["steps"]:
        item = ChecklistItem(s["who"], s["text"], s.get("help", "").format_map(values),
                             s["section"], s["ref"])
        (skipped if facts.get(s.get("when", "")) is False else items).append(item)
    return Checklist(key, p["title"], p["summary"], items, skipped)


def checklist_text(c: Checklist, width: int = 79) -> list[str]:
    """The checklist as ``bringup runbook PATH`` prints it, wrapped to ``width``."""
    def wrap(first: str, text: str, indent: int = 9) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=first,
                             subsequent_indent=" " * indent) or [first]

    out = [*wrap("", c.title, 0), *wrap("", c.summary, 0),
           *wrap("", f"The steps of the vendor's procedure ({PROCEDURE['title']}), in "
                 "bringup's words, each with where the procedure says it; lines marked "
                 "'bringup:' are bringup's own help.", 0)]
    n = 0
    for item in c.items:
        if item.who == "note":
            out += wrap("   note: ", item.text)
        else:
            n += 1
            who = "bringup" if item.who == "tool" else "you"
            out += wrap(f"  {n:>2}. [{who}] ", item.text)
        if item.help:
            out += wrap("         bringup: ", item.help, 18)
        out.append(f"         (procedure: {item.ref})")
    for item in c.skipped:
        out += wrap("   not for this incident: ", item.text)
    return out


# --- triage ---------------------------------------------------------------------------

QUESTIONS = {   # fact -> the question, as the console and the prompt ask it
    "failover": "Is there a failover partner (a backup appliance)?",
    "spare": "Is there a cold spare appliance?",
    "snapshot": "Is there a recent snapshot or checkpoint?",
    "contract": "Is there an active support maintenance contract?",
}
ASKED = {"hardware": ("failover", "spare", "contract"),
         "virtual": ("failover", "spare", "snapshot", "contract"),
         "hosted": ("contract",), "saas": ("contract",), "cloud": ("contract",)}


@dataclass
class TriageStep:
    path: str           # a PATH_ORDER key
    why: str            # the procedure's reason, in short
    ref: str            # where the procedure says so (section, place)


@dataclass
class Triage:
    failed: str
    answers: dict
    order: list[TriageStep]
    notes: list[str]
    facts: dict         # for checklist(): snapshot, cloud

    def answers_text(self) -> str:
        parts = [f"failed: {FAILED[self.failed]}"]
        for fact in ASKED[self.failed]:
            value = self.answers.get(fact)
            parts.append(f"{fact}: {'yes' if value else 'no' if value is False else '?'}")
        return "Triage: " + "; ".join(parts)

    def order_text(self) -> str:
        return "Triage: the procedure's order: " + ", ".join(
            f"{n}. {PATHS[s.path]['title']}" for n, s in enumerate(self.order, 1))


def missing_answers(failed: str, answers: dict) -> list[str]:
    """The facts the triage of ``failed`` still needs (in asking order)."""
    return [f for f in ASKED[failed] if answers.get(f) is None]


def triage(failed: str, answers: dict) -> Triage:
    """The path, or order of paths, the procedure prescribes for what failed
    (a FAILED key) and what the site has (``answers``: failover, spare,
    snapshot, contract as True/False). ValueError for an unknown ``failed``
    or an answer missing (see ``missing_answers``)."""
    if failed not in FAILED:
        raise ValueError(f"unknown failure {failed!r}: one of {', '.join(FAILED)}")
    missing = missing_answers(failed, answers)
    if missing:
        raise ValueError("not answered: " + ", ".join(missing))
    a = {f: bool(answers[f]) for f in ASKED[failed]}
    order: list[TriageStep] = []
    notes: list[str] = []
    facts: dict = {}
    if failed in ("hardware", "virtual"):
        if a["failover"]:
            order.append(TriageStep("failover", "the backup takes the primary role",
                                    f"{FAILOVER}, step 2"))
        elif a["spare"]:
            order.append(TriageStep("cold_spare", "restore the backups to the spare, "
                                    "then redirect the traffic", f"{FAILOVER}, paragraph 4"))
    if failed == "hardware":
        order.append(TriageStep("rma", "restore the service first, then repair with Support "
                                "or an RMA", f"{HARDWARE}, paragraph 1"))
        if not (a["failover"] or a["spare"]):
            order.append(TriageStep("hosted", "a temporary hosted site until the new "
                                    "hardware arrives", f"{HARDWARE}, paragraph 1"))
        order.append(TriageStep("hardware", "the replacement's settings, once it has arrived",
                                f"{INSTALL}, paragraph 1"))
        if not a["contract"]:
            notes.append("No maintenance contract: the procedure has new hardware shipped "
                         "under the maintenance contract ("
                         + cite(HARDWARE, "paragraph 1") + ").")
    elif failed == "virtual":
        facts["snapshot"] = a["snapshot"]
        order.append(TriageStep("virtual", "restore the recent snapshot or checkpoint first"
                                if a["snapshot"] else "redeploy from the deployment file",
                                f"{VIRTUAL}, paragraph {3 if a['snapshot'] else 5}"))
        if not a["contract"]:
            notes.append("No active maintenance contract: Support sends the deployment file "
                         "only under one; use the locally kept copy ("
                         + cite(VIRTUAL, "paragraph 4") + ").")
    else:
        facts["cloud"] = failed == "cloud"
        order.append(TriageStep("saas", "restart, check, work around, then contact Support",
                                f"{SAAS}, paragraph 2"))
        if failed == "hosted":
            notes.append("A hosted site runs on BeyondTrust's shared appliances ("
                         + PROCEDURE["title"] + ", its opening paragraph); the procedure's "
                         "SaaS steps are the ones that apply (bringup's reading: it has no "
                         "section of its own for a hosted site).")
    if failed in ("hosted", "saas", "cloud") and not a["contract"]:
        notes.append("No support contract: its last step, contacting Support, may not be "
                     "available (" + cite(SAAS, "step 4") + ").")
    return Triage(failed, a, order, notes, facts)


# --- readiness ------------------------------------------------------------------

@dataclass
class ReadinessReport:
    sheet: str
    complete: list[str]
    missing: list[str]
    age_days: float | None
    too_old: bool
    kit: list[str]
    site: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.too_old


def readiness(path: str | Path, settings: Settings, now: float | None = None) -> ReadinessReport:
    """How ready a site is for a recovery: which parts of the sheet are there,
    how old it is (by file time), and the kit and site checklist."""
    parts = {table.ready: table.ready_when(settings) for table in AREAS.tables if table.ready}
    age = ((now or time.time()) - Path(path).stat().st_mtime) / 86400
    limit = READINESS["max_sheet_age_days"]
    return ReadinessReport(str(path), [k for k, ok in parts.items() if ok],
                           [k for k, ok in parts.items() if not ok], round(age, 1),
                           age > limit, list(READINESS["kit"]), list(READINESS["site"]))


# --- incident timeline -------------------------------------------------------------

class Timeline:
    """An append-only record of what was done during an incident, on disk."""

    def __init__(self, name: str, directory: Path | None = None):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        self.path = (directory or state_dir() / "incidents") / f"{safe}.json"
        self.entries: list[dict] = []
        if self.path.exists():
            self.entries = json.loads(self.path.read_text())

    def add(self, text: str, when: dt.datetime | None = None) -> dict:
        entry = {"at": (when or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
                 "text": text}
        self.entries.append(entry)
        atomic_write(self.path, json.dumps(self.entries, indent=2), mode=0o644)
        return entry

    def to_text(self, title: str = "Incident timeline") -> str:
        """Plain text, ready to paste into a support case."""
        lines = [title, "=" * len(title)]
        lines += [f"{e['at']}  {e['text']}" for e in self.entries]
        return "\n".join(lines) + "\n"
