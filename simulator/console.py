"""The simulated appliance's local console, on a pseudo-terminal.

The console plays the appliance's end of a serial cable: it runs on the pty's
master side; a technician (or the console driver, or pyserial) opens the slave
path, e.g. ``/dev/pts/5`` or the ``--console-link`` symlink. The simulator keeps
the slave open itself, so a client may close and reopen it (cable unplugged and
replugged) at any time; output written while nobody listens may be partly
dropped (like a real serial line) or read by the next client.

Exact format (prompts and numbers from [console] in hwprobe/appliance/pagemap.toml; every
line ends with CR LF; typed characters are echoed except passwords):

    B Series Appliance                      <- banner (start, logout, reboot)
    login: admin                            <- login_prompt, echoed user name
    Password:                               <- password_prompt, no echo
    Login incorrect                         <- on failure, then one of
    Invalid user name or password. 4 attempts remaining before lockout.
    Account locked for 300 seconds          (same counters as the web login)
    Password change required.               <- while the factory password is set
    New password:                           <- no echo
    Confirm new password:                   <- no echo
    Password refused: must contain a digit  <- then back to login_prompt
    OK                                      <- password changed

    1) Show status ... 9) Log out           <- the menu, after login and after
    Select [1-9]:                              every answer

    1 show status    -> "model: B400", "serial: B400-0012345",
                        "software version: 7.1.2", "system time: 2026-01-01 12:00:00 UTC",
                        "ntp servers: a, b" then "-- end --"
    2 show network   -> "hostname: support.example.net", "default gateway: 198.51.100.1",
                        "dns servers: 198.51.100.53, 203.0.113.53",
                        one "nic1: mac=02:b5:..:01 link=yes" per NIC,
                        one "ip: nic1 198.51.100.20 255.255.255.0 vlan=-" per address
                        (vlan=20 when tagged), one "route: 203.0.113.0/24 198.51.100.254 nic1"
                        per static route, then "-- end --". An empty value prints "-".
    3 add IP         -> NIC, Address, Netmask, VLAN prompts; "OK" or "Error: field: why"
    4 remove IP      -> Address prompt; "OK" or "Error: ..."
    5 set gateway    -> Default gateway prompt (blank clears); "OK" or "Error: ..."
    6 set DNS        -> DNS servers prompt, comma separated (blank clears); "OK"/"Error: ..."
    7 set hostname   -> Hostname prompt (blank clears); "OK" or "Error: ..."
    8 ping           -> Ping address prompt; "ping: ADDR reachable" or "ping: ADDR unreachable"
                        (simulated: reachable when ADDR is in a configured subnet)
    9 log out        -> "OK", then the banner and login prompt

Anything else at the menu prompt: "Error: unknown selection 'x'". Ctrl-C at any
prompt inside an item abandons it ("Error: cancelled"). During a ``reboot``
fault the console says nothing and ignores input; afterwards it prints the
banner and asks for a login again.

The line: the console reads the speed and flow control the technician's end
set on the pty (ptys do not pace bytes, so it checks them itself) and reports
them in the control channel's stats. When the speed is not the appliance's
(``console_baud`` fault, 115200 by default) what it sends arrives as garbage
and what it is sent is lost, as on a real line; a pty nobody set (its default
38400) counts as right. The ``unplug_console`` fault takes the pty away and
brings a new one (behind the same link) back, the session untouched.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import termios
import threading
import time
import tty

from hwprobe.appliance.pagemap import CONSOLE as K

from .appliance import Appliance, Refused
from .control import Faults

log = logging.getLogger("simulator.console")

MENU = [
    (K["show_status"], "Show status"), (K["show_network"], "Show network settings"),
    (K["add_ip"], "Add IP address"), (K["remove_ip"], "Remove IP address"),
    (K["set_gateway"], "Set default gateway"), (K["set_dns"], "Set DNS servers"),
    (K["set_hostname"], "Set hostname"), (K["ping"], "Ping"), (K["logout"], "Log out"),
]


_SPEEDS = {getattr(termios, f"B{n}"): n for n in
           (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
           if hasattr(termios, f"B{n}")}
UNSET_SPEED = 38400                 # a fresh pty's speed: nobody set the line


class _Restart(Exception):
    """The console starts over at the banner (reboot, or stop requested)."""


class _Cancel(Exception):
    """Ctrl-C inside a menu item."""


class Console:
    """The console on a pty. ``start()`` returns the slave path."""

    def __init__(self, appliance: Appliance, faults: Faults, link: str | None = None):
        self.appliance, self.faults, self.link = appliance, faults, link
        self._stop = threading.Event()
        self._silent_seen = False
        self._pending = b""
        self._last_cr = False
        self.master = self.slave = -1
        self.path = ""

    def start(self) -> str:
        self._open_pty()
        threading.Thread(target=self._run, name="console", daemon=True).start()
        return self.path

    def _open_pty(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        flags = fcntl.fcntl(self.master, fcntl.F_GETFL)
        fcntl.fcntl(self.master, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self.path = os.ttyname(self.slave)
        if self.link:
            if os.path.islink(self.link) or os.path.exists(self.link):
                os.unlink(self.link)
            os.symlink(self.path, self.link)

    def _unplug(self, seconds: float) -> None:
        """Take the pty away for ``seconds`` and open a new one (run by the
        console's own thread, so no read or write is on the old fds)."""
        log.info("console unplugged for %.1f s", seconds)
        if self.link and os.path.islink(self.link):
            os.unlink(self.link)
        os.close(self.slave)
        os.close(self.master)
        self.master = self.slave = -1
        self._stop.wait(seconds)
        self._open_pty()
        log.info("console plugged back in at %s", self.path)

    def _line_ok(self) -> bool:
        """Whether the technician's end set the appliance's speed (see module doc)."""
        try:
            iflag, _o, cflag, _l, _i, ospeed, _cc = termios.tcgetattr(self.slave)
        except termios.error:
            return True
        baud = _SPEEDS.get(ospeed, 0)
        flow = ("rtscts" if cflag & termios.CRTSCTS
                else "xonxoff" if iflag & termios.IXOFF else "none")
        self.faults.console_line = {"baud": baud, "flow": flow}
        return baud in (self.faults.console_baud, UNSET_SPEED)

    def stop(self) -> None:
        self._stop.set()
        if self.link and os.path.islink(self.link):
            try:
                os.unlink(self.link)
            except OSError:
                pass

    # --- terminal I/O --------------------------------------------------------------

    def _hostile(self) -> str | None:
        hostile = self.faults.hostile
        return hostile.case if hostile is not None else None

    def _write(self, text: str) -> None:
        if self.faults.silent() or self.master < 0:
            return
        if self._hostile() == "escapes":        # every line it prints ends in terminal control
            from .hostile import SPOOF
            text = text.replace("\n", SPOOF + "\n")
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
        if not self._line_ok():        # framing errors: high-bit noise, no text
            data = bytes((b | 0x80) ^ 0x15 for b in data)
        while data:
            try:
                n = os.write(self.master, data)
            except BlockingIOError:  # nobody reads the line: the rest is lost
                return
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return
                raise
            data = data[n:]

    def _line(self, text: str = "") -> None:
        self._write(text + "\n")

    def _read_byte(self) -> int:
        while True:
            if self._stop.is_set():
                raise _Restart
            if self.faults.console_unplug:
                seconds, self.faults.console_unplug = self.faults.console_unplug, 0.0
                self._unplug(seconds)
                self._pending = b""
                continue
            if self.faults.silent():
                self._silent_seen = True
                self._pending = b""
                self._drain()
                time.sleep(0.1)
                continue
            if self._silent_seen:  # back from a reboot: start over
                self._silent_seen = False
                raise _Restart
            if self._pending:
                b, self._pending = self._pending[0], self._pending[1:]
                return b
            if self._hostile() == "chatter":     # output without end, and never a newline
                self._write("#" * 4096)
                time.sleep(0.001)
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self._pending = os.read(self.master, 1024)
                    if not self._line_ok():
                        self._pending = b""         # noise to the appliance
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno != errno.EIO:
                        raise
                    time.sleep(0.2)

    def _drain(self) -> None:
        try:
            while select.select([self.master], [], [], 0)[0]:
                if not os.read(self.master, 4096):
                    return
        except OSError:
            return

    def _readline(self, prompt: str, echo: bool = True, cancel: bool = False) -> str:
        """Show ``prompt`` and read a line; CR, LF or CR LF end it."""
        self._write(prompt)
        buf: list[str] = []
        while True:
            b = self._read_byte()
            if b == 0x0A and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = b == 0x0D
            if b in (0x0D, 0x0A):
                self._write("\n")
                return "".join(buf)
            if b == 0x03:  # Ctrl-C
                self._write("^C\n")
                if cancel:
                    raise _Cancel
                buf.clear()
                self._write(prompt)
            elif b in (0x08, 0x7F):
                if buf:
                    buf.pop()
                    if echo:
                        self._write("\b \b")
            elif b == 0x15:  # Ctrl-U
                if echo:
                    self._write("\b \b" * len(buf))
                buf.clear()
            elif b >= 0x20:
                ch = chr(b) if b < 0x80 else "?"
                buf.append(ch)
                if echo:
                    self._write(ch)
                elif self._hostile() == "echo_secret":   # a password echoed, one byte per read
                    time.sleep(0.08)
                    self._write(ch)

    # --- the conversation ---------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except _Restart:
                continue
            except Exception:  # the console must outlive any bug in one answer
                log.exception("console error; starting over")
                time.sleep(0.2)

    def _session(self) -> None:
        self._line()
        self._line(K["banner"])
        while True:
            user = self._readline(K["login_prompt"]).strip()
            if not user:
                continue
            password = self._readline(K["password_prompt"], echo=False)
            outcome = self.appliance.login(user, password)
            if not outcome.ok:
                log.info("console login refused for user %r", user)
                self._line(K["login_failed"])
                self._line(outcome.message)
                continue
            user = user.lower()
            if outcome.must_change and not self._forced_change(user):
                continue
            log.info("console login: %s", user)
            if self._menu():
                self._line()
                self._line(K["banner"])

    def _forced_change(self, user: str) -> bool:
        self._line(K["change_required"])
        new = self._readline(K["new_password_prompt"], echo=False)
        confirm = self._readline(K["confirm_password_prompt"], echo=False)
        if new != confirm:
            self._line(f"{K['password_refused']} the two new passwords differ")
            return False
        try:
            self.appliance.change_password(user, None, new)
        except Refused as exc:
            text = str(exc)
            if not text.startswith(K["password_refused"]):
                text = f"{K['password_refused']} {text}"
            self._line(text)
            return False
        self._line(K["ok"])
        return True

    def _menu(self) -> bool:
        """Serve the numbered menu until log out; True when the user logged out."""
        while True:
            self._line()
            for number, title in MENU:
                self._line(f"{number}) {title}")
            choice = self._readline(K["menu_prompt"]).strip()
            if choice == str(K["logout"]):
                self._line(K["ok"])
                return True
            try:
                self._item(choice)
            except _Cancel:
                self._line(f"{K['error_prefix']} cancelled")
            except Refused as exc:
                self._line(f"{K['error_prefix']} {exc}")

    def _ask(self, key: str) -> str:
        return self._readline(K[key], cancel=True).strip()

    def _item(self, choice: str) -> None:
        app = self.appliance
        if choice == str(K["show_status"]):
            st = app.snapshot()
            for line in (f"model: {st['model']}", f"serial: {st['serial']}",
                         f"software version: {st['software_version']}",
                         f"system time: {app.system_time()}",
                         f"ntp servers: {', '.join(st['ntp_servers']) or '-'}"):
                self._line(line)
            self._line(K["end_marker"])
        elif choice == str(K["show_network"]):
            for line in network_lines(app.snapshot()):
                self._line(line)
            self._line(K["end_marker"])
        elif choice == str(K["add_ip"]):
            nic, address = self._ask("nic_prompt"), self._ask("address_prompt")
            netmask, vlan = self._ask("netmask_prompt"), self._ask("vlan_prompt")
            app.add_ip(nic, address, netmask, vlan)
            self._line(K["ok"])
        elif choice == str(K["remove_ip"]):
            app.delete_ip(self._ask("address_prompt"))
            self._line(K["ok"])
        elif choice == str(K["set_gateway"]):
            app.set_global(default_gateway=self._ask("gateway_prompt"))
            self._line(K["ok"])
        elif choice == str(K["set_dns"]):
            app.set_global(dns_servers=self._ask("dns_prompt"))
            self._line(K["ok"])
        elif choice == str(K["set_hostname"]):
            app.set_global(hostname=self._ask("hostname_prompt"))
            self._line(K["ok"])
        elif choice == str(K["ping"]):
            address = self._ask("ping_prompt")
            reachable = app.ping(address)
            self._line(f"ping: {address} {'reachable' if reachable else 'unreachable'}")
        elif choice:
            self._line(f"{K['error_prefix']} unknown selection {choice!r}")


def network_lines(st: dict) -> list[str]:
    """The lines of "show network" (without the end marker) for a state snapshot."""
    lines = [f"hostname: {st['hostname'] or '-'}",
             f"default gateway: {st['default_gateway'] or '-'}",
             f"dns servers: {', '.join(st['dns_servers']) or '-'}"]
    lines += [f"{n['nic']}: mac={n['mac']} link={'yes' if n['link'] else 'no'}" for n in st["nics"]]
    lines += [f"ip: {ip['nic']} {ip['address']} {ip['netmask']} vlan={ip['vlan'] or '-'}"
              for ip in st["ips"]]
    lines += [f"route: {r['destination']} {r['gateway']} {r['nic']}" for r in st["routes"]]
    return lines
