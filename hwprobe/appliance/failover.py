"""Failover pair: read an appliance's role and health, change its role.

Over the appliance's /login side: the unauthenticated ``/check_health`` (200
healthy, 500 not), an OAuth client-credentials token from ``/oauth2/token``,
and the command API ``/api/command`` (``check_health``, ``set_failover_role``).
Every HTTPS connection is pinned to the certificate seen first (or the one
given), as the web driver does. The API secret is kept in memory only.

``promote(client)`` is the procedure's "primary is down" step: read the
backup's health, make it primary (data sync first only when asked: it needs the
old primary to answer), read health again and confirm the role. With the sync
first the appliance only *starts* the sync ("Role change will occur upon
successful completion."), so promote polls health, bounded, until the role
shows.

As the API guide asks, every call closes its connection (``Connection:
close``); a token is used until shortly before its ``expires_in`` and then
fetched again (an appliance keeps 30 per client, dropping the oldest).
"""
from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable

import requests

from hwprobe.appliance.pinning import (answer_deadline, fetch_fingerprint, normalize_fingerprint,
                              pinned_session, read_bounded)
from hwprobe.errors import ApplianceError, CertificateChanged, LoginFailed, Unreachable


ANSWER_BYTES = 1024 * 1024          # a command API answer is a few KB of XML
ANSWER_SECONDS = 30.0


@dataclass
class Health:
    reachable: bool                 # /check_health answered at all
    healthy: bool                   # /check_health answered 200
    hostname: str = ""              # the text of <appliance id="GUID">
    guid: str = ""
    version: str = ""
    success: bool | None = None     # <success>1|0</success>; None when absent
    error_message: str = ""         # only on a problem
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


