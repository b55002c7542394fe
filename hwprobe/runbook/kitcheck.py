"""Is this recovery kit fit to bring a replacement up? (``bringup readiness
--kit DIR`` and the console's Readiness screen.)

Checked, each failure one line naming the file and what is wrong:

- complete: the manifest is there and lists the sheet, the /login backup and
  the certificate; every file it lists is there with its size and SHA-256;
- its age in days (older than the sheet's limit, 90 days: take it again);
- the certificate opens with the passphrase, holds its private key (the one
  that goes with it), is the one the manifest names, covers the hostname the
  manifest and the sheet name, and does not end within 30 days;
- the /login backup is not empty (its format is the vendor's: not opened);
- the sheet loads, and fits the firmware profile of the appliance's software
  version;
- the software version it was taken from is recorded.

``KitUnreadable`` (exit 2) is raised for a folder that is not a kit at all;
every other finding is a problem of an unfit kit (exit 1).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from hwprobe.errors import BadInput, SheetInvalid
from hwprobe.runbook.checklists import READINESS
from hwprobe.settings.kit import Kit, KitIncomplete, hash_file, read_kit

REQUIRED = ("sheet", "login_backup", "certificate")
CERTIFICATE_MIN_DAYS = 30


@dataclass
class KitReport:
    """What readiness found in a kit: ``problems`` (one line each) and the
    facts it shows either way."""

    folder: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    age_days: float | None = None
    software_version: str = ""
    hostname: str = ""
    certificate_days_left: float | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"kit": self.folder, "ok": self.ok, "problems": self.problems,
                "facts": self.facts, "age_days": self.age_days,
                "software_version": self.software_version, "hostname": self.hostname,
                "certificate_days_left": self.certificate_days_left}


def _age_days(taken: str, now: dt.datetime) -> float | None:
    try:
        when = dt.datetime.strptime(taken, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    return round((now - when).total_seconds() / 86400, 1)


def check_kit(folder: str | Path, passphrase: str, *, now: dt.datetime | None = None,
              on_progress=None) -> KitReport:
    """Check the kit in ``folder``; returns its report. Raises KitUnreadable
    (exit 2) when it is not a kit at all. ``on_progress(done, total)`` hears
    the hashing of large files."""
    now = now or dt.datetime.now(dt.timezone.utc)
    report = KitReport(str(folder))
    try:
        kit = read_kit(folder)
    except KitIncomplete as exc:
        report.problems.append(str(exc))
        return report
    m = kit.manifest
    report.software_version = str(m.appliance.get("software_version", ""))
    report.hostname = str(m.certificate.get("hostname", ""))
    _complete(kit, report, on_progress)
    report.age_days = _age_days(m.taken, now)
    limit = READINESS["max_sheet_age_days"]
    if report.age_days is None:
        report.problems.append(f"manifest: when the kit was taken ({m.taken!r}) is unreadable")
    else:
        report.facts.append(f"taken {m.taken}, {report.age_days:g} days ago")
        if report.age_days > limit:
            report.problems.append(f"the kit is {report.age_days:g} days old, older than "
                                   f"{limit} days: take it again with `bringup kit`")
    if report.software_version:
        report.facts.append(f"software version {report.software_version} (base "
                            f"{m.appliance.get('base_version') or '?'}), serial "
                            f"{m.appliance.get('serial') or '?'}, model "
                            f"{m.appliance.get('model') or '?'}")
    else:
        report.problems.append("manifest: the appliance's software version is not recorded")
    sheet_hostname = _sheet(kit, report)
    _certificate(kit, report, passphrase, sheet_hostname, now)
    backup = kit.path("login_backup")
    if backup is not None and backup.exists() and backup.stat().st_size == 0:
        report.problems.append(f"{backup.name}: the /login backup is empty")
    return report


def _complete(kit: Kit, report: KitReport, on_progress) -> None:
    for role in REQUIRED:
        if role not in kit.manifest.files:
            report.problems.append(f"manifest: no {role.replace('_', ' ')} in the kit")
    for role, entry in kit.manifest.files.items():
        path = kit.path(role)
        if not path.is_file():
            report.problems.append(f"{entry.name}: missing from the kit")
            continue
        size, digest = hash_file(path, on_progress)
        if size != entry.size:
            report.problems.append(f"{entry.name}: {size} bytes, the manifest says {entry.size} "
                                   "(changed since the kit was taken)")
        elif digest != entry.sha256:
            report.problems.append(f"{entry.name}: its SHA-256 does not match the manifest "
                                   "(changed since the kit was taken)")
    if not any(p for p in report.problems if not p.startswith("manifest")):
        report.facts.append(f"{len(kit.manifest.files)} files, each as the manifest says")


def _sheet(kit: Kit, report: KitReport) -> str:
    """Load the sheet and fit it to the firmware profile; returns its hostname."""
    from hwprobe.settings.areas import check_fits
    from hwprobe.settings.sheet import load_sheet

    path = kit.path("sheet")
    if path is None or not path.is_file():
        return ""
    try:
        settings = load_sheet(path)
    except SheetInvalid as exc:
        report.problems.extend(exc.problems)
        return ""
    except BadInput as exc:
        report.problems.append(f"{path.name}: {exc}")
        return ""
    try:
        profile = check_fits(settings, report.software_version)
    except BadInput as exc:
        report.problems.append(f"{path.name}: {exc}")
    else:
        report.facts.append(f"sheet fits the firmware profile {profile}" if profile else
                            f"sheet loads (no firmware profile claims {report.software_version!r}:"
                            " its limits were not checked)")
    return settings.hostname or ""


def _certificate(kit: Kit, report: KitReport, passphrase: str, sheet_hostname: str,
                 now: dt.datetime) -> None:
    from hwprobe.appliance.certificates import WrongPassphrase, open_pkcs12

    path = kit.path("certificate")
    if path is None or not path.is_file():
        return
    try:
        held = open_pkcs12(path.read_bytes(), passphrase)
    except WrongPassphrase:
        report.problems.append(f"{path.name}: the certificate passphrase does not open it "
                               "(BRINGUP_CERTIFICATE_PASSPHRASE)")
        return
    except ValueError as exc:
        report.problems.append(f"{path.name}: {exc}")
        return
    if not held.has_key:
        report.problems.append(f"{path.name}: holds no private key (export it with its key)")
    elif not held.key_matches:
        report.problems.append(f"{path.name}: its private key does not belong to the certificate")
    want = report.hostname
    if want and sheet_hostname and want.lower() != sheet_hostname.lower():
        report.problems.append(f"manifest: the certificate's hostname {want} is not the "
                               f"sheet's hostname {sheet_hostname}")
    for name in dict.fromkeys(n for n in (want, sheet_hostname) if n):
        if not held.covers(name):
            report.problems.append(f"{path.name}: does not cover {name} (it covers "
                                   f"{', '.join(held.alternative_names) or 'no DNS name'})")
    if not want and not sheet_hostname:
        report.problems.append("manifest: no hostname for the certificate to cover")
    recorded = str(kit.manifest.certificate.get("sha256", "")).lower()
    if recorded and recorded != held.sha256:
        report.problems.append(f"{path.name}: not the certificate the manifest names")
    days = held.days_left(now)
    report.certificate_days_left = round(days, 1)
    if days < 0:
        report.problems.append(f"{path.name}: expired on {held.not_after:%Y-%m-%d}")
    elif days < CERTIFICATE_MIN_DAYS:
        report.problems.append(f"{path.name}: ends on {held.not_after:%Y-%m-%d}, within "
                               f"{CERTIFICATE_MIN_DAYS} days: renew it, then take the kit again")
    if held.has_key and held.key_matches and held.covers(want or sheet_hostname) and days >= 0:
        report.facts.append(f"certificate for {', '.join(held.alternative_names)}, with its key, "
                            f"until {held.not_after:%Y-%m-%d} ({days:.0f} days)")
