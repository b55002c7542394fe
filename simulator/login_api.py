"""The /login side of the simulated appliance, for failover drills.

Modelled on the B Series public API:

    GET  /check_health                      200 "OK" when healthy, 500 when not
    POST /oauth2/token                      client credentials (HTTP Basic
                                            client_id:secret, grant_type=
                                            client_credentials) -> JSON bearer token
    GET|POST /api/command?action=check_health
    GET|POST /api/command?action=set_failover_role&role=primary|backup
                                            [&data_sync_first=1][&force=1]
    GET|POST /api/backup                    the /login backup (simulator/backup_api.py)

An API account has permissions: "command" (the command API) and "backup"
(the backup API); one without the permission it uses gets 403.

Command answers are XML: ``<success>Successfully changed role.</success>`` or
``<error>...</error>``. check_health answers the documented ``<health_check>``
document (see _health_xml). With ``data_sync_first=1`` the answer is
"Successfully started data sync. Role change will occur upon successful
completion." and the role changes ``sync_seconds`` later (login.json, default
3). Every API answer carries ``Connection: close`` (the API guide: "You must
close the connection after each API call"); tokens live 3600 s and a client
holds at most 30 valid ones, the oldest dropped first. ``/api/command.xsd``
serves the schema of the subset modelled here.

Configuration is ``login.json`` in the simulator's state directory (the lab
writes it for a pair and a site): role, peer address and port, shared IPs,
API clients (SHA-256 of their secrets, never the secrets, and their
permissions), the peer key the two appliances use between themselves,
addresses to hold from the start, and an appliance in production's /login
state (site, users, site software: what a backup holds, LOGIN_STATE_KEYS).
Role changes persist in ``failover.json`` beside it.

Two paired simulators talk to each other over HTTPS (``/api/peer``) so that
promoting the backup demotes a reachable primary, and demoting a primary needs
the peer unless ``force=1``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import ssl
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from . import loginweb
from .accounts import new_account
from .factory import LOGIN_FIRST_PASSWORD, LOGIN_FIRST_USER
from .jsonfile import save_json

log = logging.getLogger("simulator.login")
NS = "https://www.beyondtrust.com/namespaces/API/command"
TOKEN_SECONDS = 3600
# what a /login backup holds of login.json (the lab's preset addresses are not /login's)
LOGIN_STATE_KEYS = ("site", "users", "api_clients", "site_software", "peer", "peer_port",
                    "peer_key", "shared_ips")
TOKENS_PER_CLIENT = 30
SYNC_STARTED = ("Successfully started data sync. Role change will occur upon successful "
                "completion.")
XSD_PATH = Path(__file__).with_name("command.xsd")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_record(config: dict, client_id: str) -> dict | None:
    """An API account of login.json as {"secret_sha256", "permissions"}: an
    account written as the bare hash of its secret may use the command API only."""
    value = config.get("api_clients", {}).get(client_id) if client_id else None
    if isinstance(value, str):
        return {"secret_sha256": value, "permissions": ["command"]}
    return value if isinstance(value, dict) and "secret_sha256" in value else None


class LoginSide:
    """The /login API of one appliance (thread safe)."""

    PATHS = ("/check_health", "/oauth2/token", "/api/command", "/api/command.xsd", "/api/peer",
             "/api/backup")

    def __init__(self, appliance, state_dir: str | Path):
        self.appliance = appliance
        self.dir = Path(state_dir)
        cfg_path = self.dir / "login.json"
        self.config = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}   # token -> (client, expiry); oldest first
        self._syncing = False
        self.healthy = True
        self._state_path = self.dir / "failover.json"
        self._restarting_until = 0.0
        self.web = loginweb.LoginWeb(self)
        self.state = {"role": self.config.get("role", "none"),
                      "last_data_sync_time": "", "last_data_sync_status": "never"}
        if self._state_path.exists():
            self.state.update(json.loads(self._state_path.read_text()))
        for ip in self.config.get("preset_ips", []):
            have = {i["address"] for i in appliance.snapshot()["ips"]}
            if ip["address"] not in have:
                appliance.add_ip(ip["nic"], ip["address"], ip["netmask"], ip.get("vlan") or "")

    def handles(self, path: str) -> bool:
        return path in self.PATHS or loginweb.handles(path)

    # --- HTTP plumbing -----------------------------------------------------------

    def serve(self, handler, method: str, path: str, form: dict) -> None:
        if time.monotonic() < self._restarting_until:
            return self._reply(handler, 503, "/login is restarting; try again shortly.\n",
                               "text/plain")
        if loginweb.handles(path):
            return self.web.serve(handler, method, path, form)
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        params = {**query, **form}
        if path == "/check_health":
            ok = self.healthy
            return self._reply(handler, 200 if ok else 500, "OK\n" if ok else "FAIL\n", "text/plain")
        if path == "/oauth2/token":
            return self._token(handler, method, params)
        if path == "/api/command.xsd":
            return self._reply(handler, 200, XSD_PATH.read_text(), "text/xml")
        if path == "/api/peer":
            return self._peer(handler, params)
        client = self.token_client(handler)
        if client is None:
            return self._reply(handler, 401, self._xml_error("Not authorized: a valid bearer "
                                                              "token is required."), "text/xml")
        if path == "/api/backup":
            from .backup_api import serve_backup

            return serve_backup(self, handler, client, params)
        if "command" not in self.permissions(client):
            return self._reply(handler, 403, self._xml_error(
                "This API account may not use the command API."), "text/xml")
        action = params.get("action", "")
        if action == "check_health":
            return self._reply(handler, 200, self._health_xml(), "text/xml")
        if action == "set_failover_role":
            return self._reply(handler, 200, self._set_role(params), "text/xml")
        return self._reply(handler, 200, self._xml_error("Invalid action."), "text/xml")

    @staticmethod
    def _reply(handler, status: int, body: str, ctype: str) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", f"{ctype}; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(data)

    # --- OAuth ---------------------------------------------------------------------

    def _token(self, handler, method: str, params: dict) -> None:
        if method != "POST" or params.get("grant_type") != "client_credentials":
            return self._reply(handler, 400, json.dumps({"error": "unsupported_grant_type"}),
                               "application/json")
        client_id, secret = "", ""
        auth = handler.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                pass
        client_id = client_id or params.get("client_id", "")
        secret = secret or params.get("client_secret", "")
        want = client_record(self.config, client_id)
        if not want or not hmac.compare_digest(want["secret_sha256"], secret_hash(secret)):
            return self._reply(handler, 401, json.dumps({"error": "invalid_client"}),
                               "application/json")
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            mine = [t for t, v in self._tokens.items() if v[0] == client_id]
            for old in mine[:max(0, len(mine) - TOKENS_PER_CLIENT + 1)]:
                del self._tokens[old]           # the 31st token drops the oldest
            self._tokens[token] = (client_id, now + TOKEN_SECONDS)
        self._reply(handler, 200, json.dumps({"access_token": token, "token_type": "Bearer",
                                              "expires_in": TOKEN_SECONDS}), "application/json")

    def _authorized(self, handler) -> bool:
        return self.token_client(handler) is not None

    def token_client(self, handler) -> str | None:
        """The API account whose live bearer token the request carries, or None."""
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self._lock:
            client, until = self._tokens.get(auth[7:].strip(), ("", 0.0))
        return client if until > time.monotonic() else None

    def permissions(self, client_id: str) -> tuple[str, ...]:
        record = client_record(self.config, client_id)
        return tuple(record["permissions"]) if record else ()

    def login_state(self) -> dict:
        """What a /login backup holds: the site, its users and API accounts,
        the failover settings (the pre-shared key included)."""
        with self._lock:
            return {k: self.config[k] for k in LOGIN_STATE_KEYS if k in self.config} | {
                "role": self.state["role"]}

    # --- the site: its software, a restore ---------------------------------------------

    def site_software(self) -> dict | None:
        """The installed site software ({"version", "hostname"}), or None."""
        with self._lock:
            return dict(self.config["site_software"]) if self.config.get("site_software") else None

    def install_site_software(self, version: str, hostname: str) -> None:
        """Record the site software as installed (login.json); a new site gets
        its first /login account (modelled: admin / password)."""
        with self._lock:
            self.config["site_software"] = {"version": version, "hostname": hostname}
            self.config.setdefault("login_accounts", {
                LOGIN_FIRST_USER: new_account(LOGIN_FIRST_PASSWORD, False)})
            save_json(self.dir / "login.json", self.config, indent=2)
        self.appliance.changes["install_site_software"] += 1

    def login_account(self, username: str) -> dict | None:
        """A /login web account ({"salt", "hash"}), or None."""
        with self._lock:
            return self.config.get("login_accounts", {}).get(username)

    def restore(self, state: dict) -> None:
        """Replace the site's /login state with a backup's (an NSB's state:
        LOGIN_STATE_KEYS and the failover role). The /login web accounts are
        the site's own and stay (modelled)."""
        with self._lock:
            for key in LOGIN_STATE_KEYS:
                if key in state:
                    self.config[key] = state[key]
                else:
                    self.config.pop(key, None)
            save_json(self.dir / "login.json", self.config, indent=2)
            self.state["role"] = state.get("role", "none")
            self._save()
            self._tokens.clear()
        self.appliance.changes["restore_login"] += 1
        log.info("/login restored from a backup of %s", (state.get("site") or {}).get("hostname"))

    def restart(self, seconds: float) -> None:
        """/login answers 503 for ``seconds`` from now (a restart)."""
        self._restarting_until = time.monotonic() + max(0.0, seconds)

    # --- failover ------------------------------------------------------------------

    def _save(self) -> None:
        save_json(self._state_path, self.state)

    def _health_xml(self) -> str:
        """The documented shape: root <health_check>, the hostname as the text
        of <appliance id="GUID">, <success>1|0</success>, <error_message> only
        on a problem, <enabled_shared_ips> left out when there are none, the
        sync fields left out when failover is not configured."""
        snap = self.appliance.snapshot()
        guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{snap['serial']}.appliance.example.net"))
        role = self.state["role"]
        parts = [f'<appliance id="{guid}">{escape(snap["hostname"] or "")}</appliance>',
                 f'<version>{escape(snap["software_version"])}</version>',
                 f'<success>{1 if self.healthy else 0}</success>']
        if not self.healthy:
            parts.append("<error_message>The appliance is not healthy.</error_message>")
        parts.append(f"<failover_role>{role}</failover_role>")
        shared = [i for i in self.config.get("shared_ips", []) if role == "primary"]
        if shared:
            parts.append("<enabled_shared_ips>" + "".join(f"<ip>{escape(i)}</ip>" for i in shared)
                         + "</enabled_shared_ips>")
        if role != "none":
            parts.append(f'<last_data_sync_time ts="{escape(self.state["last_data_sync_time"])}" />')
            parts.append(f'<last_data_sync_status>{escape(self.state["last_data_sync_status"])}'
                         '</last_data_sync_status>')
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<health_check xmlns="{NS}">'
                + "".join(parts) + "</health_check>\n")

    @staticmethod
    def _xml_error(text: str) -> str:
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<error xmlns="{NS}">{escape(text)}</error>\n'

    @staticmethod
    def _xml_success(text: str) -> str:
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<success xmlns="{NS}">{escape(text)}</success>\n'

    def _set_role(self, params: dict) -> str:
        role = params.get("role", "")
        sync_first = params.get("data_sync_first") in ("1", "true")
        force = params.get("force") in ("1", "true")
        if role not in ("primary", "backup"):
            return self._xml_error("Invalid role: use primary or backup.")
        with self._lock:
            current = self.state["role"]
            if current == "none":
                return self._xml_error("This appliance is not part of a failover relationship.")
            if current == role:
                return self._xml_error(f"This appliance is already the {role}.")
            peer_role = "backup" if role == "primary" else "primary"
            if sync_first:
                if self._syncing:
                    return self._xml_error("A data sync is already in progress.")
                if not self._tell_peer(None, True):
                    return self._xml_error("Unable to contact the peer appliance for the data "
                                           "sync; nothing was changed.")
                self._syncing = True
                self.state["last_data_sync_status"] = "in progress"
                delay = float(self.config.get("sync_seconds", 3))
                timer = threading.Timer(delay, self._finish_sync, (role, peer_role))
                timer.daemon = True
                timer.start()
                log.info("data sync started; role %s in %.0f s", role, delay)
                return self._xml_success(SYNC_STARTED)
            reached = self._tell_peer(peer_role, False)
            if role == "backup" and not reached and not force:
                return self._xml_error("Unable to contact the peer appliance. Use force=1 to "
                                       "become the backup anyway.")
            self.state["role"] = role
            self._save()
        log.info("failover role changed to %s (peer reached: %s)", role, reached)
        return self._xml_success("Successfully changed role.")

    def _finish_sync(self, role: str, peer_role: str) -> None:
        """The data sync is over: the peer takes ``peer_role``, this one ``role``."""
        reached = self._tell_peer(peer_role, True)
        with self._lock:
            self._syncing = False
            self.state["last_data_sync_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if reached:
                self.state["role"] = role
                self.state["last_data_sync_status"] = "success"
            else:
                self.state["last_data_sync_status"] = "failed: the peer stopped answering"
            self._save()
        log.info("data sync done (peer reached: %s); role %s", reached, self.state["role"])

    def _tell_peer(self, role: str | None, sync: bool) -> bool:
        """Ask the peer to take ``role`` (None: only check that it answers);
        True when it answered yes."""
        peer = self.config.get("peer")
        if not peer:
            return False
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # appliance to appliance, inside the lab
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            conn = http.client.HTTPSConnection(peer, int(self.config.get("peer_port", 443)),
                                               timeout=2, context=ctx)
            body = f"role={role or ''}&sync={'1' if sync else '0'}" + ("" if role else "&ping=1")
            conn.request("POST", "/api/peer", body, {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Peer-Key": self.config.get("peer_key", "")})
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def _peer(self, handler, params: dict) -> None:
        key = handler.headers.get("X-Peer-Key", "")
        if not key or not hmac.compare_digest(key, self.config.get("peer_key", "")):
            return self._reply(handler, 403, "forbidden\n", "text/plain")
        if params.get("ping") == "1":
            return self._reply(handler, 200, "ok\n", "text/plain")
        role = params.get("role")
        if role not in ("primary", "backup"):
            return self._reply(handler, 400, "bad role\n", "text/plain")
        with self._lock:
            self.state["role"] = role
            if params.get("sync") == "1":
                self.state["last_data_sync_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                self.state["last_data_sync_status"] = "success"
            self._save()
        self._reply(handler, 200, "ok\n", "text/plain")
