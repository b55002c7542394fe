"""The simulated B Series appliance: the state it keeps and the changes it
takes. Each form's fields are checked by ``rules``; logins, lockout and the
stored passwords are ``accounts``; the factory state and the password rule
come from ``factory`` (the simulator's own, not bringup's).

One ``Appliance`` object is shared by both faces (web and console), so a change
made on one shows on the other. Pure logic: no sockets, no interfaces. Every
public method takes the one lock; every change is validated on a copy of the
state and committed whole (all-or-nothing), then written to ``state.json``
atomically (tmp + fsync + rename).

A refused change raises ``Refused``; its ``problems`` are ``"field: why"``
sentences using the page map's field names, the way the appliance shows them.

Limits (how many DNS, NTP and syslog servers and admin contacts it holds) are
read from the page map, as bringup reads them to check a sheet when it is
loaded: change them in hwprobe/appliance/pagemap.toml. The SMTP password is
write-only on the pages: they show only "a password is set"; the appliance
keeps it (0600 file ``smtp-secret`` beside state.json) to log in to its relay.
Hooks for the live side (simulator/live.py): ``on_event(text)`` listeners hear
logins and saved settings (for syslog), ``mailer(smtp, password)`` sends the
test e-mail.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from hwprobe.appliance.pagemap import PAGES

from . import rules
from .accounts import Lockout, LoginOutcome, new_account, password_matches
from .factory import (
    FACTORY_PASSWORD, FACTORY_USER, LOCKOUT_ATTEMPTS, LOCKOUT_SECONDS, NICS, password_problems,
)
from .jsonfile import save_json

FORMAT = 1
MAX_DNS = PAGES["global_config"]["max_dns_servers"]
MAX_NTP = PAGES["ntp"]["max_servers"]
MAX_SYSLOG_SERVERS = PAGES["syslog"]["max_servers"]
MAX_CONTACTS = PAGES["smtp"]["max_admin_contacts"]
SYSLOG_FORMATS = ("rfc5424", "bsd")
ENCRYPTIONS = ("tls", "starttls", "none")
SOFTWARE_VERSION = "7.1.2"
BASE_VERSION = "6.0.2"          # the base software under the appliance version (modelled)


class Refused(Exception):
    """A change the appliance refuses; nothing was saved. ``problems`` lists
    every reason as "field: why"."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def factory_state(factory_address: str, answers_on: str) -> dict:
    """The state of a freshly reset appliance (admin/password, change forced,
    the factory address on the answering NIC(s), nothing else configured)."""
    nics = NICS if answers_on == "both" else (answers_on,)
    return {
        "format": FORMAT,
        "users": {FACTORY_USER: new_account(FACTORY_PASSWORD, True)},
        "ips": [{"nic": n, "address": factory_address, "netmask": "255.255.255.0", "vlan": None}
                for n in nics],
        "hostname": "", "default_gateway": "", "dns_servers": [], "routes": [],
        "ntp_servers": [], "syslog_servers": [], "syslog_format": "rfc5424",
        "smtp": {"relay": "", "port": 25, "encryption": "none", "auth": "none",
                 "username": "", "password_set": False, "from_address": "",
                 "admin_contacts": []},
    }


