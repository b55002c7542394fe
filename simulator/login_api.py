"""The /login side of the simulated appliance, for failover drills.

Modelled on the B Series public API:

    GET  /check_health                      200 "OK" when healthy, 500 when not
    POST /oauth2/token                      client credentials (HTTP Basic
                                            client_id:secret, grant_type=
                                            client_credentials) -> JSON bearer token
    GET|POST /api/command?action=check_health
    GET|POST /api/command?action=set_failover_role&role=primary|backup
                                            [&data_sync_first=1][&force=1]

Command answers are XML: ``<success>Successfully changed role.</success>`` or
``<error>...</error>``; check_health answers an ``<appliances>`` document.

Configuration is ``login.json`` in the simulator's state directory (the lab
writes it for a pair): role, peer address and port, shared IPs, API clients
(SHA-256 of their secrets, never the secrets), the peer key the two appliances
use between themselves, and addresses to hold from the start. Role changes
persist in ``failover.json`` beside it.

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
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from hwprobe.fsutil import atomic_write

log = logging.getLogger("simulator.login")
NS = "https://www.beyondtrust.com/namespaces/API/command"
TOKEN_SECONDS = 3600


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LoginSide:
    """The /login API of one appliance (thread safe)."""

    PATHS = ("/check_health", "/oauth2/token", "/api/command", "/api/peer")

    def __init__(self, appliance, state_dir: str | Path):
        self.appliance = appliance
        self.dir = Path(state_dir)
        cfg_path = self.dir / "login.json"
        self.config = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self.healthy = True
        self._state_path = self.dir / "failover.json"
        self.state = {"role": self.config.get("role", "none"),
                      "last_data_sync_time": "", "last_data_sync_status": "never"}
        if self._state_path.exists():
            self.state.update(json.loads(self._state_path.read_text()))
        for ip in self.config.get("preset_ips", []):
            have = {i["address"] for i in appliance.snapshot()["ips"]}
            if ip["address"] not in have:
                appliance.add_ip(ip["nic"], ip["address"], ip["netmask"], ip.get("vlan") or "")

    def handles(self, path: str) -> bool:
        return path in self.PATHS

    # --- HTTP plumbing -----------------------------------------------------------

    def serve(self, handler, method: str, path: str, form: dict) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        params = {**query, **form}
        if path == "/check_health":
            ok = self.healthy
            return self._reply(handler, 200 if ok else 500, "OK\n" if ok else "FAIL\n", "text/plain")
        if path == "/oauth2/token":
            return self._token(handler, method, params)
        if path == "/api/peer":
            return self._peer(handler, params)
        if not self._authorized(handler):
            return self._reply(handler, 401, self._xml_error("Not authorized: a valid bearer "
                                                              "token is required."), "text/xml")
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
        want = self.config.get("api_clients", {}).get(client_id)
        if not want or not hmac.compare_digest(want, secret_hash(secret)):
            return self._reply(handler, 401, json.dumps({"error": "invalid_client"}),
                               "application/json")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_SECONDS
        self._reply(handler, 200, json.dumps({"access_token": token, "token_type": "Bearer",
                                              "expires_in": TOKEN_SECONDS}), "application/json")

    def _authorized(self, handler) -> bool:
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with self._lock:
            until = self._tokens.get(auth[7:].strip(), 0)
        return until > time.monotonic()

    # --- failover ------------------------------------------------------------------

    def _save(self) -> None:
        atomic_write(self._state_path, json.dumps(self.state), mode=0o644)

    def _health_xml(self) -> str:
        snap = self.appliance.snapshot()
        shared = "".join(f"<ip>{escape(i)}</ip>" for i in self.config.get("shared_ips", [])
                         if self.state["role"] == "primary")
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<appliances xmlns="{NS}">'
                f'<appliance id="{escape(snap["serial"])}">'
                f'<hostname>{escape(snap["hostname"] or "")}</hostname>'
                f'<version>{escape(snap["software_version"])}</version>'
                f'<failover_role>{self.state["role"]}</failover_role>'
                f'<enabled_shared_ips>{shared}</enabled_shared_ips>'
                f'<last_data_sync_time>{escape(self.state["last_data_sync_time"])}</last_data_sync_time>'
                f'<last_data_sync_status>{escape(self.state["last_data_sync_status"])}</last_data_sync_status>'
                f'</appliance></appliances>\n')

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
            reached = self._tell_peer(peer_role, sync_first)
            if sync_first and not reached:
                return self._xml_error("Unable to contact the peer appliance for the data sync; "
                                       "nothing was changed.")
            if role == "backup" and not reached and not force:
                return self._xml_error("Unable to contact the peer appliance. Use force=1 to "
                                       "become the backup anyway.")
            self.state["role"] = role
            if sync_first:
                self.state["last_data_sync_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                self.state["last_data_sync_status"] = "success"
            self._save()
        log.info("failover role changed to %s (peer reached: %s)", role, reached)
        return self._xml_success("Successfully changed role.")

    def _tell_peer(self, role: str, sync: bool) -> bool:
        """Ask the peer to take ``role``; True when it answered yes."""
        peer = self.config.get("peer")
        if not peer:
            return False
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # appliance to appliance, inside the lab
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            conn = http.client.HTTPSConnection(peer, int(self.config.get("peer_port", 443)),
                                               timeout=2, context=ctx)
            body = f"role={role}&sync={'1' if sync else '0'}"
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