def parse_health(text: str) -> Health:
    """The documented check_health answer: root ``<health_check>``, hostname as
    the text of ``<appliance id="GUID">``, ``<success>1|0``, ``<error_message>``
    only on a problem, ``<enabled_shared_ips>`` and the sync fields possibly
    left out (then empty). ``healthy`` here is ``<success>``; ``health()``
    overrides it with /check_health. Raises ValueError for non-XML, an
    ``<error>`` answer, or another root."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise ValueError("the answer is not XML") from None
    tag = _strip(root.tag)
    if tag == "error":
        raise ValueError((root.text or "").strip() or "the appliance answered <error>")
    if tag != "health_check":
        raise ValueError(f"expected <health_check>, got <{tag}>")
    h = Health(True, True, xml=text)
    for el in root.iter():
        tag, value = _strip(el.tag), (el.text or "").strip()
        if tag == "appliance":
            h.hostname, h.guid = value, el.get("id", "")
        elif tag == "version":
            h.version = value
        elif tag == "success":
            h.success = value == "1"
        elif tag == "error_message":
            h.error_message = value
        elif tag == "failover_role":
            h.role = value
        elif tag == "ip":
            h.shared_ips.append(value)
        elif tag == "last_data_sync_time":
            h.last_data_sync_time = el.get("ts", "") or value
        elif tag == "last_data_sync_status":
            h.last_data_sync_status = value
    if h.success is not None:
        h.healthy = h.success
    return h


class FailoverClient:
    """The /login API of one appliance at ``address``."""

    def __init__(self, address: str, port: int = 443, *, client_id: str | None = None,
                 client_secret: str | None = None, pinned_fingerprint: str | None = None,
                 timeout: tuple[float, float] = (3.0, 10.0), device: str | None = None):
        self.address, self.port = address, port
        self.device = device        # the laptop port every connection must use, if any
        self.timeout = timeout
        self._client = (client_id or "", client_secret or "")
        self._pin = pinned_fingerprint
        self.fingerprint: str | None = None
        self._session: requests.Session | None = None
        self._token: str | None = None
        self._token_until = 0.0

    @property
    def base(self) -> str:
        return f"https://{self.address}" + ("" if self.port == 443 else f":{self.port}")

    def _open(self) -> requests.Session:
        if self._session is None:
            got = fetch_fingerprint(self.address, self.port, self.timeout[0], self.device)
            if self._pin and normalize_fingerprint(self._pin) != normalize_fingerprint(got):
                raise CertificateChanged(self._pin, got)
            self.fingerprint = got
            self._session = pinned_session(got, self.device)
        return self._session

    def pin_to(self, fingerprint: str | None, device: str | None = None) -> None:
        """Trust only ``fingerprint`` (the certificate the web driver of the
        same appliance is pinned to) and connect through ``device`` (the
        laptop port held), before the first request."""
        self._pin, self.device = fingerprint, device

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @contextlib.contextmanager
    def _said_as_bringup(self):
        """requests' errors as bringup's: CertificateChanged, Unreachable."""
        try:
            yield
        except requests.exceptions.SSLError as exc:
            if "fingerprint" in str(exc).lower():
                raise CertificateChanged(self.fingerprint or "?", "a different certificate") from None
            raise Unreachable(f"{self.address}: TLS failed ({exc.__class__.__name__})") from None
        except requests.RequestException as exc:
            raise Unreachable(f"the appliance at {self.address} did not answer "
                              f"({exc.__class__.__name__}): check the address and that it is up"
                              ) from None

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Connection": "close", **kw.pop("headers", {})}
        with self._said_as_bringup():
            # bounded like the web driver's pages: a hostile or broken box must
            # neither hold the run (a drip) nor grow it (an endless body)
            with answer_deadline(ANSWER_SECONDS):
                resp = self._open().request(method, self.base + path, timeout=self.timeout,
                                            allow_redirects=False, headers=headers,
                                            stream=True, **kw)
            read_bounded(resp, limit=ANSWER_BYTES, seconds=ANSWER_SECONDS,
                         what=f"{path} of {self.address}")
            return resp

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
            body = r.json()
            self._token = body["access_token"]
            life = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ApplianceError(f"/oauth2/token on {self.address} gave no token") from None
        self._token_until = time.monotonic() + max(0.0, life - 60)   # a minute's margin

    def bearer(self) -> dict[str, str]:
        """The Authorization header of a live token (logging in when there is
        none, or it is about to end). LoginFailed when refused."""
        if self._token is None or time.monotonic() >= self._token_until:
            self.login()
        return {"Authorization": f"Bearer {self._token}"}

    def open_stream(self, method: str, path: str, *, idle: float = 60.0,
                    **kw) -> requests.Response:
        """A request whose answer is read by the caller as it arrives (a
        download of any size): no size cap; each wait between bytes is
        bounded by ``idle`` seconds. The caller closes the answer. Raises
        CertificateChanged, Unreachable."""
        with self._said_as_bringup():
            return self._open().request(method, self.base + path, stream=True,
                                        timeout=(self.timeout[0], idle), allow_redirects=False,
                                        **kw)

    def forget_token(self) -> None:
        self._token = None

    def command(self, **params) -> str:
        """Run one command API action; returns the XML text."""
        r = self._request("POST", "/api/command", data=params, headers=self.bearer())
        if r.status_code == 401:              # expired early, or dropped as the 31st's oldest
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
        try:
            h = parse_health(text)
        except ValueError as exc:
            raise ApplianceError(f"check_health on {self.address}: {exc}") from None
        h.healthy = healthy
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


SYNC_STARTED = "Successfully started data sync."


@dataclass
class PromoteResult:
    before: Health
    answer: CommandAnswer
    after: Health | None
    waited: float = 0.0             # seconds spent waiting for a data sync's role change
    timed_out: bool = False         # the sync did not finish within the wait

    @property
    def ok(self) -> bool:
        return self.answer.ok and self.after is not None and self.after.role == "primary"

    @property
    def already_primary(self) -> bool:
        """It was primary before anything was sent (automatic failover): nothing was sent."""
        return self.before.role == "primary"


def promote(client: FailoverClient, *, data_sync_first: bool = False, wait: float = 300.0,
            every: float = 2.0, progress: Callable[[float, Health], None] | None = None
            ) -> PromoteResult:
    """Make the appliance behind ``client`` primary and confirm it by reading
    health again. Never sends ``force`` (that is for demoting a primary).
    When the appliance answers that it started a data sync, health is read
    every ``every`` seconds for at most ``wait`` seconds until the role shows
    primary; ``progress(elapsed, health)`` is called after each read. On time
    out ``timed_out`` is True and ``ok`` False (``after`` is the last read).
    Raises Unreachable, LoginFailed, CertificateChanged; an ``<error>`` answer
    is returned (``ok`` False) with the appliance's words, nothing changed."""
    before = client.health()
    if before.role == "primary":
        return PromoteResult(before, CommandAnswer(False, "this appliance is already the primary",
                                                   before.xml), before)
    answer = client.set_role("primary", data_sync_first=data_sync_first)
    if not answer.ok:
        return PromoteResult(before, answer, None)
    after = client.health()
    if not answer.message.startswith(SYNC_STARTED):
        return PromoteResult(before, answer, after)
    start = time.monotonic()
    while after.role != "primary":
        elapsed = time.monotonic() - start
        if progress:
            progress(elapsed, after)
        if elapsed >= wait:
            return PromoteResult(before, answer, after, elapsed, True)
        time.sleep(min(every, max(0.0, wait - elapsed)))
        after = client.health()
    return PromoteResult(before, answer, after, time.monotonic() - start)
