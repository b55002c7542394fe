"""Taking a recovery kit from a healthy appliance (``bringup kit`` and the
console's Kit screen): everything a replacement will need, in one folder
(its layout: hwprobe/settings/kit.py).

In the order it is done, each step before the next so that a refusal comes
before anything large is fetched:

1. the kit folder is checked (a new or empty one; never over a kit);
2. find the appliance and log in to /appliance (the session, as ``capture``);
   read every setting and Status (model, serial, versions, system time);
3. Security > Certificates: the certificate that covers the appliance's
   hostname (the default when it does);
4. the /login API: an OAuth token for the API account, check_health (its
   failover role, for the finish: a pair's backup gets no NSB restore);
5. the certificate exported with its key and chain behind the passphrase, and
   opened again here to prove it;
6. the sheet (today's capture);
7. the /login backup through the backup API, to disk as it arrives;
8. the site's update file, when given;
9. the manifest, last.

Secrets come from the environment or the face's prompt, never argv:
BRINGUP_PASSWORD (/appliance), BRINGUP_API_CLIENT_ID / BRINGUP_API_SECRET,
BRINGUP_BACKUP_PASSWORD (protects the NSB), BRINGUP_CERTIFICATE_PASSPHRASE
(protects the exported key). They are kept out of the run log and report.

Any failure removes what this run wrote (``KitWriter.abandon``); a kill
leaves only ``.NAME.part`` files and no manifest, which readiness calls
incomplete.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hwprobe.constants import ENV_KIT_SECRETS
from hwprobe.errors import ApplianceError, BadInput, BringupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.procedure.passwords import Prompter
    from hwprobe.procedure.session import BringupSession
    from hwprobe.settings.kit import Manifest

ENV = ENV_KIT_SECRETS
QUESTIONS = {"api_client_id": "API account's client id (/login > Management > API "
                              "Configuration): ",
             "api_secret": "API account's client secret: ",
             "backup_password": "Backup password, to protect the /login backup: ",
             "certificate_passphrase": "Passphrase, to protect the exported certificate key: "}
# typed twice when asked: a typo would make the kit's file unusable, and the
# /login backup cannot be opened here to find out
CONFIRMED = ("backup_password", "certificate_passphrase")
# what the finish will read of the kit, each a step of its own
Stage = Callable[[str], None]
Progress = Callable[[str, int, "int | None"], None]     # (what, bytes so far, total)


@dataclass
class KitSecrets:
    """The kit's secrets besides the /appliance password (held in memory only)."""

    api_client_id: str
    api_secret: str
    backup_password: str
    certificate_passphrase: str


def kit_secrets(prompter: "Prompter | None") -> KitSecrets:
    """The secrets from the environment, or asked through ``prompter``.
    BadInput naming the variable when one is missing and cannot be asked."""
    got = {}
    for key, var in ENV.items():
        value = os.environ.get(var) or None
        what = QUESTIONS[key].split(" (")[0].split(",")[0].rstrip(": ")
        if value is None and prompter is not None:
            value = prompter.secret(QUESTIONS[key]) or None
            if value and key in CONFIRMED and prompter.secret("Again: ") != value:
                raise BadInput(f"{what}: the two typed differ; nothing was contacted")
        if not value:
            raise BadInput(f"{var} is not set and there is no terminal to ask: give the "
                           f"{what} in {var}; nothing was contacted")
        got[key] = value
    return KitSecrets(**got)


@dataclass
class KitResult:
    """What ``take_kit`` wrote."""

    folder: Path
    manifest: "Manifest"
    backup_bytes: int
    backup_seconds: float


def take_kit(session: "BringupSession", prompter: "Prompter", folder: str | Path,
             secrets: KitSecrets, *, update_file: str | Path | None = None,
             taken_by: str = "bringup", on_stage: Stage | None = None,
             on_progress: Progress | None = None) -> KitResult:
    """Take a kit from the session's appliance into ``folder``; returns what
    was written. Raises BadInput (the folder, the update file), BringupError
    (an appliance without hostname, or no certificate for it), LoginFailed (the /appliance
    password, the API account; BackupNotAllowed), ApplianceError,
    Unreachable, CertificateChanged, OSError (the laptop's disk); after any
    of them nothing of this run is left in the folder."""
    from hwprobe.settings.kit import KitWriter

    stage = on_stage or (lambda text: None)
    update = Path(update_file) if update_file else None
    if update is not None and not update.is_file():
        raise BadInput(f"--update-file {update}: no such file")
    session.keep_secret(secrets.api_secret, secrets.backup_password,
                        secrets.certificate_passphrase)
    writer = KitWriter(folder)
    writer.start()
    for name in writer.cleaned:
        session.note(f"removed {name}, left in {folder} by an interrupted kit")
    try:
        return _take(session, prompter, writer, secrets, update, taken_by, stage,
                     on_progress or (lambda what, done, total: None))
    except BaseException:
        writer.abandon()
        raise


