"""``bringup failover status|promote``, ``bringup readiness`` and ``bringup runbook``.

The API client id and secret come from BRINGUP_API_CLIENT_ID and
BRINGUP_API_SECRET, or from prompts; never from argv.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import ipaddress
import json
import os
import sys

from hwprobe.constants import ENV_KIT_SECRETS
from hwprobe.errors import BadInput
from hwprobe.runbook.checklists import FAILED, FAILOVER, QUESTIONS, cite

ALREADY_PRIMARY = ("{address} is already the primary: nothing to promote (with Enable "
                   "Automatic Failover on, the backup takes the primary role by itself). "
                   "Next: check that the clients work again, then repair the failed appliance "
                   "(the vendor's procedure, " + cite(FAILOVER, "step 3") + ").")
FAILOVER_HELP = """\
Failover pair with the primary down: read the backup's role and health first;
if it already took the primary role by itself (Enable Automatic Failover), say
so and send nothing; else make it primary through the command API
(set_failover_role&role=primary).

  --data-sync-first  sync data from the old primary before the swap. It needs the
                     old primary to answer and disconnects its users; leave it
                     off when the primary is down (the procedure's default).

Both status and promote log in with an API client (id and secret, /login >
Management > API Configuration): BRINGUP_API_CLIENT_ID / BRINGUP_API_SECRET, or
asked at the terminal.

exit status: 0 done, 1 the appliance refused or did not answer, 2 bad input
"""


READINESS_HELP = """\
With --sheet: is the settings sheet complete and recent, and what to bring.

With --kit DIR: is the recovery kit `bringup kit` wrote fit to bring up a
replacement: complete, every file's SHA-256 as the manifest says, its age,
the certificate opens with BRINGUP_CERTIFICATE_PASSPHRASE (or the prompt),
holds its key, covers the sheet's hostname and lasts 30 days more, the
/login backup is not empty, the sheet fits the appliance's firmware, and the
software version is recorded. One line per problem.

exit status: 0 fit, 1 not fit (each problem said), 2 cannot be read as a
sheet or a kit
"""


RUNBOOK_HELP = """\
With no path: the triage. Say what failed and what the site has; bringup prints
the path, or the order of paths, that the vendor's procedure prescribes and
writes the answers on today's incident timeline. On a terminal it asks what the
options do not say.

  bringup runbook --failed hardware --failover no --spare no --contract yes

With a path: its checklist, each step with its place in the procedure, filled
with the sheet's values (--sheet); --snapshot no / --failed saas|cloud leave out
the steps that do not apply.

exit status: 0 done, 2 bad input
"""


def register(sub, root) -> None:
    f = sub.add_parser("failover", help="failover pair: read health, make the backup primary",
                       description=FAILOVER_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    fsub = f.add_subparsers(dest="failover_command", metavar="ACTION", required=True)
    for name, text in (("status", "show role and health (needs the API client)"),
                       ("promote", "make this appliance primary (needs the API client)")):
        p = fsub.add_parser(name, help=text)
        p.add_argument("--address", required=True, help="the appliance (the backup, to promote)")
        p.add_argument("--port", type=int, default=443, help=argparse.SUPPRESS)
        p.add_argument("--json", action="store_true")
        p.add_argument("--trust-new-certificate", action="store_true",
                       help="the appliance was re-imaged or given a new certificate on "
                            "purpose: trust the one it presents now (bringup keeps one per "
                            "address and stops when another answers)")
        if name == "promote":
            p.add_argument("--data-sync-first", action="store_true",
                           help="sync from the old primary first (it must answer); off by default."
                                " The appliance changes role when the sync completes: bringup "
                                "waits for it, showing progress")
            p.add_argument("--wait", type=float, default=300.0, metavar="SECONDS",
                           help="with --data-sync-first: how long to wait for the role change "
                                "(default 300)")
        p.set_defaults(handler=_failover)

    r = sub.add_parser("readiness", help="is this site ready for a recovery? (sheet, kit, checks)",
                       description=READINESS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    what = r.add_mutually_exclusive_group(required=True)
    what.add_argument("--sheet", metavar="FILE", help="check a settings sheet")
    what.add_argument("--kit", metavar="DIR", help="check a recovery kit (`bringup kit`)")
    r.add_argument("--json", action="store_true", help="print the findings as JSON")
    r.set_defaults(handler=_readiness)

    b = sub.add_parser("runbook", help="triage: which recovery path; or print one path's checklist",
                       description=RUNBOOK_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("path", nargs="?", help="hardware, failover, cold_spare, virtual, rma, hosted, saas")
    b.add_argument("--sheet", metavar="FILE", help="fill the checklist with this sheet's values")
    b.add_argument("--failed", choices=list(FAILED),
                   help="triage: what failed (hardware, virtual, hosted, saas, cloud)")
    for fact in QUESTIONS:
        b.add_argument(f"--{fact}", choices=("yes", "no"), help=f"triage: {QUESTIONS[fact]}")
    b.set_defaults(handler=_runbook)


def _api_credentials() -> tuple[str, str]:
    cid = os.environ.get("BRINGUP_API_CLIENT_ID")
    secret = os.environ.get("BRINGUP_API_SECRET")
    if not cid and sys.stdin.isatty():
        cid = input("API client id: ").strip()
    if not secret and sys.stdin.isatty():
        secret = getpass.getpass("API client secret: ")
    return cid or "", secret or ""


def _health_json(h) -> dict:
    return {"healthy": h.healthy, "role": h.role, "hostname": h.hostname, "guid": h.guid,
            "version": h.version, "success": h.success, "error_message": h.error_message,
            "shared_ips": h.shared_ips, "last_data_sync_time": h.last_data_sync_time,
            "last_data_sync_status": h.last_data_sync_status}


def _print_health(label: str, h) -> None:
    print(f"{label}: role {h.role or '?'}, /check_health {'200 healthy' if h.healthy else '500 NOT healthy'}"
          f", version {h.version or '?'}, last data sync {_sync_words(h)}")


def _sync_words(h) -> str:
    """The last data sync as a technician reads it: its time and result, or
    "never" once (the appliance may say "never" as the result too)."""
    status = h.last_data_sync_status or ""
    if not h.last_data_sync_time:
        return status if status and status != "never" else "never"
    return f"{h.last_data_sync_time} ({status or '-'})"


def _failover(args) -> int:
    from hwprobe.appliance.failover import promote
    from hwprobe.procedure.session import BringupSession, Target

    try:
        ipaddress.IPv4Address(args.address)
    except ValueError:
        raise BadInput(f"--address {args.address}: not an IPv4 address") from None
    if getattr(args, "wait", 0) is not None and getattr(args, "wait", 0) < 0:
        raise BadInput(f"--wait {args.wait}: give a number of seconds, 0 or more")
    cid, secret = _api_credentials()
    session = BringupSession(Target(address=args.address, https_port=args.port,
                                    trust_new_certificate=args.trust_new_certificate))
    client = session.failover_client(cid, secret)
    try:
        if args.failover_command == "status":
            h = client.health()
            if args.json:
                print(json.dumps(_health_json(h) | {"xml": h.xml}, indent=2))
            else:
                _print_health(args.address, h)
                if h.role == "primary":
                    print(ALREADY_PRIMARY.format(address=args.address))
            return 0
        def progress(elapsed: float, h) -> None:
            # stderr, so --json output stays one document
            print(f"waiting for the data sync: role still {h.role or '?'}, sync "
                  f"{h.last_data_sync_status or '?'} ({elapsed:.0f} s of at most "
                  f"{args.wait:.0f} s)", file=sys.stderr, flush=True)

        if args.data_sync_first:
            print("asking for a data sync first; the role changes when it completes",
                  file=sys.stderr, flush=True)
        result = promote(client, data_sync_first=args.data_sync_first, wait=args.wait,
                         progress=progress)
    finally:
        client.close()
    if result.already_primary:
        if args.json:
            print(json.dumps({"ok": True, "already_primary": True, "sent": False,
                              "before": _health_json(result.before)}, indent=2))
        else:
            _print_health("before", result.before)
            print(ALREADY_PRIMARY.format(address=args.address) + " Nothing was sent.")
        return 0
    if args.json:
        print(json.dumps({"ok": result.ok, "already_primary": False,
                          "before": _health_json(result.before),
                          "answer": {"ok": result.answer.ok, "message": result.answer.message,
                                     "xml": result.answer.xml},
                          "after": _health_json(result.after) if result.after else None,
                          "waited_seconds": round(result.waited, 1),
                          "timed_out": result.timed_out}, indent=2))
    else:
        _print_health("before", result.before)
        print("the appliance answered:")
        print("  " + result.answer.xml.strip().replace("\n", "\n  "))
        if result.after:
            _print_health("after ", result.after)
        if result.waited:
            print(f"waited {result.waited:.0f} s for the data sync to complete")
        if result.ok:
            print(f"{args.address} is now the primary. Redirect traffic as this site does "
                  "(shared IP: automatic; DNS swing: the A-record; NAT swing: the NAT rule), "
                  "then check that the clients work again and repair the failed appliance "
                  f"(the vendor's procedure, {cite(FAILOVER, 'step 3')}).")
        elif result.timed_out:
            pass
        else:
            print(f"not changed: {result.answer.message}", file=sys.stderr)
    if result.timed_out:
        print(f"the data sync did not complete within {args.wait:.0f} s: {args.address} is "
              f"still {result.after.role or '?'} (sync {result.after.last_data_sync_status or '?'})"
              "; run `bringup failover status` to follow it", file=sys.stderr)
    return 0 if result.ok else 1


def _readiness_kit(args) -> int:
    from hwprobe.runbook.kitcheck import check_kit
    from hwprobe.settings.kit import KitIncomplete, read_kit

    try:
        read_kit(args.kit)          # KitUnreadable: exit 2, before the passphrase is asked
    except KitIncomplete:
        pass                        # one of the kit's problems: said below, exit 1
    variable = ENV_KIT_SECRETS["certificate_passphrase"]
    passphrase = os.environ.get(variable)
    if not passphrase and sys.stdin.isatty():
        passphrase = getpass.getpass("certificate passphrase: ")
    if not passphrase:
        raise BadInput(f"{variable} is not set and there is no terminal to "
                       "ask: the certificate cannot be opened without it")
    report = check_kit(args.kit, passphrase)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0 if report.ok else 1
    print(f"recovery kit {args.kit}: {'fit' if report.ok else 'NOT fit'}")
    for fact in report.facts:
        print(f"  {fact}")
    for problem in report.problems:
        print(problem)
    return 0 if report.ok else 1


def _readiness(args) -> int:
    if args.kit:
        return _readiness_kit(args)
    from hwprobe.runbook.checklists import readiness
    from hwprobe.settings.sheet import load_sheet

    rep = readiness(args.sheet, load_sheet(args.sheet))
    if args.json:
        print(json.dumps(rep.__dict__ | {"ok": rep.ok}, indent=2))
        return 0 if rep.ok else 1
    print(f"settings sheet {rep.sheet}: {rep.age_days} days old"
          + ("  <- older than 90 days: capture it again" if rep.too_old else ""))
    for part in rep.complete:
        print(f"  [x] {part}")
    for part in rep.missing:
        print(f"  [ ] {part}  <- missing")
    print("kit to bring:")
    for item in rep.kit:
        print(f"  [ ] {item}")
    print("check at the site, before you need it:")
    for item in rep.site:
        print(f"  [ ] {item}")
    return 0 if rep.ok else 1


def _yes_no(value: str | None) -> bool | None:
    return None if value is None else value == "yes"


def _input(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        print()
        raise BadInput("runbook: the input ended before the triage was answered; nothing "
                       "was written") from None


def _ask(question: str) -> bool:
    while True:
        answer = _input(f"{question} [y/n] ").strip().lower()
        if answer in ("y", "yes", "n", "no"):
            return answer.startswith("y")
        print("  answer y or n")


def _triage(args) -> int:
    from hwprobe.runbook.checklists import ASKED, PATHS, Timeline, missing_answers, triage

    answers = {fact: _yes_no(getattr(args, fact)) for fact in QUESTIONS}
    failed = args.failed
    interactive = sys.stdin.isatty()
    if failed is None:
        keys = list(FAILED)
        print("What failed?")
        for n, key in enumerate(keys, 1):
            print(f"  {n}. {FAILED[key]}")
        while failed is None:
            typed = _input(f"number 1-{len(keys)}: ").strip()
            if typed.isdigit() and 1 <= int(typed) <= len(keys):
                failed = keys[int(typed) - 1]
    missing = missing_answers(failed, answers)
    if missing and not interactive:
        raise BadInput(f"runbook --failed {failed}: also answer "
                       + ", ".join(f"--{f} yes|no" for f in missing))
    for fact in missing:
        answers[fact] = _ask(QUESTIONS[fact])
    t = triage(failed, {f: answers[f] for f in ASKED[failed]})
    print(f"Failed: {FAILED[failed]}. The procedure's order:")
    for n, step in enumerate(t.order, 1):
        print(f"  {n}. {PATHS[step.path]['title']}  (bringup runbook {step.path})")
        print(f"     {step.why} (procedure: {step.ref})")
    for note in t.notes:
        print(f"  note: {note}")
    try:
        timeline = Timeline(f"incident-{dt.date.today():%Y%m%d}")
        timeline.add(t.answers_text())
        timeline.add(t.order_text())
    except OSError as exc:
        print(f"the incident timeline could not be written: {exc.strerror or exc}", file=sys.stderr)
    else:
        print(f"On the incident timeline: {timeline.path}")
    return 0


def _runbook(args) -> int:
    from hwprobe.runbook.checklists import PATH_ORDER, PATHS, checklist, checklist_text

    if not args.path:
        if args.failed or sys.stdin.isatty():
            return _triage(args)
        for key in PATH_ORDER:
            print(f"{key:<11} {PATHS[key]['title']}")
        print("triage (which path, in which order): bringup runbook --failed "
              + "|".join(FAILED) + " --failover yes|no --spare yes|no --snapshot yes|no "
              "--contract yes|no")
        return 0
    if args.path not in PATHS:
        raise BadInput(f"runbook {args.path}: choose one of {', '.join(PATH_ORDER)}")
    settings = None
    if args.sheet:
        from hwprobe.settings.sheet import load_sheet

        settings = load_sheet(args.sheet)
    facts = {"snapshot": _yes_no(args.snapshot),
             "cloud": None if args.failed not in ("saas", "cloud", "hosted")
             else args.failed == "cloud"}
    for line in checklist_text(checklist(args.path, settings, facts=facts)):
        print(line)
    return 0
