"""The web driver's line to the appliance: pinned HTTPS, one request at a time.

The appliance's certificate is pinned by SHA-256 on first use: ``open()``
reads the certificate, compares it with the pin (given, or from the journal's
pin store) and from then on every HTTPS connection is checked against that
fingerprint by urllib3 itself (``assert_fingerprint``), so no request ever
goes out unverified and nothing turns verification off globally.

A GET that meets a refused, reset or timed-out connection is tried once more
after ``retry_delay`` seconds; a second failure raises ``Unreachable``. A POST
is never sent twice here. Every answer is read within a size cap and a
deadline: a hostile or broken box must not grow bringup without end or hold
it forever. Redirects are not followed here (``Location`` is checked to stay
inside the web interface); the session above decides what they mean.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from hwprobe.errors import ApplianceError, CertificateChanged, Unreachable
from hwprobe.appliance import html
from hwprobe.appliance.pinning import (
    answer_deadline, fetch_fingerprint, pinned_session, format_fingerprint, journal_pins, normalize_fingerprint,
    where, why,
)
from hwprobe.appliance.webpages import PageNames

log = logging.getLogger("hwprobe.appliance.web")

DEFAULT_TIMEOUT = (3.0, 10.0)          # connect, idle between bytes (seconds)
# A page is tens of KB; a hostile or broken box must not grow bringup without
# end (an endless chunked body) or hold it forever (one byte every 2 s).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
ANSWER_DEADLINE = 30.0                 # seconds for one whole answer


class Https:
    """Pinned HTTPS to the appliance at ``address``. ``pinned_fingerprint`` is
    the certificate pin (``AB:CD:...``); without one the journal's pin store is
    asked (``use_journal``), and with no pin at all the certificate seen now is
    trusted and reported to ``on_first_use(fp)`` and the pin store.
    ``trust_new_certificate`` re-pins a changed certificate instead of
    refusing it. ``device`` (a laptop port's name) keeps every connection on
    that port (SO_BINDTODEVICE), whatever the routing table says. ``pages``
    names the pages in messages (``self.names``, kept to the firmware's
    layout by the driver)."""

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
        pages: Mapping[str, Any],
        device: str | None = None,
    ):
        self.address, self.port = address, port
        self.device = device        # the laptop port every connection must use, if any
        self.where = where(address, port)
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.names = PageNames(pages)
        self._last_html = ""
        self.fingerprint: str | None = None
        self.first_use = False
        self._pin = pinned_fingerprint
        self._on_first_use = on_first_use
        self._trust_new = trust_new_certificate
        self._pins = journal_pins() if use_journal else None
        self._session: requests.Session | None = None

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

    def repin(self, fingerprint: str) -> None:
        """From now on every new connection must present ``fingerprint``
        (the appliance's new default certificate, which this run set); the
        logged-in session (its cookie) goes on, so no new login is needed."""
        old = self._session
        self._session = pinned_session(fingerprint, self.device)
        if old is not None:
            self._session.cookies.update(old.cookies)
            old.close()
        self._pin = self.fingerprint = format_fingerprint(fingerprint)

    def _url(self, path: str) -> str:
        host = f"[{self.address}]:{self.port}" if ":" in self.address else self.where
        return f"https://{host}{path}"

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

    def _parse(self, resp: requests.Response, path: str) -> html.Page:
        """The answer as a page. ApplianceError naming the page when it cannot
        be read as one (nested too deep)."""
        try:
            text = page_text(resp)
            self._last_html = text          # for read_page (survey snapshots)
            return html.parse(text)
        except (html.PageTooDeep, RecursionError) as exc:
            raise ApplianceError(f"{self.names.of(path)} cannot be read: "
                                 f"{exc or 'nested too deep'}") from None


def page_text(resp: requests.Response) -> str:
    """The answer's text. The appliance's pages are UTF-8: a byte that is
    not is kept as it came (``surrogateescape``; safetext shows it as
    ``\\xNN``), never guessed into another character (requests would read a
    page without a charset as Latin-1, and 0xff would show as "y"). A page
    that declares another charset is read in it."""
    declared = requests.utils.get_encoding_from_headers(resp.headers)
    content_type = resp.headers.get("content-type", "").lower()
    if declared and "charset" in content_type and declared.lower().replace("_", "-") not in (
            "utf-8", "utf8"):
        return resp.content.decode(declared, "replace")
    return resp.content.decode("utf-8", "surrogateescape")
