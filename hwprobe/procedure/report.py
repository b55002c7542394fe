"""The report of a run: Markdown for the technician, JSON for the ticket system.

Written next to the run journal (``state_dir()/reports/``). It holds the
appliance's model, serial and certificate fingerprint, every step with its
before and after values and timing, what was verified, and what is left for the
technician. A run that ended early has one too, saying where it stopped and
why. Its first line is the run's outcome (hwprobe/procedure/outcome.py: the
words of the console's Done headline and ``apply``'s last line): only a run
that applied and read back every change says the appliance is ready for its
cables; a failed one names what was not applied, why, and on which page; a
stopped one lists what was done (the password change included), what was in
flight and what is left, and says that running again resumes. It never
holds a password: the caller passes none, and ``write_report``
masks any string given in ``secrets`` that still made its way in (an
appliance's error echoing it, say) instead of refusing the whole report; the
factory password is a public word and is not masked.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterable

from hwprobe.settings.areas import AREAS
from hwprobe.constants import FACTORY_PASSWORD, state_dir
from hwprobe.fsutil import atomic_write
from hwprobe.safetext import markdown, nic_name, shown
from hwprobe.procedure.engine import FAILED, SKIPPED, VERIFIED, RunResult
from hwprobe.procedure.outcome import DRY_RUN, Outcome, outcome
from hwprobe.settings.wording import MARK      # the marks the console's Done screen uses too

NEXT_STEPS = [
    "Restore the site's certificate (/appliance > Security > Certificates, Import), or let "
    "a recovery kit do it with the site software and /login: `bringup apply --kit DIR`, or "
    "the console's Site step.",
    "Restore /login from the site's backup file (/login > Management > Software Management "
    "> Restore Settings), unless a kit's finish did.",
    "Move the appliance's cable(s) from the laptop to the production switch ports.",
    "Store the new appliance password safely (password manager or sealed envelope).",
]
# what the finish of a site (a recovery kit) leaves to the technician
FINISHED_NEXT_STEPS = NEXT_STEPS[2:] + [
    "After the cables move: `bringup verify` proves each restored service from the appliance.",
]
FINISH_MARK = {"done": "[x]", "already": "[=]", "skipped": "[-]", "failed": "[!]",
               "would": "[ ]", "pending": "[ ]", "running": "[>]", "stopped": "[>]"}


def next_steps(end: Outcome | None = None, finish: dict | None = None) -> list[str]:
    """What the technician does next. Without a finish, the certificates and
    /login too; after one, what it could not do and the rest. Once the run
    is ready for the cables (``end``), that list; else first what the
    outcome advises, and no word of moving the cables until a run says READY."""
    if finish is None:
        todo = list(NEXT_STEPS)
    else:
        left = [f"{s['title']}: {s['status']} - {s['message']}" for s in finish["steps"]
                if s["status"] in ("failed", "pending", "running", "stopped")
                or (s["status"] == "skipped" and s["message"].startswith("not tried"))]
        told = end is not None and not end.ready    # the outcome names each step not done
        todo = ([] if told else [f"Finish {x}" for x in left]) + list(FINISHED_NEXT_STEPS)
    if end is None or end.ready:
        return todo
    return [*end.advice, *(x for x in todo if "cable" not in x),
            "Move the appliance's cables only once a run says READY."]


def _words(step: dict, side: str) -> str:
    """A step's before or after value in the words of its settings area, as a
    Markdown table cell: outside text escaped (no markup, pipe or control)."""
    return markdown(AREAS.describe(step.get("area", ""), step[side]))


MASK = "********"


def build(run: RunResult | None, *, address: str, fingerprint: str | None, sheet: str | None,
          driver: str, macs: Iterable[str] = (), cable_nic: str | None = None,
          notes: Iterable[str] = (),
          stopped: str | None = None, error: str | None = None,
          password_change: str | None = None, wanted: list[str] | None = None,
          finish=None, kit: str | None = None,
          factory_fresh: bool | None = None, capture: str | None = None) -> dict:
    """The report as a JSON-friendly dict (no secrets are ever passed in).

    ``run`` is None when the run ended before its plan was made; ``stopped``
    names the stage it ended in and ``error`` why (None: it ran to its end);
    ``password_change`` what this run did of the first-login change ("done",
    "sending", "pending" or None); ``wanted`` the sheet's changes by title
    (what is left when it stopped before its plan). ``finish`` (a
    FinishResult) and ``kit`` (its folder): the finish of a site, each step
    done, skipped and why, or failed and where. ``factory_fresh`` False: the
    appliance was reached on an address that is not a factory one;
    ``capture``: the pcap a silent search left for Support."""
    st = run.state_after if run else None
    steps = run.steps if run else []
    end = outcome(run, stopped=stopped, why=error, password_change=password_change,
                  wanted=wanted, finish=finish)
    finished = None if finish is None else {
        "kit": kit, "ok": finish.ok, "dry_run": finish.dry_run,
        "steps": finish.to_json(), "notes": list(finish.notes)}
    return {
        "headline": end.headline,
        "outcome": end.kind,
        "done": end.done,
        "in_flight": end.in_flight,
        "left": end.left,
        "not_applied": [{"title": t, "why": w, "page": pg} for t, w, pg in end.not_applied],
        "result_lines": end.lines(),
        "bringup_report": 1,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "appliance": {
            "address": address,
            "model": st.model if st else "",
            "serial": st.serial if st else "",
            "software_version": st.software_version if st else "",
            "certificate_sha256": fingerprint,
            "macs": list(macs),         # what identifies it (verify finds this report by it)
            "cable_in": cable_nic,
            "factory_fresh": factory_fresh,
        },
        "capture": capture,
        "sheet": sheet,
        "driver": driver,
        "dry_run": bool(run and run.dry_run),
        "ok": end.ready or (end.kind == DRY_RUN and bool(run and run.ok)
                            and (finish is None or finish.ok)),
        "stopped": stopped,
        "error": error,
        "password_change_pending": password_change == "pending",
        "password_change": password_change,
        "seconds": round(run.finished - run.started, 3) if run else 0.0,
        "steps": [s.to_json() for s in steps],
        "verified": [s.key for s in steps if s.status == VERIFIED],
        "failed": [s.key for s in steps if s.status == FAILED],
        "skipped": [s.key for s in steps if s.status == SKIPPED],
        "left_alone_on_appliance": run.extras if run else [],
        "notes": (list(run.notes) if run else []) + list(notes),
        "finish": finished,
        "next_steps": next_steps(end, finished),
        "journal": run.journal_path if run else None,
    }


def _result(rep: dict) -> str:
    if rep.get("stopped"):
        why = f": {markdown(rep['error'])}" if rep.get("error") else ""
        return f"STOPPED while {markdown(rep['stopped'])}{why}"
    if rep["dry_run"]:
        pending = (" - the first-login password change is pending"
                   if rep.get("password_change_pending") else "")
        return f"DRY RUN (nothing changed{pending})"
    return "done" if rep["ok"] else "FAILED"


def to_markdown(rep: dict) -> str:
    """The report in Markdown. Everything that came from outside (the
    appliance, the sheet, an error text) is written as data: control
    characters escaped, Markdown punctuation escaped (``safetext.markdown``)."""
    a = rep["appliance"]
    m = markdown
    lines = [
        f"# {m(rep['headline'])}" if rep.get("headline") else "# bringup report",
        "",
        f"bringup report: {m(a['model']) or 'appliance'} {m(a['serial'])}".rstrip(),
        "",
        *[f"- {m(line)}" for line in rep.get("result_lines", [])[1:]],
        "",
        f"- written: {rep['written']}",
        f"- appliance: {m(a['address'])} via {m(rep['driver'])}"
        + (f", cable in {m(nic_name(a['cable_in']))}" if a.get("cable_in") else ""),
        f"- software version: {m(a['software_version']) or '-'}",
        f"- certificate SHA-256: {m(a['certificate_sha256'] or '-')}",
        *([f"- factory-fresh: no, it answered on {m(a['address'])}, not on a factory "
           f"address (it held an earlier site's address)"]
          if a.get("factory_fresh") is False else []),
        *([f"- capture for Support (pcap): {m(rep['capture'])}"] if rep.get("capture") else []),
        f"- settings sheet: {m(rep['sheet'] or '-')}",
        f"- result: {_result(rep)} in {rep['seconds']} s",
        "",
        "## Steps",
        "",
        "| | step | page | before | after | status | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in rep["steps"]:
        why = f": {s['message']}" if s["message"] and s["status"] != VERIFIED else ""
        lines.append(
            f"| {MARK.get(s['status'], '[ ]')} | {m(s['title'])} | {m(s['page'])} | "
            f"{_words(s, 'before')} | {_words(s, 'after')} | {m(s['status'] + why)} | "
            f"{s['seconds']} |")
    if rep.get("finish"):
        f = rep["finish"]
        lines += ["", f"## Finish of the site (kit {m(f['kit'] or '-')})", "",
                  "| | step | where | status | what was done, or why not | s |",
                  "|---|---|---|---|---|---|"]
        for s in f["steps"]:
            lines.append(f"| {FINISH_MARK.get(s['status'], '[ ]')} | {m(s['title'])} | "
                         f"{m(s['page'])} | {m(s['status'])} | {m(s['message'])} | "
                         f"{s['seconds']} |")
        for s in f["steps"]:
            if s["detail"]:
                lines += ["", f"{m(s['title'])}:", ""] + [f"- {m(d)}" for d in s["detail"]]
    if rep["left_alone_on_appliance"]:
        lines += ["", "## On the appliance, not in the sheet (left alone)", ""]
        lines += [f"- {m(x)}" for x in rep["left_alone_on_appliance"]]
    if rep["notes"]:
        lines += ["", "## Notes", ""] + [f"- {m(n)}" for n in rep["notes"]]
    lines += ["", "## Next steps for the technician", ""]
    lines += [f"{i}. {n}" for i, n in enumerate(rep["next_steps"], 1)]
    return "\n".join(lines) + "\n"


def write_report(rep: dict, *, secrets: Iterable[str] = (), directory: Path | None = None
                 ) -> tuple[Path, Path]:
    """Write ``rep`` as Markdown and JSON; returns (markdown path, json path).

    Any of ``secrets`` found in the text is masked (never written; the
    factory password, a public word, is left as it is). Two reports never
    share a name: the stem is claimed atomically, with -2, -3... when taken.
    Raises OSError when the directory cannot be written."""
    directory = directory or state_dir() / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    text_md, text_json = render(rep, secrets)
    serial = rep["appliance"].get("serial") or rep["appliance"]["address"]
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in serial)}"
    md = _claim(directory, stem)
    js = md.with_suffix(".json")
    try:
        for path, text in ((md, text_md), (js, text_json)):
            atomic_write(path, text, mode=0o644)
    except OSError:
        # a full disk: no empty report left behind to be taken for the real one
        for path in (md, js):
            try:
                if not path.stat().st_size:
                    path.unlink()
            except OSError:
                pass
        raise
    return md, js


def render(rep: dict, secrets: Iterable[str] = ()) -> tuple[str, str]:
    """The report as (Markdown, JSON) text, every one of ``secrets`` masked
    (the factory password, a public word, is left as it is). Never raises."""
    text_json = json.dumps(rep, indent=2, default=str)
    text_md = to_markdown(rep)
    # longest first: a secret that contains another is masked whole; in the
    # Markdown also as it reads once escaped (a "!" or "(" in it)
    for secret in sorted({s for s in secrets if s and s != FACTORY_PASSWORD}, key=len,
                         reverse=True):
        text_json = text_json.replace(json.dumps(secret)[1:-1], MASK).replace(secret, MASK)
        for form in (markdown(secret), shown(secret), secret):
            text_md = text_md.replace(form, MASK)
    return text_md, text_json


def _claim(directory: Path, stem: str) -> Path:
    """A new ``STEM[-N].md`` in ``directory``, created empty so that a run
    writing at the same second takes the next name."""
    for n in range(1, 1000):
        path = directory / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            continue
    raise OSError(f"{directory}: too many reports named {stem}")
