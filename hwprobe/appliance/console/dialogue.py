"""The console driver's dialogue: login, the forced password change, the
numbered menu, "show" parsing and the setters, over the channel.

Prompts, menu numbers and the output format come from the page map's
[console] table (the format is documented at the top of simulator/console.py).
An adapter that goes away mid-session is reopened by the transport when it
comes back within ``timeout``; the menu item under way is then started again
from the menu (once, and not at all when it already landed).

The console offers four settings (IP addresses, host name, default gateway,
DNS servers); ``capabilities`` says so and everything else raises
ApplianceError pointing at the web interface. ``read_state`` also fills what
"show status" and "show network" print besides (model, serial, software
version, system time, NTP servers, static routes); syslog and SMTP stay None.

Waking the console: the driver sends Ctrl-C (which abandons a half-answered
menu item without changing anything) and reads which prompt comes back. Found
at a password prompt someone else left, it answers with an empty line, which
the appliance counts as one failed login.
"""
from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from hwprobe.constants import SERIAL_BAUD
from hwprobe.errors import (
    ApplianceError, LockedOut, LoginFailed, PasswordChangeRequired, PasswordRefused,
    SessionExpired, Unreachable, ValidationRefused,
)
from hwprobe.appliance.pagemap import PAGES
from hwprobe.appliance.state import ApplianceState, IpAddress, NicInfo, Route, SmtpSettings
from hwprobe.appliance.base import LoginResult
from hwprobe.appliance.console.channel import Channel
from hwprobe.appliance.console.transcript import Transcript
from hwprobe.appliance.console.transport import LineDropped, Transport

log = logging.getLogger("hwprobe.appliance.console")

WEB_ONLY = "is not available on the local console: use the web interface"
_YES = {"yes", "up", "true"}


class _SessionGone(Exception):
    """Internal: the console is back at its login prompt (logged out, rebooted)."""


class _Reopened(_SessionGone):
    """Internal: the adapter went away and was reopened: where the console is
    now has to be found again."""


class ConsoleDriver:
    """The appliance's local console. Use as a context manager, or open()/close().

    ``device`` is a device path or pyserial URL, at ``baudrate`` 8N1 with
    ``flow`` control (none, rtscts, xonxoff; ValueError for another);
    ``timeout`` is how long to wait for each answer; ``transcript`` the file
    to record the session in (default: ``default_transcript_path()``);
    ``on_bytes(data)`` receives what the appliance sends, masked and in
    batches, for a console pane."""

    kind = "console"
    capabilities = frozenset({"ip", "hostname", "gateway", "dns"})

    def __init__(self, device: str, *, baudrate: int = SERIAL_BAUD, flow: str = "none",
                 timeout: float = 10.0,
                 transcript: str | Path | None = None,
                 on_bytes: Callable[[bytes], None] | None = None,
                 pages: Mapping[str, Any] = PAGES):
        self.transport = Transport(device, baudrate, flow)
        self.channel = Channel(self.transport, timeout=timeout, transcript_path=transcript,
                               on_bytes=on_bytes, on_drop=self._line_dropped)
        self.device, self.baudrate, self.flow, self.timeout = device, baudrate, flow, timeout
        self.k = pages["console"]
        self._in_item = False
        self._at: str | None = None        # "login" | "menu" | "new_password"
        self._credentials: tuple[str, str] | None = None

    @property
    def on_bytes(self) -> Callable[[bytes], None] | None:
        """Who hears what the appliance sends (a console pane); may be changed
        while the driver is open."""
        return self.channel.on_bytes

    @on_bytes.setter
    def on_bytes(self, hear: Callable[[bytes], None] | None) -> None:
        self.channel.on_bytes = hear

    @property
    def transcript_path(self) -> Path | None:
        """The session's transcript file (known once opened)."""
        return self.channel.transcript_path

    @property
    def transcript(self) -> Transcript | None:
        return self.channel.transcript

    # --- open / close -------------------------------------------------------------------

    def open(self) -> None:
        """Open the serial port (8N1, the flow control asked for) and start the
        transcript. Raises Unreachable when the port cannot be opened."""
        if not self.transport.is_open:      # already open (connect_console, then ``with``)
            self.channel.open()

    def _line_dropped(self, exc: LineDropped) -> None:
        """The adapter stopped working (unplugged, the terminal server went
        away): wait up to ``timeout`` for it to come back and open it again.
        Raises _Reopened inside a menu item (the caller starts over from the
        menu), Unreachable when it does not come back."""
        self.channel.note(f"{exc}: waiting for it to come back")
        deadline = time.monotonic() + self.timeout
        if not self.transport.reopen(give_up=lambda: time.monotonic() >= deadline):
            self._at = None         # nothing to log out of at close()
            raise Unreachable(f"{exc} and did not come back within {self.timeout:g} s: "
                              f"check the cable") from None
        self.channel.note(f"reopened {self.device}")
        self.channel.forget()
        if self._in_item:
            raise _Reopened()

    def close(self) -> None:
        """Log out when logged in (best effort), close the port and the
        transcript. Never raises."""
        if not self.transport.is_open:
            return
        try:
            if self._at == "menu":
                self._send(str(self.k["logout"]))
                self._wait([self.k["login_prompt"]], timeout=min(self.timeout, 3.0))
        except ApplianceError:
            pass
        self.channel.close()
        self._credentials, self._at = None, None

    def __enter__(self) -> "ConsoleDriver":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, text: str, *, secret: bool = False) -> None:
        self.channel.send(text, secret=secret)

    def _wait(self, prompts: list[str], timeout: float | None = None) -> tuple[str, str]:
        return self.channel.wait(prompts, timeout)

    # --- where the console is -----------------------------------------------------------------

    def _wake(self) -> str:
        """Find the console's state: "login" or "menu" (a half-answered item is
        abandoned with Ctrl-C, nothing changed)."""
        if not self.transport.is_open:
            raise ApplianceError("the console driver is not open: call open() first")
        k = self.k
        prompts = [k["login_prompt"], k["menu_prompt"], k["password_prompt"],
                   k["new_password_prompt"], k["confirm_password_prompt"]]
        self.channel.drain(0.1)
        self.channel.forget()
        self.channel.write(b"\x03", "^C")
        deadline = time.monotonic() + self.timeout
        nudged = False
        while True:
            left = deadline - time.monotonic()
            try:
                prompt, _ = self._wait(prompts, timeout=max(0.0, min(left, 2.0 if not nudged else left)))
            except Unreachable:
                if time.monotonic() >= deadline:
                    raise self.channel.no_answer(self.timeout) from None
                nudged = True          # some consoles only speak after Enter
                self._send("")
                continue
            if prompt == k["login_prompt"]:
                self._at = "login"
                return "login"
            if prompt == k["menu_prompt"]:
                self._at = "menu"
                return "menu"
            self.channel.note("a login or password change left half-done: answering blank")
            self._send("", secret=True)

    def _at_menu(self) -> None:
        """Make sure the console shows the menu, logging in again with the
        credentials in memory when it went back to its login prompt."""
        if self._wake() == "login":
            self._relogin()

    def _relogin(self) -> None:
        if self._credentials is None:
            raise SessionExpired(f"not logged in on the console {self.device}")
        self.channel.note("the console is at its login prompt: logging in again")
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
        self.channel.hide(password)
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
        lines = [ln.strip() for ln in self.channel.scrub(text).splitlines() if ln.strip()]
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
        self.channel.hide(current, new)
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
        reason = next((ln.strip() for ln in self.channel.scrub(text).splitlines()
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
                message = self.channel.scrub(line[len(k["error_prefix"]):].strip())
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
