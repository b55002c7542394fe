"""The simulated appliance using its settings for real (with --manage-interfaces).

What the real appliance does with its settings, done here in the appliance's
own network namespace:
- its default gateway and static routes are installed (``ip route``, proto
  static, so only routes this module made are ever removed);
- names are resolved through its configured DNS servers, in order;
- its NTP servers are asked (SNTP), and Status > Basics shows the sync status
  per server (cached for a few seconds); the clock itself is never set;
- each event (login, settings saved) goes to every syslog server in the
  configured format, over TCP 514 (modelled: format-1 firmware has one list
  and no port), from a background thread so a dead server slows no page;
- the test e-mail goes through the relay with the configured encryption and
  authentication (the relay's certificate is not checked: modelled, the lab's
  relay has a private CA);
- Support > Utilities answers ping, DNS lookup and TCP connect, and sends a
  test syslog message, in words.

Only built inside a lab namespace (Interfaces() refuses the host's), so no
packet of it reaches the host's own network.
"""
from __future__ import annotations

import json
import logging
import queue
import smtplib
import ssl
import subprocess
import threading
import time
from email.message import EmailMessage
from html import escape

from hwprobe.appliance.pagemap import PAGES

from . import netclients as nc
from . import pages, rules
from .appliance import Refused

log = logging.getLogger("simulator.live")
U, N = PAGES["utilities"], PAGES["ntp"]
NTP_CACHE_SECONDS = 5.0
SYSLOG_PORT = 514



