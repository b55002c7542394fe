"""What a run came to, in the words every face uses: the console's Done
headline, the report's first line and ``bringup apply``'s last line.

``outcome(result, ...)`` returns an ``Outcome``: its ``kind`` ("ready",
"failed", "stopped" or "dry run") and ``headline``; only "ready" (every
change applied and read back, or nothing to change, and with a recovery kit
every finish step done: the certificate, the site software, the /login
backup) says the appliance is ready for its cables to move. A failed run
names each change or finish step not done, why, and what to do (run again,
or do it by hand on which page); a stopped run lists what was done (the
first-login password change and the finish steps included), what was in
flight, what is left, and says that running again resumes.

Pure: no I/O, never raises. The values in the lines are the caller's to
escape (``safetext``): they quote the appliance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hwprobe.procedure.engine import FAILED, SKIPPED, UNCHANGED, VERIFIED, RunResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.procedure.finish.run import FinishResult

READY, NOT_APPLIED, STOPPED, DRY_RUN = "ready", "failed", "stopped", "dry run"
RESUMES = "running again resumes"
HOW_IT_RESUMES = ("Run it again to finish: it resumes where this run stopped (what already "
                  "landed is read back, not applied twice; only what is missing is sent).")
PASSWORD_CHANGE = "the first-login password change"
# a finish step's statuses (hwprobe/procedure/finish/steps.py), by what they
# mean here: landed; at work when the run stopped
FINISH_DONE, FINISH_IN_FLIGHT = ("done", "already"), ("running", "stopped")


@dataclass
class Outcome:
    kind: str
    headline: str
    done: list[str] = field(default_factory=list)          # landed (read back)
    not_applied: list[tuple[str, str, str]] = field(default_factory=list)  # title, why, page
    in_flight: list[str] = field(default_factory=list)     # sent when the run stopped
    left: list[str] = field(default_factory=list)          # not sent
    advice: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.kind == READY

    def lines(self) -> list[str]:
        """The headline, then what it rests on, one line each."""
        out = [self.headline]
        if self.kind == STOPPED:
            out.append("Done: " + ("; ".join(self.done) if self.done else "nothing"))
            if self.in_flight:
                out.append("In flight when it stopped (read back by the next run): "
                           + "; ".join(self.in_flight))
            out.append("Left: " + ("; ".join(self.left) if self.left else "nothing"))
        else:
            for title, why, page in self.not_applied:
                out.append(f"NOT applied: {title} ({why}) - on {page}")
        out += self.advice
        return out


def outcome(result: RunResult | None, *, stopped: str | None = None,
            why: str | None = None, password_change: str | None = None,
            wanted: list[str] | None = None,
            finish: "FinishResult | None" = None) -> Outcome:
    """What ``result`` came to.

    ``stopped``: the stage a run that did not reach its end stopped in (None:
    it did), ``why`` what stopped it; ``password_change``: "done" (made in
    this run), "sending" (in flight when it stopped), "pending" (a dry run
    left it) or None; ``wanted``: the sheet's changes by title, for a run
    that stopped before its plan was made (all of them are then left);
    ``finish``: the finish steps of a run with a recovery kit (None: no
    kit), each counted as a change is: done, in flight, left or not done."""
    steps = result.steps if result is not None else []
    fsteps = finish.steps if finish is not None else []
    done = [PASSWORD_CHANGE] if password_change == "done" else []
    done += [s.title for s in steps if s.status == VERIFIED]
    done += [s.title for s in fsteps if s.status in FINISH_DONE]
    in_flight = [PASSWORD_CHANGE] if password_change == "sending" else []
    in_flight += [s.title for s in steps if s.key in getattr(result, "in_flight", ())]
    in_flight += [s.title for s in fsteps if s.status in FINISH_IN_FLIGHT]
    changes = [s for s in steps if s.changed]
    finishing = f" and finish the site ({len(fsteps)} step(s))" if fsteps else ""
    if result is not None and result.dry_run and stopped is None:
        first = f"{PASSWORD_CHANGE} and " if password_change == "pending" else ""
        return Outcome(DRY_RUN, f"DRY RUN: nothing was changed; a run would make {first}"
                                f"{len(changes)} change(s){finishing}")
    if stopped is not None or getattr(result, "stopped", False) or (
            finish is not None and finish.stopped):
        where = stopped or ("finishing the site" if finish is not None and finish.stopped
                            else "applying")
        cause = (f" ({why})" if why else
                 " (asked to stop after the step in flight)" if stopped is None else "")
        if result is None:
            left = list(wanted or []) or ["every change the sheet asks (not compared yet)"]
        else:
            left = [s.title for s in changes
                    if s.status not in (VERIFIED, UNCHANGED) and s.title not in in_flight]
        left += [s.title for s in fsteps if s.undone and s.status not in FINISH_IN_FLIGHT]
        return Outcome(STOPPED, f"STOPPED while {where}{cause}: not ready for the cables; "
                                f"{len(done)} done, {len(in_flight)} in flight, {len(left)} left"
                                f" - {RESUMES}",
                       done=done, in_flight=in_flight, left=left, advice=[HOW_IT_RESUMES])
    missing = [s for s in changes if s.status in (FAILED, SKIPPED)]
    unfinished = [s for s in fsteps if s.undone]
    if not missing and not unfinished:
        said = (f"every change applied and read back ({len(changes)} of {len(changes)})"
                if changes else "the appliance already matched the sheet")
        if fsteps:
            landed = sum(s.status in FINISH_DONE for s in fsteps)
            said += (f" and the site finished ({landed} of {len(fsteps)} finish step(s) done"
                     + (", the rest not needed here)" if landed < len(fsteps) else ")"))
        return Outcome(READY, f"READY: {said}; the appliance is ready for its cables to move "
                              f"to the production switch", done=done)
    not_applied = [(s.title, s.message or s.status, s.page) for s in missing]
    not_applied += [(f"finish step {s.title}", s.message or s.status, s.page)
                    for s in unfinished]
    what = []
    if missing:
        what.append(f"{len(missing)} of {len(changes)} change(s) NOT applied "
                    f"({_named(missing)})")
    if unfinished:
        what.append(f"{len(unfinished)} of {len(fsteps)} finish step(s) NOT done "
                    f"({_named(unfinished)})")
    pages = ", ".join(dict.fromkeys([*(s.page for s in missing),
                                     *(s.page for s in unfinished)]))
    return Outcome(NOT_APPLIED, f"NOT READY: {'; '.join(what)}: leave the cables where they "
                                f"are", done=done, not_applied=not_applied,
                   advice=[f"What to do: run it again once the cause is fixed (what landed is "
                           f"not applied twice), or {'do' if unfinished else 'set'} it by hand "
                           f"on the appliance's web interface, {pages}, then verify."])


def _named(steps: list) -> str:
    """The first two steps' titles, and how many more."""
    return "; ".join(s.title for s in steps[:2]) + (
        f"; and {len(steps) - 2} more" if len(steps) > 2 else "")
