"""``bringup apply`` and ``bringup capture``: the engine, headless.

Passwords come from prompts or the environment, never argv:
BRINGUP_PASSWORD (the appliance's current password; without it and without a
terminal, the factory password is tried once), BRINGUP_NEW_PASSWORD (set at the
forced first-login change), BRINGUP_SMTP_PASSWORD.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from bringup import runlog
from hwprobe.procedure import argcheck
from hwprobe.appliance import password_rule
from hwprobe.constants import (ENV_NEW_PASSWORD, ENV_PASSWORD, ENV_SMTP_PASSWORD, FACTORY_PASSWORD,
                         FACTORY_USER, LAPTOP_ADDRESS)
from hwprobe.errors import (BadInput, BringupError, LoginFailed, PasswordRefused, ProbeTimeout,
                            SheetInvalid)
from hwprobe.safetext import shown
from hwprobe.procedure.session import BringupSession, Target
from hwprobe.settings.wording import step_change

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
    p.add_argument("--sheet", required=True, metavar="FILE", help="the settings sheet (TOML)")
    _target_args(p)
    p.add_argument("--dry-run", action="store_true",
                   help="show the plan (the first-login password change included); "
                        "send nothing that saves")
    p.add_argument("--json", action="store_true", help="print every step as JSON")
    p.set_defaults(handler=run_apply)

    c = sub.add_parser("capture", help="save a healthy appliance's settings to a sheet",
                       description=CAPTURE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target_args(c)
    c.add_argument("--out", required=True, metavar="FILE", help="where to write the sheet")
    c.add_argument("--force", dest="overwrite", action="store_true", help="overwrite an existing file")
    c.set_defaults(handler=run_capture)


def _target_args(p) -> None:
    p.add_argument("--address", metavar="A",
                   help="the appliance's address (e.g. 169.254.1.3); with --iface it may be "
                        "left out: the factory addresses 169.254.1.1-.4 are searched and the "
                        "one that answers is used")
    p.add_argument("--iface", metavar="IF", type=argcheck.iface,
                   help="take over this laptop port for the run (and check addresses on the wire)")
    p.add_argument("--laptop-address", default=LAPTOP_ADDRESS, metavar="A", type=argcheck.laptop_address,
                   help=f"the laptop port's address with --iface (default {LAPTOP_ADDRESS})")
    p.add_argument("--force-port", action="store_true",
                   help="allow --iface on a port with the default route or a global address")
    p.add_argument("--console", metavar="DEV",
                   help="use the appliance's local console instead of the web (device, rfc2217:// or socket://)")
    p.add_argument("--baud", type=argcheck.baud, default=115200,
                   help="console speed (default 115200, 8N1)")
    p.add_argument("--flow", choices=("none", "rtscts", "xonxoff"), default="none",
                   help="console flow control (default none; rtscts: hardware, xonxoff: software)")
    p.add_argument("--user", default=FACTORY_USER, help="appliance user (default admin)")
    p.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    p.add_argument("--trust-new-certificate", action="store_true",
                   help="accept a certificate different from the one pinned on first use")


# --- inputs -------------------------------------------------------------------

def target_of(args, *, handle_signals: bool = True) -> Target:
    """The session's target from the command line (checked later by Target.check)."""
    return Target(iface=args.iface, laptop_address=args.laptop_address,
                  force_port=args.force_port, address=args.address, console=args.console,
                  baud=args.baud, flow=args.flow, https_port=args.https_port, user=args.user,
                  trust_new_certificate=args.trust_new_certificate,
                  handle_signals=handle_signals)


def _say(text: str) -> None:
    runlog.say(text)      # stderr unless -q, and the run log; never raises


def _new_password(user: str) -> str | None:
    value = os.environ.get(ENV_NEW_PASSWORD)
    if not value and sys.stdin.isatty():
        value = getpass.getpass("New appliance password (if the appliance asks for one): ")
        if value:
            again = getpass.getpass("New appliance password again: ")
            if value != again:
                raise BadInput("the two new passwords differ; nothing was changed")
    if value:
        problems = password_rule.problems(value, user)
        if problems:
            raise PasswordRefused("the new password " + "; ".join(problems)
                                  + " (nothing was sent to the appliance)")
    return value or None


def _smtp_password(settings, dry_run: bool) -> str | None:
    """The SMTP relay's password when the sheet needs one: from the variable
    or a prompt; without either, BadInput (exit 2) before anything is touched."""
    value = os.environ.get(ENV_SMTP_PASSWORD)
    if value or not (settings.smtp and settings.smtp.auth == "password") or dry_run:
        return value or None
    if sys.stdin.isatty():
        value = getpass.getpass(f"SMTP password for {settings.smtp.username}: ")
    if not value:
        raise BadInput(f"the sheet's [smtp] logs in to {settings.smtp.relay} as "
                       f"{settings.smtp.username!r}: give its password in {ENV_SMTP_PASSWORD} "
                       f"(or at the prompt); nothing was changed")
    return value


