"""``bringup apply --kit DIR`` (the network settings, then the finish of the
site, as one run) and ``bringup restore-login`` (the /login backup alone,
on a hosted site or a spare), headless.

The procedure is the core's (BringupSession.run, then .finish:
hwprobe/procedure/finish/); this module reads the flags, takes the secrets
from the environment or the terminal, draws progress on a terminal and says
what was done, skipped and why, or failed and where.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bringup.headless import TerminalPrompter, say as _say, target_of
from hwprobe.constants import ENV_LOGIN_PASSWORD, ENV_PASSWORD, RESTART_DEADLINE
from hwprobe.errors import BadInput
from hwprobe.procedure.finish.run import progress_line
from hwprobe.safetext import shown

MARK = {"done": "done", "already": "same", "skipped": "skip", "failed": "FAIL", "would": "would",
        "stopped": "STOP"}

RESTORE_LOGIN_HELP = """\
Uploads the kit's /login backup (NSB) to a site's /login, Management >
Software Management > Restore Settings, with its backup password, waits for
/login to restart and proves it: an API account that only the backup holds
gets an OAuth token and check_health answers. For a temporary hosted site
(with the /login credentials Support sent), or a spare whose /appliance
is already set up. On the replacement itself, `bringup apply --kit` does
this as the last step of the finish.

Secrets come from the environment or a prompt, never the command line:
  BRINGUP_LOGIN_PASSWORD            /login's password (the credentials Support sent)
  BRINGUP_BACKUP_PASSWORD           the backup's password
  BRINGUP_API_CLIENT_ID, BRINGUP_API_SECRET
                                    an API account the backup holds (the proof)

examples:
  bringup restore-login --address 203.0.113.80 --kit kit-2026-12 --user admin

exit status: 0 restored and proven, 1 refused or failed (the appliance says
which; nothing restored), 2 bad input (nothing sent)
"""


def register(sub, root) -> None:
    p = sub.add_parser("restore-login", help="upload a kit's /login backup to a site's /login "
                                             "(a hosted site, a spare)",
                       description=RESTORE_LOGIN_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", required=True, metavar="A", help="the site's address")
    p.add_argument("--kit", required=True, metavar="DIR", help="the recovery kit's folder")
    p.add_argument("--user", default="admin", help="/login user (default admin)")
    p.add_argument("--restart-deadline", type=float, default=RESTART_DEADLINE / 60,
                   metavar="MIN", help="how long to wait for /login to come back (minutes)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run_restore_login)


def kit_arguments(p) -> None:
    """``apply``'s flags for a kit."""
    p.add_argument("--restart-deadline", type=float, default=RESTART_DEADLINE / 60,
                   metavar="MIN", help="with --kit: how long to wait for the appliance to come "
                   f"back after installing the site software (default {RESTART_DEADLINE / 60:.0f} "
                   "minutes; a real install takes 15 to 60)")
    p.add_argument("--update-file", metavar="FILE",
                   help="with --kit: the site's update file, when the kit has none (or another)")


class Progress:
    """One line on a terminal (stderr) for uploads (bytes, rate, time left)
    and restarts (minutes waited against the deadline); nothing elsewhere."""

    def __init__(self, stream=None):
        raw = stream or sys.stderr
        self.stream = getattr(raw, "_stream", raw)
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self._what, self._started, self._last = "", 0.0, 0.0

    def __call__(self, progress) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if progress.what != self._what:
            self._what, self._started = progress.what, now
        total, done = progress.total, progress.done
        if now - self._last < 0.25 and not (total and done >= total):
            return
        self._last = now
        rate = (progress.done / max(now - self._started, 1e-3)
                if progress.unit == "bytes" and now > self._started else None)
        line = f"{progress.what}: {progress_line(progress, rate)}"
        self.stream.write("\r" + line[:79].ljust(79))
        if total and done >= total:
            self.stream.write("\n")
        self.stream.flush()


def print_finish_step(step) -> None:
    if step.status in ("pending", "running"):
        return
    print(f"[{MARK.get(step.status, step.status):>4}] {step.title}: {shown(step.message)}",
          flush=True)


def prepare(args, prompter, *, certificate: bool = True, login_password: str | None = None):
    """(the kit's inputs, the secrets, the settings), every check made before
    anything is contacted. BadInput (exit 2), KitIncomplete (exit 1)."""
    from hwprobe.procedure.finish.inputs import finish_secrets, read_inputs
    from hwprobe.settings.kit import read_kit
    from hwprobe.settings.sheet import load_sheet

    kit = read_kit(args.kit)
    sheet = kit.path("sheet")
    settings = load_sheet(sheet)                # SheetInvalid: exit 2
    if args.restart_deadline <= 0:
        raise BadInput(f"--restart-deadline {args.restart_deadline:g}: give minutes, more than 0")
    secrets = finish_secrets(prompter, kit, need_certificate=certificate,
                             login_password=login_password)
    inputs = read_inputs(kit.folder, secrets.certificate_passphrase,
                         sheet_hostname=settings.hostname, certificate=certificate,
                         update_file=getattr(args, "update_file", None))
    return inputs, secrets, settings


