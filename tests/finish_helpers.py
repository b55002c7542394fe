"""The finish of a site in the lab (issue 23): a kit taken from `lab up
--site` (the shared site lab), factory appliances to finish, and what the
tests look at from outside (the simulator's counters, the certificate a
client naming the site gets, the backup's API account).

Secrets are the tests' own; the run gets them in its environment only.
"""
from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from lab_helpers import NEW_PASSWORD, SMTP_PASSWORD, run_bringup, start_bringup
from simulator import control
from simulator.lab import PAIR
from site_helpers import SITE_SECRETS, secrets_in

KIT_SECRETS = {"BRINGUP_BACKUP_PASSWORD": "Backup-Pw-For-Finish-31",
               "BRINGUP_CERTIFICATE_PASSPHRASE": "Cert-Passphrase-Finish-47"}
# what apply --kit needs in its environment (the API account is the site's)
FINISH_ENV = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD,
              "BRINGUP_API_CLIENT_ID": SITE_SECRETS["BRINGUP_API_CLIENT_ID"],
              "BRINGUP_API_SECRET": SITE_SECRETS["BRINGUP_API_SECRET"], **KIT_SECRETS}
SECRETS = (NEW_PASSWORD, SMTP_PASSWORD, SITE_SECRETS["BRINGUP_API_SECRET"],
           SITE_SECRETS["BRINGUP_PASSWORD"], *KIT_SECRETS.values())
HOSTNAME = "support.example.net"
# a quick appliance: its install restart and /login restart take seconds, not minutes
QUICK = ("--install-seconds", "3", "--login-restart-seconds", "1")
IMPORT = "POST /appliance/security/certificates/import/upload"


def take_kit(lab, out: Path, state_dir, *, address: str = PAIR["primary"],
             env: dict | None = None) -> dict:
    """``bringup kit`` from ``lab``'s appliance in production into ``out``,
    with the site's update file; returns the manifest."""
    r = run_bringup(lab, "kit", "--address", address, "--out", str(out), "--update-file",
                    lab.site["update_file"], state_dir=state_dir,
                    env_extra={**SITE_SECRETS, **KIT_SECRETS, **(env or {})})
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((out / "manifest.json").read_text())


def copy_kit(kit: Path, to: Path) -> Path:
    shutil.copytree(kit, to)
    return to


def replace_in_kit(kit: Path, role: str, data: bytes) -> Path:
    """Put ``data`` in place of the kit's ``role`` file, the manifest made to
    match (as if the kit had been taken so): bringup's own check passes, the
    appliance judges the file."""
    import hashlib

    manifest = json.loads((kit / "manifest.json").read_text())
    entry = manifest["files"][role]
    (kit / entry["name"]).write_bytes(data)
    entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    (kit / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return kit / entry["name"]


def apply_kit(lab, kit: Path, state_dir, *extra: str, env: dict | None = None, timeout=240):
    return run_bringup(lab, "apply", "--kit", str(kit), "--iface", "lan0", *extra,
                       state_dir=state_dir, env_extra={**FINISH_ENV, **(env or {})},
                       timeout=timeout)


def start_apply_kit(lab, kit: Path, state_dir, env: dict | None = None) -> subprocess.Popen:
    return start_bringup(lab, "apply", "--kit", str(kit), "--iface", "lan0",
                         state_dir=state_dir, env_extra={**FINISH_ENV, **(env or {})})


def stats(lab) -> dict:
    return control.send(lab.control, get="stats")


def counted(lab) -> dict:
    """What the appliance did, from the simulator's own counters: imports,
    site software installs and /login restores."""
    s = stats(lab)
    return {"imports": s["saved"].get(IMPORT, 0),
            "installs": s["changes"].get("install_site_software", 0),
            "restores": s["changes"].get("restore_login", 0)}


def login_state(lab) -> dict:
    """The appliance's /login state on disk (login.json; {} when none)."""
    path = Path(lab.state_dir) / "login.json"
    return json.loads(path.read_text()) if path.exists() else {}


def wait_for(check, timeout: float = 60.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true after {timeout} s: {check}")


def served(lab, address: str, server_name: str) -> str:
    """SHA-256 of the certificate a client in the laptop namespace gets from
    ``address`` naming ``server_name`` in its handshake (SNI)."""
    import hashlib

    from simulator.netns import in_netns

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with in_netns(lab.laptop_ns):
        with socket.create_connection((address, 443), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def site_answers(lab, address: str) -> tuple[int, str]:
    """(HTTP status of /oauth2/token for the backup's API account, the
    hostname check_health gives with that token ("" when no token))."""
    import xml.etree.ElementTree as ET

    from site_helpers import Api

    api = Api(lab, address)
    r = api.request("POST", "/oauth2/token", data={"grant_type": "client_credentials"},
                    auth=(SITE_SECRETS["BRINGUP_API_CLIENT_ID"], SITE_SECRETS["BRINGUP_API_SECRET"]))
    if r.status_code != 200:
        return r.status_code, ""
    health = api.request("POST", "/api/command", data={"action": "check_health"},
                         headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    root = ET.fromstring(health.text)
    hostname = next((el.text or "" for el in root.iter() if el.tag.endswith("appliance")), "")
    return r.status_code, hostname


def found_secrets(*places: Path) -> list[str]:
    """Every (file, secret) where one of SECRETS shows in clear."""
    return secrets_in(places, SECRETS)


def make_kit(folder: Path, *, names=(HOSTNAME,), expired: bool = False,
             backup: bytes = b"SIMNSB1\n{}\n", role: str = "none",
             passphrase: str = KIT_SECRETS["BRINGUP_CERTIFICATE_PASSPHRASE"]) -> Path:
    """A kit folder as `bringup kit` writes it, its files made here (no lab):
    the example sheet, a certificate for ``names`` from a new site CA, and
    ``backup`` as the /login backup."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from hwprobe.settings.kit import KitWriter
    from lab_helpers import EXAMPLE
    from simulator.siteca import SiteCA

    ca = SiteCA.create()
    cert, key = ca.issue(list(names), expired=expired)
    writer = KitWriter(folder)
    writer.start()
    writer.add_bytes("sheet", "sheet-B400.toml", EXAMPLE.read_bytes())
    writer.add_bytes("certificate", f"certificate-{HOSTNAME}-B400.p12",
                     pkcs12.serialize_key_and_certificates(
                         b"site", key, cert, [ca.cert],
                         serialization.BestAvailableEncryption(passphrase.encode())))
    writer.add_bytes("login_backup", "login-backup-B400.nsb", backup)
    appliance = {"model": "B400", "serial": "B400-0012345", "software_version": "7.1.2",
                 "hostname": HOSTNAME, "failover_role": role}
    writer.finish(taken_by="test", appliance=appliance, certificate={"hostname": HOSTNAME})
    return folder