def _current_password(session: BringupSession, new_password: str | None) -> str:
    """The appliance's password to log in with. An earlier run of this same
    appliance (run journal: address and MAC) may have changed it: then the
    factory password is not tried, which would only spend a lockout try."""
    value = os.environ.get(ENV_PASSWORD)
    if value:
        return value
    hint = session.password_hint()
    user = session.target.user
    if hint is None:
        if sys.stdin.isatty():
            return getpass.getpass(f"Appliance password for {user} "
                                   f"(Enter: the factory password): ") or FACTORY_PASSWORD
        return FACTORY_PASSWORD
    if new_password:
        session.note(f"{hint.sentence()}: logging in with the new password "
                     f"({ENV_NEW_PASSWORD})")
        return new_password
    if sys.stdin.isatty():
        value = getpass.getpass(f"{hint.sentence()[0].upper()}{hint.sentence()[1:]}. "
                                f"Appliance password for {user}: ")
        if value:
            return value
    raise BadInput(f"{hint.sentence()}: give that password in {ENV_PASSWORD} (the factory "
                   f"password is not tried: it would spend a lockout try); nothing was changed")


def _login(session: BringupSession, new_password: str | None, *, dry_run: bool = False):
    """Log in (the forced change too, unless a dry run); returns the outcome."""
    session.connect()
    session.stage = "logging in"
    password = _current_password(session, new_password)
    hint = session.password_hint()
    try:
        outcome = session.login(password, new_password, dry_run=dry_run)
    except LoginFailed as exc:
        left = "" if exc.tries_left is None else f" ({exc.tries_left} tries left before lockout)"
        more = ""
        if hint is not None and not hint.certain and password == new_password:
            more = (f"; {hint.sentence()}: if it did not, the factory password is still in "
                    f"force ({ENV_PASSWORD}={FACTORY_PASSWORD})")
        exc.args = (f"{exc}{left}{more}; bringup does not retry a password by itself",)
        raise
    if outcome.changed_password:
        _say("appliance password changed at first login: store the new one safely")
    return outcome


def _find(session: BringupSession) -> None:
    """Take the port and find the appliance on it (with --iface): at the
    target's address, or without one on whichever factory address answers."""
    if session.take_port() is None:
        return
    if session.target.console:           # over the console the web's answer does not matter
        if session.target.address:
            session.probe(timeout=2.0, check_https=False)
        return
    if not session.target.address:
        _search(session)
        return
    result = session.probe(timeout=2.0)
    if session.responder is None:
        carrier = "" if result.responders or _carrier(session) else (
            f" ({session.target.iface} has no carrier: is the cable in?)")
        raise ProbeTimeout(
            f"{session.target.address} does not answer on {session.target.iface}{carrier}: "
            f"the cable may be in the other NIC of the appliance (move it from NIC1 to "
            f"NIC2 or back and run again), or the appliance is still starting")


def _search(session: BringupSession) -> None:
    """No --address: the factory addresses are searched and the one that
    answers is used. None answering: ProbeTimeout; two or more: BadInput
    naming them (nothing was changed on any)."""
    from hwprobe.constants import FACTORY_ADDRESSES
    from hwprobe.safetext import shown

    iface = session.target.iface
    result = session.probe(timeout=2.0)        # no address: the factory ones
    found = {r.address: r for r in result.responders}
    if not found:
        carrier = "" if _carrier(session) else f" ({iface} has no carrier: is the cable in?)"
        raise ProbeTimeout(
            f"nothing answers on {', '.join(FACTORY_ADDRESSES)} on {iface}{carrier}: the cable "
            f"may be in the other NIC of the appliance (move it and run again), or the "
            f"appliance is still starting")
    if len(found) > 1:
        raise BadInput(
            f"{len(found)} appliances answer on {iface}: "
            + ", ".join(f"{a} (MAC {shown(r.mac)})" for a, r in sorted(found.items()))
            + "; give the one to set up with --address; nothing was changed")
    [(address, responder)] = found.items()      # the session chose it
    session.note(f"found the appliance at {address} (MAC {shown(responder.mac)}) on {iface}")


def _carrier(session: BringupSession) -> bool:
    from hwprobe.port import interfaces

    try:
        return interfaces.get_port(session.target.iface).carrier
    except BringupError:
        return True


# --- apply ----------------------------------------------------------------------

