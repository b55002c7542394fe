"""Fault switches and the simulator's control channel.

Drills and tests flip faults at run time through a unix socket: one JSON object
per line in, one JSON answer per line out.

    {"fault": "drop_after", "value": 3}    answer 3 more web requests, then drop
                                           the next connection unanswered (once)
    {"fault": "http500", "value": "/appliance/networking/ip"}
                                           HTTP 500 for that path (any method);
                                           several paths add up; null clears them
    {"fault": "delay", "value": 0.5}       every web answer waits 0.5 s (null/0 off)
    {"fault": "expire_sessions"}           end every web session now
    {"fault": "reboot", "value": 5}        web and console silent 5 s (listeners
                                           closed: connections refused), then back
                                           with every session gone
    {"fault": "new_certificate"}           new key and certificate for new connections
    {"fault": "unplug_console", "value": 2} the console's pty goes away (the link
                                           too) and a new one is there 2 s later,
                                           as a USB adapter unplugged and
                                           plugged back in; the session goes on
    {"fault": "console_baud", "value": 9600}
                                           the appliance's console speed: a line
                                           set to another speed reads garbage
    {"fault": "large_backup", "value": 1073741824}
                                           /api/backup adds that many bytes of
                                           logged session data to each NSB
                                           (0/null: none)
    {"fault": "backup_rate", "value": 5000000}
                                           /api/backup sends at most that many
                                           bytes per second (0/null: no limit)
    {"fault": "install_seconds", "value": 20}
                                           a site software install keeps the
                                           appliance silent that long (its restart)
    {"fault": "update_server", "value": true}
                                           the appliance reaches the vendor's update
                                           server (Updates > Check for updates)
    {"fault": "login_restart", "value": 3} a /login restore restarts /login for that
                                           many seconds (every /login path: 503)
    {"fault": "upload_rate", "value": 500000}
                                           multipart uploads are read at most that
                                           many bytes per second (0/null: no limit)
    {"fault": "clear"}                     every switch off (install_seconds,
                                           update_server and login_restart back to
                                           what the simulator was started with)
    {"get": "state"}                       the appliance's state (no passwords)
    {"get": "stats"}                       {"requests": {"GET /path": n},
                                            "saved": {"POST /path": n},
                                            "changes": {"add_ip": n, ...},
                                            "log": ["GET /path", "POST /path", ...],
                                            "dropped": n, "faults": {...},
                                            "console_line": {"baud": 115200,
                                                             "flow": "none"}}
                                           ("log": every web request in order, the
                                           last LOG_SIZE of them; console_line:
                                           what the technician's end last set on
                                           the pty)

Answers are {"ok": true, ...} or {"ok": false, "error": "..."}.
``send(path, **msg)`` is the client.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
import time
from collections import Counter, deque
from typing import Any, Callable

log = logging.getLogger("simulator.control")

LOG_SIZE = 5000
FAULT_NAMES = ("hostile", "drop_after", "http500", "delay", "expire_sessions", "reboot",
               "new_certificate", "unplug_console", "console_baud", "large_backup",
               "backup_rate", "install_seconds", "update_server", "login_restart", "upload_rate",
               "store_other", "clear")


class Faults:
    """The fault switches plus request statistics, shared by the faces.

    Hooks (set by the server): ``on_expire()``, ``on_reboot(seconds)``,
    ``on_new_certificate()``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.drop_after: int | None = None
        self.http500: set[str] = set()
        self.delay: float = 0.0
        self.requests: Counter = Counter()
        self.log: deque[str] = deque(maxlen=LOG_SIZE)
        self.saved: Counter = Counter()
        self.dropped = 0
        self.silent_until = 0.0
        self.hostile = None                 # simulator.hostile.Hostile, when switched on
        self.store_other: frozenset[str] = frozenset()   # simulator.misstore: saved as another value
        self.console_unplug = 0.0           # seconds asked for; the console thread takes it
        self.console_baud = 115200
        self.console_line: dict = {}        # set by the console: what the client set
        self.backup_padding = 0             # bytes of session data in each /api/backup NSB
        self.backup_rate = 0.0              # bytes per second /api/backup sends (0: no limit)
        self.upload_rate = 0.0              # bytes per second an upload is read at (0: no limit)
        # the lab's settings for the finish (simulator/updates.py, loginweb.py);
        # ``started_with`` keeps the flags' values for "clear"
        self.install_seconds = 20.0
        self.update_server = False
        self.login_restart = 3.0
        self.started_with: dict = {}
        self.on_expire: Callable[[], None] = lambda: None
        self.on_reboot: Callable[[float], None] = lambda s: None
        self.on_new_certificate: Callable[[], None] = lambda: None

    # --- used by the web face -------------------------------------------------

    def before_request(self, method: str, path: str) -> str:
        """Decide a request's fate: "drop", "500" or "answer" (after any delay)."""
        with self._lock:
            self.requests[f"{method} {path}"] += 1
            self.log.append(f"{method} {path}")
            if self.drop_after is not None:
                if self.drop_after <= 0:
                    self.drop_after = None
                    self.dropped += 1
                    return "drop"
                self.drop_after -= 1
            delay = self.delay
            fail = path in self.http500 or path.rstrip("/") in self.http500
        if delay:
            time.sleep(delay)
        return "500" if fail else "answer"

    def count_saved(self, method: str, path: str) -> None:
        with self._lock:
            self.saved[f"{method} {path}"] += 1

    def silent(self) -> bool:
        """True while the appliance is "rebooting"."""
        return time.monotonic() < self.silent_until

    # --- switches ---------------------------------------------------------------

    def apply(self, name: str, value: Any = None) -> dict:
        """Flip one switch; returns the switches now. ValueError for a bad one."""
        if name == "hostile":
            from .hostile import Hostile
            self.hostile = Hostile(str(value)) if value else None
        elif name == "drop_after":
            n = None if value is None else int(value)
            if n is not None and n < 0:
                raise ValueError("drop_after: must be 0 or more")
            with self._lock:
                self.drop_after = n
        elif name == "http500":
            with self._lock:
                if value in (None, ""):
                    self.http500.clear()
                else:
                    if not str(value).startswith("/"):
                        raise ValueError("http500: value must be a path such as /appliance/networking/ip")
                    self.http500.add(str(value))
        elif name == "delay":
            d = float(value or 0)
            if d < 0:
                raise ValueError("delay: must be 0 or more seconds")
            with self._lock:
                self.delay = d
        elif name == "expire_sessions":
            self.on_expire()
        elif name == "reboot":
            seconds = float(5 if value is None else value)
            if seconds < 0:
                raise ValueError("reboot: must be 0 or more seconds")
            self.silent_until = time.monotonic() + seconds
            self.on_expire()
            self.on_reboot(seconds)
        elif name == "new_certificate":
            self.on_new_certificate()
        elif name == "unplug_console":
            seconds = float(2 if value is None else value)
            if not 0 <= seconds <= 60:
                raise ValueError("unplug_console: 0 to 60 seconds")
            self.console_unplug = seconds
        elif name == "console_baud":
            baud = int(value or 115200)
            if baud <= 0:
                raise ValueError("console_baud: a speed such as 9600 or 115200")
            self.console_baud = baud
        elif name in ("large_backup", "backup_rate"):
            amount = float(value or 0)
            if amount < 0:
                raise ValueError(f"{name}: must be 0 or more")
            if name == "large_backup":
                self.backup_padding = int(amount)
            else:
                self.backup_rate = amount
        elif name in ("install_seconds", "login_restart", "upload_rate"):
            amount = float(value or 0)
            if amount < 0:
                raise ValueError(f"{name}: must be 0 or more")
            setattr(self, name, amount)
        elif name == "update_server":
            self.update_server = str(value).strip().lower() not in ("", "0", "false", "no",
                                                                    "none", "off")
        elif name == "store_other":
            from .misstore import check
            self.store_other = check(str(value or ""))
        elif name == "clear":
            with self._lock:
                self.backup_padding, self.backup_rate, self.upload_rate = 0, 0.0, 0.0
                for key, kept in self.started_with.items():
                    setattr(self, key, kept)
                self.drop_after, self.delay = None, 0.0
                self.http500.clear()
                self.store_other = frozenset()
        else:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        log.info("fault %s set to %r", name, value)
        return self.switches()

    def apply_flag(self, text: str) -> None:
        """Apply a command-line ``--fault NAME[=VALUE]``."""
        name, _, value = text.partition("=")
        self.apply(name.strip(), value.strip() or None)

    def switches(self) -> dict:
        with self._lock:
            return {"drop_after": self.drop_after, "http500": sorted(self.http500),
                    "delay": self.delay, "large_backup": self.backup_padding,
                    "backup_rate": self.backup_rate, "upload_rate": self.upload_rate,
                    "install_seconds": self.install_seconds, "update_server": self.update_server,
                    "login_restart": self.login_restart,
                    "rebooting": time.monotonic() < self.silent_until}

    def stats(self) -> dict:
        with self._lock:
            return {"requests": dict(self.requests), "saved": dict(self.saved),
                    "log": list(self.log), "dropped": self.dropped,
                    "console_line": dict(self.console_line)}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for raw in self.rfile:
            try:
                answer = self.server.answer(json.loads(raw))
            except Exception as exc:  # a bad request gets an answer, never a crash
                answer = {"ok": False, "error": str(exc)}
            self.wfile.write((json.dumps(answer) + "\n").encode())
            self.wfile.flush()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class ControlChannel:
    """The unix-socket server answering fault switches and state/stat queries."""

    def __init__(self, path: str, faults: Faults, appliance):
        self.path, self.faults, self.appliance = path, faults, appliance
        if os.path.exists(path) or os.path.islink(path):
            os.unlink(path)
        self._server = _Server(path, _Handler)
        self._server.answer = self.answer
        os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name="control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def answer(self, msg: dict) -> dict:
        if not isinstance(msg, dict):
            raise ValueError("send one JSON object per line")
        if "get" in msg:
            what = msg["get"]
            if what == "state":
                return {"ok": True, "state": self.appliance.snapshot()}
            if what == "stats":
                stats = self.faults.stats()
                stats["changes"] = dict(self.appliance.changes)
                return {"ok": True, **stats, "faults": self.faults.switches()}
            raise ValueError(f"get: {what!r} is not state or stats")
        if "fault" in msg:
            return {"ok": True, "faults": self.faults.apply(msg["fault"], msg.get("value"))}
        raise ValueError('expected {"fault": NAME, "value": ...} or {"get": "state"|"stats"}')


def send(path: str, timeout: float = 10.0, **msg) -> dict:
    """Send one control message to the simulator at ``path``; returns its answer
    as a dict. Raises OSError when the simulator is not there, RuntimeError when
    it refuses the message (its "error" is the message)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((json.dumps(msg) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    answer = json.loads(buf)
    if not answer.get("ok"):
        raise RuntimeError(answer.get("error", "refused"))
    return answer
