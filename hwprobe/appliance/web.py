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

Requests (a slow appliance or line pays for each one): the pages read by
``read_state()`` are kept; a save posts the form from the kept page when the
page's CSRF token and the form's other fields are still what the appliance
holds (a form saved before is read again only when fields it does not set
would be posted as they stood), and marks its page as touched.
``read_back()`` then reads again only the pages a save touched. A new login
(an expired session) forgets every kept page: their CSRF tokens are gone.

Passwords never appear in logs or exception messages.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from hwprobe import redact
from hwprobe.constants import FACTORY_PASSWORD
from hwprobe.errors import (
    ApplianceError, CertificateChanged, LockedOut, LoginFailed, PageMismatch,
    PasswordChangeRequired, PasswordRefused, SessionExpired, Unreachable, ValidationRefused,
)
from hwprobe.appliance.pagecheck import MISSING, READ_SECTIONS, check_section, page_of
from hwprobe.appliance.pagemap import PAGES, pages_for, profile_for
from hwprobe.appliance.state import ApplianceState, IpAddress, Route, SmtpSettings, SyslogServer, one_list
from hwprobe.appliance import html
from hwprobe.appliance.base import ALL_CAPABILITIES, LoginResult
from hwprobe.appliance.pinning import (
    answer_deadline, fetch_fingerprint, pinned_session, format_fingerprint, journal_pins, normalize_fingerprint,
    where, why,
)
from hwprobe.appliance.webpages import PageNames, field_of, form_shows, ips_from, read_page_state

log = logging.getLogger("hwprobe.appliance.web")

DEFAULT_TIMEOUT = (3.0, 10.0)          # connect, idle between bytes (seconds)
# A page is tens of KB; a hostile or broken box must not grow bringup without
# end (an endless chunked body) or hold it forever (one byte every 2 s).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
ANSWER_DEADLINE = 30.0                 # seconds for one whole answer
MASK = "********"


class _SessionGone(Exception):
    """Internal: the appliance sent us to its login page."""


class _StaleLoginForm(Exception):
    """Internal: the login form expired between reading and posting it."""


