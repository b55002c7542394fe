"""The report of a run: Markdown for the technician, JSON for the ticket system.

Written next to the run journal (``state_dir()/reports/``). It holds the
appliance's model, serial and certificate fingerprint, every step with its
before and after values and timing, what was verified, and what is left for the
technician. It never holds a password: the caller passes none, and
``write_report`` refuses to write text containing any string given in
``secrets``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

from .constants import state_dir
from .fsutil import atomic_write
from .engine import FAILED, SKIPPED, UNCHANGED, VERIFIED, RunResult

NEXT_STEPS = [
    "Restore the certificates (SSL/TLS) on the appliance: outside this tool.",
    "Restore the /login interface from the site's backup file (/login > Backup/Restore).",
    "Move the appliance's cable(s) from the laptop to the production switch ports.",
    "Store the new appliance password safely (password manager or sealed envelope).",
]

MARK = {VERIFIED: "[x]", UNCHANGED: "[=]", FAILED: "[!]", SKIPPED: "[-]"}


def _fmt(value) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_fmt(v)}" for k, v in value.items() if v not in (None, ""))
    return str(value)


def build(run: RunResult, *, address: str, fingerprint: str | None, sheet: str | None,
          driver: str, cable_nic: str | None = None, notes: Iterable[str] = ()) -> dict:
    """The report as a JSON-friendly dict (no secrets are ever passed in)."""
    st = run.state_after
    return {
        "bringup_report": 1,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "appliance": {
            "address": address,
            "model": st.model if st else "",
            "serial": st.serial if st else "",
            "software_version": st.software_version if st else "",
            "certificate_sha256": fingerprint,
            "cable_in": cable_nic,
        },
        "sheet": sheet,
        "driver": driver,
        "dry_run": run.dry_run,
        "ok": run.ok,
        "seconds": round(run.finished - run.started, 3),
        "steps": [s.to_json() for s in run.steps],
        "verified": [s.key for s in run.steps if s.status == VERIFIED],
        "failed": [s.key for s in run.steps if s.status == FAILED],
        "skipped": [s.key for s in run.steps if s.status == SKIPPED],
        "left_alone_on_appliance": run.extras,
        "notes": list(run.notes) + list(notes),
        "next_steps": NEXT_STEPS,
        "journal": run.journal_path,
    }


def to_markdown(rep: dict) -> str:
    a = rep["appliance"]
    lines = [
        f"# bringup report: {a['model'] or 'appliance'} {a['serial']}".rstrip(),
        "",
        f"- written: {rep['written']}",
        f"- appliance: {a['address']} via {rep['driver']}"
        + (f", cable in {a['cable_in'].upper()}" if a.get("cable_in") else ""),
        f"- software version: {a['software_version'] or '-'}",
        f"- certificate SHA-256: {a['certificate_sha256'] or '-'}",
        f"- settings sheet: {rep['sheet'] or '-'}",
        f"- result: {'DRY RUN (nothing changed)' if rep['dry_run'] else ('done' if rep['ok'] else 'FAILED')}"
        f" in {rep['seconds']} s",
        "",
        "## Steps",
        "",
        "| | step | page | before | after | status | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in rep["steps"]:
        lines.append(
            f"| {MARK.get(s['status'], '[ ]')} | {s['title']} | {s['page']} | {_fmt(s['before'])} | "
            f"{_fmt(s['after'])} | {s['status']}{': ' + s['message'] if s['message'] and s['status'] != VERIFIED else ''} | {s['seconds']} |"
        )
    if rep["left_alone_on_appliance"]:
        lines += ["", "## On the appliance, not in the sheet (left alone)", ""]
        lines += [f"- {x}" for x in rep["left_alone_on_appliance"]]
    if rep["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in rep["notes"]]
    lines += ["", "## Next steps for the technician", ""]
    lines += [f"{i}. {n}" for i, n in enumerate(rep["next_steps"], 1)]
    return "\n".join(lines) + "\n"


def write_report(rep: dict, *, secrets: Iterable[str] = (), directory: Path | None = None
                 ) -> tuple[Path, Path]:
    """Write ``rep`` as Markdown and JSON; returns (markdown path, json path).

    Raises ValueError (and writes nothing) if any of ``secrets`` occurs in it.
    """
    directory = directory or state_dir() / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    text_json = json.dumps(rep, indent=2, default=str)
    text_md = to_markdown(rep)
    for secret in secrets:
        if secret and (secret in text_json or secret in text_md):
            raise ValueError("refusing to write a report that contains a password")
    serial = rep["appliance"].get("serial") or rep["appliance"]["address"]
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in serial)}"
    md, js = directory / f"{stem}.md", directory / f"{stem}.json"
    for path, text in ((md, text_md), (js, text_json)):
        atomic_write(path, text, mode=0o644)
    return md, js
