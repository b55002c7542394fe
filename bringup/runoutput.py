"""What a headless run prints and writes as it ends (``bringup apply``, with
a sheet or a kit): each network step as it ends, the result, the report
(also for a run that stopped early), and each step as JSON."""
from __future__ import annotations

import json
from pathlib import Path

from bringup.headless import say as _say
from hwprobe.errors import BringupError, Stopped
from hwprobe.safetext import nic_name, shown
from hwprobe.settings.wording import step_change

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.procedure.session import BringupSession


def report(session: BringupSession, sheet: str, error: BaseException | None, *,
           kit: str | None = None) -> Path | None:
    """Write the run's report, also when it ended early; never raises. A run
    that ended early says where it stopped, what landed and what is left
    before the line naming the report."""
    if isinstance(error, SystemExit) and not isinstance(error, Stopped):
        error = BringupError("stopped")
    try:
        md, _ = session.write_report(sheet=sheet, error=error, kit=kit)
    except OSError as exc:
        _say(f"could not write the report ({exc.strerror or exc}); here it is:")
        try:
            print(session.unwritten_report or "", flush=True)   # already safe text
        except OSError:
            pass
        return None
    if error is not None:
        # where it stopped, what landed and what is left, before the one line of why
        for line in session.outcome(error).lines()[1:]:
            _say(line)
        _say(f"report (the run stopped while {session.stage}): {md}")
    return md


def print_result(args, session: BringupSession, run, md: Path | None, end=None, *,
                 headline: bool = True) -> None:
    """What the run did, then (the last line) its outcome (``end``, the
    session's by default): READY only when every change was applied and
    read back (and with a kit, every finish step done). ``headline=False``:
    the caller prints the outcome last, after what it prints itself."""
    end = end if end is not None else session.outcome()
    notes = list(session.notes)
    nic = session.cable_nic()
    if nic:
        notes.append(f"your cable is in {nic_name(nic)}")
    pending = bool(session.login_outcome and session.login_outcome.change_pending)
    if args.json:
        print(json.dumps({"ok": end.ready or (run.dry_run and run.ok), "outcome": end.kind,
                          "headline": end.headline, "dry_run": run.dry_run, "report": str(md),
                          "password_change_pending": pending,
                          "steps": [step_json(s) for s in run.steps],
                          "left_alone": run.extras, "notes": notes}, indent=2))
        return
    changed = [s for s in run.steps if s.changed]
    if args.dry_run:
        first = "the first-login password change and " if pending else ""
        print(f"dry run: {first}{len(changed)} change(s) would be applied; nothing was saved")
        for s in changed:
            print(f"  would: {shown(step_change(s))}")
    elif not changed:
        print("nothing to change: the appliance already matches the sheet")
    else:
        print(f"{len(run.applied)} of {len(changed)} change(s) applied and read back")
    for line in end.lines()[1:]:          # what was not applied, why, where; what to do
        print(shown(line))
    if nic:
        print(f"note: your cable is in {shown(nic_name(nic))}")
    print(f"report: {md}")
    if headline:
        print(shown(end.headline))


def step_json(step) -> dict:
    return {"key": step.key, "title": step.title, "page": step.page, "before": step.before,
            "after": step.after, "changed": step.changed, "status": step.status,
            "message": step.message, "seconds": step.seconds}


def print_step(step) -> None:
    if step.status in ("pending", "applying"):
        return
    mark = {"verified": "done", "unchanged": "same", "failed": "FAIL", "skipped": "skip"}.get(
        step.status, step.status)
    msg = f"  ({shown(step.message)})" if step.message and step.status != "verified" else ""
    print(f"[{mark:>4}] {shown(step_change(step))}{msg}", flush=True)