class Live:
    """Wires itself to ``appliance`` (routes on change, syslog on events, the
    mailer, ``appliance.live`` for Utilities)."""

    def __init__(self, appliance, *, manage_routes: bool = True):
        self.appliance = appliance
        self._ntp: tuple[float, tuple] | None = None
        self._ntp_lock = threading.Lock()
        self._ntp_asking: set[tuple[str, ...]] = set()
        self._syslog: queue.Queue = queue.Queue(maxsize=200)
        appliance.live = self
        appliance.mailer = self.send_mail
        appliance.on_event(self._queue_event)
        if manage_routes:
            appliance.on_change(self.sync_routes)   # after the NICs' addresses (netif)
        threading.Thread(target=self._syslog_worker, name="syslog", daemon=True).start()

    # --- routes --------------------------------------------------------------

    def sync_routes(self, st: dict) -> None:
        """Make the namespace's default route and static routes those of ``st``."""
        want = {}
        if st.get("default_gateway"):
            want["default"] = ["via", st["default_gateway"]]
        for r in st.get("routes", []):
            want[r["destination"]] = ["via", r["gateway"], "dev", r["nic"]]
        r = subprocess.run(["ip", "-j", "route", "show", "proto", "static"],
                           capture_output=True, text=True)
        have = {e.get("dst") for e in (json.loads(r.stdout or "[]") if r.returncode == 0 else [])}
        for dst in have - set(want):
            subprocess.run(["ip", "route", "del", dst, "proto", "static"], capture_output=True)
        for dst, how in want.items():
            done = subprocess.run(["ip", "route", "replace", dst, *how, "proto", "static"],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                log.warning("route %s %s not installed: %s", dst, " ".join(how), done.stderr.strip())

    # --- names ----------------------------------------------------------------

    def resolve(self, name: str, server: str | None = None) -> tuple[bool, str]:
        """(True, address) or (False, why), through ``server`` or the configured DNS."""
        if rules.is_ipv4(name):
            return True, name
        servers = [server] if server else self.appliance.snapshot()["dns_servers"]
        if not servers:
            return False, f"cannot resolve {name}: no DNS server is configured"
        whys = []
        for s in servers:
            ok, answer = nc.dns_query(name, s)
            if ok:
                return True, answer[0]
            whys.append(f"DNS server {s}: {answer}")
            if answer in ("no such name (NXDOMAIN)", "no address for that name"):
                break
        return False, f"cannot resolve {name} (" + "; ".join(whys) + ")"

    # --- NTP --------------------------------------------------------------------

    def ntp_status(self) -> tuple[str, list[tuple[str, str, str]]]:
        """("synchronized"|"not synchronized"|"no NTP server", [(server, state, words)]).

        Never waits for the servers: like an appliance, it asks them in its own
        time (a thread) and the page shows the last answer, or "checking"
        until the first one. An unreachable server would otherwise hold up
        every read of Status > Basics by its time-outs."""
        servers = tuple(self.appliance.snapshot()["ntp_servers"])
        with self._ntp_lock:
            known = self._ntp if self._ntp and self._ntp[1][0] == servers else None
            fresh = known is not None and time.monotonic() - known[0] < NTP_CACHE_SECONDS
            if not fresh and servers not in self._ntp_asking:
                self._ntp_asking.add(servers)
                threading.Thread(target=self._ask_ntp, args=(servers,), daemon=True).start()
            if known is not None:
                return known[1][1]
        if not servers:
            return "no NTP server", []
        return "not synchronized", [(server, "checking", f"asking {server}...")
                                    for server in servers]

    def _ask_ntp(self, servers: tuple[str, ...]) -> None:
        try:
            rows = []
            for server in servers:
                ok, addr = self.resolve(server)
                if ok:
                    ok, got = nc.ntp_query(addr, timeout=1.5)
                    words = (f"stratum {got['stratum']}, offset {got['offset']:+.3f} s" if ok
                             else f"no time from {addr}: {got}")
                else:
                    words = addr
                rows.append((server, "reached" if ok else "not reached", words))
            best = next((r for r in rows if r[1] == "reached"), None)
            status = ("no NTP server" if not rows else
                      f"synchronized with {best[0]}" if best else "not synchronized")
            with self._ntp_lock:
                self._ntp = (time.monotonic(), (servers, (status, rows)))
        finally:
            with self._ntp_lock:
                self._ntp_asking.discard(servers)

    # --- syslog ------------------------------------------------------------------

    def _queue_event(self, text: str) -> None:
        try:
            self._syslog.put_nowait(text)
        except queue.Full:
            log.warning("syslog queue full: event dropped")

    def _syslog_worker(self) -> None:
        while True:
            self.send_syslog(self._syslog.get())

    def send_syslog(self, text: str) -> list[tuple[str, bool, str]]:
        """Send ``text`` to every syslog server; [(server, sent, words)]."""
        st = self.appliance.snapshot()
        out = []
        for target in st["syslog_targets"]:
            server = target["server"]
            # syslog over TLS (RFC 5425) carries RFC 5424 messages
            fmt = "rfc5424" if target["format"] == "tls" else target["format"]
            line = nc.syslog_line(fmt, st["hostname"], text)
            ok, addr = self.resolve(server)
            if ok:
                ok, words = nc.syslog_send(addr, line, int(target.get("port") or SYSLOG_PORT))
            else:
                words = addr
            out.append((server, ok, words))
        return out

    # --- mail ----------------------------------------------------------------------

    def send_mail(self, smtp: dict, password: str) -> str:
        """The test e-mail through the relay; the notice, or Refused in words."""
        relay, port, enc = smtp["relay"], int(smtp["port"]), smtp["encryption"]
        ok, addr = self.resolve(relay)
        if not ok:
            raise Refused([f"Test email not sent: {addr}"])
        msg = EmailMessage()
        msg["From"] = smtp["from_address"] or "appliance@localhost"
        msg["To"] = ", ".join(smtp["admin_contacts"])
        msg["Subject"] = "B Series appliance test email"
        msg.set_content(f"Test email from {self.appliance.snapshot()['hostname'] or 'the appliance'}.")
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        how = {"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}[enc]
        try:
            cls = smtplib.SMTP_SSL if enc == "tls" else smtplib.SMTP
            kw = {"context": ctx} if enc == "tls" else {}
            with cls(addr, port, timeout=5, **kw) as s:
                if enc == "starttls":
                    s.starttls(context=ctx)
                if smtp["auth"] == "password":
                    s.login(smtp["username"], password)
                s.send_message(msg, to_addrs=smtp["admin_contacts"])
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            why = exc.smtp_error.decode(errors="replace") if isinstance(
                exc, smtplib.SMTPResponseException) else nc._why(exc)
            raise Refused([f"Test email not sent via {relay}:{port} ({how}): {why}"]) from None
        who = f", logged in as {smtp['username']}" if smtp["auth"] == "password" else ""
        return (f"Test email sent to {', '.join(smtp['admin_contacts'])} via {relay}:{port} "
                f"({how}{who})")

    # --- Utilities --------------------------------------------------------------------

    def ping(self, host: str) -> str:
        ok, addr = self.resolve(host.strip())
        if ok:
            ok, words = nc.ping(addr)
        else:
            words = addr
        return _say(f"ping {host.strip()}", ok, words)

    def lookup(self, name: str, server: str = "") -> str:
        ok, words = self.resolve(name.strip(), server.strip() or None)
        via = f" via DNS server {server.strip()}" if server.strip() else ""
        return _say(f"lookup {name.strip()}{via}", ok, f"has address {words}" if ok else words)

    def connect(self, host: str, port: str) -> str:
        if not str(port).strip().isdigit():
            raise Refused([f"port: {port!r} is not a port number"])
        ok, addr = self.resolve(host.strip())
        if ok:
            ok, words = nc.tcp_connect(addr, int(port))
        else:
            words = addr
        return _say(f"connect {host.strip()}:{int(port)}", ok, words)

    def syslog_test(self) -> str:
        results = self.send_syslog("test message from Support > Utilities")
        if not results:
            raise Refused(["syslog_servers: no syslog server is configured"])
        return "; ".join(_say(f"syslog {s}", ok, w) for s, ok, w in results)


def _say(what: str, ok: bool, words: str) -> str:
    return f"{what}: {'reached' if ok else 'not reached'} - {words}"


def _live(appliance):
    live = getattr(appliance, "live", None)
    if live is None:
        raise Refused(["Utilities work only on a networked appliance (run it in a lab)"])
    return live


def utility_actions() -> dict:
    """Support > Utilities form actions for web.py: path -> (page key, act)."""
    return {
        U["ping_action"]: ("utilities", lambda a, f: _live(a).ping(f.get(U["host"], ""))),
        U["lookup_action"]: ("utilities", lambda a, f: _live(a).lookup(
            f.get(U["name"], ""), f.get(U["dns_server"], ""))),
        U["connect_action"]: ("utilities", lambda a, f: _live(a).connect(
            f.get(U["host"], ""), f.get(U["port"], ""))),
        U["syslog_test_action"]: ("utilities", lambda a, f: _live(a).syslog_test()),
    }


def utilities_page(csrf: str, form: dict, error: str, notice: str) -> str:
    body = (pages._form(U["ping_action"], csrf, pages._input(U["host"], "", "Host"), "Ping", "Ping")
            + pages._form(U["lookup_action"], csrf, pages._input(U["name"], "", "Name")
                          + pages._input(U["dns_server"], "", "DNS server (blank: configured)"),
                          "Look up", "DNS lookup")
            + pages._form(U["connect_action"], csrf, pages._input(U["host"], "", "Host")
                          + pages._input(U["port"], "", "Port"), "Connect", "TCP connect")
            + pages._form(U["syslog_test_action"], csrf, "", "Send test syslog message", "Syslog"))
    return pages.layout("Utilities", body, path=U["path"], error=error, notice=notice)


def ntp_section(appliance) -> str:
    """The NTP sync status block for Status > Basics ("" without Live)."""
    live = getattr(appliance, "live", None)
    if live is None:
        return ""
    status, rows = live.ntp_status()
    return (f'<h2>NTP status</h2><p><span id="{N["status"]}">{escape(status)}</span></p>'
            + pages._table(N["status_table"], ["Server", "State", "Details"], rows))
