"""The /login administrative interface of a site: log in, then Management >
Software Management > Restore Settings (the NSB with its backup password).

Documented (vendor procedure, "Temporary Hosted Site", steps 4-7): Restore
Settings takes the backup file and its password, and Upload Backup sends
it. Modelled (docs/DESIGN.md): paths, field names and the session cookie
(the page map's ``[login_admin]``), and that the appliance restarts /login
after a restore (503 meanwhile).

``LoginAdmin`` is pinned like the web driver (the certificate given, or the
one seen first), bound to the laptop port when given one, and sends the NSB
streamed from disk (hwprobe/appliance/upload.py). The passwords are held in
memory only and never put in a message.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

import requests

from hwprobe.appliance import html
from hwprobe.appliance.pagemap import PAGES
from hwprobe.constants import FACTORY_PASSWORD, LOGIN_FIRST_PASSWORD
from hwprobe.errors import ApplianceError, LoginFailed, Unreachable

ANSWER_BYTES = 4 * 1024 * 1024
ANSWER_SECONDS = 30.0


class NoSite(ApplianceError):
    """/login is not there: the appliance has no site software."""


class Restarting(Unreachable):
    """/login answers 503: it is restarting (after a restore, an install)."""


class RestoreRefused(ApplianceError):
    """The appliance refused the backup; nothing was restored. ``reason`` is
    "wrong_password", "newer" or "damaged" (not an NSB, or damaged), and the
    message quotes the appliance."""

    def __init__(self, message: str, reason: str):
        self.reason = reason
        super().__init__(message)


REASONS = {"wrong_password": "the backup password is wrong",
           "newer": "the backup was made by newer software than the appliance runs",
           "damaged": "the backup file is damaged or not a backup"}


class LoginAdmin:
    """/login of the site at ``address`` (use ``with``, or close())."""

    def __init__(self, address: str, port: int = 443, *, fingerprint: str | None = None,
                 device: str | None = None, timeout: tuple[float, float] = (3.0, 10.0),
                 pages: Mapping[str, Any] = PAGES):
        self.address, self.port, self.device, self.timeout = address, port, device, timeout
        self.spec, self.common = pages["login_admin"], pages["common"]
        self.fingerprint = fingerprint
        self._session: requests.Session | None = None
        self._secrets: set[str] = set()
        self.uploaded: tuple[int, float] | None = None      # (bytes, seconds) of the last restore

    def __enter__(self) -> "LoginAdmin":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._secrets.clear()

    def _url(self, path: str) -> str:
        return f"https://{self.address}" + ("" if self.port == 443 else f":{self.port}") + path

    def _open(self) -> requests.Session:
        """The pinned session (the certificate seen now, when none was given).
        CertificateChanged, Unreachable."""
        if self._session is None:
            from hwprobe.appliance.pinning import (fetch_fingerprint, normalize_fingerprint,
                                                   pinned_session)
            from hwprobe.errors import CertificateChanged

            got = fetch_fingerprint(self.address, self.port, self.timeout[0], self.device)
            if self.fingerprint and normalize_fingerprint(got) != normalize_fingerprint(
                    self.fingerprint):
                raise CertificateChanged(self.fingerprint, got)
            self.fingerprint = got
            self._session = pinned_session(got, self.device)
        return self._session

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        from hwprobe.appliance.pinning import answer_deadline, read_bounded, why

        try:
            with answer_deadline(ANSWER_SECONDS):
                resp = self._open().request(method, self._url(path), timeout=self.timeout,
                                            allow_redirects=False, stream=True, **kw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Unreachable(f"/login on {self.address} did not answer ({why(exc)})") from None
        read_bounded(resp, limit=ANSWER_BYTES, seconds=ANSWER_SECONDS, what=f"/login of "
                     f"{self.address}")
        return self._judged(resp)

    def _judged(self, resp: requests.Response) -> requests.Response:
        if resp.status_code == 404:
            raise NoSite(f"{self.address} has no /login: the site software is not installed")
        if resp.status_code == 503:
            raise Restarting(f"/login on {self.address} is restarting")
        if resp.status_code >= 500:
            raise ApplianceError(f"/login on {self.address} answered HTTP {resp.status_code}")
        return resp

    def _page(self, resp: requests.Response) -> html.Page:
        try:
            return html.parse(resp.text)
        except (html.PageTooDeep, RecursionError):
            raise ApplianceError(f"a /login page of {self.address} cannot be read") from None

    def _errors(self, page: html.Page) -> str:
        from hwprobe import redact

        text = "; ".join(e.text for e in page.by_class(self.common["error_class"]))
        return redact.masked(text, self._secrets, "********")

    def login(self, user: str, password: str) -> None:
        """Log in to /login. LoginFailed (refused: the appliance's words),
        NoSite, Restarting, Unreachable, CertificateChanged."""
        if password not in (FACTORY_PASSWORD, LOGIN_FIRST_PASSWORD):   # public words
            self._secrets.add(password)
        s = self.spec
        page = self._page(self._request("GET", s["path"]))
        form = page.form(s["path"])
        if form is None:
            raise ApplianceError(f"no login form on /login of {self.address}")
        data = {**form.fields, s["username"]: user, s["password"]: password}
        resp = self._request("POST", s["path"], data=data)
        if resp.is_redirect:
            return
        raise LoginFailed(f"/login on {self.address} refused the login for {user!r}: "
                          f"{self._errors(self._page(resp)) or 'no reason given'}")

    def restore(self, nsb_path, backup_password: str, on_progress=None) -> None:
        """Management > Software Management > Restore Settings: upload the
        NSB at ``nsb_path`` (streamed) with ``backup_password``. Returns when
        the appliance took it (it then restarts /login). RestoreRefused (it
        said why; nothing restored), Unreachable (cut short: ``applied``
        None), CertificateChanged, ApplianceError, OSError (the laptop's disk)."""
        from hwprobe.appliance.upload import MultipartFile, post_upload

        self._secrets.add(backup_password)
        s = self.spec
        page = self._page(self._request("GET", s["software_page"]))
        forms = page.forms_with_action(s["restore_action"])
        if not forms:
            raise ApplianceError(f"/login on {self.address} shows no Restore Settings form (the "
                                 "session ended, or the page map does not match this software)")
        fields = {k: v for k, v in forms[0].fields.items() if k != s["file"]}
        fields[s["backup_password"]] = backup_password
        body = MultipartFile(fields, s["file"], nsb_path, on_progress=on_progress)
        started = time.monotonic()
        resp = self._judged(post_upload(self._open(), self._url(s["restore_action"]), body,
                                        what=f"Restore Settings on {self.address}"))
        # from the first byte sent to the appliance's answer (it checks the file first)
        self.uploaded = (body.size, time.monotonic() - started)
        if resp.is_redirect:
            return
        said = self._errors(self._page(resp))
        if not said:
            raise ApplianceError(f"/login on {self.address} neither took nor refused the backup "
                                 f"(HTTP {resp.status_code})")
        field = said.split(":", 1)[0].strip()
        reason = ("wrong_password" if field == s["backup_password"] else
                  "newer" if "newer" in said else "damaged")
        raise RestoreRefused(f"the appliance refused the /login backup: {REASONS[reason]} "
                             f"(it said: {said}); nothing was restored", reason)

    def answers(self) -> bool:
        """/login answers (not restarting): its unauthenticated /check_health
        gives 200 or 500. False while it restarts or does not answer."""
        try:
            resp = self._request("GET", "/check_health")
        except (Unreachable, NoSite):
            return False
        return resp.status_code in (200, 500)
