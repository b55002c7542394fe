"""The /login administrative web interface of a simulated site: its login and
Management > Software Management > Restore Settings.

Documented (vendor procedure, "Temporary Hosted Site", steps 4-7): Software
Management holds Restore Settings; the technician browses for the backup
file, enters its backup password if it has one, and uploads it. Modelled
(docs/DESIGN.md): the paths and field names (page map ``[login_admin]``),
the session cookie, and that a new site's first account is admin / password
(``factory.LOGIN_FIRST_USER`` / ``LOGIN_FIRST_PASSWORD``).

There is no /login before the site software is installed (404). A restore:

- the upload is on disk whole (simulator/multipart.py) before it is judged;
- refused, nothing changed, the page with one error line naming the field:
  a file that is no backup, a damaged one, a wrong backup password
  (``nsb.read_state``), or a backup made by newer software than the
  appliance runs;
- accepted: the backup's /login state replaces the site's (its users, API
  accounts, failover settings: ``LoginSide.restore``), the answer is a 303
  to Software Management, and /login restarts: every /login path answers
  503 for ``login_restart`` seconds (fault ``login_restart``).
"""
from __future__ import annotations

import logging
from http.cookies import SimpleCookie

from . import nsb, pages
from .accounts import Sessions, password_matches
from .pages import _csrf, _e

log = logging.getLogger("simulator.loginweb")


def spec():
    return pages.PAGES["login_admin"]


def handles(path: str) -> bool:
    base = spec()["base"]
    return path == base or path.startswith(base + "/")


def version_key(version: str) -> tuple[int, ...]:
    """"7.1.2" as (7, 1, 2) for comparing; non-digits end a part."""
    out = []
    for part in str(version).split("."):
        digits = "".join(c for c in part if c.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def _layout(title: str, body: str, error: str = "", notice: str = "") -> str:
    c = pages.C
    msg = (f'<p class="{c["error_class"]}">{_e(error)}</p>' if error else "") + \
          (f'<p class="{c["notice_class"]}">{_e(notice)}</p>' if notice else "")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)} - /login</title><style>{pages.STYLE}</style></head><body>"
            "<header><strong>Remote Support</strong> /login</header>"
            f"<main><h1>{_e(title)}</h1>{msg}{body}</main></body></html>")


def login_page(csrf: str, error: str = "") -> str:
    s = spec()
    return _layout("Log in", (
        f'<form method="post" action="{s["path"]}">{_csrf(csrf)}'
        + pages._input(s["username"], "", "Username")
        + pages._input(s["password"], "", "Password", "password")
        + '<button type="submit">Log in</button></form>'), error)


def software_page(site: dict, csrf: str, error: str = "", notice: str = "") -> str:
    s = spec()
    have = site or {}
    return _layout("Management > Software Management", (
        f"<p>Site software {_e(have.get('version', '?'))} for {_e(have.get('hostname', '?'))}.</p>"
        "<h2>Restore Settings</h2>"
        f'<form method="post" action="{s["restore_action"]}" enctype="multipart/form-data">'
        f'{_csrf(csrf)}<p><label for="f-{s["file"]}">Backup file</label>'
        f'<input type="file" id="f-{s["file"]}" name="{s["file"]}"></p>'
        + pages._input(s["backup_password"], "", "Backup password", "password")
        + '<p>Restoring replaces the site\'s settings and restarts /login.</p>'
        '<button type="submit">Upload Backup</button></form>'), error, notice)


class LoginWeb:
    """The /login web face of one appliance (its sessions are its own)."""

    def __init__(self, login_side, idle: float = 600.0):
        self.login_side = login_side
        self.sessions = Sessions(idle)

    def _token(self, handler) -> str | None:
        morsel = SimpleCookie(handler.headers.get("Cookie", "")).get(spec()["session_cookie"])
        return morsel.value if morsel else None

    def _cookie(self, token: str) -> dict:
        s = spec()
        return {"Set-Cookie": f"{s['session_cookie']}={token}; Path={s['base']}; HttpOnly; "
                              "Secure; SameSite=Strict"}

    def serve(self, handler, method: str, path: str, form: dict) -> None:
        s = spec()
        site = self.login_side.site_software()
        if not site:
            return handler._send(404, _layout("Not found", "<p>No site software is installed on "
                                              "this appliance: /login is not available.</p>"))
        token = self._token(handler)
        session = self.sessions.get(token)
        if path == s["path"]:
            if method == "POST":
                return self._log_in(handler, session, form)
            if session and session["user"]:
                return handler._redirect(s["software_page"])
            token, session = self.sessions.new()
            return handler._send(200, login_page(session["csrf"]), self._cookie(token))
        if not (session and session["user"]):
            return handler._redirect(s["path"])
        if method == "POST" and form.get(pages.C["csrf_field"]) != session["csrf"]:
            return handler._send(403, _layout("Forbidden", "", error="csrf_token: the form has "
                                              "expired; reload the page and try again"))
        notice, session["notice"] = session["notice"], ""
        if path == s["software_page"] and method == "GET":
            return handler._send(200, software_page(site, session["csrf"], notice=notice))
        if path == s["restore_action"] and method == "POST":
            return self._restore(handler, form, session, site)
        return handler._send(404, _layout("Not found", f"<p>No page {_e(path)}.</p>"))

    def _log_in(self, handler, session: dict | None, form: dict) -> None:
        s = spec()
        if session is None or form.get(pages.C["csrf_field"]) != session["csrf"]:
            token, session = self.sessions.new()
            return handler._send(200, login_page(session["csrf"], "The login page had expired; "
                                                 "please log in again."), self._cookie(token))
        user = form.get(s["username"], "").strip().lower()
        account = self.login_side.login_account(user)
        if account is None or not password_matches(account, form.get(s["password"], "")):
            log.info("/login refused user %r", user)
            return handler._send(200, login_page(session["csrf"], "Invalid username or password."))
        self.sessions.end(self._token(handler))
        token, _ = self.sessions.new(user)
        handler.face.faults.count_saved("POST", s["path"])
        handler._send(303, "", {"Location": s["software_page"], **self._cookie(token)})

    def _restore(self, handler, form: dict, session: dict, site: dict) -> None:
        s = spec()
        upload = handler.uploads.get(s["file"])
        appliance = self.login_side.appliance
        try:
            if upload is None or upload.size == 0:
                raise ValueError(f"{s['file']}: choose the backup file to upload")
            with open(upload.path, "rb") as f:
                header, state = nsb.read_state(f, form.get(s["backup_password"], ""))
            made_by = str(header.get("software_version", ""))
            if version_key(made_by) > version_key(appliance.software_version):
                raise ValueError(f"{s['file']}: this backup was made by software {made_by}, "
                                 f"newer than this appliance's {appliance.software_version}; "
                                 f"update the appliance to {made_by} or later first")
        except nsb.NsbError as exc:
            field = s["backup_password"] if exc.reason == "wrong_password" else s["file"]
            log.info("restore refused: %s", exc.reason)
            return handler._send(200, software_page(site, session["csrf"], f"{field}: {exc}"))
        except ValueError as exc:
            log.info("restore refused: %s", exc)
            return handler._send(200, software_page(site, session["csrf"], str(exc)))
        self.login_side.restore(state)
        seconds = handler.face.faults.login_restart
        handler.face.faults.count_saved("POST", s["restore_action"])
        session["notice"] = f"Settings restored from the backup; /login restarts ({seconds:.0f} s)."
        handler._redirect(s["software_page"])
        self.login_side.restart(seconds)
        self.sessions.clear()