class Appliance:
    """The appliance's state and rules, shared by the web and console faces.

    ``nic_info`` returns {"nic1": {"mac": ..., "link": bool}, ...}; listeners
    added with ``on_change`` are called (outside the lock) with the public
    state after every committed change.
    """

    def __init__(
        self,
        state_file: str | os.PathLike,
        *,
        model: str = "B400",
        serial: str = "B400-0012345",
        factory_address: str = "169.254.1.1",
        answers_on: str = "nic1",
        lockout_attempts: int = LOCKOUT_ATTEMPTS,
        lockout_seconds: int = LOCKOUT_SECONDS,
        factory_reset: bool = False,
        nic_info: Callable[[], dict] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.state_file = Path(state_file)
        self.model, self.serial = model, serial
        self.software_version = SOFTWARE_VERSION
        self.base_version = BASE_VERSION
        # what the firmware profile's pages take (simulator/server.py sets them)
        self.max_syslog_servers = MAX_SYSLOG_SERVERS
        self.syslog_formats = SYSLOG_FORMATS
        self.syslog_default_ports = {"rfc5424": 514, "bsd": 514, "tls": 6514}
        self.encryptions = ENCRYPTIONS
        self.lockout = Lockout(lockout_attempts, lockout_seconds)
        self._clock = clock
        self._started = clock()
        self._lock = threading.RLock()
        self._listeners: list[Callable[[dict], None]] = []
        self.changes: Counter = Counter()
        self._nic_info = nic_info or (lambda: synthetic_nics(serial, answers_on))
        self._events: list[Callable[[str], None]] = []
        self.mailer: Callable[[dict, str], str] | None = None
        self._secret_file = self.state_file.with_name("smtp-secret")
        if factory_reset or not self.state_file.exists():
            self._state = factory_state(factory_address, answers_on)
            self._save(self._state)
        else:
            self._state = json.loads(self.state_file.read_text())

    # --- persistence -------------------------------------------------------

    def _save(self, state: dict) -> None:
        save_json(self.state_file, state, indent=2)

    def on_change(self, listener: Callable[[dict], None]) -> None:
        self._listeners.append(listener)

    def on_event(self, listener: Callable[[str], None]) -> None:
        """``listener(text)`` hears each event the appliance logs (syslog)."""
        self._events.append(listener)

    def _event(self, text: str) -> None:
        for listener in self._events:
            listener(text)

    def _smtp_password(self) -> str:
        try:
            return self._secret_file.read_text()
        except OSError:
            return ""

    def _keep_smtp_password(self, password: str) -> None:
        fd = os.open(self._secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)

    def _commit(self, action: str, candidate: dict) -> None:
        """Check the whole candidate, then save and swap it in (caller holds the lock)."""
        problems = rules.consistency(candidate)
        if problems:
            raise Refused(problems)
        self._save(candidate)
        self._state = candidate
        self.changes[action] += 1

    def _change(self, action: str, edit: Callable[[dict], list[str]]) -> None:
        with self._lock:
            candidate = copy.deepcopy(self._state)
            problems = edit(candidate)
            if problems:
                raise Refused(problems)
            self._commit(action, candidate)
            public = self._public()
        for listener in self._listeners:
            listener(public)
        self._event(f"settings saved: {action}")

    # --- reading -----------------------------------------------------------

    def _public(self) -> dict:
        s = self._state
        return {
            "model": self.model, "serial": self.serial,
            "software_version": self.software_version, "base_version": self.base_version,
            "nics": [{"nic": n, **info} for n, info in sorted(self._nic_info().items())],
            "ips": copy.deepcopy(s["ips"]), "hostname": s["hostname"],
            "default_gateway": s["default_gateway"], "dns_servers": list(s["dns_servers"]),
            "routes": copy.deepcopy(s["routes"]), "ntp_servers": list(s["ntp_servers"]),
            "syslog_servers": list(s["syslog_servers"]), "syslog_format": s["syslog_format"],
            "syslog_targets": self._targets(s),
            "smtp": copy.deepcopy(s["smtp"]),
            # Appliance Administration's other settings (documented, not set by
            # bringup; the values are modelled)
            "admin": {"failed_login_limit": self.lockout.attempts,
                      "lockout_duration": f"{self.lockout.seconds} seconds",
                      "password_expiry": "never", "accepted_networks": "any",
                      "rejected_networks": "none"},
            "users": [{"name": u, "must_change": a["must_change"]}
                      for u, a in sorted(s["users"].items())],
        }

    def _targets(self, s: dict) -> list[dict]:
        """Each syslog server with its port and format (the one-list layout:
        every server on its format's default port)."""
        if s.get("syslog_targets") is not None:
            return copy.deepcopy(s["syslog_targets"])
        port = self.syslog_default_ports.get(s["syslog_format"], 514)
        return [{"server": h, "port": port, "format": s["syslog_format"]}
                for h in s["syslog_servers"]]

    def snapshot(self) -> dict:
        """The appliance's state as plain JSON-able data (no passwords, no clock)."""
        with self._lock:
            return self._public()

    def system_time(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    def uptime_seconds(self) -> int:
        return int(self._clock() - self._started)

    # --- accounts ------------------------------------------------------------

    def login(self, username: str, password: str) -> LoginOutcome:
        """Check a login; counts failures and locks the account after
        ``lockout.attempts`` of them for ``lockout.seconds``."""
        key = username.strip().lower()
        with self._lock:
            now = self._clock()
            refused = self.lockout.refusal(key, now)
            if refused is not None:
                return refused
            account = self._state["users"].get(key)
            if account and password_matches(account, password):
                self.lockout.succeeded(key)
                self._event(f"user {key} logged in")
                return LoginOutcome(True, must_change=account["must_change"])
            return self.lockout.failed(key, now)

    def must_change(self, username: str) -> bool:
        with self._lock:
            account = self._state["users"].get(username.lower())
            return bool(account and account["must_change"])

    def change_password(self, username: str, current: str | None, new: str,
                        confirm: str | None = None) -> None:
        """Set a new password. ``current`` None skips the current-password check
        (the console asks for it at login). Raises Refused with the rule's reasons."""
        key = username.lower()

        def edit(st: dict) -> list[str]:
            account = st["users"].get(key)
            if account is None:
                return [f"username: no user {username!r}"]
            if current is not None and not password_matches(account, current):
                return ["current_password: the current password is not correct"]
            if confirm is not None and new != confirm:
                return ["confirm_password: the two new passwords differ"]
            reasons = password_problems(new, key)
            if password_matches(account, new):
                reasons.append("must differ from the current password")
            if reasons:
                return ["Password refused: " + "; ".join(reasons)]
            st["users"][key] = new_account(new, False)
            return []

        self._change("change_password", edit)

    # --- IP configuration ----------------------------------------------------

    def add_ip(self, nic: str, address: str, netmask: str, vlan: str | int | None = "") -> None:
        """Add an address on a NIC. Raises Refused (bad NIC/address/netmask/VLAN,
        or the address is already configured)."""
        problems, entry = rules.nic_address(nic, address, netmask, vlan)

        def edit(st: dict) -> list[str]:
            if problems:
                return problems
            for ip in st["ips"]:
                if ip["address"] == entry["address"]:
                    return [f"address: {entry['address']} is already configured on {ip['nic']}"]
            st["ips"].append(entry)
            return []

        self._change("add_ip", edit)

    def delete_ip(self, address: str, nic: str | None = None) -> None:
        """Remove an address (from ``nic`` when given). Refused when absent, or
        when the default gateway or a route would be left outside every subnet."""
        def edit(st: dict) -> list[str]:
            a = address.strip()
            n = (nic or "").strip().lower()
            keep = [ip for ip in st["ips"] if not (ip["address"] == a and (not n or ip["nic"] == n))]
            if len(keep) == len(st["ips"]):
                where = f" on {n}" if n else ""
                return [f"address: {a} is not configured{where}"]
            st["ips"] = keep
            return []

        self._change("delete_ip", edit)

    def set_global(self, hostname: str | None = None, default_gateway: str | None = None,
                   dns_servers: str | list[str] | None = None) -> None:
        """Global Configuration; None leaves a value as it is, "" clears it.
        Raises Refused (bad host name, gateway outside every subnet, DNS)."""
        problems, values = [], {}
        if hostname is not None:
            try:
                values["hostname"] = rules.hostname(hostname) if hostname.strip() else ""
            except ValueError as e:
                problems.append(f"hostname: {e}")
        if default_gateway is not None:
            try:
                values["default_gateway"] = str(rules.ipv4(default_gateway)) if default_gateway.strip() else ""
            except ValueError as e:
                problems.append(f"default_gateway: {e}")
        if dns_servers is not None:
            items = rules.items(dns_servers)
            if len(items) > MAX_DNS:
                problems.append(f"dns_servers: {len(items)} servers given, at most {MAX_DNS} allowed")
            values["dns_servers"] = rules.list_of(items, rules.ipv4_str, "dns_servers", problems)

        def edit(st: dict) -> list[str]:
            if problems:
                return problems
            st.update(values)
            return []

        self._change("set_global", edit)

    # --- static routes ---------------------------------------------------------

    def add_route(self, destination: str, gateway: str, nic: str) -> None:
        """Add a static route. Refused: bad CIDR, gateway not in a subnet on
        ``nic``, destination already routed."""
        problems, entry = rules.route(destination, gateway, nic)

        def edit(st: dict) -> list[str]:
            if problems:
                return problems
            if any(r["destination"] == entry["destination"] for r in st["routes"]):
                return [f"destination: a route to {entry['destination']} already exists"]
            st["routes"].append(entry)
            return []

        self._change("add_route", edit)

    def delete_route(self, destination: str) -> None:
        """Remove the route to ``destination``; Refused when there is none."""
        def edit(st: dict) -> list[str]:
            d = destination.strip()
            keep = [r for r in st["routes"] if r["destination"] != d]
            if len(keep) == len(st["routes"]):
                return [f"destination: no route to {d!r}"]
            st["routes"] = keep
            return []

        self._change("delete_route", edit)

    # --- NTP, syslog, SMTP -------------------------------------------------------

    def set_ntp(self, servers: str | list[str]) -> None:
        """NTP servers (IPv4 addresses or host names, at most MAX_NTP)."""
        problems: list[str] = []
        items = rules.items(servers)
        if len(items) > MAX_NTP:
            problems.append(f"ntp_servers: {len(items)} servers given, at most {MAX_NTP} allowed")
        clean = rules.list_of(items, rules.host, "ntp_servers", problems)
        self._change("set_ntp", lambda st: problems or st.update(ntp_servers=clean) or [])

    def set_syslog(self, servers: str | list[str], fmt: str) -> None:
        """Syslog servers (at most MAX_SYSLOG_SERVERS) and format rfc5424|bsd."""
        problems: list[str] = []
        items = rules.items(servers)
        if len(items) > self.max_syslog_servers:
            problems.append(f"syslog_servers: {len(items)} servers given, at most "
                            f"{self.max_syslog_servers} allowed")
        clean = rules.list_of(items, rules.host, "syslog_servers", problems)
        f = (fmt or "").strip().lower()
        if f not in self.syslog_formats:
            problems.append(f"syslog_format: {fmt!r} is not a format "
                            f"({' or '.join(self.syslog_formats)})")
        self._change("set_syslog", lambda st: problems or st.update(
            syslog_servers=clean, syslog_format=f, syslog_targets=None) or [])

    def set_syslog_each(self, slots: list[tuple[str, str, str]]) -> None:
        """The newer layout: (server, port, format) per server slot; a slot
        with a blank server is unused. Port blank: the format's default.
        Raises Refused naming the slot's field ("syslog_port_2: ...")."""
        problems: list[str] = []
        targets = []
        for n, (server, port, fmt) in enumerate(slots, start=1):
            f = (fmt or "").strip().lower()
            if f not in self.syslog_formats:
                problems.append(f"syslog_format_{n}: {fmt!r} is not a format "
                                f"({', '.join(self.syslog_formats)})")
            if not (server or "").strip():
                continue
            try:
                host = rules.host(server)
            except ValueError as e:
                problems.append(f"syslog_server_{n}: {e}")
                continue
            p = str(port or "").strip() or str(self.syslog_default_ports.get(f, 514))
            if not p.isdigit() or not 1 <= int(p) <= 65535:
                problems.append(f"syslog_port_{n}: {p!r} is not a port number (1-65535)")
                continue
            if any(t["server"] == host for t in targets):
                problems.append(f"syslog_server_{n}: {host} is already server "
                                f"{[t['server'] for t in targets].index(host) + 1}")
            targets.append({"server": host, "port": int(p), "format": f,
                            "certificate": "appliance CA" if f == "tls" else ""})
        if len(targets) > self.max_syslog_servers:
            problems.append(f"syslog_servers: at most {self.max_syslog_servers} allowed")
        first = next(((fmt or "").strip().lower() for _, _, fmt in slots), "rfc5424")

        def edit(st: dict) -> list[str]:
            if problems:
                return problems
            st.update(syslog_targets=targets, syslog_servers=[t["server"] for t in targets],
                      syslog_format=targets[0]["format"] if targets else first)
            return []

        self._change("set_syslog", edit)

    def set_smtp(self, *, relay: str, port: str | int, encryption: str, auth: str,
                 username: str = "", password: str = "", from_address: str = "",
                 admin_contacts: str | list[str] = ()) -> None:
        """Email Configuration. A blank ``password`` keeps the stored one; auth
        "none" forgets it. Raises Refused with every problem at once."""
        problems, smtp = rules.smtp(relay, port, encryption, auth, username, from_address,
                                    admin_contacts, self.encryptions, MAX_CONTACTS)
        au = smtp["auth"]

        def edit(st: dict) -> list[str]:
            if au == "password" and not password and not st["smtp"]["password_set"]:
                problems.append("smtp_password: a password is required with password authentication")
            if problems:
                return problems
            smtp["password_set"] = au == "password" and (bool(password) or st["smtp"]["password_set"])
            st["smtp"] = smtp
            if password and au == "password":
                self._keep_smtp_password(password)
            return []

        self._change("set_smtp", edit)

    def send_test_email(self) -> str:
        """Send a test e-mail (through ``mailer`` when one is set, else only
        pretend); returns the notice. Refused when no relay or no recipient is
        configured, or when the mailer could not send (its words)."""
        with self._lock:
            smtp = dict(self._state["smtp"])
        problems = []
        if not smtp["relay"]:
            problems.append("relay: no SMTP relay is configured")
        if not smtp["admin_contacts"]:
            problems.append("admin_contacts: no admin contact to send to")
        if problems:
            raise Refused(problems)
        self.changes["send_test_email"] += 1
        if self.mailer is not None:
            return self.mailer(smtp, self._smtp_password() if smtp["auth"] == "password" else "")
        return (f"Test email sent to {', '.join(smtp['admin_contacts'])} "
                f"via {smtp['relay']}:{smtp['port']}")

    # --- console helpers ---------------------------------------------------------

    def ping(self, address: str) -> bool:
        """Simulated ping: True when ``address`` is one of ours or lies in a
        configured subnet. Raises Refused for a malformed address."""
        try:
            addr = rules.ipv4(address)
        except ValueError as e:
            raise Refused([f"address: {e}"]) from None
        with self._lock:
            return any(addr in rules.network(ip) for ip in self._state["ips"])


def synthetic_nics(serial: str, answers_on: str) -> dict:
    """Made-up MACs (stable per serial) and link state for a run without
    real interfaces: link is up on the NIC(s) that answer."""
    h = hashlib.sha256(serial.encode()).digest()
    return {
        nic: {"mac": f"02:b4:{h[0]:02x}:{h[1]:02x}:{h[2]:02x}:{i:02x}",
              "link": answers_on in ("both", nic)}
        for i, nic in enumerate(NICS, start=1)
    }
