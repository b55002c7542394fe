"""The console as a real process on a real terminal, stopped the hard ways.

``bringup`` runs inside a lab's laptop namespace on a pseudo-terminal that is
its controlling terminal (as a serial getty's line is), is driven by
keystrokes to the Find step (the laptop port taken over), and then:

- gets SIGTERM: it gives the port back and exits;
- loses its line (the terminal hangs up, so the kernel sends SIGHUP, as when
  a serial cable drops): it gives the port back and exits; and the same when
  the terminal was not its controlling one (no SIGHUP comes, only the hang-up);
- is SIGKILLed: the port stays taken over; the next start offers to continue,
  puts the port back from the link journal at once, and goes on to Find.

Each time the laptop port (lan0) must end exactly as it was: addresses and
up/down.
"""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from lab_helpers import terminal_screen

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "assets" / "example-sheet.toml"
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>78cDEHM])")
pytestmark = pytest.mark.lab


def lan0(lab) -> dict:
    out = subprocess.run(["ip", "-n", lab.laptop_ns, "-j", "addr", "show", "dev", "lan0"],
                         capture_output=True, text=True, check=True).stdout
    link = json.loads(out)[0]
    return {"up": "UP" in link["flags"],
            "addresses": sorted(a["local"] for a in link.get("addr_info", []))}


def _make_controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Console:
    """``bringup`` in the lab's laptop namespace on an 80x24 pty (TERM=linux)."""

    def __init__(self, lab, state_dir: Path, *args: str, controlling: bool = True):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        bringup = Path(sys.executable).with_name("bringup")
        env = dict(os.environ, TERM="linux", BRINGUP_STATE_DIR=str(state_dir))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.laptop_ns, str(bringup), "--lab", lab.name,
             "--iface", "lan0", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(ROOT),
            preexec_fn=_make_controlling_terminal if controlling else os.setsid)
        os.close(slave)
        self.data = bytearray()

    def _read(self, seconds: float) -> None:
        if self.master < 0:
            return
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            self.data += chunk

    def text(self, since: int = 0) -> str:
        return ANSI.sub(b"", bytes(self.data[since:])).decode("utf-8", "replace")

    def wait(self, *needles: str, since: int = 0, timeout: float = 30.0) -> int:
        """Read until every needle showed (after byte ``since``); returns the
        position to wait from next."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.data) > since:
                shown = self.text(since) + "\n" + terminal_screen(bytes(self.data))
                if all(n in shown for n in needles):
                    return len(self.data)
            if self.proc.poll() is not None:
                self._read(0.05)
                break
            self._read(0.05)
        raise AssertionError(f"never saw {needles}; the terminal showed:\n{self.text()[-1500:]}")

    def keys(self, data: str) -> int:
        mark = len(self.data)
        os.write(self.master, data.encode())
        return mark

    def hang_up(self) -> None:
        """The line drops: the terminal's other end goes away."""
        os.close(self.master)
        self.master = -1

    def ended(self, timeout: float = 20.0) -> int:
        """Wait for the process to end, reading what it writes; its status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"bringup did not end; it showed:\n{self.text()[-1500:]}")
        self._read(0.05)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def to_find(console: Console) -> None:
    """Start to Find: the sheet is loaded, the port taken over, the search done."""
    console.wait("Sheet loaded")
    console.wait("Arrows choose", since=console.keys("\r"))
    console.wait("Found the appliance", since=console.keys("\r"))


@pytest.fixture
def console_lab(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.2")
    started: list[Console] = []

    def start(*args: str, controlling: bool = True) -> Console:
        console = Console(lab, state_dir, "--console-profile", *args, controlling=controlling)
        started.append(console)
        return console

    yield lab, start
    for console in started:
        console.close()


@pytest.mark.parametrize("how", ["SIGTERM", "line-dropped", "line-dropped-not-controlling-terminal"])
def test_sigterm_or_a_dropped_line_at_find_gives_the_port_back_and_exits(console_lab, how):
    lab, start = console_lab
    before = lan0(lab)
    console = start("--sheet", str(SHEET), controlling="not-controlling" not in how)
    to_find(console)
    assert lan0(lab)["addresses"] == sorted(before["addresses"] + ["169.254.1.254"])
    if how == "SIGTERM":
        console.proc.send_signal(signal.SIGTERM)
    else:
        console.hang_up()                   # with a controlling terminal: SIGHUP too
    status = console.ended()
    assert status == 1                      # left undone: Log in, Network, Restore
    assert lan0(lab) == before
    if how == "SIGTERM":
        assert "lan0 given back" in console.text()


def test_after_sigkill_the_next_start_puts_the_port_back_and_continues(console_lab, state_dir):
    lab, start = console_lab
    before = lan0(lab)
    first = start("--sheet", str(SHEET))
    to_find(first)
    first.proc.send_signal(signal.SIGKILL)
    first.ended()
    taken = lan0(lab)
    assert "169.254.1.254" in taken["addresses"]          # nobody gave it back

    second = start()                                      # no --sheet: the journal has it
    second.wait("continue from there", "Laptop port lan0 put back")
    offer = second.text()
    assert lan0(lab) == before                            # put back before any answer
    second.wait("Found the appliance at 169.254.1.2", since=second.keys("c"))
    assert "169.254.1.254" in lan0(lab)["addresses"]      # taken over again to go on
    second.wait("unfinished", since=second.keys("\x18"))  # ^x
    second.keys("y")
    assert second.ended() == 1
    assert lan0(lab) == before
    assert "it was at      : Find the appliance" in offer
    assert str(SHEET) in offer


def test_sigint_while_logging_in_gives_the_port_back_writes_a_report_and_exits_130(
        console_lab, state_dir):
    from lab_helpers import NEW_PASSWORD, reports
    from simulator import control

    lab, start = console_lab
    before = lan0(lab)
    console = start("--sheet", str(SHEET))
    to_find(console)
    mark = console.keys("\r")
    console.wait("Step 4 of 7", "checked as you type", since=mark)
    time.sleep(0.5)             # the screen is drawn; its focus is set as it mounts
    control.send(lab.control, fault="delay", value=5)     # the login hangs on the appliance
    console.wait("[x] 8+ characters", "[x] a symbol", since=console.keys(NEW_PASSWORD))
    console.keys("\r")                                    # on to the confirmation, as typed:
    time.sleep(0.5)                                       # keys after Enter follow the focus
    mark = console.keys(NEW_PASSWORD + "\r")              # Enter there logs in
    console.wait("Logging in to", since=mark)
    console.proc.send_signal(signal.SIGINT)                # Ctrl-C from the shell, or kill -INT
    assert console.ended() == 130
    assert lan0(lab) == before
    [report] = reports(state_dir)
    text = report.read_text()
    assert "STOPPED while" in text and NEW_PASSWORD not in text
    assert "Traceback" not in console.text()
