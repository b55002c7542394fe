"""``python -m simulator serve``: run one simulated B Series appliance.

    python -m simulator serve --state-dir DIR [--bind 0.0.0.0] [--https-port 443]
        [--http-port 80] [--factory-address 169.254.1.1] [--answers-on nic1|nic2|both]
        [--manage-interfaces] [--console-link PATH] [--control PATH]
        [--model B400] [--serial B400-0012345] [--lockout-attempts 5]
        [--lockout-seconds 300] [--session-idle 600] [--factory-reset]
        [--install-seconds 20] [--update-server] [--login-restart-seconds 3]
        [--chatter] [--boot-seconds S]
        [--fault drop_after=N] [--fault http500=/path] [--fault delay=0.5] ...

``--chatter`` (with ``--manage-interfaces``): it sends DNS and NTP queries to
its servers on its own, as an appliance configured at a site does
(simulator/used.py). ``--boot-seconds S``: for S seconds after the start it
is still booting: no address on its NICs (nothing answers ARP), web and
console silent.

Ports: 0 picks a free (ephemeral) port, a negative port turns that listener off;
the ready line says which ports were taken. When everything listens, exactly one
JSON line goes to stdout:

    {"ready": true, "https_port": 443, "http_port": 80, "console": "/dev/pts/5",
     "control": "/run/.../control.sock", "pid": 123, "fingerprint": "ab12..."}

Logs go to stderr and never contain a password. SIGTERM or SIGINT stops it
cleanly (exit status 0). State lives in DIR/state.json, the TLS key and
certificate in DIR/key.pem and DIR/cert.pem (kept across --factory-reset).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .accounts import Sessions
from .appliance import Appliance
from .control import ControlChannel, Faults
from .factory import LOCKOUT_ATTEMPTS, LOCKOUT_SECONDS
from .certstore import CertStore
from .web import Listener, WebFace

log = logging.getLogger("simulator")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator serve",
                                description="Run a simulated B Series appliance.")
    p.add_argument("--state-dir", required=True, help="where state.json and the certificate live")
    p.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--https-port", type=int, default=443, help="0 = any free port, <0 = off")
    p.add_argument("--http-port", type=int, default=80, help="0 = any free port, <0 = off")
    p.add_argument("--factory-address", default="169.254.1.1")
    p.add_argument("--answers-on", default="nic1", choices=("nic1", "nic2", "both"))
    p.add_argument("--manage-interfaces", action="store_true",
                   help="put the appliance's addresses on nic1/nic2 of this namespace (root)")
    p.add_argument("--console-link", help="make the console's pty reachable at this path")
    p.add_argument("--control", help="unix socket path for fault switches and state queries")
    p.add_argument("--firmware", default="legacy", metavar="NAME",
                   help="firmware profile of the page map: legacy (default) or current")
    p.add_argument("--rename-field", metavar="OLD=NEW",
                   help="serve the form field or value OLD under the name NEW (a firmware "
                        "that renamed one field: drills for `bringup survey`)")
    p.add_argument("--model", default="B400")
    p.add_argument("--serial", default="B400-0012345")
    p.add_argument("--lockout-attempts", type=int, default=LOCKOUT_ATTEMPTS)
    p.add_argument("--lockout-seconds", type=int, default=LOCKOUT_SECONDS)
    p.add_argument("--session-idle", type=float, default=600.0, help="web session idle seconds")
    p.add_argument("--factory-reset", action="store_true", help="wipe the state first")
    p.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                   help="a fault switch at start: drop_after=N, http500=PATH, delay=SECONDS")
    p.add_argument("--install-seconds", type=float, default=20.0, metavar="S",
                   help="how long a site software install keeps the appliance silent "
                        "(its restart; a real one takes 15 to 60 minutes)")
    p.add_argument("--update-server", action="store_true",
                   help="the appliance reaches the vendor's update server (Updates > Check)")
    p.add_argument("--login-restart-seconds", type=float, default=3.0, metavar="S",
                   help="how long /login restarts after a restore (503 meanwhile)")
    p.add_argument("--chatter", action="store_true",
                   help="send DNS and NTP queries to its servers on its own (a configured box)")
    p.add_argument("--boot-seconds", type=float, default=0.0, metavar="S",
                   help="still booting for S seconds after the start: silent, no address")
    p.add_argument("--log-level", default="INFO")
    return p


def use_profile(appliance: Appliance, firmware: str):
    """Make ``appliance`` take what firmware profile ``firmware`` takes
    (its version, syslog and e-mail choices); returns the profile's page map.
    KeyError for an unknown profile."""
    from hwprobe.appliance.pagemap import pages_for, profile

    prof = profile(firmware)
    layout = pages_for(firmware)
    a = appliance
    a.software_version = prof["sim_version"]
    a.max_syslog_servers = prof["syslog_servers"]
    a.syslog_formats = tuple(layout["syslog"]["formats"])
    a.syslog_default_ports = dict(layout["syslog"]["default_ports"])
    a.encryptions = tuple(layout["smtp"]["encryptions"])
    return layout


class Simulator:
    """All the parts of one running appliance, wired together."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        state_dir = Path(args.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.faults = Faults()
        self.interfaces = None
        if args.manage_interfaces:
            from .netif import Interfaces

            self.interfaces = Interfaces()
        self.appliance = Appliance(
            state_dir / "state.json", model=args.model, serial=args.serial,
            factory_address=args.factory_address, answers_on=args.answers_on,
            lockout_attempts=args.lockout_attempts, lockout_seconds=args.lockout_seconds,
            factory_reset=args.factory_reset,
            nic_info=self.interfaces.nic_info if self.interfaces else None)
        self.chatter = None
        from hwprobe.appliance.pagemap import renamed

        layout = use_profile(self.appliance, args.firmware)   # KeyError: main() answers exit 2
        if args.rename_field:
            old, sep, new = args.rename_field.partition("=")
            if not (sep and old.strip() and new.strip()):
                raise ValueError(f"--rename-field {args.rename_field}: give OLD=NEW")
            layout = renamed(layout, old.strip(), new.strip())
        from . import web

        web.use_pages(layout)
        self.sessions = Sessions(args.session_idle)
        self.certs = CertStore(state_dir, args.serial)
        self.face = WebFace(self.appliance, self.faults, self.sessions, self.certs,
                            state_dir / "uploads")
        from .login_api import LoginSide

        self.face.login_side = LoginSide(self.appliance, state_dir)
        self.https = Listener(args.bind, args.https_port, self.face, self.certs) \
            if args.https_port >= 0 else None
        self.http = Listener(args.bind, args.http_port, self.face, None) \
            if args.http_port >= 0 else None
        self.console = None
        self.control = None
        self._reboot_lock = threading.Lock()
        self.faults.on_expire = self.sessions.clear
        self.faults.on_reboot = self._reboot
        self.faults.on_new_certificate = self.certs.renew
        if self.interfaces:
            self.appliance.on_change(self.interfaces.sync)
            from .live import Live   # settings used for real: only inside a lab namespace

            self.live = Live(self.appliance)
        if min(args.install_seconds, args.login_restart_seconds) < 0:
            raise ValueError("--install-seconds and --login-restart-seconds: 0 or more")
        self.faults.install_seconds = args.install_seconds
        self.faults.update_server = args.update_server
        self.faults.login_restart = args.login_restart_seconds
        self.faults.started_with = {"install_seconds": args.install_seconds,
                                    "update_server": args.update_server,
                                    "login_restart": args.login_restart_seconds}
        for flag in args.fault:  # after the hooks: new_certificate at start renews
            self.faults.apply_flag(flag)

    def start(self) -> dict:
        """Open every listener; returns the ready record."""
        booting = self.args.boot_seconds > 0
        if self.interfaces:
            self.interfaces.sync({"ips": []} if booting else self.appliance.snapshot())
            if not booting:
                self._networking()
        if self.https:
            self.face.https_port = self.https.open()
        if self.http:
            self.http.open()
        if booting:
            self.faults.apply("reboot", self.args.boot_seconds)
            if self.interfaces:
                timer = threading.Timer(self.args.boot_seconds, self._booted)
                timer.daemon = True
                timer.start()
        from .console import Console

        self.console = Console(self.appliance, self.faults, self.args.console_link or None)
        self.console.start()
        if self.args.control:
            self.control = ControlChannel(self.args.control, self.faults, self.appliance)
            self.control.start()
        return {"ready": True,
                "https_port": self.https.port if self.https else None,
                "http_port": self.http.port if self.http else None,
                "console": self.console.path if self.console else None,
                "control": self.args.control, "pid": os.getpid(),
                "fingerprint": self.certs.fingerprint()}

    def _networking(self) -> None:
        """Its routes, and (an earlier site's appliance) what it sends on its own."""
        self.live.sync_routes(self.appliance.snapshot())
        if self.args.chatter and self.chatter is None:
            from .used import Chatter

            self.chatter = Chatter(self.appliance).start()

    def _booted(self) -> None:
        log.info("booted: addresses on the NICs")
        self.interfaces.sync(self.appliance.snapshot())
        self._networking()

    def _reboot(self, seconds: float) -> None:
        """Close the listeners now, reopen them after ``seconds`` (the console
        goes quiet by itself while ``faults.silent()``)."""
        log.info("rebooting: silent for %.1f s", seconds)
        with self._reboot_lock:
            closed = [l for l in (self.https, self.http) if l and l.is_open]
            for listener in closed:
                listener.close()
        timer = threading.Timer(seconds, self._back_up, args=(closed,))
        timer.daemon = True
        timer.start()

    def _back_up(self, closed: list) -> None:
        with self._reboot_lock:
            self.sessions.clear()
            for listener in closed:
                if not listener.is_open:
                    try:
                        listener.open()
                    except OSError as exc:
                        log.error("could not listen again on port %s: %s", listener.port, exc)
        log.info("back from reboot")

    def stop(self) -> None:
        if self.chatter is not None:
            self.chatter.stop()
        for part in (self.control, self.https, self.http):
            if part:
                try:
                    part.stop() if part is self.control else part.close()
                except Exception as exc:
                    log.debug("while stopping: %s", exc)
        if self.console:
            self.console.stop()
        if self.interfaces:
            self.interfaces.close()


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status (2 for bad flags or
    faults, 1 when a port or the interfaces cannot be had)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    while argv and argv[0] in ("serve", "--"):
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        sim = Simulator(args)
    except (ValueError, KeyError) as exc:
        print(f"simulator: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        ready = sim.start()
    except OSError as exc:
        print(f"simulator: cannot start: {exc}", file=sys.stderr)
        sim.stop()
        return 1
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    log.info("ready: %s", ready)
    stop.wait()
    log.info("stopping")
    sim.stop()
    return 0
