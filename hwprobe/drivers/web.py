"""The web driver: the appliance's /appliance interface over pinned HTTPS.

Every path and form field comes from the page map. The appliance's certificate
is pinned by SHA-256 on first use: ``open()`` reads the certificate, compares it
with the pin (given, or from the journal's pin store) and from then on every
HTTPS connection is checked against that fingerprint by urllib3 itself
(``assert_fingerprint``), so no request ever goes out unverified and nothing
turns verification off globally.

Retries, and what a dropped connection means:

- A GET that meets a refused, reset or timed-out connection is tried once more
  after ``retry_delay`` seconds; a second failure raises ``Unreachable``.
- A POST is never sent twice by the driver. When the connection drops during
  a POST, the driver re-reads the page and raises ``Unreachable`` with
  ``applied`` set to what it saw: True (the page shows the change), False (it
  does not) or None (the page could not be read). The caller decides; the
  engine reads back anyway, so nothing is applied twice.
- When the session has expired (the appliance redirects to its login page),
  the driver logs in again with the credentials it logged in with (held in
  memory only) and repeats the request once; if that fails, ``SessionExpired``.

Passwords never appear in logs or exception messages.
"""
from __future__ import annotations

import hashlib
import logging
import re
import socket
import ssl
import time
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import (
    ApplianceError, CertificateChanged, LockedOut, LoginFailed, PasswordChangeRequired,
    PasswordRefused, SessionExpired, Unreachable, ValidationRefused,
)
from ..pagemap import PAGES
from ..state import ApplianceState, IpAddress, NicInfo, Route, SmtpSettings
from . import html
from .base import LoginResult
from .webpages import PageNames, read_page_state

log = logging.getLogger("hwprobe.drivers.web")

DEFAULT_TIMEOUT = (3.0, 10.0)          # connect, read (seconds)
MASK = "********"


# --- certificate pinning -------------------------------------------------------

def normalize_fingerprint(text: str) -> str:
    """A fingerprint as lower-case hex without separators (for comparing)."""
    return text.replace(":", "").replace(" ", "").strip().lower()


def format_fingerprint(text: str) -> str:
    """A fingerprint as technicians read it: ``AB:CD:...`` (upper case)."""
    h = normalize_fingerprint(text).upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def fetch_fingerprint(address: str, port: int = 443, timeout: float = 3.0) -> str:
    """The SHA-256 fingerprint (``AB:CD:...``) of the certificate the server at
    ``address:port`` presents. Nothing is verified: this only reads it.

    Raises Unreachable when no TLS connection can be made."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            with context.wrap_socket(sock) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise Unreachable(
            f"the appliance at {_where(address, port)} did not answer HTTPS "
            f"({_why(exc)}): check the cable, the address and that the appliance is powered"
        ) from None
    return format_fingerprint(hashlib.sha256(der).hexdigest())


class PinnedAdapter(HTTPAdapter):
    """An HTTPS adapter whose every connection must present the certificate
    with this SHA-256 fingerprint (urllib3 checks it during the handshake).
    CA verification is replaced by the pin, not switched off: urllib3 counts
    a pinned connection as verified, so no InsecureRequestWarning."""

    def __init__(self, fingerprint: str, **kwargs):
        self.fingerprint = normalize_fingerprint(fingerprint)
        kwargs.setdefault("max_retries", 0)
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["cert_reqs"] = "CERT_NONE"
        pool_kwargs["assert_fingerprint"] = self.fingerprint
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, False, cert)
        conn.assert_fingerprint = self.fingerprint


def _journal_pins():
    """(get, set) from hwprobe.journal's pin store, or None when it has none."""
    try:
        from .. import journal
        return journal.pinned_fingerprint, journal.pin_fingerprint
    except (ImportError, AttributeError):
        return None


# --- small helpers -----------------------------------------------------------------

def _where(address: str, port: int) -> str:
    return address if port == 443 else f"{address}:{port}"


