"""``bringup survey``: how far an appliance's pages match the page map.

Read-only. Logs in (never making a forced password change), walks every page
the appliance's firmware profile names and reports, per page and field, found,
missing or unexpected, with the software version; writes one archive of
redacted page snapshots to send when a firmware does not match.
"""
from __future__ import annotations

import argparse
import json
import sys

from hwprobe.procedure import argcheck
from hwprobe.constants import FACTORY_USER, LAPTOP_ADDRESS
from hwprobe.errors import BringupError
from hwprobe.fsutil import check_output_folder
from hwprobe.procedure.session import BringupSession, Target

from bringup.headless import TerminalPrompter, say as _say

SURVEY_HELP = """\
Logs in to the appliance and reads every page its firmware profile names (the
page map bringup carries: each page's path and form fields), changing nothing.
Says for each page and field whether it was found, is missing, or is there but
unknown to bringup, with the appliance's software version, and writes one
archive of the pages as served (CSRF tokens, passwords and addresses other than
the appliance's own are redacted; no cookie is kept). Send that archive when
bringup says a page does not match: updating the page map is then a data
change.

The appliance's password: BRINGUP_PASSWORD, else asked at the terminal; with
neither, survey says so and exits 2 (the factory password is tried only on a
factory address). A certificate bringup recorded when it moved this appliance
to the address is trusted.

examples:
  bringup survey --address 198.51.100.20
  bringup survey --address 169.254.1.3 --iface eth1 --out /tmp

exit status: 0 every field found, 1 something missing or unexpected (or the
appliance could not be read), 2 bad input, 3 needs root (with --iface)
"""


def register(sub, root) -> None:
    p = sub.add_parser("survey", help="check the appliance's pages against the page map "
                                      "(read-only), keep a redacted archive",
                       description=SURVEY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", required=True, metavar="A", help="the appliance's address")
    p.add_argument("--out", metavar="DIR", default=".",
                   help="where to write the archive (default: this folder)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--iface", metavar="IF", type=argcheck.iface,
                   help="take over this laptop port for the survey (a factory address)")
    p.add_argument("--laptop-address", default=LAPTOP_ADDRESS, metavar="A",
                   type=argcheck.laptop_address,
                   help=f"the laptop port's address with --iface (default {LAPTOP_ADDRESS})")
    p.add_argument("--force-port", action="store_true",
                   help="allow --iface on a port with the default route or a global address")
    p.add_argument("--user", default=FACTORY_USER, help="appliance user (default admin)")
    p.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    p.add_argument("--trust-new-certificate", action="store_true",
                   help="accept a certificate different from the one pinned on first use")
    p.set_defaults(handler=run_survey)


def run_survey(args) -> int:
    from hwprobe.appliance.survey import run_survey as survey, summary_lines

    # the archive's folder takes a new file: told before the first packet
    out = check_output_folder(args.out, nothing="nothing was read from the appliance")
    target = Target(iface=args.iface, laptop_address=args.laptop_address,
                    force_port=args.force_port, address=args.address, https_port=args.https_port,
                    user=args.user, trust_new_certificate=args.trust_new_certificate)
    target.check()
    if args.iface:
        argcheck.check_state_dir()
    quiet = args.json
    with BringupSession(target, on_note=None if quiet else _say) as session:
        session.find()
        outcome = session.log_in(TerminalPrompter(), None, dry_run=True)   # no password change
        if outcome.change_pending:
            raise BringupError(
                "the appliance asks for a new password before any page opens, and survey "
                "changes nothing: log in once (bringup capture with BRINGUP_NEW_PASSWORD, or "
                "a browser), then survey again")
        session.stage = "surveying the pages"
        result = survey(session.connect(), out,
                        on_page=None if quiet else (lambda name: _say(f"reading {name}")))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for line in summary_lines(result):
            print(line)
        print(f"archive: {result.archive}")
    sys.stdout.flush()
    return 0 if result.matches else 1
