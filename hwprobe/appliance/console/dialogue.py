"""The console driver's dialogue: login, the forced password change, the
numbered menu, "show" parsing and the setters, over the channel.

Prompts, menu numbers and the output format come from the page map's
[console] table (the format is documented at the top of simulator/console.py).
An adapter that goes away mid-session is reopened by the transport when it
comes back within ``timeout``; the menu item under way is then started again
from the menu (once, and not at all when it already landed).

The console reads and saves the page map's sections as the web driver does
(``hwprobe.appliance.base``): the page map's [console.shows], [console.rows]
and [console.forms] say which "show" item prints a section, which lines are
a table's rows, and which menu item and prompt set a form's field. It sets
four settings (IP addresses, host name, default gateway, DNS servers);
``capabilities`` says so and everything else raises ApplianceError pointing
at the web interface. It shows besides what "show status" and "show network"
print (Status > Basics, NTP servers, static routes); syslog and SMTP it does
not show at all.

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
from typing import Any, Callable, Mapping, Sequence

from hwprobe.constants import SERIAL_BAUD
from hwprobe.errors import (
    ApplianceError, LockedOut, LoginFailed, PasswordChangeRequired, PasswordRefused,
    SessionExpired, Unreachable, ValidationRefused,
)
from hwprobe.appliance.pagemap import PAGES, menu_names, page_of
from hwprobe.appliance.base import LoginResult, written
from hwprobe.appliance.section import Section, columns_key, comma_lines
from hwprobe.appliance.console.channel import Channel
from hwprobe.appliance.console.transcript import Transcript
from hwprobe.appliance.console.transport import LineDropped, Transport

log = logging.getLogger("hwprobe.appliance.console")

WEB_ONLY = "is not available on the local console: use the web interface"


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
        self.pages, self.k = pages, pages["console"]
        self.software_version = ""
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

    def read(self, sections: Sequence[str]) -> dict[str, Section]:
        """Those of ``sections`` the console shows (the page map's
        [console.shows]; syslog and e-mail it does not), each "show" item
        run once, in the order first needed.

        Raises Unreachable, SessionExpired, ApplianceError."""
        printed: dict[str, dict[str, list[str]]] = {}
        out: dict[str, Section] = {}
        for name in sections:
            item = self.k["shows"].get(name)
            if item is None:
                continue
            if item not in printed:
                printed[item] = self._show(item)
            out[name] = self._section(name, printed[item])
        if "status_basics" in out:
            self.software_version = out["status_basics"].text("software_version") or ""
        return out

    def read_back(self, sections: Sequence[str]) -> dict[str, Section]:
        """The sections after changes: shown again (the console has no pages to keep)."""
        return self.read(sections)

    def _section(self, name: str, shown: dict[str, list[str]]) -> Section:
        """Section ``name`` from a "show" item's lines: "NAME: value" is the
        web's field or value NAME with " " for "_"; a table's rows are the
        lines [console.rows] names (see the page map)."""
        spec = self.pages[name]
        plain = {line.replace(" ", "_"): ("" if values[0] == "-" else values[0])
                 for line, values in shown.items()}
        tables = {}
        for key in (k for k in spec if k.endswith("table")):
            line = self.k["rows"].get(spec[key])
            if line is None:
                continue
            columns, rows = tuple(spec[columns_key(key)]), []
            for shown_as, values in sorted(shown.items()):
                if re.fullmatch(rf"{re.escape(line)}\d*", shown_as):
                    own = shown_as if shown_as != line else None    # "nic1": a row of its own
                    rows += [row for value in values if (row := _row(own, value, columns))]
            tables[spec[key]] = rows
        return Section(name, spec, fields=plain, values=plain, tables=tables, split=comma_lines)

    def _has_row(self, section: str, table: str, match: str, value: str) -> bool:
        return any(row[match] == value for row in self.read([section])[section].rows(table))

    # --- changes ---------------------------------------------------------------------------------

    def layout(self, section: str) -> Mapping[str, Any]:
        """``section`` as the page map lays it out (the console has no firmware profiles)."""
        return self.pages[section]

    def page_name(self, section: str) -> str:
        """The web page ``section`` is on, as the web's menu names it."""
        where = page_of(self.pages[section]) or section
        return menu_names(self.pages).get(where, where)

    def save(self, section: str, values: Mapping[str, Any]) -> None:
        """Set ``values`` of ``section`` one menu item each, in the order the
        page map's [console.forms] gives (a list typed comma separated, ""
        clears). ValidationRefused with the console's message; ApplianceError
        (nothing sent) for a value the console cannot set."""
        forms = self.k["forms"].get(section, {})
        other = [key for key in values if key not in forms or key in ("add", "remove")]
        if other:
            raise ApplianceError(f"{self.page_name(section)}: setting {', '.join(other)} {WEB_ONLY}")
        for key, item in forms.items():
            if key in values:
                self._run(item["item"], [(item["prompt"], written(values[key], ", "))],
                          item["title"])

    def add_row(self, section: str, table: str, values: Mapping[str, Any], match: str) -> None:
        """The menu item that adds a row of ``section``'s table ([console.forms]
        "add"). ValidationRefused with the console's message."""
        self._row_item(section, "add", values,
                       applied=lambda: self._has_row(section, table, match, values[match]))

    def remove_row(self, section: str, table: str, values: Mapping[str, Any], match: str) -> None:
        """The menu item that removes a row ([console.forms] "remove").
        ValidationRefused when there is no such row."""
        self._row_item(section, "remove", values,
                       applied=lambda: not self._has_row(section, table, match, values[match]))

    def _row_item(self, section: str, which: str, values: Mapping[str, Any],
                  applied: Callable[[], bool]) -> None:
        item = self.k["forms"].get(section, {}).get(which)
        if item is None:
            what = "adding a row" if which == "add" else "removing a row"
            raise ApplianceError(f"{self.page_name(section)}: {what} {WEB_ONLY}")
        self._run(item["item"], [(prompt, written(values.get(key), ", "))
                                 for key, prompt in item["prompts"].items()],
                  item["title"], applied=applied)

    def send_test_email(self) -> str:
        raise ApplianceError(f"sending a test email {WEB_ONLY}")


def _row(name: str | None, value: str, columns: tuple[str, ...]) -> list[str] | None:
    """One table row from a console line: ``name`` (a line of its own, such as
    "nic1") first, then the cells of ``value`` in column order, "column=value"
    cells by name. None for a line short of more than one cell."""
    cells = ([name] if name else []) + value.split()
    named = dict(c.split("=", 1) for c in cells if "=" in c and c.split("=", 1)[0] in columns)
    rest = iter(c for c in cells if c.split("=", 1)[0] not in named)
    row = [named[c] if c in named else next(rest, None) for c in columns]
    if sum(cell is not None for cell in row) < len(columns) - 1:
        return None
    return ["" if cell is None else cell for cell in row]
