"""The simulated B Series appliance: its settings, accounts and rules.

One ``Appliance`` object is shared by both faces (web and console), so a change
made on one shows on the other. Pure logic: no sockets, no interfaces. Every
public method takes the one lock; every change is validated on a copy of the
state and committed whole (all-or-nothing), then written to ``state.json``
atomically (tmp + fsync + rename).

A refused change raises ``Refused``; its ``problems`` are ``"field: why"``
sentences using the page map's field names, the way the appliance shows them.

Limits (how many DNS, NTP and syslog servers and admin contacts it holds) are
read from the page map, as bringup reads them to check a sheet when it is
loaded: change them in hwprobe/appliance/pagemap.toml. The SMTP password is write-only on the
pages: they show only "a password is set"; the appliance keeps it (0600
file ``smtp-secret`` beside state.json) to log in to its relay. Hooks for the
live side (simulator/live.py): ``on_event(text)`` listeners hear logins and
saved settings (for syslog), ``mailer(smtp, password)`` sends the test e-mail.
"""
from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import math
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from hwprobe.appliance import password_rule
from hwprobe.fsutil import atomic_write
from hwprobe.constants import (
    FACTORY_PASSWORD, FACTORY_USER, LOCKOUT_ATTEMPTS, LOCKOUT_SECONDS, NICS,
)
from hwprobe.appliance.pagemap import PAGES

from . import rules

FORMAT = 1
MAX_DNS = PAGES["global_config"]["max_dns_servers"]
MAX_NTP = PAGES["ntp"]["max_servers"]
MAX_SYSLOG_SERVERS = PAGES["syslog"]["max_servers"]
MAX_CONTACTS = PAGES["smtp"]["max_admin_contacts"]
SYSLOG_FORMATS = ("rfc5424", "bsd")
ENCRYPTIONS = ("tls", "starttls", "none")
AUTHS = ("none", "password")
SOFTWARE_VERSION = "7.1.2"
_HASH_ROUNDS = 20_000


