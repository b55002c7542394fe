"""``bringup kit``: take a recovery kit from a healthy appliance, headless.

The job is the core's (hwprobe/procedure/kit.py); this module reads the
flags, asks what the environment does not give, draws the progress bar on a
terminal and prints what was written.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bringup.headless import TerminalPrompter, say as _say, target_args, target_of
from hwprobe.errors import BadInput

KIT_HELP = """\
Takes everything a replacement appliance will need from this healthy one,
into one folder (0700, files 0600, nothing secret in clear):

  the sheet            its /appliance settings (today's capture)
  the /login backup    through the backup API (an NSB, protected by the backup password)
  the certificate      covering its hostname, with its key and chain (PKCS#12,
                       protected by the passphrase)
  the update file      --update-file, as downloaded from the vendor's portal
  manifest.json        each file's size and SHA-256, the appliance's model,
                       serial, versions and system time, the certificate's
                       hostname, when the kit was taken (written last)

Files are named after the appliance's serial, versions and system time, as
the vendor advises for backups. Check a kit any time with
`bringup readiness --kit DIR`.

Secrets come from the environment or a prompt, never the command line:
  BRINGUP_PASSWORD                  the /appliance password
  BRINGUP_API_CLIENT_ID, BRINGUP_API_SECRET
                                    an API account with the backup permission
                                    (/login > Management > API Configuration)
  BRINGUP_BACKUP_PASSWORD           protects the /login backup
  BRINGUP_CERTIFICATE_PASSPHRASE    protects the exported key

examples:
  bringup kit --address 198.51.100.20 --out kit-2026-12
  bringup kit --address 198.51.100.20 --out kit-2026-12 --update-file ~/Downloads/site-update.nsu

exit status: 0 the kit is complete, 1 the appliance refused or failed (nothing
left in the folder), 2 bad input (nothing contacted), 3 needs root (--iface)
"""


def register(sub, root) -> None:
    p = sub.add_parser("kit", help="take a recovery kit (sheet, /login backup, certificate) "
                                   "from a healthy appliance",
                       description=KIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    target_args(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the kit's folder (new, or empty)")
    p.add_argument("--update-file", metavar="FILE",
                   help="the site's update file from the vendor's portal, to carry in the kit")
    p.add_argument("--json", action="store_true", help="print the manifest and figures as JSON")
    p.set_defaults(handler=run_kit)


class ProgressBar:
    """A one-line progress bar on a terminal (stderr), at most ~8 redraws a
    second; nothing when stderr is not a terminal (the run log has the end)."""

    def __init__(self, stream=None):
        raw = stream or sys.stderr
        self.stream = getattr(raw, "_stream", raw)       # under bringup's data-only guard
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last = 0.0
        self._what = ""

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if what != self._what:
            self._what, self.started = what, now
        if now - self._last < 0.12 and (total is None or done < total):
            return
        self._last = now
        rate = done / max(now - self.started, 1e-6)
        if total:
            width = 24
            filled = int(width * done / total)
            left = (total - done) / rate if rate > 0 else 0
            line = (f"{what} [{'#' * filled}{'.' * (width - filled)}] {done / total:4.0%} "
                    f"{_mb(done)}/{_mb(total)} {_mb(rate)}/s {left:4.0f} s left")
        else:
            line = f"{what} {_mb(done)} {_mb(rate)}/s"
        self.stream.write("\r" + line[:79].ljust(79))
        if total and done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bringup")
    except PackageNotFoundError:
        return "(source)"


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n:.0f} bytes"


def run_kit(args) -> int:
    from bringup.runlog import log
    from hwprobe.procedure import argcheck
    from hwprobe.procedure.kit import kit_secrets, take_kit
    from hwprobe.procedure.session import BringupSession
    from hwprobe.settings.kit import MANIFEST

    target = target_of(args)
    if target.console:
        raise BadInput("--console: a kit needs the web interface (certificates, the backup "
                       "API); give the appliance's --address")
    if not target.address:
        raise BadInput("give the appliance's --address (a kit is taken from a healthy, "
                       "running appliance)")
    target.check()
    if args.update_file and not Path(args.update_file).is_file():
        raise BadInput(f"--update-file {args.update_file}: no such file; nothing was contacted")
    if target.iface:
        argcheck.check_state_dir()
    prompter = TerminalPrompter()
    secrets = kit_secrets(prompter)
    bar = ProgressBar()
    with BringupSession(target, on_note=_say) as session:
        result = take_kit(session, prompter, args.out, secrets, update_file=args.update_file,
                          taken_by=f"bringup {_version()}", on_stage=_say, on_progress=bar)
    m = result.manifest
    rate = result.backup_bytes / max(result.backup_seconds, 1e-6)
    log.info("kit written to %s: /login backup %d bytes in %.2f s (%.1f MB/s)", result.folder,
             result.backup_bytes, result.backup_seconds, rate / 1e6)
    if args.json:
        print(json.dumps({"ok": True, "kit": str(result.folder), "manifest": m.to_json(),
                          "backup_bytes": result.backup_bytes,
                          "backup_seconds": round(result.backup_seconds, 3)}, indent=2))
        return 0
    print(f"kit written: {result.folder} ({len(m.files)} files and {MANIFEST}, each file's "
          "size and SHA-256 in it)")
    for entry in m.files.values():
        print(f"  {entry.name} ({_mb(entry.size)})")
    a = m.appliance
    print(f"from {a.get('model')} {a.get('serial')}, software {a.get('software_version')} "
          f"(base {a.get('base_version')}), {a.get('hostname')}, failover role "
          f"{a.get('failover_role')}")
    print(f"check it any time: bringup readiness --kit {result.folder}")
    return 0