def _take(session, prompter, writer, secrets: KitSecrets, update: Path | None, taken_by: str,
          stage: Stage, progress: Progress) -> KitResult:
    from hwprobe.appliance.backup import download_backup
    from hwprobe.appliance.certificates import (
        WrongPassphrase, export_pkcs12, held_certificates, open_pkcs12, site_certificate)
    from hwprobe.settings.capture import settings_from_state
    from hwprobe.settings.kit import file_names
    from hwprobe.settings.sheetwrite import dump_sheet

    stage("finding the appliance and logging in to /appliance")
    session.find()
    session.log_in(prompter, None)
    state = session.read_state()
    driver = session.connect()
    hostname = state.hostname
    if not hostname:
        raise BringupError(f"the appliance at {session.target.address} has no hostname: a kit "
                       "needs the name its certificate covers; nothing was written")
    stage("reading Security > Certificates")
    held = held_certificates(driver)
    chosen = site_certificate(held, hostname)
    if chosen is None:
        names = "; ".join(f"{h.friendly_name} ({', '.join(h.alternative_names) or 'no names'})"
                          for h in held) or "none"
        raise BringupError(f"no certificate on the appliance covers its hostname {hostname} (it "
                       f"holds: {names}): the replacement would present one no client "
                       "accepts; nothing was written")

    stage("logging in to the /login API")
    client = session.failover_client(secrets.api_client_id, secrets.api_secret)
    client.pin_to(driver.fingerprint, driver.device)    # /login answers on the same listener
    try:
        client.login()
        role = _failover_role(client, session)

        stage("exporting the certificate with its key and chain")
        p12 = export_pkcs12(driver, chosen, secrets.certificate_passphrase)
        try:
            opened = open_pkcs12(p12, secrets.certificate_passphrase)
        except (WrongPassphrase, ValueError) as exc:
            raise ApplianceError(f"the exported certificate does not open with the "
                                 f"passphrase ({exc}); nothing was written") from None
        if not (opened.has_key and opened.key_matches) or opened.sha256 != chosen.sha256:
            raise ApplianceError("the appliance exported a certificate without its key, or not "
                                 "the one ticked; nothing was written")
        appliance = {"address": session.target.address, "model": state.model,
                     "serial": state.serial, "software_version": state.software_version,
                     "base_version": state.base_version, "system_time": state.system_time,
                     "firmware_profile": driver.profile or "", "hostname": hostname,
                     "failover_role": role}
        names = file_names(appliance, hostname)
        writer.add_bytes("certificate", names["certificate"], p12)
        stage("writing the sheet")
        writer.add_bytes("sheet", names["sheet"], dump_sheet(
            settings_from_state(state),
            source_note=f"captured from {session.target.address} for the recovery kit").encode())

        stage("downloading the /login backup")
        part = writer.part("login_backup", names["login_backup"])
        started = time.monotonic()
        size = download_backup(client, secrets.backup_password, part,
                               lambda done, total: progress("login backup", done, total))
        seconds = time.monotonic() - started
    finally:
        client.close()
    if update is not None:
        stage("copying the site's update file")
        writer.copy_in("site_update", update,
                       on_progress=lambda done, total: progress("update file", done, total))
    stage("writing the manifest")
    certificate = {"hostname": hostname, "sha256": opened.sha256, "subject": opened.subject,
                   "issuer": opened.issuer, "alternative_names": opened.alternative_names,
                   "not_after": opened.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "friendly_name": chosen.friendly_name}
    manifest = writer.finish(taken_by=taken_by, appliance=appliance, certificate=certificate)
    return KitResult(writer.folder, manifest, size, seconds)


def _failover_role(client, session) -> str:
    """check_health's failover role (none, primary, backup); "unknown" when
    the API account may not use the command API (said in a note)."""
    try:
        return client.health().role or "none"
    except ApplianceError as exc:
        if isinstance(exc, BringupError) and "HTTP 403" in str(exc):
            session.note("the API account may not use the command API: the kit does not say "
                         "whether this appliance is the primary or backup of a pair")
            return "unknown"
        raise
