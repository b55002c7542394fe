"""The simulated appliance's HTTPS /appliance interface (and the HTTP redirect).

Stdlib only: ``ThreadingHTTPServer`` with TLS wrapped per connection in the
connection's own thread, so a new certificate (fault ``new_certificate``) is used
for every connection made after it. Listeners can be closed and reopened on the
same ports (fault ``reboot``).

Behaviour a driver relies on (see the page map's header): GET /appliance/ shows
the login page when not logged in; a POST without the session's CSRF token gets
403; a refused value gets 200 with the page and the error element; a saved form
gets 303 to its page, which shows the notice once. A request without a live
session is sent (303) to the login page, with ``?expired=1`` when a session
cookie was presented but has ended.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from hwprobe.appliance.pagemap import PAGES

from . import certpages, live, misstore, multipart, pages, updates
from .accounts import Sessions
from .appliance import Appliance, Refused
from .certstore import CertStore
from .control import Faults

log = logging.getLogger("simulator.web")
C = PAGES["common"]
LOGIN, CHANGE, LOGOUT = PAGES["login"], PAGES["change_password"], PAGES["logout"]
BASE = C["base"]


MAX_BODY = 64 * 1024          # a form or JSON body; files come as multipart uploads


class WebFace:
    """What the request handler needs: the appliance, sessions, faults, the
    certificates, and where uploaded files are spooled."""

    def __init__(self, appliance: Appliance, faults: Faults, sessions: Sessions,
                 certs: CertStore | None = None, spool_dir=None):
        self.appliance, self.faults, self.sessions = appliance, faults, sessions
        self.certs, self.spool_dir = certs, spool_dir
        self.https_port = 443
        self.login_side = None


def _render(face: WebFace, key: str, csrf: str, form: dict, error: str, notice: str) -> str:
    app = face.appliance
    st = app.snapshot()
    if key == "status_basics":
        page = pages.basics(st, app.system_time(), csrf, form, error, notice)
        return page.replace("</main>", live.ntp_section(app) + "</main>", 1)
    if key == "utilities":
        return live.utilities_page(csrf, form, error, notice)
    if key == "status_health":
        return pages.health(st, app.uptime_seconds(), csrf, form, error, notice)
    if key == "users":
        return pages.users(st, csrf, form, error, notice)
    if key == "ip_config":
        return pages.ip_config(st, csrf, form, error, notice)
    if key == "routes":
        return pages.routes(st, csrf, form, error, notice)
    if key == "syslog":
        return pages.syslog(st, csrf, form, error, notice)
    if key == "smtp":
        return pages.email(st, csrf, form, error, notice)
    if key in pages.DOCUMENTED:
        return pages.documented(key, csrf, form, error, notice)
    if key == "certificates":
        return certpages.list_page(face.certs, csrf, error, notice)
    return pages.plain("Support", PAGES["support"]["path"],
                       f"Model {app.model}, serial number {app.serial}. Support tunnel: not connected.",
                       error=error, notice=notice)


def _page_paths() -> dict:
    """page path -> page key, for every page the page map names."""
    P = PAGES
    keys = ("status_basics", "status_health", "users", "ip_config", "routes", "syslog", "smtp",
            "updates", "support", "utilities", "certificates", *pages.DOCUMENTED)
    return {P[k].get("path") or P[k]["page"]: k for k in keys}


def _syslog_action(a: Appliance, f: dict) -> str:
    sl = PAGES["syslog"]
    if "slots" in sl:
        a.set_syslog_each([(f.get(sl["server"].format(n=n), ""), f.get(sl["port"].format(n=n), ""),
                            f.get(sl["format"].format(n=n), ""))
                           for n in range(1, sl["slots"] + 1)])
    else:
        a.set_syslog(f.get(sl["servers"], ""), f.get(sl["format"], ""))
    return "Syslog settings saved."


def _smtp_action(a: Appliance, f: dict) -> str:
    sm = PAGES["smtp"]
    username = f.get(sm["username"], "")
    # the newer layout has no authentication selector: a user name means a login
    auth = f.get(sm["auth"], "") if "auth" in sm else ("password" if username.strip() else "none")
    a.set_smtp(relay=f.get(sm["relay"], ""), port=f.get(sm["port"], ""),
               encryption=f.get(sm["encryption"], ""), auth=auth, username=username,
               password=f.get(sm["password"], ""), from_address=f.get(sm["from_address"], ""),
               admin_contacts=f.get(sm["admin_contacts"], ""))
    if "test_on_save" in sm and f.get(sm["test_on_save"]):
        try:
            return "Email configuration saved. " + a.send_test_email()
        except Refused as exc:
            raise Refused([f"Email configuration saved; {p}" for p in exc.problems]) from None
    return "Email configuration saved."


def _actions():
    """action path -> (page key, function(appliance, form) -> notice)."""
    P = PAGES
    ip, g, r, n, sl, sm = (P["ip_config"], P["global_config"], P["routes"], P["ntp"],
                           P["syslog"], P["smtp"])
    actions = {
        ip["add_action"]: ("ip_config", lambda a, f: a.add_ip(
            f.get(ip["nic"], ""), f.get(ip["address"], ""), f.get(ip["netmask"], ""),
            f.get(ip["vlan"], "")) or "IP address added."),
        ip["delete_action"]: ("ip_config", lambda a, f: a.delete_ip(
            f.get(ip["address"], ""), f.get(ip["nic"]) or None) or "IP address deleted."),
        # a field left out of the form keeps its value; a blank one clears it
        g["action"]: ("ip_config", lambda a, f: a.set_global(
            f.get(g["hostname"]), f.get(g["default_gateway"]),
            f.get(g["dns_servers"])) or "Global configuration saved."),
        r["add_action"]: ("routes", lambda a, f: a.add_route(
            f.get(r["destination"], ""), f.get(r["gateway"], ""), f.get(r["nic"], ""))
            or "Route added."),
        r["delete_action"]: ("routes", lambda a, f: a.delete_route(f.get(r["destination"], ""))
                             or "Route deleted."),
        n["action"]: ("status_basics", lambda a, f: a.set_ntp(f.get(n["servers"], ""))
                      or "NTP servers saved."),
        sl["action"]: ("syslog", _syslog_action),
        sm["action"]: ("smtp", _smtp_action),
    }
    if "test_action" in sm:
        actions[sm["test_action"]] = ("smtp", lambda a, f: a.send_test_email())
    actions.update(live.utility_actions())
    return actions


def use_pages(pages_map) -> None:
    """Serve the interface as ``pages_map`` lays it out (a firmware profile's
    page map, hwprobe.appliance.pagemap.pages_for): rebinds the page map of this module,
    simulator.pages and simulator.live. Called once, before listening."""
    global PAGES, C, LOGIN, CHANGE, LOGOUT, BASE, PAGE_PATHS, ACTIONS, PAGE_OF_KEY, CERT_PATHS, \
        UPDATE_PATHS
    PAGES = pages.PAGES = live.PAGES = pages_map
    C = pages.C = pages_map["common"]
    live.U, live.N = pages_map["utilities"], pages_map["ntp"]
    LOGIN, CHANGE, LOGOUT = pages_map["login"], pages_map["change_password"], pages_map["logout"]
    BASE = C["base"]
    PAGE_PATHS = _page_paths()
    ACTIONS = _actions()
    PAGE_OF_KEY = {key: path for path, key in PAGE_PATHS.items()}
    CERT_PATHS = certpages.paths()
    UPDATE_PATHS = updates.paths()


PAGE_PATHS = _page_paths()
ACTIONS = _actions()
PAGE_OF_KEY = {key: path for path, key in PAGE_PATHS.items()}
CERT_PATHS = certpages.paths()
UPDATE_PATHS = updates.paths()


class Handler(BaseHTTPRequestHandler):
    """One HTTPS connection of the /appliance interface."""

    server_version = "BSeries-Appliance"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60

    @property
    def face(self) -> WebFace:
        return self.server.face

    def log_message(self, fmt, *args):  # request lines only: forms (passwords) are never logged
        log.info("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        self._serve_once("GET")

    def do_POST(self):
        self._serve_once("POST")

    def _serve_once(self, method: str) -> None:
        self.uploads, self.body = {}, b""
        try:
            self._serve(method)
        finally:
            for upload in self.uploads.values():     # kept only by a page that moved it
                upload.discard()

    # --- plumbing -----------------------------------------------------------------

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, status: int, body: str = "", headers: dict | None = None,
              cookie: str | None = None) -> None:
        data = body.encode()
        hostile = self.face.faults.hostile
        if hostile is not None and hostile.matches(self.path, self.command):
            from . import hostile as hostile_mode
            extra = [("Set-Cookie", f"{C['session_cookie']}={cookie}; Path={BASE}; HttpOnly; Secure")
                     ] if cookie is not None else []
            return hostile_mode.serve(self, hostile.case, status, data,
                                      [*extra, *(headers or {}).items()])
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if cookie is not None:
            self.send_header("Set-Cookie", f"{C['session_cookie']}={cookie}; Path={BASE}; "
                                           "HttpOnly; Secure; SameSite=Strict")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, location: str, status: int = 303, cookie: str | None = None) -> None:
        self._send(status, "", {"Location": location}, cookie)

    def _token(self) -> str | None:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = jar.get(C["session_cookie"])
        return morsel.value if morsel else None

    def _form(self) -> dict:
        """The request body's form fields. A multipart body's files go to
        disk as they arrive (``self.uploads``); any other body is also kept as
        bytes (``self.body``: the backup API's JSON). ValueError for a body that is too
        large or malformed."""
        length = int(self.headers.get("Content-Length") or 0)
        ctype = self.headers.get("Content-Type", "")
        if multipart.boundary_of(ctype):
            fields, self.uploads = multipart.read_form(self.rfile, length, ctype,
                                                       self.face.spool_dir,
                                                       self.face.faults.upload_rate)
            return fields
        if length > MAX_BODY:
            raise ValueError(f"the request body is larger than {MAX_BODY} bytes")
        raw = self.body = self.rfile.read(length) if length else b""
        if ctype.split(";")[0].strip().lower() == "application/json" or raw[:1] == b"{":
            return {}
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"),
                                              keep_blank_values=True).items()}

    # --- routing -------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        path = urlsplit(self.path).path
        faults = self.face.faults
        if faults.silent():
            return self._drop()
        fate = faults.before_request(method, path)
        if fate == "drop" or faults.silent():
            return self._drop()
        if fate == "500":
            if method == "POST":
                try:
                    self._form()
                except ValueError:
                    self.close_connection = True
            return self._send(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")
        try:
            form = self._form() if method == "POST" else {}
        except ValueError as exc:
            self.close_connection = True
            return self._send(400, pages.plain("Bad request", path, str(exc), nav=False))
        login_side = getattr(self.face, "login_side", None)
        if login_side is not None and login_side.handles(path):
            return login_side.serve(self, method, path, form)
        if path == BASE:
            return self._redirect(BASE + "/", 301)
        token = self._token()
        session = self.face.sessions.get(token)
        user = session and session["user"]
        if path in (BASE + "/", LOGIN["path"]) and (method == "GET" or path != LOGIN["path"]):
            if user and path == BASE + "/":
                forced = self.face.appliance.must_change(user)
                return self._redirect(CHANGE["path"] if forced else PAGES["status_basics"]["path"])
            return self._login_page(session, expired="expired=1" in (urlsplit(self.path).query or ""))
        if path == LOGIN["path"] and method == "POST":
            return self._login(session, form)
        if path == LOGOUT["path"]:
            self.face.sessions.end(token)
            return self._redirect(LOGIN["path"])
        if (path not in PAGE_PATHS and path not in ACTIONS and path not in CERT_PATHS
                and path not in UPDATE_PATHS and path != CHANGE["path"]):
            return self._send(404, pages.plain("Not found", path, f"No page {path}.", nav=False))
        if not user:
            return self._redirect(LOGIN["path"] + ("?expired=1" if token else ""))
        app = self.face.appliance
        forced = app.must_change(user)
        if forced and path != CHANGE["path"]:
            return self._redirect(CHANGE["path"])
        if method == "POST" and form.get(C["csrf_field"]) != session["csrf"]:
            return self._send(403, pages.plain("Forbidden", path, "", nav=False,
                              error="csrf_token: the form has expired; reload the page and try again"))
        if path in CERT_PATHS:
            return certpages.serve(self, method, path, form, session)
        if path in UPDATE_PATHS:
            return updates.serve(self, method, path, form, session)
        notice, session["notice"] = session["notice"], ""
        if path == CHANGE["path"]:
            return self._change_password(method, user, session, form, forced, notice)
        if method == "GET" and path in PAGE_PATHS:
            return self._send(200, _render(self.face, PAGE_PATHS[path], session["csrf"], {}, "", notice))
        if method == "POST" and path in ACTIONS:
            key, act = ACTIONS[path]
            # a read-back drill: "saved", but another value stored (simulator/misstore.py)
            form = misstore.alter(self.face.faults.store_other, PAGES, path, form)
            hostile = self.face.faults.hostile
            try:
                if hostile is not None and hostile.refuses(path):
                    from . import hostile as hostile_mode
                    raise Refused([hostile_mode.refusal(form)])
                message = act(app, form)
            except Refused as exc:
                return self._send(200, _render(self.face, key, session["csrf"], form, str(exc), ""))
            self.face.faults.count_saved(method, path)
            session["notice"] = message
            return self._redirect(PAGE_OF_KEY[key])
        return self._send(405, pages.plain("Not allowed", path, f"{method} is not allowed here."),
                          {"Allow": "POST" if path in ACTIONS else "GET"})

    def _login_page(self, session: dict | None, error: str = "", expired: bool = False) -> None:
        cookie = None
        if session is None or session["user"]:
            token, session = self.face.sessions.new()
            cookie = token
        notice = "Your session has ended; log in again." if expired and not error else ""
        self._send(200, pages.login(session["csrf"], error, notice), cookie=cookie)

    def _login(self, session: dict | None, form: dict) -> None:
        if session is None or form.get(C["csrf_field"]) != session["csrf"]:
            return self._login_page(None, "The login page had expired; please log in again.")
        username = form.get(LOGIN["username"], "")
        hostile = self.face.faults.hostile
        if hostile is not None and hostile.refuses(LOGIN["path"]):    # not counted as a try
            from . import hostile as hostile_mode
            return self._login_page(session, hostile_mode.refusal(form))
        outcome = self.face.appliance.login(username, form.get(LOGIN["password"], ""))
        if not outcome.ok:
            log.info("login refused for user %r", username)
            return self._login_page(session, outcome.message)
        self.face.sessions.end(self._token())
        token, _ = self.face.sessions.new(username.strip().lower())
        self.face.faults.count_saved("POST", LOGIN["path"])
        target = CHANGE["path"] if outcome.must_change else PAGES["status_basics"]["path"]
        self._redirect(target, cookie=token)

    def _change_password(self, method, user, session, form, forced, notice) -> None:
        if method == "GET":
            return self._send(200, pages.change_password(session["csrf"], forced, "", notice))
        try:
            self.face.appliance.change_password(
                user, form.get(CHANGE["current"], ""), form.get(CHANGE["new"], ""),
                form.get(CHANGE["confirm"], ""))
        except Refused as exc:
            return self._send(200, pages.change_password(session["csrf"], forced, str(exc)))
        log.info("password changed for user %r", user)
        self.face.faults.count_saved("POST", CHANGE["path"])
        session["notice"] = "Password changed."
        self._redirect(CHANGE["path"])


class RedirectHandler(BaseHTTPRequestHandler):
    """Plain HTTP: every request is sent (301) to the same path over HTTPS."""

    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, fmt, *args):
        log.info("http %s %s", self.address_string(), fmt % args)

    def _go(self):
        if self.server.face.faults.silent():
            self.close_connection = True
            return
        host = (self.headers.get("Host") or "localhost").rsplit(":", 1)[0] \
            if not (self.headers.get("Host") or "").startswith("[") else self.headers["Host"]
        port = self.server.face.https_port
        where = f"https://{host}{'' if port == 443 else f':{port}'}{self.path}"
        self.send_response(301)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = _go


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, face: WebFace, certs: CertStore | None):
        self.face, self.certs = face, certs
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # headers and body go out as separate writes: without NODELAY each
        # answer waits ~40 ms on delayed ACK, which no real appliance does
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.certs is None:
            return super().finish_request(request, client_address)
        request.settimeout(30)
        try:
            tls = self.certs.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class Listener:
    """One listening socket (HTTPS or the HTTP redirect) that can be closed and
    reopened on the same port. ``port`` is the real port once opened."""

    def __init__(self, host: str, port: int, face: WebFace, certs: CertStore | None):
        self.host, self.port, self.face, self.certs = host, port, face, certs
        self._server: _Server | None = None

    def open(self) -> int:
        handler = Handler if self.certs else RedirectHandler
        self._server = _Server((self.host, self.port), handler, self.face, self.certs)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         name=f"listen-{self.port}", daemon=True).start()
        return self.port

    @property
    def is_open(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
