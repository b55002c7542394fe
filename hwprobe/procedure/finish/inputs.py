"""What the finish needs before anything is sent: the kit, checked, and the
secrets.

``read_inputs(folder, secrets)`` reads the kit and refuses, naming the file
and sending nothing, a kit that is incomplete or changed since it was taken
(each file against the manifest's size and SHA-256), a certificate the
passphrase does not open, without its key, that does not cover the sheet's
hostname, or that has expired. ``finish_secrets(prompter, kit)`` takes the
secrets from the environment or asks the face, never argv:

  BRINGUP_CERTIFICATE_PASSPHRASE    opens the kit's PKCS#12
  BRINGUP_BACKUP_PASSWORD           opens the NSB (the appliance checks it)
  BRINGUP_API_CLIENT_ID / _SECRET   an API account the backup holds (the proof)
  BRINGUP_LOGIN_PASSWORD            /login's password (default: a new site's first one)

The backup of a pair gets no NSB restore: it needs neither the backup
password nor the API account.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from hwprobe.constants import (ENV_KIT_SECRETS, ENV_LOGIN_PASSWORD, LOGIN_FIRST_PASSWORD,
                               LOGIN_FIRST_USER)
from hwprobe.errors import BadInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.appliance.certificates import CertificateFile
    from hwprobe.procedure.passwords import Prompter
    from hwprobe.settings.kit import Kit

# asked in this order: the kit's own files' secrets, then the API account's
ENV = {key: ENV_KIT_SECRETS[key] for key in ("certificate_passphrase", "backup_password",
                                             "api_client_id", "api_secret")}
QUESTIONS = {"certificate_passphrase": "Passphrase of the kit's certificate file? ",
             "backup_password": "Backup password of the kit's /login backup? ",
             "api_client_id": "Client id of an API account the /login backup holds? ",
             "api_secret": "Its client secret? "}
WORDS = {"certificate_passphrase": "the certificate's passphrase",
         "backup_password": "the /login backup's password",
         "api_client_id": "the API account's client id", "api_secret": "the API account's secret"}


@dataclass
class FinishSecrets:
    """The finish's secrets (memory only)."""

    certificate_passphrase: str
    backup_password: str | None = None
    api_client_id: str | None = None
    api_secret: str | None = None
    login_user: str = LOGIN_FIRST_USER
    login_password: str = LOGIN_FIRST_PASSWORD
    login_password_given: bool = False

    def values(self) -> list[str]:
        return [v for v in (self.certificate_passphrase, self.backup_password, self.api_secret,
                            self.login_password if self.login_password_given else None) if v]


@dataclass
class KitInputs:
    """The kit as the finish uses it (checked by ``read_inputs``)."""

    kit: "Kit"
    hostname: str                   # the sheet's, the name the certificate must cover
    certificate: "CertificateFile | None"     # None: the /login backup alone
    role: str                       # the old appliance's failover role: none, primary, backup
    update_file: Path | None = None     # the site's update file (the kit's, or one given)

    @property
    def folder(self) -> Path:
        return self.kit.folder

    def path(self, role: str) -> Path | None:
        return self.kit.path(role)

    @property
    def pair_backup(self) -> bool:
        return self.role == "backup"


def needs(kit: "Kit", *, certificate: bool = True) -> tuple[str, ...]:
    """The secrets a finish from ``kit`` needs (``certificate`` False: the
    /login backup alone, restore-login)."""
    role = str(kit.manifest.appliance.get("failover_role", "none"))
    if role == "backup":
        return ("certificate_passphrase",) if certificate else ()
    return tuple(k for k in ENV if certificate or k != "certificate_passphrase")


def finish_secrets(prompter: "Prompter | None", kit: "Kit", *,
                   login_password: str | None = None,
                   need_certificate: bool = True) -> FinishSecrets:
    """The finish's secrets from the environment, else asked through
    ``prompter``. BadInput naming the variable when one is missing and
    nobody can be asked (nothing was contacted)."""
    got: dict[str, str | None] = {"certificate_passphrase": ""}
    for key in needs(kit, certificate=need_certificate):
        value = os.environ.get(ENV[key]) or None
        if value is None and prompter is not None:
            value = prompter.secret(QUESTIONS[key]) or None
        if not value:
            raise BadInput(f"{ENV[key]} is not set and there is no terminal to ask: give "
                           f"{WORDS[key]} in {ENV[key]}; nothing was contacted")
        got[key] = value
    given = login_password or os.environ.get(ENV_LOGIN_PASSWORD) or None
    return FinishSecrets(**got, login_password=given or LOGIN_FIRST_PASSWORD,
                         login_password_given=given is not None)


