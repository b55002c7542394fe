"""The console driver: the appliance's local console over a serial line.

Any pyserial URL works (``serial.serial_for_url``): a device path such as
``/dev/ttyUSB0`` or a pty, ``rfc2217://host:port`` or ``socket://host:port``;
115200 8N1 without flow control by default (``baudrate``, ``flow``: none,
rtscts or xonxoff, as tio takes them). An adapter that goes away mid-session
(unplugged, a terminal server restarted) is reopened when it comes back
within ``timeout``; the menu item under way is then started again from the
menu (once, and not at all when it already landed). Prompts, menu numbers
and the output format come from the page map's [console] table (the format
is documented at the top of simulator/console.py).

The console offers four settings (IP addresses, host name, default gateway,
DNS servers); ``capabilities`` says so and everything else raises
ApplianceError pointing at the web interface. ``read_state`` also fills what
"show status" and "show network" print besides (model, serial, software
version, system time, NTP servers, static routes); syslog and SMTP stay None.

Every byte of the session goes to a timestamped transcript file, except
passwords: what is typed at a password prompt is written as ``********`` and
any echo of a known password is masked too. ``on_bytes(data)`` receives what
the appliance sends, in batches (at most every 50 ms), for a console pane.

Waking the console: the driver sends Ctrl-C (which abandons a half-answered
menu item without changing anything) and reads which prompt comes back. Found
at a password prompt someone else left, it answers with an empty line, which
the appliance counts as one failed login.
"""
from __future__ import annotations

import codecs
import errno
import logging
import re
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from hwprobe import redact
from hwprobe.constants import FACTORY_PASSWORD, SERIAL_BAUD
from hwprobe.errors import (
    ApplianceError, LockedOut, LoginFailed, PasswordChangeRequired, PasswordRefused,
    SessionExpired, Unreachable, ValidationRefused,
)
from hwprobe.appliance.pagemap import PAGES
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo, Route, SmtpSettings
from hwprobe.appliance.base import LoginResult
from hwprobe.appliance.transcript import MASK, Transcript, default_transcript_path

MAX_BUFFER = 256 * 1024     # what is kept of the output since the last line typed

log = logging.getLogger("hwprobe.appliance.console")

BATCH_SECONDS = 0.05
WEB_ONLY = "is not available on the local console: use the web interface"
_YES = {"yes", "up", "true"}


class _SessionGone(Exception):
    """Internal: the console is back at its login prompt (logged out, rebooted)."""


class _Reopened(_SessionGone):
    """Internal: the adapter went away and was reopened: where the console is
    now has to be found again."""


FLOW_CONTROL = {"none": {}, "rtscts": {"rtscts": True}, "xonxoff": {"xonxoff": True}}
REOPEN_POLL = 0.2


def open_port(device: str, baudrate: int = SERIAL_BAUD, flow: str = "none",
              timeout: float = 0.05):
    """The pyserial port for ``device`` (a path or URL) at ``baudrate`` 8N1
    with ``flow`` control ("none", "rtscts", "xonxoff"). Raises Unreachable
    saying what to do (the dialout group, or sudo) when it cannot be opened."""
    import serial

    if flow not in FLOW_CONTROL:
        raise ValueError(f"flow control {flow!r}: choose none, rtscts or xonxoff")
    try:
        return serial.serial_for_url(
            serial_url(device), baudrate=baudrate, bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE, stopbits=serial.STOPBITS_ONE, timeout=timeout,
            **FLOW_CONTROL[flow])
    except (serial.SerialException, ValueError, OSError) as exc:
        raise Unreachable(f"cannot open the console {device}: {exc}"
                          + permission_advice(exc, device)) from None


def line_settings(baudrate: int, flow: str = "none") -> str:
    """"115200 8N1" (and ", RTS/CTS" or ", XON/XOFF"), as the transcript and pane say it."""
    return f"{baudrate} 8N1" + {"rtscts": ", RTS/CTS", "xonxoff": ", XON/XOFF"}.get(flow, "")


