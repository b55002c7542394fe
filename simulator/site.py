"""Appliances in production: ``lab up --site`` (one) and ``lab up --pair``.

A factory appliance has no site: only its factory certificate, no site
software, no /login state, the factory password. An appliance in production
has what a healthy site's box has when a technician comes to take its
recovery kit:

- the /appliance settings of the example sheet (assets/example-sheet.toml:
  its addresses on NIC1 and NIC2, hostname, gateway, DNS, route, NTP, syslog,
  e-mail), the factory address gone, and an /appliance password that is no
  longer the factory one;
- a certificate for its hostname signed by the site's CA (``siteca``), the
  default; both appliances of a pair hold the same one, covering both names;
- the site software installed, and /login state: the site's name, a few
  users, and API accounts (one with the backup permission, one without);
- the site's update file, as the vendor's portal would offer it, in the lab's
  directory (``site-update.nsu``: ``siteupdate``).

Secrets: the API account and the /appliance password come from the caller
(the environment: BRINGUP_API_CLIENT_ID / BRINGUP_API_SECRET, BRINGUP_PASSWORD)
or are made here and kept in ``credentials.json`` in the lab's directory,
readable by root only; the account without the backup permission is always
made there. Nothing here passes a secret on a command line: the state files
are written before the simulator starts, and it reads them.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from .appliance import BASE_VERSION, Appliance
from .certstore import CertStore
from .labfile import save_credentials
from .login_api import secret_hash
from .siteca import SiteCA

HOSTNAME = "support.example.net"            # the example sheet's
BACKUP_HOSTNAME = "support-backup.example.net"
SITE_NAME = "Example Support"
NETMASK = "255.255.255.0"
LAPTOP = "198.51.100.250"                   # lan0's address on the site's network
# the example sheet's settings, as this appliance was given them
SETTINGS = {
    "gateway": "198.51.100.1", "dns": ["198.51.100.53", "203.0.113.53"],
    "route": ("203.0.113.128/25", "198.51.100.254", "nic1"),
    "ntp": ["198.51.100.123", "ntp.example.net"], "syslog": ["198.51.100.5"],
    "smtp": {"relay": "mail.example.net", "port": 587, "encryption": "starttls",
             "auth": "password", "username": "bt-alerts", "from_address": "bt-alerts@example.net",
             "admin_contacts": ["noc@example.net"]},
}
USERS = [  # /login's users (modelled: a name, a login and a role each)
    {"username": "admin", "name": "Site Administrator", "role": "administrator"},
    {"username": "arivera", "name": "Alex Rivera", "role": "representative"},
    {"username": "kchen", "name": "Kim Chen", "role": "representative"},
    {"username": "tlopez", "name": "Toni Lopez", "role": "team lead"},
]
MONITOR_CLIENT = "monitoring"


@dataclass
class Credentials:
    """The secrets of a site in the lab (never on a command line)."""

    appliance_password: str
    api_client: tuple[str, str]             # has the backup permission
    monitor_client: tuple[str, str]         # command API only: no backup permission
    file: str                               # credentials.json: what was made here


def credentials(lab_dir: str | Path, api_client: tuple[str, str] | None = None,
                appliance_password: str | None = None) -> Credentials:
    """The given secrets, and new ones for what was not given, written to
    ``credentials.json`` (0600) in the lab's directory (only the new ones)."""
    made: dict[str, str] = {}
    if api_client is None:
        api_client = ("kit", secrets.token_urlsafe(18))
        made |= {"api_client_id": api_client[0], "api_client_secret": api_client[1]}
    if appliance_password is None:
        # the rule: upper, lower, digit, symbol; the token brings the rest
        appliance_password = "Site-" + secrets.token_urlsafe(12) + "-9a"
        made["appliance_password"] = appliance_password
    monitor = (MONITOR_CLIENT, secrets.token_urlsafe(18))
    made |= {"monitor_client_id": monitor[0], "monitor_client_secret": monitor[1]}
    path = save_credentials(lab_dir, made)
    return Credentials(appliance_password, api_client, monitor, str(path))


def api_clients(creds: Credentials) -> dict:
    """login.json's API accounts: hashes of their secrets and permissions."""
    return {creds.api_client[0]: {"secret_sha256": secret_hash(creds.api_client[1]),
                                  "permissions": ["command", "backup"], "name": "Recovery kit"},
            creds.monitor_client[0]: {"secret_sha256": secret_hash(creds.monitor_client[1]),
                                      "permissions": ["command"], "name": "Monitoring"}}


