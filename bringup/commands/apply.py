"""``bringup apply`` and ``bringup capture``: the engine, headless.

Passwords come from prompts or the environment, never argv:
BRINGUP_PASSWORD (the appliance's current password; without it and without a
terminal, the factory password is tried only on a factory-fresh appliance: see
hwprobe/procedure/passwords.py), BRINGUP_NEW_PASSWORD (set at the forced
first-login change; asked for only when the appliance asks), BRINGUP_SMTP_PASSWORD.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bringup.headless import TerminalPrompter, say as _say, target_args, target_of
from hwprobe.procedure import argcheck
from hwprobe.constants import ENV_PASSWORD
from hwprobe.errors import BadInput, SheetInvalid
from hwprobe.fsutil import check_output
from hwprobe.procedure.session import BringupSession
from bringup.runoutput import print_result, print_step, report

APPLY_HELP = """\
Reads the appliance, compares it with the settings sheet field by field,
applies only what differs (addresses before the gateway), reads every value
back, and writes a report (Markdown and JSON). Safe to run again after an
interruption: what already landed is not applied twice.

examples:
  bringup apply --sheet site.toml --iface eth1          (finds the appliance on .1-.4)
  bringup apply --sheet site.toml --address 169.254.1.3 --iface eth1
  bringup apply --sheet site.toml --address 169.254.1.3 --dry-run
  bringup apply --sheet site.toml --console /dev/ttyUSB0      (basic settings only)

exit status: 0 done, 1 a step failed or could not be applied, 2 bad input (nothing sent),
3 needs root
"""

CAPTURE_HELP = """\
Reads a healthy appliance's /appliance settings (IP configuration, gateway,
DNS, routes, NTP, syslog, SMTP) into a settings sheet that `bringup apply`
accepts unchanged. No password is written to the sheet.
"""


def register(sub, root) -> None:
    p = sub.add_parser("apply", help="apply a settings sheet to the appliance, headless",
                       description=APPLY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--sheet", metavar="FILE", help="the settings sheet (TOML)")
    source.add_argument("--kit", metavar="DIR",
                        help="a recovery kit (`bringup kit`): its sheet, then the finish of the "
                             "site: the certificate, the site software, the /login backup")
    target_args(p)
    p.add_argument("--dry-run", action="store_true",
                   help="show the plan (the first-login password change included); "
                        "send nothing that saves")
    p.add_argument("--json", action="store_true", help="print every step as JSON")
    from bringup.commands.finish import kit_arguments

    kit_arguments(p)
    p.set_defaults(handler=run_apply)

    c = sub.add_parser("capture", help="save a healthy appliance's settings to a sheet",
                       description=CAPTURE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    target_args(c)
    c.add_argument("--out", required=True, metavar="FILE", help="where to write the sheet")
    c.add_argument("--force", dest="overwrite", action="store_true", help="overwrite an existing file")
    c.set_defaults(handler=run_capture)


# --- apply ----------------------------------------------------------------------

def run_apply(args) -> int:
    from hwprobe.procedure import passwords
    from hwprobe.settings.sheet import load_sheet

    if args.kit:
        from bringup.commands.finish import run_apply_kit

        return run_apply_kit(args)
    if args.update_file:
        raise BadInput("--update-file: only with --kit (the finish of a site)")

    settings = load_sheet(args.sheet)         # SheetInvalid: exit 2, nothing contacted
    target = target_of(args)
    target.check()
    argcheck.check_state_dir()                # exit 3 before the port is touched
    prompter = TerminalPrompter()
    # the variable is checked against the rule now; without it the new password
    # is asked once the appliance asks for it (found, logged in, nothing saved)
    new_password = passwords.new_password_from_environment(args.user)
    smtp_password = passwords.smtp_password(prompter, settings, args.dry_run)
    sheet = str(Path(args.sheet).resolve())
    session = BringupSession(target, on_note=None if args.json else _say)
    session.settings = settings           # a report of a run stopped early lists what is left
    session.keep_secret(new_password, smtp_password, os.environ.get(ENV_PASSWORD))
    run, error = None, None
    try:
        with session:
            session.find()
            session.log_in(prompter, new_password, dry_run=args.dry_run, ask_new_password=True)
            run = session.run(settings, smtp_password=smtp_password, dry_run=args.dry_run,
                              on_step=None if args.json else print_step)
    except BaseException as exc:
        error = exc
        raise
    finally:
        md = report(session, sheet, error)
    end = session.outcome()
    print_result(args, session, run, md, end)
    # done means the appliance now holds the whole sheet: a skipped step is not done
    return 0 if end.ready or (run.dry_run and run.ok) else 1


# --- capture --------------------------------------------------------------------

def run_capture(args) -> int:
    from hwprobe.procedure import passwords
    from hwprobe.settings.capture import settings_from_state
    from hwprobe.settings.sheet import load_sheet
    from hwprobe.settings.sheetwrite import write_sheet

    target = target_of(args)
    target.check()
    # a regular file or nothing, --force or not: told before the first packet
    out = check_output(args.out, overwrite=args.overwrite,
                       nothing="nothing was read from the appliance")
    # a capture changes nothing, but an appliance that forces a new password
    # opens no page before it: only a new password given in the variable is set
    new_password = passwords.new_password_from_environment(args.user)
    with BringupSession(target, on_note=_say) as session:
        session.find()
        session.log_in(TerminalPrompter(), new_password)
        state = session.read_state()
    settings = settings_from_state(state)
    write_sheet(settings, out)
    print(f"sheet written: {out} ({len(settings.ips)} address(es); link-local addresses left out)")
    if settings.smtp is None:
        print("e-mail (SMTP) is not set up on the appliance: left out of the sheet")
    try:
        load_sheet(out)
    except SheetInvalid as exc:
        # the appliance lacks a value every sheet holds (a factory box has no
        # host name): the capture itself is whole, the sheet needs filling in
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        _say("warning: the appliance does not hold every value a sheet needs (above): fill "
             "them in before `bringup apply` takes this sheet")
    return 0