class WebDriver:
    """The appliance's web interface. Use as a context manager, or open()/close().

    ``pinned_fingerprint`` is the certificate pin (``AB:CD:...``); without one
    the journal's pin store is asked (``use_journal``), and with no pin at all
    the certificate seen now is trusted and reported to ``on_first_use(fp)``
    and the pin store. ``trust_new_certificate`` re-pins a changed certificate
    instead of refusing it. ``device`` (a laptop port's name) keeps every
    connection on that port (SO_BINDTODEVICE), whatever the routing table
    says: the session passes the port it holds.
    """

    kind = "web"
    capabilities = ALL_CAPABILITIES

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
        device: str | None = None,
    ):
        self.address, self.port = address, port
        self.device = device        # the laptop port every connection must use, if any
        self.where = where(address, port)
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.base_pages = pages
        self.pages = pages          # the firmware profile's layout, once Status > Basics is read
        self.names = PageNames(pages)
        self.profile: str | None = None
        self.software_version = ""
        self._profile_known = False
        self._last_html = ""
        self.fingerprint: str | None = None
        self.first_use = False
        self._pin = pinned_fingerprint
        self._on_first_use = on_first_use
        self._trust_new = trust_new_certificate
        self._pins = journal_pins() if use_journal else None
        self._session: requests.Session | None = None
        self._credentials: tuple[str, str] | None = None
        self._secrets: set[str] = set()
        # pages as last read (path -> page), pages a save touched since, and
        # per page the form actions saved since it was read
        self._pages: dict[str, html.Page] = {}
        self._touched: set[str] = set()
        self._saved_forms: dict[str, set[str]] = {}

    # --- open / close ----------------------------------------------------------

    def open(self) -> None:
        """Read and check the certificate, then prepare the pinned session.

        Raises Unreachable (no HTTPS answer) or CertificateChanged (a different
        certificate than the pinned one)."""
        if self._session is not None:       # already open (connect_web, then ``with``)
            return
        got = fetch_fingerprint(self.address, self.port, self.timeout[0], self.device)
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
        self._session = pinned_session(got, self.device)

    def close(self) -> None:
        """Log out (best effort) and drop the session. Never raises."""
        if self._session is None:
            return
        if self._credentials is not None:
            try:
                # the answer is not read: a hostile logout page (endless, a
                # drip) must not hold or grow a run that is ending
                with answer_deadline(3.0):
                    self._session.get(self._url(self.pages["logout"]["path"]),
                                      timeout=(1.0, 2.0), allow_redirects=False,
                                      stream=True).close()
            except requests.RequestException:
                pass
        self._session.close()
        self._session = None
        self._credentials = None
        self._secrets.clear()
        self._forget_pages()

    def __enter__(self) -> "WebDriver":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- HTTP ------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        host = f"[{self.address}]:{self.port}" if ":" in self.address else self.where
        return f"https://{host}{path}"

    def _scrub(self, text: str) -> str:
        # the factory password is public, and a word
        return redact.masked(text, self._secrets - {FACTORY_PASSWORD}, MASK)

    def _send(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        """One request, no redirects followed. GETs get one bounded retry."""
        if self._session is None:
            raise ApplianceError("the web driver is not open: call open() first")
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            try:
                started = time.monotonic()
                with answer_deadline(ANSWER_DEADLINE):      # a drip before the headers too
                    resp = self._session.request(method, self._url(path), data=data, stream=True,
                                                 timeout=self.timeout, allow_redirects=False)
                self._read_body(resp, path, started)
                log.debug("%s %s -> %s", method, path, resp.status_code)
                return resp
            except requests.exceptions.SSLError as exc:
                if "fingerprint" in str(exc).lower():
                    raise CertificateChanged(
                        self.fingerprint or "", self._current_fingerprint()) from None
                failure: Exception = exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if time.monotonic() - started >= ANSWER_DEADLINE:   # no second try after that
                    raise Unreachable(f"the appliance's answer on {self.names.of(path)} took "
                                      f"longer than {ANSWER_DEADLINE:.0f} s; it was not read "
                                      f"further") from None
                failure = exc
            log.debug("%s %s failed: %s", method, path, why(failure))
            if attempt + 1 < attempts:
                time.sleep(self.retry_delay)
        raise Unreachable(
            f"the appliance at {self.where} did not answer ({why(failure)}) on "
            f"{self.names.of(path)}: check the cable and that the appliance is powered")

    def _read_body(self, resp: requests.Response, path: str, started: float) -> None:
        """Read the answer into ``resp`` within the size cap and the deadline
        (the read timeout already bounds each wait between bytes).

        Raises Unreachable naming the page: too large, too slow, cut short, or
        an encoding that does not decode. Unreachable, because then a POST gets
        its "was it applied?" re-read (the answer may be lost, the change not)."""
        name = self.names.of(path)
        chunks, size = [], 0
        raw = resp.raw
        try:
            while True:
                # read1: whatever has arrived (a drip must not block one read for ages)
                chunk = raw.read1(65536, decode_content=True)
                if not chunk:
                    if raw.closed or raw.isclosed():
                        break
                    if time.monotonic() - started > ANSWER_DEADLINE:
                        raise Unreachable(f"the appliance's answer on {name} took longer than "
                                          f"{ANSWER_DEADLINE:.0f} s; it was not read further")
                    continue
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise Unreachable(f"the appliance's answer on {name} is larger than "
                                      f"{MAX_ANSWER_BYTES // (1024 * 1024)} MB; it was not read further")
                if time.monotonic() - started > ANSWER_DEADLINE:
                    raise Unreachable(f"the appliance's answer on {name} took longer than "
                                      f"{ANSWER_DEADLINE:.0f} s; it was not read further")
                chunks.append(chunk)
        except (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError):
            raise Unreachable(f"the appliance's answer on {name} is not valid in its own "
                              f"encoding ({resp.headers.get('Content-Encoding', 'unknown')})") from None
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError,
                requests.Timeout, urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(f"the appliance's answer on {name} was cut short "
                              f"({why(exc)})") from None
        finally:
            resp.close()
        resp._content = b"".join(chunks)        # what requests itself sets after reading

    def _current_fingerprint(self) -> str:
        try:
            return fetch_fingerprint(self.address, self.port, self.timeout[0], self.device)
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
            return current, self._parse(resp, current)
        raise ApplianceError(f"the appliance redirected too many times on {self.names.of(path)}")

    def _parse(self, resp: requests.Response, path: str) -> html.Page:
        """The answer as a page. ApplianceError naming the page when it cannot
        be read as one (nested too deep)."""
        try:
            self._last_html = resp.text     # for read_page (survey snapshots)
            return html.parse(resp.text)
        except (html.PageTooDeep, RecursionError) as exc:
            raise ApplianceError(f"the appliance's page {self.names.of(path)} cannot be read: "
                                 f"{exc or 'nested too deep'}") from None

    def _with_session(self, attempt: Callable[[], Any], *, changing_password: bool = False) -> Any:
        """Run ``attempt``; when the session turns out to have expired, log in
        again once and run it again. SessionExpired when that does not help."""
        try:
            return attempt()
        except _SessionGone:
            pass
        self._relogin(changing_password)
        try:
            return attempt()
        except _SessionGone:
            raise SessionExpired(
                f"the appliance at {self.where} ended the session again right after "
                f"logging in again") from None

    def _relogin(self, changing_password: bool = False) -> None:
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
        if result.change_required and not changing_password:
            raise PasswordChangeRequired("the appliance opens no page until the password is changed")

    def _page(self, path: str) -> html.Page:
        """GET ``path`` (logging in again once when the session ended) and keep it."""
        page = self._with_session(lambda: self._get(path)[1])
        self._keep(path, page)
        return page

    def _keep(self, path: str, page: html.Page) -> None:
        self._pages[path] = page
        self._touched.discard(path)
        self._saved_forms.pop(path, None)

    def _forget_pages(self) -> None:
        self._pages.clear()
        self._touched.clear()
        self._saved_forms.clear()

    def _form_page(self, path: str, action: str, changes: dict[str, str]) -> html.Page:
        """The page to fill the form posting to ``action`` from: the kept one,
        unless that form was saved since and would post fields it does not
        set as they stood then (an add form sets all of its fields)."""
        page = self._pages.get(path)
        if page is not None and action in self._saved_forms.get(path, ()):
            csrf = self.pages["common"]["csrf_field"]
            forms = page.forms_with_action(action)
            if not forms or any(k not in changes and k != csrf for k in forms[0].fields):
                page = None
        if page is None:
            _, page = self._get(path)
            self._keep(path, page)
        return page

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
        self._forget_pages()                # their CSRF tokens belong to the old session
        try:
            return self._login_once(username, password)
        except _StaleLoginForm:
            log.info("the login form on %s went stale before it was sent; reading it again",
                     self.where)
        try:
            return self._login_once(username, password)
        except _StaleLoginForm as exc:
            raise LoginFailed(f"the appliance at {self.where} refused the login form twice as "
                              f"expired: {exc}") from None

    def _login_once(self, username: str, password: str) -> LoginResult:
        """One read of the login form and one post of it. Raises _StaleLoginForm
        when the appliance says the form itself expired (the password was not
        judged), LoginFailed / LockedOut when it refused the password."""
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
            page = self._parse(resp, path)
        message = self._scrub(" ".join(e.text for e in page.by_class(common["error_class"]))
                              or "the login was refused")
        stale = spec.get("stale_form_pattern")
        if stale and re.search(stale, message):
            raise _StaleLoginForm(message)
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
            try:
                resp = self._send("POST", path, data)
            except Unreachable as exc:
                error = Unreachable(
                    f"the connection to the appliance at {self.where} dropped while changing "
                    f"the password: it may or may not have changed. Log in with the new "
                    f"password first; if that is refused, the old one is still in force.")
                error.applied = None
                raise error from exc
            self._check_status(resp, path)
            if resp.is_redirect:        # saved: 303 (to the same page, with a notice)
                if self._location(resp).split("?")[0] == self.pages["login"]["path"]:
                    raise _SessionGone()
                return
            errors = self._parse(resp, path).by_class(self.pages["common"]["error_class"])
            reason = self._scrub(" ".join(e.text for e in errors) or "no reason given")
            raise PasswordRefused(f"the appliance refused the new password: {reason}")

        self._with_session(attempt, changing_password=True)
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
            page = self._form_page(page_path, action, changes)
            forms = [f for f in page.forms_with_action(action) if pick is None or pick(f)]
            data: dict[str, str] = dict(forms[0].fields) if forms else {}
            if not forms:
                if pick is not None or not page.forms:
                    raise ApplianceError(f"no form for {action} on {self.names.of(page_path)}")
                token = next((f.fields[common["csrf_field"]] for f in page.forms
                              if common["csrf_field"] in f.fields), "")
                data[common["csrf_field"]] = token
            data.update(changes)
            # from here on the page may hold the change: read it again to read back
            self._touched.add(page_path)
            self._saved_forms.setdefault(page_path, set()).add(action)
            try:
                resp = self._send("POST", action, data)
            except Unreachable as exc:
                raise self._after_dropped_post(exc, page_path, applied) from None
            self._check_status(resp, action)
            if resp.status_code in (401, 403):      # form or session expired: not saved
                raise _SessionGone()
            if resp.is_redirect:
                target = self._location(resp).split("?")[0]
                if target == self.pages["login"]["path"]:
                    raise _SessionGone()
                if target == self.pages["change_password"]["path"]:
                    raise PasswordChangeRequired(
                        "the appliance opens no page until the password is changed")
                if not follow:
                    return None
                shown = self._get(target)[1]
                if target == page_path:         # the saved page itself: that is the read-back
                    self._keep(target, shown)
                return shown
            try:
                shown = self._parse(resp, action)
            except ApplianceError as exc:       # the answer is unreadable; the change may be saved
                raise self._after_dropped_post(Unreachable(str(exc)), page_path, applied) from None
            errors = shown.by_class(common["error_class"])
            if errors:
                message = self._scrub("; ".join(e.text for e in errors))
                raise ValidationRefused(
                    f"the appliance refused the change on {self.names.of(page_path)}: {message}",
                    page=self.names.of(page_path), field=field_of(errors, changes))
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
                            f"saving on {name} ({exc}); {outcome}. Nothing was sent again.")
        error.applied = seen
        return error

    def _save_form(self, section: str, changes: dict[str, str]) -> None:
        spec = self.pages[section]
        self._submit(spec["page"], spec["action"], changes,
                     applied=form_shows(spec["action"], changes))

    # --- reading ------------------------------------------------------------------------------

    def read_state(self) -> ApplianceState:
        """Everything the appliance shows: Status > Basics, NTP, IP Configuration
        (NICs, addresses, Global Configuration), Static Routes, syslog and SMTP,
        each page read once, now.

        Raises Unreachable, SessionExpired, ApplianceError (HTTP 5xx, page
        without the expected table or form)."""
        got: dict[str, html.Page] = {}     # a new login mid-read forgets the kept ones

        def page(path: str) -> html.Page:
            if path not in got:
                got[path] = self._page(path)
            return got[path]

        self._know_profile(page(self.base_pages["status_basics"]["path"]))
        self._check_pages(page)
        return read_page_state(self.pages, page, self.names)

    # --- the firmware profile -------------------------------------------------------------

    def read_page(self, path: str) -> tuple[str, html.Page]:
        """GET one page as served: (its HTML, the parsed page). For survey."""
        page = self._page(path)
        return self._last_html, page

    def know_profile(self) -> str | None:
        """The firmware profile of this appliance (None: no profile claims its
        software version), read from Status > Basics once."""
        self._know_profile()
        return self.profile

    def _know_profile(self, basics: html.Page | None = None) -> None:
        """Pick the page layout from the software version Status > Basics
        shows (hwprobe/appliance/pagemap.toml [profiles]); once per driver. A version
        no profile claims keeps the base layout."""
        if self._profile_known:
            return
        if basics is None:
            basics = self._page(self.base_pages["status_basics"]["path"])
        version = (basics.text_of("software_version") or "").strip()
        found = profile_for(version)
        known = self.base_pages.get("profiles", {})
        if found is not None and found[0] in known:
            self.profile, self.pages = found[0], pages_for(found[0], self.base_pages)
            self.names = PageNames(self.pages)
        self.software_version, self._profile_known = version, True

    def _check_pages(self, page: Callable[[str], html.Page]) -> None:
        """Every field the layout names on the pages settings are read from is
        there; else PageMismatch naming the page, the field and the software
        version, before anything is changed."""
        for section in READ_SECTIONS:
            where = page_of(self.pages[section])
            missing = [f for f in check_section(self.pages, section, page(where))
                       if f.status == MISSING]
            if missing:
                f = missing[0]
                name = self.names.of(where)
                profile = f", firmware profile {self.profile}" if self.profile else ""
                raise PageMismatch(
                    f"{name} does not match what bringup knows of this firmware: no {f.kind} "
                    f"{f.field!r} (software {self.software_version or 'unknown'}{profile}). "
                    f"Nothing was changed. Run `bringup survey --address {self.address}` and "
                    f"send the archive it writes, so the page map can be updated",
                    page=name, field=f.field, version=self.software_version)

    def read_back(self) -> ApplianceState:
        """The appliance's state after saves: the pages a save touched (or
        that were never read) are read again, the others are as last read.
        Raises as ``read_state``."""
        got: dict[str, html.Page] = {}

        def page(path: str) -> html.Page:
            if path not in got:
                kept = self._pages.get(path)
                got[path] = (self._page(path) if kept is None or path in self._touched
                             else kept)
            return got[path]

        return read_page_state(self.pages, page, self.names)

    @property
    def touched_pages(self) -> frozenset[str]:
        """Pages a save touched since they were last read."""
        return frozenset(self._touched)

    # --- changes ----------------------------------------------------------------------------

    def add_ip(self, ip: IpAddress) -> None:
        """Networking > IP Configuration > Add New IP. ValidationRefused when
        the appliance refuses it (bad value, address already configured)."""
        spec = self.pages["ip_config"]
        self._submit(spec["path"], spec["add_action"], {
            spec["nic"]: ip.nic, spec["address"]: ip.address, spec["netmask"]: ip.netmask,
            spec["vlan"]: "" if ip.vlan is None else str(ip.vlan),
        }, applied=lambda p: any(a.address == ip.address for a in ips_from(self.pages, p)))

    def remove_ip(self, ip: IpAddress) -> None:
        """Delete an address. ValidationRefused when it is not configured."""
        spec = self.pages["ip_config"]
        self._submit(spec["path"], spec["delete_action"],
                     {spec["nic"]: ip.nic, spec["address"]: ip.address},
                     pick=lambda f: f.fields.get(spec["address"]) == ip.address,
                     applied=lambda p: all(a.address != ip.address for a in ips_from(self.pages, p)))

    def set_global(self, *, hostname: str | None = None, default_gateway: str | None = None,
                   dns_servers: list[str] | None = None) -> None:
        """Global Configuration in one save: each value given (None leaves
        it as the page shows it; "" or [] clears it). ValidationRefused with
        the appliance's message when it refuses any of them (nothing saved)."""
        spec = self.pages["global_config"]
        changes = {}
        if hostname is not None:
            changes[spec["hostname"]] = hostname
        if default_gateway is not None:
            changes[spec["default_gateway"]] = default_gateway
        if dns_servers is not None:
            changes[spec["dns_servers"]] = "\n".join(dns_servers)
        if changes:
            self._save_form("global_config", changes)

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

    def set_syslog(self, servers: list[str], fmt: str,
                   each: list[SyslogServer] | None = None) -> None:
        """Security > Appliance Administration: syslog servers and format (the
        one-list layout), or each server's host, port and format (the newer
        layout; ``each`` None: every server on ``fmt``'s default port).
        ValidationRefused when this firmware cannot hold them."""
        self._know_profile()
        spec = self.pages["syslog"]
        if "slots" not in spec:
            if each is not None and not one_list(each):
                raise ValidationRefused(
                    f"this appliance (software {self.software_version}) takes one syslog "
                    f"format for every server, on port 514: not "
                    + ", ".join(f"{t.server}:{t.port} {t.format}" for t in each),
                    page=self.names.of(spec["page"]), field=spec["servers"])
            self._save_form("syslog", {spec["servers"]: "\n".join(servers), spec["format"]: fmt})
            return
        defaults = spec.get("default_ports", {})
        targets = each if each is not None else [
            SyslogServer(h, int(defaults.get(fmt, 514)), fmt) for h in servers]
        if len(targets) > int(spec["slots"]):
            raise ValidationRefused(
                f"this appliance (software {self.software_version}) takes {spec['slots']} "
                f"syslog servers; {len(targets)} were given", page=self.names.of(spec["page"]),
                field=spec["server"].format(n=1))
        changes = {}
        for n in range(1, int(spec["slots"]) + 1):
            t = targets[n - 1] if n <= len(targets) else SyslogServer("", int(defaults.get(fmt, 514)), fmt)
            changes[spec["server"].format(n=n)] = t.server
            changes[spec["port"].format(n=n)] = str(t.port) if t.server else ""
            changes[spec["format"].format(n=n)] = t.format
        self._save_form("syslog", changes)

    def set_smtp(self, smtp: SmtpSettings, password: str | None) -> None:
        """Security > Email Configuration. ``password`` None (or "") keeps the
        password the appliance holds."""
        self._know_profile()
        spec = self.pages["smtp"]
        changes = {
            spec["relay"]: smtp.relay, spec["port"]: str(smtp.port),
            spec["encryption"]: smtp.encryption,
            # the newer layout has no selector: a user name left blank means no login
            spec["username"]: smtp.username if smtp.auth == "password" or "auth" in spec else "",
            spec["from_address"]: smtp.from_address,
            spec["admin_contacts"]: "\n".join(smtp.admin_contacts),
            spec["password"]: password or "",
        }
        if "auth" in spec:
            changes[spec["auth"]] = smtp.auth
        if password:
            self._secrets.add(password)
        self._save_form("smtp", changes)

    def send_test_email(self) -> str:
        """Security > Email Configuration > send test email; returns the
        appliance's notice. ValidationRefused when it cannot send."""
        self._know_profile()
        spec, common = self.pages["smtp"], self.pages["common"]
        if "test_action" in spec:
            shown = self._submit(spec["page"], spec["test_action"], {}, follow=True)
        else:   # the newer layout: save the form as it is, with "send a test e-mail" ticked
            shown = self._submit(spec["page"], spec["action"], {spec["test_on_save"]: "1"},
                                 follow=True)
        notices = shown.by_class(common["notice_class"]) if shown is not None else []
        return " ".join(n.text for n in notices) or "test email sent"


    # --- proving it works (bringup verify) ---------------------------------------------------

    def utility(self, action: str, **fields: str) -> str:
        """Support > Utilities: run ``action`` (a page map key of [utilities]:
        ping_action, lookup_action, connect_action, syslog_test_action) with
        ``fields`` (page map names: host, port, name, dns_server); returns the
        appliance's answer. ValidationRefused when it refuses to run it."""
        spec, common = self.pages["utilities"], self.pages["common"]
        shown = self._submit(spec["path"], spec[action],
                             {spec[k]: v for k, v in fields.items()}, follow=True)
        notices = shown.by_class(common["notice_class"]) if shown is not None else []
        return " ".join(n.text for n in notices)

    def ntp_status(self) -> tuple[str, list[list[str]]]:
        """NTP sync status from the [ntp] page: (status, [[server, state, details]]).
        ("", []) when this firmware shows none."""
        spec = self.pages["ntp"]
        page = self._page(spec["page"])
        found = page.by_id(spec["status"])
        return (found.text if found is not None else "", page.table(spec["status_table"]) or [])

    def check_health(self) -> tuple[int, str]:
        """The unauthenticated /check_health: (HTTP status, its text)."""
        resp = self._send("GET", "/check_health")
        return resp.status_code, resp.text.strip()[:200]
