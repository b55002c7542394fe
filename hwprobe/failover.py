"""Failover pair: read an appliance's role and health, change its role.

Over the appliance's /login side: the unauthenticated ``/check_health`` (200
healthy, 500 not), an OAuth client-credentials token from ``/oauth2/token``,
and the command API ``/api/command`` (``check_health``, ``set_failover_role``).
Every HTTPS connection is pinned to the certificate seen first (or the one
given), as the web driver does. The API secret is kept in memory only.

``promote(client)`` is the procedure's "primary is down" step: read the
backup's health, make it primary (data sync first only when asked: it needs the
old primary to answer), read health again and confirm the role.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import requests

from .drivers.pinning import fetch_fingerprint, normalize_fingerprint, pinned_session
from .errors import ApplianceError, CertificateChanged, LoginFailed, Unreachable


@dataclass
class Health:
    reachable: bool                 # /check_health answered at all
    healthy: bool                   # /check_health answered 200
    hostname: str = ""
    version: str = ""
    role: str = ""                  # primary | backup | none
    shared_ips: list[str] = field(default_factory=list)
    last_data_sync_time: str = ""
    last_data_sync_status: str = ""
    xml: str = ""


@dataclass
class CommandAnswer:
    ok: bool
    message: str
    xml: str


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_answer(text: str) -> CommandAnswer:
    """A command API answer: ``<success>`` or ``<error>`` with the appliance's text."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return CommandAnswer(False, f"the appliance's answer is not XML: {text[:200]!r}", text)
    tag = _strip(root.tag)
    return CommandAnswer(tag == "success", (root.text or "").strip() or tag, text)


class FailoverClient:
    """The /login API of one appliance at ``address``."""

    def __init__(self, address: str, port: int = 443, *, client_id: str | None = None,
                 client_secret: str | None = None, pinned_fingerprint: str | None = None,
                 timeout: tuple[float, float] = (3.0, 10.0)):
        self.address, self.port = address, port
        self.timeout = timeout
        self._client = (client_id or "", client_secret or "")
        self._pin = pinned_fingerprint
        self.fingerprint: str | None = None
        self._session: requests.Session | None = None
        self._token: str | None = None

    @property
    def base(self) -> str:
        return f"https://{self.address}" + ("" if self.port == 443 else f":{self.port}")

    def _open(self) -> requests.Session:
        if self._session is None:
            got = fetch_fingerprint(self.address, self.port, self.timeout[0])
            if self._pin and normalize_fingerprint(self._pin) != normalize_fingerprint(got):
                raise CertificateChanged(self._pin, got)
            self.fingerprint = got
            self._session = pinned_session(got)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        try:
            return self._open().request(method, self.base + path, timeout=self.timeout,
                                        allow_redirects=False, **kw)
        except requests.exceptions.SSLError as exc:
            if "fingerprint" in str(exc).lower():
                raise CertificateChanged(self.fingerprint or "?", "a different certificate") from None
            raise Unreachable(f"{self.address}: TLS failed ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise Unreachable(f"the appliance at {self.address} did not answer "
                              f"({exc.__class__.__name__}): check the address and that it is up"
                              ) from None

    # --- the API --------------------------------------------------------------------

    def public_health(self) -> bool:
        """GET /check_health: True on 200, False on 500; Unreachable otherwise."""
        r = self._request("GET", "/check_health")
        if r.status_code not in (200, 500):
            raise ApplianceError(f"/check_health on {self.address} answered HTTP {r.status_code}")
        return r.status_code == 200

    def login(self) -> None:
        """Get an OAuth token with the client credentials. LoginFailed when refused."""
        cid, secret = self._client
        if not cid or not secret:
            raise LoginFailed("the API client id and secret are needed "
                              "(BRINGUP_API_CLIENT_ID / BRINGUP_API_SECRET, or the prompt)")
        r = self._request("POST", "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(cid, secret))
        if r.status_code == 401:
            raise LoginFailed(f"the appliance at {self.address} refused the API client id or "
                              "secret (check them under /login > Management > API Configuration)")
        if r.status_code != 200:
            raise ApplianceError(f"/oauth2/token on {self.address} answered HTTP {r.status_code}")
        try:
            self._token = r.json()["access_token"]
        except (ValueError, KeyError):
            raise ApplianceError(f"/oauth2/token on {self.address} gave no token") from None

    def command(self, **params) -> str:
        """Run one command API action; returns the XML text."""
        if self._token is None:
            self.login()
        r = self._request("POST", "/api/command", data=params,
                          headers={"Authorization": f"Bearer {self._token}"})
        if r.status_code == 401:
            self._token = None
            raise LoginFailed(f"the command API on {self.address} refused the token")
        if r.status_code != 200:
            raise ApplianceError(f"the command API on {self.address} answered HTTP {r.status_code}")
        return r.text

    def health(self) -> Health:
        """/check_health and the command API's check_health, together."""
        healthy = self.public_health()        # Unreachable propagates
        text = self.command(action="check_health")
        h = Health(True, healthy, xml=text)
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            raise ApplianceError(f"check_health on {self.address}: the answer is not XML") from None
        if _strip(root.tag) == "error":
            raise ApplianceError(f"check_health on {self.address}: {(root.text or '').strip()}")
        for el in root.iter():
            tag = _strip(el.tag)
            if tag == "hostname":
                h.hostname = (el.text or "").strip()
            elif tag == "version":
                h.version = (el.text or "").strip()
            elif tag == "failover_role":
                h.role = (el.text or "").strip()
            elif tag == "ip":
                h.shared_ips.append((el.text or "").strip())
            elif tag == "last_data_sync_time":
                h.last_data_sync_time = (el.text or "").strip()
            elif tag == "last_data_sync_status":
                h.last_data_sync_status = (el.text or "").strip()
        return h

    def set_role(self, role: str, *, data_sync_first: bool = False, force: bool = False
                 ) -> CommandAnswer:
        """set_failover_role; the appliance's own XML answer comes back whole."""
        params = {"action": "set_failover_role", "role": role}
        if data_sync_first:
            params["data_sync_first"] = "1"
        if force:
            params["force"] = "1"
        return parse_answer(self.command(**params))


@dataclass
class PromoteResult:
    before: Health
    answer: CommandAnswer
    after: Health | None

    @property
    def ok(self) -> bool:
        return self.answer.ok and self.after is not None and self.after.role == "primary"

    @property
    def already_primary(self) -> bool:
        """It was primary before anything was sent (automatic failover): nothing was sent."""
        return self.before.role == "primary"


def promote(client: FailoverClient, *, data_sync_first: bool = False) -> PromoteResult:
    """Make the appliance behind ``client`` primary and confirm it by reading
    health again. Never sends ``force`` (that is for demoting a primary).
    Raises Unreachable, LoginFailed, CertificateChanged; an ``<error>`` answer
    is returned (``ok`` False) with the appliance's words, nothing changed."""
    before = client.health()
    if before.role == "primary":
        return PromoteResult(before, CommandAnswer(False, "this appliance is already the primary",
                                                   before.xml), before)
    answer = client.set_role("primary", data_sync_first=data_sync_first)
    after = client.health() if answer.ok else None
    return PromoteResult(before, answer, after)