def permission_advice(exc: BaseException, device: str) -> str:
    """What to do when ``exc`` is a refused open of a serial device ('' otherwise)."""
    if getattr(exc, "errno", None) not in (errno.EACCES, errno.EPERM):
        return ""
    return (". Serial adapters belong to the dialout group: add yourself once "
            "(sudo usermod -aG dialout $USER, then log out and in again), or run "
            "bringup with sudo")


def serial_url(device: str) -> str:
    """``device`` as pyserial should open it: an ``rfc2217://`` URL gets
    ``ign_set_control``, because ser2net in front of a pty (and many terminal
    servers) never confirms SET_CONTROL and pyserial would give up after 3 s
    waiting for it; the line settings themselves are still sent."""
    if not device.startswith("rfc2217://") or "ign_set_control" in device:
        return device
    return device + ("&" if "?" in device else "?") + "ign_set_control"


class ConsoleDriver:
    """The appliance's local console. Use as a context manager, or open()/close().

    ``timeout`` is how long to wait for each answer; ``transcript`` the file
    to record the session in (default: ``default_transcript_path()``)."""

    kind = "console"
    capabilities = frozenset({"ip", "hostname", "gateway", "dns"})

    def __init__(self, device: str, *, baudrate: int = SERIAL_BAUD, flow: str = "none",
                 timeout: float = 10.0,
                 transcript: str | Path | None = None,
                 on_bytes: Callable[[bytes], None] | None = None,
                 pages: Mapping[str, Any] = PAGES):
        self.device, self.baudrate, self.timeout = device, baudrate, timeout
        if flow not in FLOW_CONTROL:
            raise ValueError(f"flow control {flow!r}: choose none, rtscts or xonxoff")
        self.flow = flow
        self._in_item = False
        self.k = pages["console"]
        self.on_bytes = on_bytes
        self.transcript_path = Path(transcript) if transcript else None
        self.transcript: Transcript | None = None
        self._port = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buf = ""
        self._pending = b""
        self._last_flush = 0.0
        self._at: str | None = None        # "login" | "menu" | "new_password"
        self._credentials: tuple[str, str] | None = None
        self._secrets: set[str] = set()

    # --- open / close -------------------------------------------------------------------

    def open(self) -> None:
        """Open the serial port (8N1, the flow control asked for) and start the
        transcript. Raises Unreachable when the port cannot be opened."""
        if self._port is not None:          # already open (connect_console, then ``with``)
            return
        self._port = open_port(self.device, self.baudrate, self.flow)
        self.transcript_path = self.transcript_path or default_transcript_path()
        self.transcript = Transcript(self.transcript_path, self.device,
                                     line_settings(self.baudrate, self.flow), scrub=self._scrub,
                                     held_back=self._held_back)

    def _reopen(self, exc: BaseException) -> None:
        """The adapter stopped working (unplugged, the terminal server went
        away): wait up to ``timeout`` for it to come back and open it again.
        Raises _Reopened inside a menu item (the caller starts over from the
        menu), Unreachable when it does not come back."""
        self.transcript.note(f"the console {self.device} stopped working ({exc}): "
                             f"waiting for it to come back")
        try:
            self._port.close()
        except Exception:           # noqa: BLE001 - it is gone already
            pass
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._port = open_port(self.device, self.baudrate, self.flow)
                break
            except Unreachable:
                if time.monotonic() >= deadline:
                    self._at = None         # nothing to log out of at close()
                    raise Unreachable(f"the console {self.device} stopped working ({exc}) "
                                      f"and did not come back within {self.timeout:g} s: "
                                      f"check the cable") from None
                time.sleep(REOPEN_POLL)
        self.transcript.note(f"reopened {self.device}")
        self._buf = ""
        if self._in_item:
            raise _Reopened()

    def close(self) -> None:
        """Log out when logged in (best effort), close the port and the
        transcript. Never raises."""
        if self._port is None:
            return
        try:
            if self._at == "menu":
                self._send(str(self.k["logout"]))
                self._wait([self.k["login_prompt"]], timeout=min(self.timeout, 3.0))
        except ApplianceError:
            pass
        self._flush_bytes(final=True)
        try:
            self._port.close()
        except Exception:           # a vanished USB adapter must not stop the shutdown
            pass
        self._port = None
        if self.transcript:
            self.transcript.close()
        self._credentials, self._at = None, None
        self._secrets.clear()

    def __enter__(self) -> "ConsoleDriver":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- bytes in and out ------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        # the factory password is public, and a word
        return redact.masked(text, self._secrets - {FACTORY_PASSWORD}, MASK)

    def _held_back(self, text: str) -> int:
        """How many characters at the end of ``text`` could be the start of a
        password still arriving (an echo one byte per read): held until the rest."""
        longest = 0
        for secret in self._secrets:
            if secret and secret != FACTORY_PASSWORD:
                for n in range(min(len(secret) - 1, len(text)), longest, -1):
                    if text.endswith(secret[:n]):
                        longest = n
                        break
        return longest

    def _flush_bytes(self, final: bool = False) -> None:
        if self._pending and self.on_bytes is not None:
            text = self._scrub(self._pending.decode("utf-8", "replace"))
            keep = 0 if final else self._held_back(text)
            out, rest = text[: len(text) - keep], text[len(text) - keep:]
            self._pending = rest.encode()
            if out:
                self.on_bytes(out.encode())
        else:
            self._pending = b""
        self._last_flush = time.monotonic()

    def _read(self) -> None:
        """Read what is there (waiting at most the port's 50 ms timeout)."""
        import serial

        try:
            data = self._port.read(max(1, self._port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            self._reopen(exc)
            return
        if data:
            text = self._decoder.decode(data)
            self._buf += text
            self.transcript.received(text)          # masked there, a whole line at a time
            if len(self._buf) > MAX_BUFFER:         # an endless stream with no prompt
                self._buf = self._buf[-MAX_BUFFER:]
            self._pending += data
        if time.monotonic() - self._last_flush >= BATCH_SECONDS:
            self._flush_bytes()

    def _send(self, text: str, *, secret: bool = False) -> None:
        """Type a line (ended by CR, as a terminal's Enter key does)."""
        self._buf = ""
        self.transcript.sent(MASK if secret else text)
        self._write(text.encode() + b"\r")

    def _write(self, data: bytes) -> None:
        import serial

        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            self._reopen(exc)           # inside an item, it starts over from the menu
            try:
                self._port.write(data)
                self._port.flush()
            except (serial.SerialException, OSError) as again:
                raise Unreachable(f"cannot write to the console {self.device} ({again}): "
                                  f"check the cable") from None

    def _no_answer(self, timeout: float) -> Unreachable:
        return Unreachable(
            f"no answer from the console on {self.device} within {timeout:g} s: check the "
            f"cable, the baud rate ({line_settings(self.baudrate, self.flow)}) and that "
            f"the appliance is powered")

    def _wait(self, prompts: list[str], timeout: float | None = None) -> tuple[str, str]:
        """Read until the output ends with one of ``prompts`` (the console then
        waits for input). Returns (prompt, what came before it since the last
        line typed). Raises Unreachable after ``timeout`` seconds."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            for prompt in prompts:
                if self._buf.endswith(prompt):
                    text = self._buf[: -len(prompt)]
                    self._buf = ""
                    self._flush_bytes()
                    return prompt, text
            if time.monotonic() >= deadline:
                self._flush_bytes()
                raise self._no_answer(timeout)
            self._read()

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read()

    # --- where the console is -----------------------------------------------------------------

    def _wake(self) -> str:
        """Find the console's state: "login" or "menu" (a half-answered item is
        abandoned with Ctrl-C, nothing changed)."""
        if self._port is None:
            raise ApplianceError("the console driver is not open: call open() first")
        k = self.k
        prompts = [k["login_prompt"], k["menu_prompt"], k["password_prompt"],
                   k["new_password_prompt"], k["confirm_password_prompt"]]
        self._drain(0.1)
        self._buf = ""
        self.transcript.sent("^C")
        self._write(b"\x03")
        deadline = time.monotonic() + self.timeout
        nudged = False
        while True:
            left = deadline - time.monotonic()
            try:
                prompt, _ = self._wait(prompts, timeout=max(0.0, min(left, 2.0 if not nudged else left)))
            except Unreachable:
                if time.monotonic() >= deadline:
                    raise self._no_answer(self.timeout) from None
                nudged = True          # some consoles only speak after Enter
                self._send("")
                continue
            if prompt == k["login_prompt"]:
                self._at = "login"
                return "login"
            if prompt == k["menu_prompt"]:
                self._at = "menu"
                return "menu"
            self.transcript.note("a login or password change left half-done: answering blank")
            self._send("", secret=True)

    def _at_menu(self) -> None:
        """Make sure the console shows the menu, logging in again with the
        credentials in memory when it went back to its login prompt."""
        if self._wake() == "login":
            self._relogin()

    def _relogin(self) -> None:
        if self._credentials is None:
            raise SessionExpired(f"not logged in on the console {self.device}")
        self.transcript.note("the console is at its login prompt: logging in again")
        try:
            result = self._login(*self._credentials)
        except LoginFailed as exc:
            raise SessionExpired(f"the console session on {self.device} ended and logging "
                                 f"in again failed: {exc}") from exc
        if result.change_required:
            raise PasswordChangeRequired("the appliance wants a new password before the menu opens")

    # --- login and password -----------------------------------------------------------------------

    def login(self, username: str, password: str) -> LoginResult:
        """Log in at the console's login prompt (logging out a session left
        open first). LoginResult(change_required=True) when the appliance now
        asks for a new password: call change_password next.

        Raises LoginFailed (with tries_left), LockedOut (with seconds),
        Unreachable. Never retries a refused password."""
        self._secrets.add(password)
        if self._wake() == "menu":
            self._send(str(self.k["logout"]))
            self._wait([self.k["login_prompt"]])
        result = self._login(username, password)
        self._credentials = (username, password)
        return result

    def _login(self, username: str, password: str) -> LoginResult:
        k = self.k
        self._send(username)
        self._wait([k["password_prompt"]])
        self._send(password, secret=True)
        prompt, text = self._wait([k["login_prompt"], k["menu_prompt"], k["new_password_prompt"]])
        if prompt == k["menu_prompt"]:
            self._at = "menu"
            return LoginResult(change_required=False)
        if prompt == k["new_password_prompt"]:
            self._at = "new_password"
            return LoginResult(change_required=True, message=k["change_required"])
        self._at = "login"
        lines = [ln.strip() for ln in self._scrub(text).splitlines() if ln.strip()]
        message = " ".join(ln for ln in lines if ln != k["login_failed"]) or k["login_failed"]
        locked = re.search(PAGES["login"]["locked_pattern"], message)
        if locked:
            raise LockedOut(f"the console on {self.device} locked the account {username!r}: "
                            f"{message}", seconds=int(locked.group(1)))
        left = re.search(PAGES["login"]["tries_left_pattern"], message)
        raise LoginFailed(f"the console on {self.device} refused the login for {username!r}: "
                          f"{message}", tries_left=int(left.group(1)) if left else None)

    def change_password(self, current: str, new: str) -> None:
        """Answer the forced password change right after a factory login (the
        console offers no other way to change it). On PasswordRefused the
        console is back at its login prompt: log in again to retry."""
        k = self.k
        self._secrets.update((current, new))
        if self._at != "new_password":
            raise ApplianceError(f"changing the password outside the first login {WEB_ONLY}")
        self._send(new, secret=True)
        self._wait([k["confirm_password_prompt"]])
        self._send(new, secret=True)
        prompt, text = self._wait([k["menu_prompt"], k["login_prompt"]])
        if prompt == k["menu_prompt"]:
            self._at = "menu"
            if self._credentials is not None:
                self._credentials = (self._credentials[0], new)
            return
        self._at = "login"
        reason = next((ln.strip() for ln in self._scrub(text).splitlines()
                       if ln.strip().startswith(k["password_refused"])), "no reason given")
        raise PasswordRefused(f"the appliance refused the new password: "
                              f"{reason[len(k['password_refused']):].strip() or reason}")

    # --- menu items --------------------------------------------------------------------------

    def _item(self, key: str, answers: list[tuple[str, str]]) -> str:
        """Choose menu item ``key``, answer its prompts, return its output
        (what came before the next menu prompt). _SessionGone when the
        console went back to its login prompt on the way, _Reopened when
        the adapter was replugged."""
        self._in_item = True
        try:
            return self._item_answered(key, answers)
        finally:
            self._in_item = False

    def _item_answered(self, key: str, answers: list[tuple[str, str]]) -> str:
        k = self.k
        self._send(str(k[key]))
        for prompt_key, value in answers:
            prompt, text = self._wait([k[prompt_key], k["menu_prompt"], k["login_prompt"]])
            if prompt != k[prompt_key]:
                return self._outcome(prompt, text)
            self._send(value)
        return self._outcome(*self._wait([k["menu_prompt"], k["login_prompt"]]))

    def _outcome(self, prompt: str, text: str) -> str:
        if prompt == self.k["login_prompt"]:
            self._at = "login"
            raise _SessionGone()
        return text

    def _run(self, key: str, answers: list[tuple[str, str]], title: str,
             applied: Callable[[], bool] | None = None) -> str:
        """Run a menu item that changes something; ValidationRefused with the
        console's "Error:" message. Re-logs in once if the session ended, and
        then only runs the item again when ``applied()`` says it did not land."""
        text = self._with_menu(key, answers, applied)
        if text is not None:
            self._check(text, title)
        return text or ""

    def _with_menu(self, key: str, answers: list[tuple[str, str]],
                   applied: Callable[[], bool] | None = None) -> str | None:
        """_item from the menu, logging in again once when the console went
        back to its login prompt; None when ``applied()`` then says the change
        already landed."""
        self._at_menu()
        try:
            return self._item(key, answers)
        except _Reopened:
            self._at_menu()             # where the console is after the replug
        except _SessionGone:
            self._relogin()
        if applied is not None and applied():
            return None
        try:
            return self._item(key, answers)
        except _SessionGone:
            raise SessionExpired(f"the console on {self.device} logged out again right "
                                 f"after logging in") from None

    def _check(self, text: str, title: str) -> None:
        k = self.k
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(k["error_prefix"]):
                message = self._scrub(line[len(k["error_prefix"]):].strip())
                head, sep, _ = message.partition(":")
                field = head.strip() if sep and re.fullmatch(r"[a-z_]+", head.strip()) else None
                raise ValidationRefused(f"the appliance refused the change on the local "
                                        f"console ({title}): {message}",
                                        page=f"console: {title}", field=field)
            if line == k["ok"]:
                return
        raise ApplianceError(f"the console neither confirmed nor refused {title}")

    def _show(self, key: str) -> dict[str, list[str]]:
        """A "show" item's "key: value" lines (values of repeated keys in order)."""
        text = self._with_menu(key, [])
        out: dict[str, list[str]] = {}
        for line in text.split(self.k["end_marker"])[0].splitlines():
            name, sep, value = line.strip().partition(": ")
            if sep:
                out.setdefault(name.strip().lower(), []).append(value.strip())
        return out

    # --- reading --------------------------------------------------------------------------------

    def read_state(self) -> ApplianceState:
        """"show status" and "show network" as an ApplianceState (syslog and
        SMTP are None: the console does not show them).

        Raises Unreachable, SessionExpired, ApplianceError."""
        status, network = self._show("show_status"), self._show("show_network")

        def one(d: dict, name: str) -> str:
            value = (d.get(name) or [""])[0]
            return "" if value == "-" else value

        def many(d: dict, name: str) -> list[str]:
            return [v.strip() for v in one(d, name).split(",") if v.strip()]

        state = ApplianceState(
            model=one(status, "model"), serial=one(status, "serial"),
            software_version=one(status, "software version"),
            system_time=one(status, "system time"), ntp_servers=many(status, "ntp servers"),
            hostname=one(network, "hostname"), default_gateway=one(network, "default gateway"),
            dns_servers=many(network, "dns servers"),
        )
        for name, values in sorted(network.items()):
            if re.fullmatch(r"nic\d+", name):
                fields = dict(p.split("=", 1) for p in values[0].split() if "=" in p)
                state.nics.append(NicInfo(name=name, mac=fields.get("mac", "").lower(),
                                          link=fields.get("link", "").lower() in _YES))
        for value in network.get("ip", []):
            parts = value.split()
            if len(parts) >= 3:
                vlan = parts[3].removeprefix("vlan=") if len(parts) > 3 else "-"
                state.ips.append(IpAddress(nic=parts[0].lower(), address=parts[1],
                                           netmask=parts[2],
                                           vlan=int(vlan) if vlan.isascii() and vlan.isdigit() else None))
        for value in network.get("route", []):
            parts = value.split()
            if len(parts) >= 3:
                state.routes.append(Route(destination=parts[0], gateway=parts[1],
                                          nic=parts[2].lower()))
        return state

    def read_back(self) -> ApplianceState:
        """The state after changes: "show status" and "show network" again
        (the console has no pages to keep)."""
        return self.read_state()

    def _has_ip(self, address: str) -> bool:
        return any(ip.address == address for ip in self.read_state().ips)

    # --- changes ---------------------------------------------------------------------------------

    def add_ip(self, ip: IpAddress) -> None:
        """Menu "add IP". ValidationRefused with the console's message."""
        self._run("add_ip", [("nic_prompt", ip.nic), ("address_prompt", ip.address),
                             ("netmask_prompt", ip.netmask),
                             ("vlan_prompt", "" if ip.vlan is None else str(ip.vlan))],
                  "Add IP address", applied=lambda: self._has_ip(ip.address))

    def remove_ip(self, ip: IpAddress) -> None:
        """Menu "remove IP". ValidationRefused when it is not configured."""
        self._run("remove_ip", [("address_prompt", ip.address)], "Remove IP address",
                  applied=lambda: not self._has_ip(ip.address))

    def set_global(self, *, hostname: str | None = None, default_gateway: str | None = None,
                   dns_servers: list[str] | None = None) -> None:
        """Gateway, DNS and host name: one menu item each, for those given."""
        if default_gateway is not None:
            self.set_default_gateway(default_gateway)
        if dns_servers is not None:
            self.set_dns_servers(dns_servers)
        if hostname is not None:
            self.set_hostname(hostname)

    def set_default_gateway(self, gateway: str) -> None:
        """Menu "set gateway" ("" clears it)."""
        self._run("set_gateway", [("gateway_prompt", gateway)], "Set default gateway")

    def set_dns_servers(self, servers: list[str]) -> None:
        """Menu "set DNS" (comma separated; an empty list clears them)."""
        self._run("set_dns", [("dns_prompt", ", ".join(servers))], "Set DNS servers")

    def set_hostname(self, hostname: str) -> None:
        """Menu "set hostname"."""
        self._run("set_hostname", [("hostname_prompt", hostname)], "Set hostname")

    def add_route(self, route: Route) -> None:
        raise ApplianceError(f"static routes: adding one {WEB_ONLY}")

    def remove_route(self, route: Route) -> None:
        raise ApplianceError(f"static routes: removing one {WEB_ONLY}")

    def set_ntp_servers(self, servers: list[str]) -> None:
        raise ApplianceError(f"setting NTP servers {WEB_ONLY}")

    def set_syslog(self, servers: list[str], fmt: str, each=None) -> None:
        raise ApplianceError(f"setting syslog servers {WEB_ONLY}")

    def set_smtp(self, smtp: SmtpSettings, password: str | None) -> None:
        raise ApplianceError(f"setting SMTP (Email Configuration) {WEB_ONLY}")

    def send_test_email(self) -> str:
        raise ApplianceError(f"sending a test email {WEB_ONLY}")