def _why(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    if isinstance(exc, requests.exceptions.ConnectTimeout) or "connecttimeout" in low:
        return "no answer to the connection"
    if isinstance(exc, (requests.exceptions.ReadTimeout, socket.timeout)) or "timed out" in low:
        return "it stopped answering"
    if "refused" in low:
        return "connection refused"
    if "reset" in low or "remotedisconnected" in low or "aborted" in low or "closed" in low:
        return "the connection was dropped"
    if "no route" in low or "unreachable" in low:
        return "no route to it"
    return type(exc).__name__


class _SessionGone(Exception):
    """Internal: the appliance sent us to its login page."""


class WebDriver:
    """The appliance's web interface. Use as a context manager, or open()/close().

    ``pinned_fingerprint`` is the certificate pin (``AB:CD:...``); without one
    the journal's pin store is asked (``use_journal``), and with no pin at all
    the certificate seen now is trusted and reported to ``on_first_use(fp)``
    and the pin store. ``trust_new_certificate`` re-pins a changed certificate
    instead of refusing it.
    """

    kind = "web"
    capabilities = frozenset({"ip", "hostname", "gateway", "dns", "routes", "ntp", "syslog", "smtp"})

    def __init__(
        self,
        address: str,
        port: int = 443,
        *,
        pinned_fingerprint: str | None = None,
        on_first_use: Callable[[str], None] | None = None,
        trust_new_certificate: bool = False,
        use_journal: bool = True,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry_delay: float = 1.0,
        pages: Mapping[str, Any] = PAGES,
    ):
        self.address, self.port = address, port
        self.where = _where(address, port)
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.pages = pages
        self.names = PageNames(pages)
        self.fingerprint: str | None = None
        self.first_use = False
        self._pin = pinned_fingerprint
        self._on_first_use = on_first_use
        self._trust_new = trust_new_certificate
        self._pins = _journal_pins() if use_journal else None
        self._session: requests.Session | None = None
        self._credentials: tuple[str, str] | None = None
        self._secrets: set[str] = set()

    # --- open / close ----------------------------------------------------------

    def open(self) -> None:
        """Read and check the certificate, then prepare the pinned session.

        Raises Unreachable (no HTTPS answer) or CertificateChanged (a different
        certificate than the pinned one)."""
        got = fetch_fingerprint(self.address, self.port, self.timeout[0])
        expected = self._pin
        if expected is None and self._pins is not None:
            expected = self._pins[0](self.where)
        if expected is None or (self._trust_new and normalize_fingerprint(expected)
                                != normalize_fingerprint(got)):
            self.first_use = expected is None
            if self._pins is not None:
                self._pins[1](self.where, got)
            if self._on_first_use is not None:
                self._on_first_use(got)
            log.info("trusting the certificate of %s: SHA-256 %s", self.where, got)
        elif normalize_fingerprint(expected) != normalize_fingerprint(got):
            raise CertificateChanged(format_fingerprint(expected), got)
        self.fingerprint = got
        session = requests.Session()
        session.trust_env = False            # never via a proxy from the environment
        session.headers["User-Agent"] = "bringup"
        session.mount("https://", PinnedAdapter(got))
        self._session = session

    def close(self) -> None:
        """Log out (best effort) and drop the session. Never raises."""
        if self._session is None:
            return
        if self._credentials is not None:
            try:
                self._session.get(self._url(self.pages["logout"]["path"]),
                                  timeout=(1.0, 2.0), allow_redirects=False)
            except requests.RequestException:
                pass
        self._session.close()
        self._session = None
        self._credentials = None
        self._secrets.clear()

    def __enter__(self) -> "WebDriver":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- HTTP ------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"https://{self.where}{path}" if ":" not in self.address else \
            f"https://[{self.address}]:{self.port}{path}"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, MASK)
        return text

    def _send(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        """One request, no redirects followed. GETs get one bounded retry."""
        if self._session is None:
            raise ApplianceError("the web driver is not open: call open() first")
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            try:
                resp = self._session.request(method, self._url(path), data=data,
                                             timeout=self.timeout, allow_redirects=False)
                log.debug("%s %s -> %s", method, path, resp.status_code)
                return resp
            except requests.exceptions.SSLError as exc:
                if "fingerprint" in str(exc).lower():
                    raise CertificateChanged(
                        self.fingerprint or "", self._current_fingerprint()) from None
                failure: Exception = exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = exc
            log.debug("%s %s failed: %s", method, path, _why(failure))
            if attempt + 1 < attempts:
                time.sleep(self.retry_delay)
        raise Unreachable(
            f"the appliance at {self.where} did not answer ({_why(failure)}) on "
            f"{self.names.of(path)}: check the cable and that the appliance is powered")

    def _current_fingerprint(self) -> str:
        try:
            return fetch_fingerprint(self.address, self.port, self.timeout[0])
        except Unreachable:
            return "(could not be read)"

    def _location(self, resp: requests.Response) -> str:
        target = urljoin(resp.url, resp.headers.get("Location", ""))
        parts = urlsplit(target)
        if (parts.scheme != "https" or (parts.port or 443) != self.port
                or parts.hostname != self.address.strip("[]")):
            raise ApplianceError(f"the appliance redirected to {target}, outside its web interface")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _check_status(self, resp: requests.Response, path: str) -> None:
        if resp.status_code >= 500:
            raise ApplianceError(
                f"the appliance answered {resp.status_code} on {self.names.of(path)}")
        if resp.status_code >= 400 and resp.status_code not in (401, 403, 429):
            raise ApplianceError(
                f"the appliance answered {resp.status_code} ({resp.reason}) on {self.names.of(path)}")

    def _get(self, path: str) -> tuple[str, html.Page]:
        """GET a page, following redirects; returns (final path, page).

        Raises _SessionGone when sent to the login page, PasswordChangeRequired
        when sent to the password change page (unless asked for it)."""
        login = self.pages["login"]["path"]
        change = self.pages["change_password"]["path"]
        current = path
        for _ in range(6):
            resp = self._send("GET", current)
            self._check_status(resp, current)
            if resp.is_redirect:
                target = self._location(resp)
                target_path = target.split("?")[0]
                if target_path == login and path != login:
                    raise _SessionGone()
                if target_path == change and path != change:
                    raise PasswordChangeRequired(
                        "the appliance opens no page until the password is changed")
                current = target
                continue
            if resp.status_code in (401, 403) and path != login:
                raise _SessionGone()
            return current, html.parse(resp.text)
        raise ApplianceError(f"the appliance redirected too many times on {self.names.of(path)}")

    def _with_session(self, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt``; when the session turns out to have expired, log in
        again once and run it again. SessionExpired when that does not help."""
        try:
            return attempt()
        except _SessionGone:
            pass
        self._relogin()
        try:
            return attempt()
        except _SessionGone:
            raise SessionExpired(
                f"the appliance at {self.where} ended the session again right after "
                f"logging in again") from None

    def _relogin(self) -> None:
        if self._credentials is None:
            raise SessionExpired(f"not logged in to the appliance at {self.where} "
                                 f"(or the session expired before the first login)")
        log.info("the session on %s expired; logging in again", self.where)
        username, password = self._credentials
        try:
            result = self._login(username, password)
        except LoginFailed as exc:
            raise SessionExpired(
                f"the session on {self.where} expired and logging in again failed: {exc}") from exc
        if result.change_required:
            raise PasswordChangeRequired("the appliance opens no page until the password is changed")

    def _page(self, path: str) -> html.Page:
        return self._with_session(lambda: self._get(path)[1])

    # --- login and password ------------------------------------------------------------

    def login(self, username: str, password: str) -> LoginResult:
        """Log in. Returns LoginResult(change_required=True) when the appliance
        wants a new password before it opens any page.

        Raises LoginFailed (with ``tries_left``), LockedOut (with ``seconds``),
        Unreachable. Never retries a refused password."""
        self._secrets.add(password)
        result = self._login(username, password)
        self._credentials = (username, password)
        return result

    def _login(self, username: str, password: str) -> LoginResult:
        spec, common = self.pages["login"], self.pages["common"]
        path = spec["path"]
        _, page = self._get(path)
        form = page.form(path) or (page.forms[0] if page.forms else None)
        if form is None:
            raise ApplianceError(f"no login form on {self.names.of(path)}")
        data = dict(form.fields)
        data[spec["username"]], data[spec["password"]] = username, password
        resp = self._send("POST", form.action or path, data)
        self._check_status(resp, path)
        if resp.is_redirect:
            target = self._location(resp).split("?")[0]
            if target == self.pages["change_password"]["path"]:
                return LoginResult(change_required=True,
                                   message="the appliance requires a new password")
            if target != path:
                return LoginResult(change_required=False)
            _, page = self._get(path)
        else:
            page = html.parse(resp.text)
        message = self._scrub(" ".join(e.text for e in page.by_class(common["error_class"]))
                              or "the login was refused")
        locked = re.search(spec["locked_pattern"], message)
        if locked:
            raise LockedOut(f"the appliance at {self.where} locked the account {username!r}: "
                            f"{message}", seconds=int(locked.group(1)))
        left = re.search(spec["tries_left_pattern"], message)
        raise LoginFailed(f"the appliance at {self.where} refused the login for {username!r}: "
                          f"{message}", tries_left=int(left.group(1)) if left else None)

    def change_password(self, current: str, new: str) -> None:
        """Set a new password (the forced change after a factory login, or any
        time). Raises PasswordRefused with the appliance's reason."""
        self._secrets.update((current, new))
        spec = self.pages["change_password"]
        path = spec["path"]

        def attempt() -> None:
            _, page = self._get(path)
            form = page.form(path)
            if form is None:
                raise ApplianceError(f"no password form on {self.names.of(path)}")
            data = dict(form.fields)
            data.update({spec["current"]: current, spec["new"]: new, spec["confirm"]: new})
            resp = self._send("POST", path, data)
            self._check_status(resp, path)
            if resp.is_redirect:        # saved: 303 (to the same page, with a notice)
                if self._location(resp).split("?")[0] == self.pages["login"]["path"]:
                    raise _SessionGone()
                return
            errors = html.parse(resp.text).by_class(self.pages["common"]["error_class"])
            reason = self._scrub(" ".join(e.text for e in errors) or "no reason given")
            raise PasswordRefused(f"the appliance refused the new password: {reason}")

        def relogin_allowing_change() -> None:
            username, password = self._credentials or ("", "")
            try:
                self._login(username, password)
            except LoginFailed as exc:
                raise SessionExpired(f"the session on {self.where} expired and logging in "
                                     f"again failed: {exc}") from exc

        try:
            attempt()
        except _SessionGone:
            if self._credentials is None:
                raise SessionExpired(f"not logged in to the appliance at {self.where}") from None
            relogin_allowing_change()
            try:
                attempt()
            except _SessionGone:
                raise SessionExpired(f"the appliance at {self.where} ended the session "
                                     f"again right after logging in again") from None
        if self._credentials is not None:
            self._credentials = (self._credentials[0], new)

    # --- forms ----------------------------------------------------------------------------

    def _submit(self, page_path: str, action: str, changes: dict[str, str], *,
                applied: Callable[[html.Page], bool] | None = None,
                pick: Callable[[html.Form], bool] | None = None,
                follow: bool = False) -> html.Page | None:
        """Fill the form posting to ``action`` on ``page_path`` (keeping every
        other field as the page shows it), post it, and check the answer.

        Returns the page shown after saving when ``follow`` is set. Raises
        ValidationRefused (the appliance's message), ApplianceError (HTTP 5xx),
        Unreachable (with ``applied``: see the module docstring)."""
        common = self.pages["common"]

        def attempt() -> html.Page | None:
            _, page = self._get(page_path)
            forms = [f for f in page.forms_with_action(action) if pick is None or pick(f)]
            data: dict[str, str] = dict(forms[0].fields) if forms else {}
            if not forms:
                if pick is not None or not page.forms:
                    raise ApplianceError(f"no form for {action} on {self.names.of(page_path)}")
                token = next((f.fields[common["csrf_field"]] for f in page.forms
                              if common["csrf_field"] in f.fields), "")
                data[common["csrf_field"]] = token
            data.update(changes)
            try:
                resp = self._send("POST", action, data)
            except Unreachable as exc:
                raise self._after_dropped_post(exc, page_path, applied) from None
            self._check_status(resp, action)
            if resp.is_redirect:
                target = self._location(resp).split("?")[0]
                if target == self.pages["login"]["path"]:
                    raise _SessionGone()
                if target == self.pages["change_password"]["path"]:
                    raise PasswordChangeRequired(
                        "the appliance opens no page until the password is changed")
                return self._get(target)[1] if follow else None
            shown = html.parse(resp.text)
            errors = shown.by_class(common["error_class"])
            if errors:
                message = self._scrub("; ".join(e.text for e in errors))
                raise ValidationRefused(
                    f"the appliance refused the change on {self.names.of(page_path)}: {message}",
                    page=self.names.of(page_path), field=_field_of(errors, changes))
            if follow:
                return shown
            raise ApplianceError(f"the appliance neither saved nor refused the change on "
                                 f"{self.names.of(page_path)}")

        return self._with_session(attempt)

    def _after_dropped_post(self, exc: Unreachable, page_path: str,
                            applied: Callable[[html.Page], bool] | None) -> Unreachable:
        name = self.names.of(page_path)
        seen: bool | None = None
        if applied is not None:
            try:
                seen = bool(applied(self._page(page_path)))
            except ApplianceError:
                seen = None
        outcome = {True: "re-reading the page shows the change WAS applied",
                   False: "re-reading the page shows the change was NOT applied",
                   None: "the page could not be re-read to see whether it was applied"}[seen]
        error = Unreachable(f"the connection to the appliance at {self.where} dropped while "
                            f"saving on {name}; {outcome}. Nothing was sent again.")
        error.applied = seen
        return error

    def _form_shows(self, action: str, changes: dict[str, str]) -> Callable[[html.Page], bool]:
        def check(page: html.Page) -> bool:
            form = page.form(action)
            return form is not None and all(
                html.lines(form.fields.get(k, "")) == html.lines(v)
                for k, v in changes.items() if "password" not in k)
        return check

    def _save_form(self, section: str, changes: dict[str, str]) -> None:
        spec = self.pages[section]
        self._submit(spec["page"], spec["action"], changes,
                     applied=self._form_shows(spec["action"], changes))

    # --- reading ------------------------------------------------------------------------------

    def read_state(self) -> ApplianceState:
        """Everything the appliance shows: Status > Basics, NTP, IP Configuration
        (NICs, addresses, Global Configuration), Static Routes, syslog and SMTP.

        Raises Unreachable, SessionExpired, ApplianceError (HTTP 5xx, page
        without the expected table or form)."""
        cache: dict[str, html.Page] = {}

        def page(path: str) -> html.Page:
            if path not in cache:
                cache[path] = self._page(path)
            return cache[path]

        return read_page_state(self.pages, page, self.names)

    # --- changes ----------------------------------------------------------------------------

    def add_ip(self, ip: IpAddress) -> None:
        """Networking > IP Configuration > Add New IP. ValidationRefused when
        the appliance refuses it (bad value, address already configured)."""
        spec = self.pages["ip_config"]
        self._submit(spec["path"], spec["add_action"], {
            spec["nic"]: ip.nic, spec["address"]: ip.address, spec["netmask"]: ip.netmask,
            spec["vlan"]: "" if ip.vlan is None else str(ip.vlan),
        }, applied=lambda p: any(a.address == ip.address for a in self._ips_on(p)))

    def remove_ip(self, ip: IpAddress) -> None:
        """Delete an address. ValidationRefused when it is not configured."""
        spec = self.pages["ip_config"]
        self._submit(spec["path"], spec["delete_action"],
                     {spec["nic"]: ip.nic, spec["address"]: ip.address},
                     pick=lambda f: f.fields.get(spec["address"]) == ip.address,
                     applied=lambda p: all(a.address != ip.address for a in self._ips_on(p)))

    def _ips_on(self, page: html.Page) -> list[IpAddress]:
        from .webpages import ips_from
        return ips_from(self.pages, page)

    def set_hostname(self, hostname: str) -> None:
        """Global Configuration: host name."""
        self._save_form("global_config", {self.pages["global_config"]["hostname"]: hostname})

    def set_default_gateway(self, gateway: str) -> None:
        """Global Configuration: default gateway ("" clears it)."""
        self._save_form("global_config", {self.pages["global_config"]["default_gateway"]: gateway})

    def set_dns_servers(self, servers: list[str]) -> None:
        """Global Configuration: DNS servers, in order."""
        self._save_form("global_config", {self.pages["global_config"]["dns_servers"]: "\n".join(servers)})

    def add_route(self, route: Route) -> None:
        """Networking > Static Routes: add one."""
        spec = self.pages["routes"]
        self._submit(spec["path"], spec["add_action"], {
            spec["destination"]: route.destination, spec["gateway"]: route.gateway,
            spec["nic"]: route.nic,
        }, applied=lambda p: any(r[:1] == [route.destination] for r in p.table(spec["table"]) or []))

    def remove_route(self, route: Route) -> None:
        """Networking > Static Routes: delete the route to ``route.destination``."""
        spec = self.pages["routes"]
        self._submit(spec["path"], spec["delete_action"], {spec["destination"]: route.destination},
                     pick=lambda f: f.fields.get(spec["destination"]) == route.destination,
                     applied=lambda p: all(r[:1] != [route.destination]
                                           for r in p.table(spec["table"]) or []))

    def set_ntp_servers(self, servers: list[str]) -> None:
        """NTP servers (the page named by the page map's [ntp])."""
        self._save_form("ntp", {self.pages["ntp"]["servers"]: "\n".join(servers)})

    def set_syslog(self, servers: list[str], fmt: str) -> None:
        """Security > Appliance Administration: syslog servers and format."""
        spec = self.pages["syslog"]
        self._save_form("syslog", {spec["servers"]: "\n".join(servers), spec["format"]: fmt})

    def set_smtp(self, smtp: SmtpSettings, password: str | None) -> None:
        """Security > Email Configuration. ``password`` None (or "") keeps the
        password the appliance holds."""
        spec = self.pages["smtp"]
        changes = {
            spec["relay"]: smtp.relay, spec["port"]: str(smtp.port),
            spec["encryption"]: smtp.encryption, spec["auth"]: smtp.auth,
            spec["username"]: smtp.username, spec["from_address"]: smtp.from_address,
            spec["admin_contacts"]: "\n".join(smtp.admin_contacts),
            spec["password"]: password or "",
        }
        if password:
            self._secrets.add(password)
        self._save_form("smtp", changes)

    def send_test_email(self) -> str:
        """Security > Email Configuration > send test email; returns the
        appliance's notice. ValidationRefused when it cannot send."""
        spec, common = self.pages["smtp"], self.pages["common"]
        shown = self._submit(spec["page"], spec["test_action"], {}, follow=True)
        notices = shown.by_class(common["notice_class"]) if shown is not None else []
        return " ".join(n.text for n in notices) or "test email sent"


def _field_of(errors: list[html.Element], changes: dict[str, str]) -> str | None:
    """Which form field an error names: ``data-field``, a "field: why" message,
    or the one field that was changed."""
    for error in errors:
        if error.attrs.get("data-field"):
            return error.attrs["data-field"]
        head, sep, _ = error.text.partition(":")
        if sep and head.strip() in changes:
            return head.strip()
    named = [k for k in changes if "password" not in k and "csrf" not in k]
    return named[0] if len(named) == 1 else None