def run_apply(args) -> int:
    from hwprobe.settings.sheet import load_sheet

    settings = load_sheet(args.sheet)         # SheetInvalid: exit 2, nothing contacted
    target = target_of(args)
    target.check()
    argcheck.check_state_dir()                # exit 3 before the port is touched
    new_password = _new_password(args.user)
    smtp_password = _smtp_password(settings, args.dry_run)
    sheet = str(Path(args.sheet).resolve())
    session = BringupSession(target, on_note=None if args.json else _say)
    session.keep_secret(new_password, smtp_password, os.environ.get(ENV_PASSWORD))
    run, error = None, None
    try:
        with session:
            _find(session)
            _login(session, new_password, dry_run=args.dry_run)
            run = session.run(settings, smtp_password=smtp_password, dry_run=args.dry_run,
                              on_step=None if args.json else _print_step)
    except BaseException as exc:
        error = exc
        raise
    finally:
        md = _report(session, sheet, error)
    _print_result(args, session, run, md)
    # done means the appliance now holds the whole sheet: a skipped step is not done
    return 0 if run.ok and not any(s.status == "skipped" for s in run.steps) else 1


def _report(session: BringupSession, sheet: str, error: BaseException | None) -> Path | None:
    """Write the run's report, also when it ended early; never raises."""
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        error = BringupError("stopped by the technician (or a signal)")
    try:
        md, _ = session.write_report(sheet=sheet, error=error)
    except OSError as exc:
        _say(f"could not write the report ({exc.strerror or exc}); here it is:")
        try:
            print(session.unwritten_report or "", flush=True)   # already safe text
        except OSError:
            pass
        return None
    if error is not None:
        _say(f"report (the run stopped while {session.stage}): {md}")
    return md


def _print_result(args, session: BringupSession, run, md: Path | None) -> None:
    notes = list(session.notes)
    nic = session.cable_nic()
    if nic:
        notes.append(f"your cable is in {nic.upper()}")
    pending = bool(session.login_outcome and session.login_outcome.change_pending)
    if args.json:
        print(json.dumps({"ok": run.ok, "dry_run": run.dry_run, "report": str(md),
                          "password_change_pending": pending,
                          "steps": [_step_json(s) for s in run.steps],
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
    skipped = [s for s in run.steps if s.status == "skipped"]
    if skipped:
        print(f"{len(skipped)} change(s) NOT applied: "
              + "; ".join(f"{shown(step_change(s))} ({shown(s.message)})" for s in skipped))
    if nic:
        print(f"note: your cable is in {nic.upper()}")
    print(f"report: {md}")


def _step_json(step) -> dict:
    return {"key": step.key, "title": step.title, "page": step.page, "before": step.before,
            "after": step.after, "changed": step.changed, "status": step.status,
            "message": step.message, "seconds": step.seconds}


def _print_step(step) -> None:
    if step.status in ("pending", "applying"):
        return
    mark = {"verified": "done", "unchanged": "same", "failed": "FAIL", "skipped": "skip"}.get(
        step.status, step.status)
    msg = f"  ({shown(step.message)})" if step.message and step.status != "verified" else ""
    print(f"[{mark:>4}] {shown(step_change(step))}{msg}", flush=True)


# --- capture --------------------------------------------------------------------

def _check_writable(out: Path) -> None:
    """The sheet is written beside ``out`` and renamed onto it: make sure that
    works (a read-only or full file system, a file where the folder should
    be) before anything is read. Raises BadInput naming why."""
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".check", dir=out.parent)
    except OSError as exc:
        raise BadInput(f"--out {out}: cannot write in {out.parent} ({exc.strerror}); "
                       f"nothing was read from the appliance") from None
    try:
        os.write(fd, b"#" * 4096)
        os.fsync(fd)
    except OSError as exc:
        raise BadInput(f"--out {out}: cannot write in {out.parent} ({exc.strerror}); "
                       f"nothing was read from the appliance") from None
    finally:
        os.close(fd)
        os.unlink(probe)


def run_capture(args) -> int:
    from hwprobe.settings.capture import settings_from_state
    from hwprobe.settings.sheet import load_sheet, write_sheet

    target = target_of(args)
    target.check()
    out = Path(args.out)
    if out.is_dir():
        raise BadInput(f"--out {out}: is a folder; give the sheet's file name")
    if out.exists() and not args.overwrite:
        raise BadInput(f"--out {out}: the file exists (add --force to overwrite)")
    if not out.parent.exists():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    _check_writable(out)
    # a capture changes nothing, but an appliance that forces a new password
    # opens no page before it: only a new password given in the variable is set
    new_password = os.environ.get(ENV_NEW_PASSWORD) or None
    if new_password and password_rule.problems(new_password, args.user):
        raise PasswordRefused(f"{ENV_NEW_PASSWORD}: the new password "
                              + "; ".join(password_rule.problems(new_password, args.user)))
    with BringupSession(target, on_note=_say) as session:
        _find(session)
        _login(session, new_password)
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
