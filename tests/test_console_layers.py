"""The console driver's lower layers on a real pty, without the simulator: the
transport (the byte pipe) and the channel (prompts, masking, the transcript).
The test plays the appliance on the pty's master end."""
from __future__ import annotations

import os
import termios
import threading
import time

import pytest

from hwprobe.appliance.console.channel import Channel
from hwprobe.appliance.console.transport import LineDropped, Transport
from hwprobe.errors import Unreachable

SECRET = "Tr4il-Head!"


class Pty:
    """A pty: ``device`` is the line bringup opens, ``master`` the appliance's end."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        self.device = os.ttyname(self._slave)

    def say(self, text: str) -> None:
        os.write(self.master, text.encode())

    def heard(self, until: bytes, timeout: float = 5.0) -> bytes:
        got, deadline = b"", time.monotonic() + timeout
        while not got.endswith(until) and time.monotonic() < deadline:
            got += os.read(self.master, 4096)
        return got

    def unplug(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def pty():
    line = Pty()
    yield line
    line.unplug()


def _channel(pty, tmp_path, **kw) -> Channel:
    channel = Channel(Transport(pty.device), timeout=kw.pop("timeout", 5.0),
                      transcript_path=tmp_path / "console.log", **kw)
    channel.open()
    return channel


def test_transport_puts_the_line_settings_on_the_line_and_moves_bytes_both_ways(pty):
    line = Transport(pty.device, 9600, "rtscts")
    line.open()
    try:
        attrs = termios.tcgetattr(pty.master)
        assert attrs[5] == termios.B9600 and attrs[2] & termios.CRTSCTS
        assert line.settings == "9600 8N1, RTS/CTS"
        line.write(b"admin\r")
        assert pty.heard(b"\r") == b"admin\r"
        pty.say("Password: ")
        got = b""
        while not got.endswith(b"Password: "):
            got += line.read()
        assert got == b"Password: "
        assert line.read() == b""           # nothing more: the read timeout, not a hang
    finally:
        line.close()
    assert not line.is_open


def test_a_replugged_adapter_is_line_dropped_then_reopened_behind_the_same_link(tmp_path):
    first, second = Pty(), Pty()
    link = tmp_path / "console"
    link.symlink_to(first.device)
    line = Transport(str(link))
    line.open()
    try:
        first.unplug()                              # the adapter goes away
        with pytest.raises(LineDropped) as dropped:
            for _ in range(20):
                line.read()
        assert str(dropped.value).startswith(f"the console {link} stopped working (")
        assert isinstance(dropped.value, Unreachable) and dropped.value.cause is not None
        link.unlink()
        tries = []

        def give_up() -> bool:              # the adapter comes back on the third look
            tries.append(1)
            if len(tries) == 2:
                link.symlink_to(second.device)
            return len(tries) > 10
        assert line.reopen(give_up, poll=0.01)
        assert len(tries) == 2
        second.say("login: ")
        assert line.read(4096) == b"login: "
    finally:
        line.close()
        second.unplug()


def test_reopen_gives_up_when_told_and_leaves_the_line_closed(tmp_path):
    line = Transport(str(tmp_path / "no-such-adapter"))
    started = time.monotonic()
    deadline = started + 0.3
    assert line.reopen(lambda: time.monotonic() >= deadline, poll=0.05) is False
    assert 0.3 <= time.monotonic() - started < 3.0
    assert not line.is_open


def test_channel_wait_gives_what_came_before_the_prompt_or_says_what_to_check(pty, tmp_path):
    channel = _channel(pty, tmp_path)
    try:
        pty.say("B400 console\r\nlogin: ")
        assert channel.wait(["Password: ", "login: "]) == ("login: ", "B400 console\r\n")
        with pytest.raises(Unreachable) as silent:
            channel.wait(["login: "], timeout=0.3)
    finally:
        channel.close()
    assert str(silent.value) == (
        f"no answer from the console on {pty.device} within 0.3 s: check the cable, the "
        f"baud rate (115200 8N1) and that the appliance is powered")


def test_channel_masks_a_secret_echoed_byte_by_byte_and_hands_a_held_prefix_over_at_close(
        pty, tmp_path):
    batches: list[bytes] = []
    channel = _channel(pty, tmp_path, on_bytes=batches.append)
    reads: list[str] = []
    read = channel.read
    channel.read = lambda size=None: reads.append(read(size)) or reads[-1]

    def appliance():                # a broken console echoing the password slowly
        pty.heard(b"\r")
        for ch in SECRET:
            pty.say(ch)
            time.sleep(0.08)
        pty.say(f"\r\nno such user\r\nlogin: {SECRET[:3]}")
    echo = threading.Thread(target=appliance)
    echo.start()
    channel.send(SECRET, secret=True)
    channel.wait([f"login: {SECRET[:3]}"])
    echo.join()
    held = b"".join(batches).decode()
    channel.close()
    shown = b"".join(batches).decode()
    text = (tmp_path / "console.log").read_text()
    assert sum(len(r) == 1 for r in reads) >= len(SECRET)
    assert "********\r\nno such user" in shown      # one byte per read, and masked whole
    assert not held.endswith(SECRET[:3]) and shown.endswith(f"login: {SECRET[:3]}")
    assert "> ********" in text and "< ********" in text
    for part in (SECRET, SECRET[:6], SECRET[5:]):
        assert part not in shown and part not in text, part


def test_channel_without_a_reopener_raises_line_dropped_and_logs_no_unsent_line(pty, tmp_path):
    channel = _channel(pty, tmp_path)
    pty.unplug()
    try:
        with pytest.raises(LineDropped):
            for _ in range(20):
                channel.read()
        with pytest.raises(LineDropped):
            channel.send("admin")
    finally:
        channel.close()
    assert "> admin" not in (tmp_path / "console.log").read_text()


def test_channel_hands_a_dropped_line_to_its_reopener_and_sends_the_line_again(tmp_path):
    first, second = Pty(), Pty()
    link = tmp_path / "console"
    link.symlink_to(first.device)
    heard: list[LineDropped] = []

    def replug(exc: LineDropped) -> None:
        heard.append(exc)
        link.unlink()
        link.symlink_to(second.device)
        assert channel.transport.reopen(lambda: True)
    channel = Channel(Transport(str(link)), transcript_path=tmp_path / "console.log",
                      on_drop=replug)
    channel.open()
    try:
        first.unplug()
        channel.send("admin")
        assert second.heard(b"\r") == b"admin\r"
    finally:
        channel.close()
        second.unplug()
    assert len(heard) == 1
    assert (tmp_path / "console.log").read_text().count("> admin") == 1
