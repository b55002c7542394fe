"""``bringup verify``: after the cables move, is every restored service reached?

Logs in on the production address, reads back against the sheet, checks
health, and has the appliance itself send its test e-mail, look up the sheet's
names, reach its servers, show NTP sync and send syslog (hwprobe/procedure/verify.py).
The password comes from BRINGUP_PASSWORD or a prompt, never argv.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from hwprobe.constants import ENV_NEW_PASSWORD, ENV_PASSWORD, ENV_SMTP_PASSWORD
from hwprobe.errors import BadInput

VERIFY_HELP = """\
Run after the appliance's cables are on the production switch, from a laptop
on the production network (or over the laptop link while a production NIC is
cabled). Each service is reported as reached or NOT REACHED, in the
appliance's own words, and written to a report beside the run reports (and
added to the report of the run that set this very appliance up).

The appliance's password: BRINGUP_PASSWORD, else asked at the terminal. With
neither, verify says so and exits 2 without logging in: the factory password
is never guessed on a production address (a wrong guess spends a lockout try).
The certificate bringup recorded when it moved this appliance to the address
is trusted; another one there stops the run (--trust-new-certificate).

examples:
  bringup verify --address 198.51.100.20 --sheet site.toml
  sudo --preserve-env=BRINGUP_PASSWORD bringup verify --address 198.51.100.20 --sheet site.toml --json

exit status: 0 every service reached, 1 something not reached, 2 bad input, 3 needs root
"""


def register(sub, root) -> None:
    p = sub.add_parser("verify", help="after the cables move: is every restored service reached?",
                       description=VERIFY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sheet", required=True, metavar="FILE", help="the settings sheet (TOML)")
    from bringup.headless import target_args

    target_args(p)
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(handler=run_verify)


def run_verify(args) -> int:
    from hwprobe.procedure.session import BringupSession
    from hwprobe.settings.sheet import load_sheet
    from hwprobe.procedure.verify import add_to_run_report, verify, write_report
    from bringup.headless import TerminalPrompter, say, target_of

    settings = load_sheet(args.sheet)             # SheetInvalid: exit 2, nothing contacted
    if args.console:
        raise BadInput("--console: verify needs the web interface (Support > Utilities); "
                       "give the appliance's production --address")
    if not args.address:
        known = ", ".join(ip.address for ip in settings.ips)
        raise BadInput("give the appliance's production --address"
                       + (f" (the sheet's: {known})" if known else ""))
    target = target_of(args)
    target.check()
    secrets = [os.environ.get(v) for v in (ENV_PASSWORD, ENV_NEW_PASSWORD, ENV_SMTP_PASSWORD)]
    printer = None if args.json else (lambda c: print(to_text_one(c), flush=True))
    with BringupSession(target, on_note=say) as session:
        session.find()
        session.log_in(TerminalPrompter(), None)
        result = verify(session.driver, settings, args.address, mac=session.mac_seen,
                        fingerprint=session.fingerprint, on_check=printer)
    md, _ = write_report(result, sheet=str(Path(args.sheet).resolve()), secrets=secrets)
    run_report = add_to_run_report(result, secrets=secrets)
    if args.json:
        print(json.dumps({**result.to_json(), "report": str(md),
                          "run_report": str(run_report) if run_report else None}, indent=2))
    else:
        missed = result.not_reached
        print("every service reached" if result.ok else
              f"{len(missed)} check(s) NOT reached: " + ", ".join(f"{c.service} {c.target}" for c in missed))
        print(f"report: {md}")
        if run_report:
            print(f"added to the run's report: {run_report.with_suffix('.md')}")
    return 0 if result.ok else 1


def to_text_one(check) -> str:
    from hwprobe.procedure.verify import VerifyResult, to_text

    return to_text(VerifyResult("", [check]))[0]