def read_inputs(folder: str | Path, passphrase: str, *, sheet_hostname: str | None = None,
                check_hashes: bool = True, update_file: str | Path | None = None,
                certificate: bool = True) -> KitInputs:
    """The kit in ``folder``, checked: complete, each file as the manifest
    says (size and SHA-256, unless ``check_hashes`` is False), the
    certificate opened with ``passphrase``, holding its key, covering the
    sheet's hostname and not expired. ``update_file``: the site's update
    file to use instead of the kit's (or where it has none). KitUnreadable /
    BadInput (exit 2) and KitIncomplete (exit 1), each naming the file;
    nothing is sent."""
    from hwprobe.appliance.certificates import WrongPassphrase, open_pkcs12
    from hwprobe.settings.kit import hash_file, read_kit

    kit = read_kit(folder)
    role = str(kit.manifest.appliance.get("failover_role", "none"))
    wanted = (["sheet"] + (["certificate"] if certificate else [])
              + ([] if role == "backup" else ["login_backup"]))
    wanted += ["site_update"] if certificate and "site_update" in kit.manifest.files else []
    for name in wanted:
        entry = kit.manifest.files.get(name)
        path = kit.path(name)
        if entry is None or path is None:
            raise BadInput(f"--kit {kit.folder}: the manifest lists no {name.replace('_', ' ')} "
                           "file; take the kit again with `bringup kit`")
        if not path.is_file():
            raise BadInput(f"--kit {kit.folder}: {entry.name} is missing; nothing was sent")
        if check_hashes and (path.stat().st_size != entry.size or hash_file(path)[1] != entry.sha256):
            raise BadInput(f"--kit {kit.folder}: {entry.name} is not the file the kit was taken "
                           "with (its size or SHA-256 differs from the manifest): changed or "
                           "damaged since; nothing was sent")
    hostname = (sheet_hostname or str(kit.manifest.certificate.get("hostname", ""))).strip()
    if not certificate:             # the /login backup alone, or a look at the kit
        return KitInputs(kit, hostname, None, role, kit.path("site_update"))
    p12 = kit.path("certificate")
    try:
        cert = open_pkcs12(p12.read_bytes(), passphrase)
    except WrongPassphrase:
        raise BadInput(f"{p12.name}: the passphrase (BRINGUP_CERTIFICATE_PASSPHRASE) does not "
                       "open it; nothing was sent") from None
    except (ValueError, OSError) as exc:
        raise BadInput(f"{p12.name}: cannot be read as a certificate ({exc}); nothing was "
                       "sent") from None
    if not (cert.has_key and cert.key_matches):
        raise BadInput(f"{p12.name}: holds no private key for its certificate; the appliance "
                       "could not serve it. Nothing was sent")
    if not hostname:
        raise BadInput(f"--kit {kit.folder}: the sheet names no hostname for the certificate to "
                       "cover; nothing was sent")
    if not cert.covers(hostname):
        raise BadInput(f"{p12.name}: the certificate is for "
                       f"{', '.join(cert.alternative_names) or 'no host name'}, not the sheet's "
                       f"hostname {hostname}: every client of the site would refuse it. Refused "
                       "before anything was sent")
    now = dt.datetime.now(dt.timezone.utc)
    if cert.not_after <= now:
        raise BadInput(f"{p12.name}: the certificate expired on "
                       f"{cert.not_after:%Y-%m-%d %H:%M} UTC; get the site's current one (and "
                       "take the kit again). Refused before anything was sent")
    if cert.not_before > now:
        raise BadInput(f"{p12.name}: the certificate is not valid before "
                       f"{cert.not_before:%Y-%m-%d %H:%M} UTC (is the laptop's clock right?). "
                       "Refused before anything was sent")
    update = Path(update_file) if update_file else kit.path("site_update")
    if update_file and not update.is_file():
        raise BadInput(f"--update-file {update_file}: no such file; nothing was sent")
    return KitInputs(kit, hostname, cert, role, update)