class Refused(Exception):
    """A change the appliance refuses; nothing was saved. ``problems`` lists
    every reason as "field: why"."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class LoginOutcome:
    """What a login attempt gives: ``ok`` and whether the password must change
    first, or the message to show (with attempts left / seconds locked)."""

    ok: bool
    must_change: bool = False
    message: str = ""
    tries_left: int | None = None
    locked_seconds: int | None = None


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _HASH_ROUNDS).hex()


def _account(password: str, must_change: bool) -> dict:
    salt = secrets.token_hex(16)
    return {"salt": salt, "hash": _hash(password, salt), "must_change": must_change}


def factory_state(factory_address: str, answers_on: str) -> dict:
    """The state of a freshly reset appliance (admin/password, change forced,
    the factory address on the answering NIC(s), nothing else configured)."""
    nics = NICS if answers_on == "both" else (answers_on,)
    return {
        "format": FORMAT,
        "users": {FACTORY_USER: _account(FACTORY_PASSWORD, True)},
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
        # what the firmware profile's pages take (simulator/server.py sets them)
        self.max_syslog_servers = MAX_SYSLOG_SERVERS
        self.syslog_formats = SYSLOG_FORMATS
        self.syslog_default_ports = {"rfc5424": 514, "bsd": 514, "tls": 6514}
        self.encryptions = ENCRYPTIONS
        self.lockout_attempts, self.lockout_seconds = lockout_attempts, lockout_seconds
        self._clock = clock
        self._started = clock()
        self._lock = threading.RLock()
        self._listeners: list[Callable[[dict], None]] = []
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
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
        atomic_write(self.state_file, json.dumps(state, indent=2), mode=0o644)

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
            "software_version": self.software_version,
            "nics": [{"nic": n, **info} for n, info in sorted(self._nic_info().items())],
            "ips": copy.deepcopy(s["ips"]), "hostname": s["hostname"],
            "default_gateway": s["default_gateway"], "dns_servers": list(s["dns_servers"]),
            "routes": copy.deepcopy(s["routes"]), "ntp_servers": list(s["ntp_servers"]),
            "syslog_servers": list(s["syslog_servers"]), "syslog_format": s["syslog_format"],
            "syslog_targets": self._targets(s),
            "smtp": copy.deepcopy(s["smtp"]),
            # Appliance Administration's other settings (documented, not set by
            # bringup; the values are modelled)
            "admin": {"failed_login_limit": self.lockout_attempts,
                      "lockout_duration": f"{self.lockout_seconds} seconds",
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
        ``lockout_attempts`` of them for ``lockout_seconds``."""
        key = username.strip().lower()
        with self._lock:
            now = self._clock()
            until = self._locked_until.get(key, 0.0)
            if until > now:
                secs = math.ceil(until - now)
                return LoginOutcome(False, message=f"Account locked for {secs} seconds",
                                    tries_left=0, locked_seconds=secs)
            if until:
                self._locked_until.pop(key, None)
                self._failures.pop(key, None)
            account = self._state["users"].get(key)
            if account and secrets.compare_digest(_hash(password, account["salt"]), account["hash"]):
                self._failures.pop(key, None)
                self._event(f"user {key} logged in")
                return LoginOutcome(True, must_change=account["must_change"])
            failures = self._failures.get(key, 0) + 1
            left = self.lockout_attempts - failures
            if left <= 0:
                self._failures.pop(key, None)
                self._locked_until[key] = now + self.lockout_seconds
                return LoginOutcome(
                    False, tries_left=0, locked_seconds=self.lockout_seconds,
                    message=f"Invalid user name or password. Account locked for "
                            f"{self.lockout_seconds} seconds")
            self._failures[key] = failures
            word = "attempt" if left == 1 else "attempts"
            return LoginOutcome(False, tries_left=left, message=(
                f"Invalid user name or password. {left} {word} remaining before lockout."))

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
            if current is not None and _hash(current, account["salt"]) != account["hash"]:
                return ["current_password: the current password is not correct"]
            if confirm is not None and new != confirm:
                return ["confirm_password: the two new passwords differ"]
            reasons = password_rule.problems(new, key)
            if _hash(new, account["salt"]) == account["hash"]:
                reasons.append("must differ from the current password")
            if reasons:
                return ["Password refused: " + "; ".join(reasons)]
            st["users"][key] = _account(new, False)
            return []

        self._change("change_password", edit)

    # --- IP configuration ----------------------------------------------------

    def add_ip(self, nic: str, address: str, netmask: str, vlan: str | int | None = "") -> None:
        """Add an address on a NIC. Raises Refused (bad NIC/address/netmask/VLAN,
        or the address is already configured)."""
        problems, entry = [], {}
        nic = (nic or "").strip().lower()
        if nic not in NICS:
            problems.append(f"nic: {nic!r} is not a NIC (nic1 or nic2)")
        try:
            addr = rules.ipv4(address)
        except ValueError as e:
            problems.append(f"address: {e}")
            addr = None
        try:
            prefix = rules.prefix(netmask)
        except ValueError as e:
            problems.append(f"netmask: {e}")
            prefix = None
        vlan_text = "" if vlan is None else str(vlan).strip()
        vlan_id = None
        if vlan_text and vlan_text != "-":
            if not vlan_text.isdigit() or not 1 <= int(vlan_text) <= 4094:
                problems.append(f"vlan: {vlan_text!r} is not a VLAN ID (1-4094)")
            else:
                vlan_id = int(vlan_text)
        if addr is not None:
            if addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_reserved:
                problems.append(f"address: {addr} cannot be used on a NIC")
            elif prefix is not None and prefix <= 30:
                net = ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False)
                if addr in (net.network_address, net.broadcast_address):
                    problems.append(f"address: {addr} is the network or broadcast address of {net}")
        if not problems:
            entry = {"nic": nic, "address": str(addr), "netmask": rules.netmask_of(prefix), "vlan": vlan_id}

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
        problems = []
        dest_text = destination.strip()
        try:
            net = ipaddress.IPv4Network(dest_text)
            if net.prefixlen == 0:
                problems.append("destination: 0.0.0.0/0 is the default gateway, set it in Global Configuration")
        except ValueError as e:
            problems.append(f"destination: {dest_text!r} is not a network in CIDR form ({e})")
            net = None
        try:
            gw = str(rules.ipv4(gateway))
        except ValueError as e:
            problems.append(f"gateway: {e}")
            gw = ""
        n = nic.strip().lower()
        if n not in NICS:
            problems.append(f"nic: {n!r} is not a NIC (nic1 or nic2)")

        def edit(st: dict) -> list[str]:
            if problems:
                return problems
            if any(r["destination"] == str(net) for r in st["routes"]):
                return [f"destination: a route to {net} already exists"]
            st["routes"].append({"destination": str(net), "gateway": gw, "nic": n})
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
        problems: list[str] = []
        smtp: dict = {}
        try:
            smtp["relay"] = rules.host(relay) if relay.strip() else ""
        except ValueError as e:
            problems.append(f"relay: {e}")
        p = str(port).strip()
        if not p.isdigit() or not 1 <= int(p) <= 65535:
            problems.append(f"port: {p!r} is not a port number (1-65535)")
        else:
            smtp["port"] = int(p)
        enc, au = encryption.strip().lower(), auth.strip().lower()
        if enc not in self.encryptions:
            problems.append(f"encryption: {encryption!r} is not one of "
                            f"{', '.join(self.encryptions)}")
        if au not in AUTHS:
            problems.append(f"auth: {auth!r} is not one of none, password")
        smtp.update(encryption=enc, auth=au, username=username.strip())
        if au == "password" and not smtp["username"]:
            problems.append("smtp_username: a user name is required with password authentication")
        try:
            smtp["from_address"] = rules.email(from_address) if from_address.strip() else ""
        except ValueError as e:
            problems.append(f"from_address: {e}")
        contacts = rules.items(admin_contacts)
        if len(contacts) > MAX_CONTACTS:
            problems.append(f"admin_contacts: {len(contacts)} given, at most {MAX_CONTACTS} allowed")
        smtp["admin_contacts"] = rules.list_of(contacts, rules.email, "admin_contacts", problems)

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


class Sessions:
    """Web sessions: token -> {user, csrf, seen, authenticated}. Expire after
    ``idle`` seconds without a request; ``clear()`` ends every one."""

    def __init__(self, idle: float, clock: Callable[[], float] = time.monotonic):
        self.idle, self._clock = idle, clock
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}

    def new(self, user: str | None = None) -> tuple[str, dict]:
        token = secrets.token_urlsafe(24)
        session = {"user": user, "csrf": secrets.token_urlsafe(24), "seen": self._clock(),
                   "notice": ""}
        with self._lock:
            now = self._clock()
            self._sessions = {t: s for t, s in self._sessions.items() if now - s["seen"] <= self.idle}
            self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> dict | None:
        """The live session for ``token`` (its idle clock restarted), or None."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            now = self._clock()
            if session is None:
                return None
            if now - session["seen"] > self.idle:
                del self._sessions[token]
                return None
            session["seen"] = now
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
