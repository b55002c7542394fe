"""``bringup apply`` and ``bringup capture``: the engine, headless.

Passwords come from prompts or the environment, never argv:
BRINGUP_PASSWORD (the appliance's current password; without it and without a
terminal, the factory password is tried once), BRINGUP_NEW_PASSWORD (set at the
forced first-login change), BRINGUP_SMTP_PASSWORD.
"""
from __future__ import annotations

import argparse
import getpass
import ipaddress
import json
import os
import sys
from pathlib import Path

from .. import argcheck
from ..constants import (ENV_NEW_PASSWORD, ENV_PASSWORD, ENV_SMTP_PASSWORD, FACTORY_PASSWORD,
                         FACTORY_USER, LAPTOP_ADDRESS)
from ..errors import BadInput, LoginFailed, PasswordRefused
from .. import password_rule

APPLY_HELP = """\
Reads the appliance, compares it with the settings sheet field by field,
applies only what differs (addresses before the gateway), reads every value
back, and writes a report (Markdown and JSON). Safe to run again after an
interruption: what already landed is not applied twice.

examples:
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
    p.add_argument("--dry-run", action="store_true", help="show the plan; change nothing")
    p.add_argument("--json", action="store_true", help="print every step as JSON")
    p.set_defaults(handler=run_apply)

    c = sub.add_parser("capture", help="save a healthy appliance's settings to a sheet",
                       description=CAPTURE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target_args(c)
    c.add_argument("--out", required=True, metavar="FILE", help="where to write the sheet")
    c.add_argument("--force", dest="overwrite", action="store_true", help="overwrite an existing file")
    c.set_defaults(handler=run_capture)


def _target_args(p) -> None:
    p.add_argument("--address", metavar="A", help="the appliance's address (e.g. 169.254.1.3)")
    p.add_argument("--iface", metavar="IF", type=argcheck.iface,
                   help="take over this laptop port for the run (and check addresses on the wire)")
    p.add_argument("--laptop-address", default=LAPTOP_ADDRESS, metavar="A", type=argcheck.laptop_address,
                   help=f"the laptop port's address with --iface (default {LAPTOP_ADDRESS})")
    p.add_argument("--force-port", action="store_true",
                   help="allow --iface on a port with the default route or a global address")
    p.add_argument("--console", metavar="DEV",
                   help="use the appliance's local console instead of the web (device, rfc2217:// or socket://)")
    p.add_argument("--baud", type=int, default=115200, help="console speed (default 115200, 8N1)")
    p.add_argument("--user", default=FACTORY_USER, help="appliance user (default admin)")
    p.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    p.add_argument("--trust-new-certificate", action="store_true",
                   help="accept a certificate different from the one pinned on first use")


# --- inputs -------------------------------------------------------------------

def _check_target(args) -> None:
    if not args.address and not args.console:
        raise BadInput("give the appliance's --address (or --console DEV)")
    if args.address:
        try:
            ipaddress.IPv4Address(args.address)
        except ValueError:
            raise BadInput(f"--address {args.address}: not an IPv4 address") from None


def _password(env: str, prompt: str, default: str | None = None) -> str | None:
    value = os.environ.get(env)
    if value:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(prompt) or default
    return default


def _new_password(user: str) -> str | None:
    value = os.environ.get(ENV_NEW_PASSWORD)
    if not value and sys.stdin.isatty():
        value = getpass.getpass("New appliance password: ")
        again = getpass.getpass("New appliance password again: ")
        if value != again:
            raise BadInput("the two new passwords differ; nothing was changed")
    if value:
        problems = password_rule.problems(value, user)
        if problems:
            raise PasswordRefused("the new password " + "; ".join(problems)
                                  + " (nothing was sent to the appliance)")
    return value or None


# --- the driver, with the port held when asked ---------------------------------

class _Session:
    """Holds the laptop port (with --iface) and one open driver."""

    def __init__(self, args):
        self.args = args
        self.takeover = None
        self.driver = None
        self.fingerprint = None
        self.cable_mac = None
        self.probe_fingerprint = None
        self.notes: list[str] = []

    def __enter__(self):
        args = self.args
        if args.iface:
            from ..link import Takeover
            from ..probe import probe

            self.takeover = Takeover(args.iface, address=args.laptop_address,
                                     force=args.force_port, on_note=self._note)
            self.takeover.take()
            if args.address:
                result = probe(args.iface, self.takeover.address, addresses=[args.address],
                               timeout=2.0, check_https=not args.console)
                if result.responders:
                    self.cable_mac = result.responders[0].mac
                    self.probe_fingerprint = result.responders[0].fingerprint_sha256
        if args.console:
            from ..drivers.console import ConsoleDriver

            self.driver = ConsoleDriver(args.console, baudrate=args.baud)
        else:
            from ..drivers.web import WebDriver

            pin = self._pin()
            self.driver = WebDriver(args.address, port=args.https_port, pinned_fingerprint=pin,
                                    use_journal=pin is None,
                                    trust_new_certificate=args.trust_new_certificate)
        self.driver.open()
        self.fingerprint = getattr(self.driver, "fingerprint", None)
        return self

    def _pin(self) -> str | None:
        """The certificate pin for this run, when the laptop port is held.

        Every new appliance answers on the same factory addresses, so a pin kept
        by address alone would call the next box's certificate "changed". Held
        ports know the appliance's MAC: the pin is kept per address and MAC, and
        the fingerprint the probe just read is the one this run trusts."""
        if not (self.cable_mac and self.probe_fingerprint):
            return None
        from .. import journal
        from ..drivers.pinning import normalize_fingerprint
        from ..errors import CertificateChanged

        key = f"{self.args.address}@{self.cable_mac.lower()}"
        seen = self.probe_fingerprint
        kept = journal.pinned_fingerprint(key)
        changed = kept is not None and kept != normalize_fingerprint(seen)
        if changed and not self.args.trust_new_certificate:
            raise CertificateChanged(kept, seen)
        if kept is None or changed:
            journal.pin_fingerprint(key, seen)
            self._note(f"certificate of {self.args.address} (MAC {self.cable_mac}): "
                       f"SHA-256 {seen} - trusted for this appliance from now on")
        return seen

    def _note(self, text: str) -> None:
        self.notes.append(text)
        print(f"bringup: {text}", file=sys.stderr)

    def __exit__(self, *exc):
        try:
            if self.driver is not None:
                self.driver.close()
        finally:
            if self.takeover is not None:
                self.takeover.give_back()

    def wire_check(self, ip, state):
        """ARP the address just added from the laptop port; it must answer with
        the MAC of the NIC it was added on (only for the NIC the cable is in)."""
        from ..engine import cable_nic
        from ..probe import probe

        if self.takeover is None or cable_nic(self.cable_mac, state) != ip.nic or ip.vlan:
            return None
        result = probe(self.args.iface, self.takeover.address, addresses=[ip.address],
                       timeout=1.0, check_https=False)
        want = next((n.mac for n in state.nics if n.name == ip.nic), None)
        if not result.responders:
            return f"{ip.address} does not answer ARP on the laptop port"
        got = result.responders[0].mac
        if want and got.lower() != want.lower():
            return f"{ip.address} answered from {got}, not {ip.nic.upper()} ({want})"
        return None


def _login(session: _Session, args, new_password: str | None) -> str:
    """Log in (changing a forced password); returns the password now in force."""
    from ..engine import first_login

    password = _password(ENV_PASSWORD, f"Appliance password for {args.user}: ", FACTORY_PASSWORD)
    try:
        result = first_login(session.driver, args.user, password, new_password)
    except LoginFailed as exc:
        left = "" if exc.tries_left is None else f" ({exc.tries_left} tries left before lockout)"
        exc.args = (f"{exc}{left}; bringup does not retry a password by itself",)
        raise
    if result.change_required:
        print("bringup: appliance password changed at first login: store the new one safely",
              file=sys.stderr)
        return new_password
    return password


# --- apply ----------------------------------------------------------------------

def run_apply(args) -> int:
    from ..engine import Engine, RunJournal, cable_nic
    from ..report import build, write_report
    from ..sheet import load_sheet

    settings = load_sheet(args.sheet)         # SheetInvalid: exit 2, nothing contacted
    _check_target(args)
    argcheck.check_state_dir()                # exit 3 before the port is touched
    new_password = _new_password(args.user)
    smtp_password = os.environ.get(ENV_SMTP_PASSWORD)
    if (settings.smtp and settings.smtp.auth == "password" and not smtp_password
            and sys.stdin.isatty() and not args.dry_run):
        smtp_password = getpass.getpass(f"SMTP password for {settings.smtp.username}: ") or None
    secrets = [s for s in (new_password, smtp_password, os.environ.get(ENV_PASSWORD)) if s]

    with _Session(args) as session:
        _login(session, args, new_password)
        ident = args.address or args.console
        journal = RunJournal.for_appliance(ident)
        engine = Engine(session.driver, settings, smtp_password=smtp_password,
                        on_step=None if args.json else _print_step,
                        wire_check=session.wire_check if session.takeover else None,
                        journal=journal)
        run = engine.run(dry_run=args.dry_run)
        nic = cable_nic(session.cable_mac, run.state_after) if run.state_after else None
        if nic:
            session.notes.append(f"your cable is in {nic.upper()}")
        rep = build(run, address=args.address or args.console, fingerprint=session.fingerprint,
                    sheet=str(Path(args.sheet).resolve()), driver=session.driver.kind,
                    cable_nic=nic, notes=session.notes)
        md, js = write_report(rep, secrets=secrets)
    if args.json:
        print(json.dumps({"ok": run.ok, "dry_run": run.dry_run, "report": str(md),
                          "steps": [_step_json(s) for s in run.steps],
                          "left_alone": run.extras, "notes": rep["notes"]}, indent=2))
    else:
        changed = [s for s in run.steps if s.changed]
        if args.dry_run:
            print(f"dry run: {len(changed)} change(s) would be applied; nothing was sent")
        elif not changed:
            print("nothing to change: the appliance already matches the sheet")
        else:
            print(f"{len(run.applied)} of {len(changed)} change(s) applied and read back")
        skipped = [s for s in run.steps if s.status == "skipped"]
        if skipped:
            print(f"{len(skipped)} change(s) NOT applied: "
                  + "; ".join(f"{s.title} ({s.message})" for s in skipped))
        for note in rep["notes"]:
            print(f"note: {note}")
        print(f"report: {md}")
    # done means the appliance now holds the whole sheet: a skipped step is not done
    return 0 if run.ok and not any(s.status == "skipped" for s in run.steps) else 1


def _step_json(step) -> dict:
    return {"key": step.key, "title": step.title, "page": step.page, "before": step.before,
            "after": step.after, "changed": step.changed, "status": step.status,
            "message": step.message, "seconds": step.seconds}


def _print_step(step) -> None:
    if step.status in ("pending", "applying"):
        return
    mark = {"verified": "done", "unchanged": "same", "failed": "FAIL", "skipped": "skip"}.get(
        step.status, step.status)
    msg = f"  ({step.message})" if step.message and step.status != "verified" else ""
    print(f"[{mark:>4}] {step.title}{msg}", flush=True)


# --- capture --------------------------------------------------------------------

def run_capture(args) -> int:
    from ..capture import settings_from_state
    from ..sheet import write_sheet

    _check_target(args)
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise BadInput(f"--out {out}: the file exists (add --force to overwrite)")
    if not out.parent.exists():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    with _Session(args) as session:
        _login(session, args, None)
        state = session.driver.read_state()
    settings = settings_from_state(state)
    write_sheet(settings, out)
    print(f"sheet written: {out} ({len(settings.ips)} address(es); link-local addresses left out)")
    return 0