def run_apply_kit(args) -> int:
    """``bringup apply --kit DIR``: the network settings of the kit's sheet,
    then the finish, one run, one journal, one report."""
    from hwprobe.procedure import argcheck, passwords
    from hwprobe.procedure.finish.run import not_tried, resume_pending
    from hwprobe.procedure.session import BringupSession

    from bringup.runoutput import print_result, print_step, report, step_json

    target = target_of(args)
    if target.console:
        raise BadInput("--console: the finish needs the web interface (certificates, updates, "
                       "/login); give the appliance's --address or --iface")
    target.check()
    argcheck.check_state_dir()
    prompter = TerminalPrompter()
    inputs, secrets, settings = prepare(args, prompter)
    new_password = passwords.new_password(prompter, args.user)
    smtp_password = passwords.smtp_password(prompter, settings, args.dry_run)
    deadline = args.restart_deadline * 60
    bar = Progress()
    session = BringupSession(target, on_note=None if args.json else _say)
    session.settings = settings           # a report of a run stopped early lists what is left
    session.kit = str(inputs.folder)      # ...the finish steps too, until they ran
    session.keep_secret(new_password, smtp_password, os.environ.get(ENV_PASSWORD),
                        *secrets.values())
    run, error = None, None
    try:
        with session:
            session.find()
            resume_pending(session, restart_deadline=deadline, on_progress=bar)
            session.log_in(prompter, new_password, dry_run=args.dry_run)
            run = session.run(settings, smtp_password=smtp_password, dry_run=args.dry_run,
                              on_step=None if args.json else print_step)
            if args.dry_run or (run.ok and not any(s.status == "skipped" for s in run.steps)):
                session.finish(inputs, secrets, dry_run=args.dry_run, restart_deadline=deadline,
                               on_step=None if args.json else print_finish_step,
                               on_progress=bar)
            else:
                session.finish_result = not_tried(
                    "not tried: the network settings did not all land (see above)")
                if not args.json:
                    for step in session.finish_result.steps:
                        print_finish_step(step)
    except BaseException as exc:
        error = exc
        raise
    finally:
        md = report(session, str(inputs.kit.path("sheet")), error, kit=str(inputs.folder))
    finish = session.finish_result
    # READY only when every change was read back and every finish step done
    end = session.outcome()
    ok = end.ready or (run.dry_run and run.ok and finish is not None and finish.ok)
    if args.json:
        print(json.dumps({"ok": ok, "outcome": end.kind, "headline": end.headline,
                          "dry_run": run.dry_run, "report": str(md),
                          "steps": [step_json(s) for s in run.steps],
                          "finish": finish.to_json() if finish is not None else None,
                          "notes": list(session.notes)}, indent=2))
    else:
        print_result(args, session, run, md, end, headline=False)
        _print_finish(session, args, inputs)
        print(shown(end.headline))        # the last line: the run's outcome
    return 0 if ok else 1


def _print_finish(session, args, inputs) -> None:
    finish = session.finish_result
    if finish is None:
        return
    if finish.dry_run:
        print("dry run: the finish would, step by step (nothing was sent):")
        for step in finish.steps:
            print(f"  {step.title}: {shown(step.message)}")
        return
    done = [s for s in finish.steps if s.status in ("done", "already")]
    print(f"finish: {len(done)} of {len(finish.steps)} step(s) done"
          + ("" if finish.ok else " - see FAIL above and the report"))
    for step in finish.steps:
        if step.key == "login_backup" and step.status == "skipped" and step.detail \
                and inputs.pair_backup:
            print("the failover steps, instead of the /login backup:")
            for line in step.detail:
                print(f"  {shown(line)}")
    settings_ips = [s.after["address"] for s in (session.run_result.steps
                                                  if session.run_result else [])
                    if s.area == "ip" and isinstance(s.after, dict)]
    where = settings_ips[0] if settings_ips else "ADDRESS"
    print(f"after the cables move: bringup verify --address {where} --sheet "
          f"{inputs.kit.path('sheet')}")


def run_restore_login(args) -> int:
    """``bringup restore-login``: the /login backup step alone, on a site
    reached at ``--address`` (its certificate trusted on first use and kept,
    as for every appliance bringup meets)."""
    from hwprobe.procedure.finish.run import run_finish
    from hwprobe.procedure.session import BringupSession, Target

    target = Target(address=args.address)
    target.check()
    prompter = TerminalPrompter()
    password = os.environ.get(ENV_LOGIN_PASSWORD) or prompter.secret(
        f"/login password of {args.user} (the credentials Support sent)? ")
    if not password:
        raise BadInput(f"{ENV_LOGIN_PASSWORD} is not set and there is no terminal to ask: give "
                       "/login's password in it; nothing was contacted")
    inputs, secrets, _ = prepare(args, prompter, certificate=False, login_password=password)
    secrets.login_user = args.user
    session = BringupSession(target, on_note=None if args.json else _say)
    session.keep_secret(*secrets.values())
    with session:
        session.trust_on_first_use()
        result = run_finish(session, inputs, secrets, only=("login_backup",),
                            hostname_check=False, restart_deadline=args.restart_deadline * 60,
                            on_step=None if args.json else print_finish_step,
                            on_progress=Progress())
    step = result.steps[0]
    if args.json:
        print(json.dumps({"ok": result.ok, "step": step.to_json()}, indent=2))
    return 0 if result.ok and step.status in ("done", "already") else 1
