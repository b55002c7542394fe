"""The web driver's session with the appliance: logging in, staying logged
in, and filling and posting its forms.

- When the session has expired (the appliance redirects to its login page),
  it logs in again with the credentials it logged in with (held in memory
  only) and repeats the request once; if that fails, ``SessionExpired``.
- A POST is never sent twice. When the connection drops during a POST, the
  page is read again and ``Unreachable`` is raised with ``applied`` set to
  what it saw: True (the page shows the change), False (it does not) or None
  (the page could not be read). The caller decides; the engine reads back
  anyway, so nothing is applied twice.
- Pages read are kept (path -> page): a save posts the form from the kept
  page when the page's CSRF token and the form's other fields are still what
  the appliance holds (a form saved before is read again only when fields it
  does not set would be posted as they stood), and marks its page as touched.
  A new login forgets every kept page: their CSRF tokens are gone.

Passwords never appear in logs or exception messages.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Mapping

import requests

from hwprobe import redact
from hwprobe.constants import FACTORY_PASSWORD
from hwprobe.errors import (
    ApplianceError, LockedOut, LoginFailed, PasswordChangeRequired, PasswordRefused,
    SessionExpired, Unreachable, ValidationRefused,
)
from hwprobe.appliance import html
from hwprobe.appliance.base import LoginResult
from hwprobe.appliance.pinning import answer_deadline
from hwprobe.appliance.webhttp import Https
from hwprobe.appliance.webpages import field_of

log = logging.getLogger("hwprobe.appliance.web")

MASK = "********"


class _SessionGone(Exception):
    """Internal: the appliance sent us to its login page."""


class _StaleLoginForm(Exception):
    """Internal: the login form expired between reading and posting it."""


class WebSession(Https):
    """Logged-in HTTPS to the appliance, laid out as ``pages`` (the page map;
    the driver swaps in its firmware profile's layout). Keyword arguments as
    for ``Https``."""

    def __init__(self, address: str, port: int = 443, *, pages: Mapping[str, Any], **kwargs):
        super().__init__(address, port, pages=pages, **kwargs)
        self.pages = pages
        self._credentials: tuple[str, str] | None = None
        self._secrets: set[str] = set()
        # pages as last read (path -> page), pages a save touched since, and
        # per page the form actions saved since it was read
        self._pages: dict[str, html.Page] = {}
        self._touched: set[str] = set()
        self._saved_forms: dict[str, set[str]] = {}

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

    def _scrub(self, text: str) -> str:
        # the factory password is public, and a word
        return redact.masked(text, self._secrets - {FACTORY_PASSWORD}, MASK)

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

    def _redirected_to(self, resp: requests.Response) -> str:
        """Where a redirect after a POST goes (its path). _SessionGone when to
        the login page, PasswordChangeRequired when to the password page."""
        target = self._location(resp).split("?")[0]
        if target == self.pages["login"]["path"]:
            raise _SessionGone()
        if target == self.pages["change_password"]["path"]:
            raise PasswordChangeRequired(
                "the appliance opens no page until the password is changed")
        return target

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
                target = self._redirected_to(resp)
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