def configure(state_dir: Path, *, serial: str, hostname: str, addresses: tuple[str, str],
              factory_address: str, password: str, firmware: str | None,
              smtp_password: str) -> str:
    """Write the /appliance state of an appliance in production (through the
    appliance's own rules, so it is one the appliance would accept); returns
    its software version."""
    from .server import use_profile

    state_dir.mkdir(parents=True, exist_ok=True)
    a = Appliance(state_dir / "state.json", serial=serial, factory_address=factory_address,
                  answers_on="nic1", factory_reset=True)
    layout = use_profile(a, firmware or "legacy")
    a.change_password("admin", None, password)
    a.add_ip("nic1", addresses[0], NETMASK)
    a.add_ip("nic2", addresses[1], "255.255.255.128", 20)
    a.delete_ip(factory_address)
    s = SETTINGS
    a.set_global(hostname, s["gateway"], s["dns"])
    a.add_route(*s["route"])
    a.set_ntp(s["ntp"])
    smtp = dict(s["smtp"])
    if "slots" in layout["syslog"]:
        a.set_syslog_each([(h, "", "rfc5424") for h in s["syslog"]])
        smtp["encryption"] = "tls"          # the newer firmware has no STARTTLS choice
    else:
        a.set_syslog(s["syslog"], "rfc5424")
    a.set_smtp(**smtp, password=smtp_password)
    return a.software_version


def login_state(creds: Credentials, *, version: str, role: str = "none") -> dict:
    """login.json of an appliance in production (its /login side)."""
    return {"role": role, "api_clients": api_clients(creds),
            "site": {"name": SITE_NAME, "hostname": HOSTNAME, "company": "Example Net"},
            "users": USERS, "site_software": {"version": version, "hostname": HOSTNAME}}


def install_certificate(state_dir: Path, serial: str, ca: SiteCA, cert, key) -> str:
    """Hold the site's certificate as the default; returns its fingerprint."""
    return CertStore(state_dir, serial).add(cert, key, [ca.cert], HOSTNAME, default=True)


def prepare(lab, *, pair: bool, api_client: tuple[str, str] | None,
            appliance_password: str | None, firmware: str | None, smtp_password: str) -> dict:
    """Put the lab's appliance (both of a pair) in production before its
    simulator starts; returns the record kept in lab.json's ``site``."""
    from . import siteupdate
    from .labfile import PAIR

    creds = credentials(lab.dir, api_client, appliance_password)
    ca = SiteCA.create(Path(lab.dir) / "site-ca")
    cert, key = ca.issue([HOSTNAME, BACKUP_HOSTNAME] if pair else [HOSTNAME])
    boxes = [("primary" if pair else "none", Path(lab.state_dir), "B400-0012345", HOSTNAME,
              (PAIR["primary"], "203.0.113.20"), lab.appliance_address)]
    if pair:
        boxes.append(("backup", Path(lab.dir) / "backup", "B400-0012346", BACKUP_HOSTNAME,
                      (PAIR["backup"], "203.0.113.21"), "169.254.1.2"))
    peer_key = secrets.token_urlsafe(18)
    version = ""
    for role, state_dir, serial, hostname, addresses, factory_address in boxes:
        version = configure(state_dir, serial=serial, hostname=hostname, addresses=addresses,
                            factory_address=factory_address, password=creds.appliance_password,
                            firmware=firmware, smtp_password=smtp_password)
        fingerprint = install_certificate(state_dir, serial, ca, cert, key)
        config = login_state(creds, version=version, role=role)
        if pair:
            peer = PAIR["backup"] if role == "primary" else PAIR["primary"]
            config |= {"peer": peer, "peer_port": 443, "peer_key": peer_key,
                       "shared_ips": [PAIR["shared"]]}
        (state_dir / "login.json").write_text(json.dumps(config, indent=2))
    update = siteupdate.write(Path(lab.dir) / f"site-update{siteupdate.EXTENSION}",
                              hostname=HOSTNAME, software_version=version,
                              base_version=BASE_VERSION)
    return {"hostname": HOSTNAME, "backup_hostname": BACKUP_HOSTNAME if pair else None,
            "certificate": fingerprint, "ca": str(Path(lab.dir) / "site-ca" / "ca.pem"),
            "credentials": creds.file, "update_file": str(update), "laptop": LAPTOP,
            "api_client_id": creds.api_client[0], "monitor_client_id": creds.monitor_client[0]}
