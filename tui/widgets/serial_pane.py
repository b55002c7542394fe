"""The serial console pane (^t): the appliance's local console as a
timestamped transcript.

Two uses. Opened by hand (Find, Login): type a device (``/dev/ttyUSB0``, a
pty, or a pyserial URL), Enter opens it, then type lines into it. Fed by the
console driver (the basic settings run over the local console): the pane only
shows what the appliance sends, which the driver hands over in batches with
every known password already masked; nothing is typed from here then, so the
pane never competes with the driver for the line.
"""
from __future__ import annotations

import os
import time

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Log
from textual.worker import get_current_worker

from ..messages import SerialText
from .fields import Field

BATCH_SECONDS = 0.1
PARTIAL_LINE_SECONDS = 0.3          # a prompt ("login: ") has no newline: show it after this
DEFAULT_DEVICE = "/dev/ttyUSB0"


def default_console_device(app) -> str:
    """Where the appliance's local console probably is: BRINGUP_CONSOLE, the
    demo lab's console pty when practising in a lab, else /dev/ttyUSB0.
    Never raises."""
    if os.environ.get("BRINGUP_CONSOLE"):
        return os.environ["BRINGUP_CONSOLE"]
    extras = getattr(getattr(app, "options", None), "extras", None)
    if extras is not None:
        try:
            console = extras.console_device()
            if console:
                return console
        except Exception:  # noqa: BLE001 - a guess: the technician can type another
            pass
    return DEFAULT_DEVICE


class SerialFeed:
    """The console driver's ``on_bytes``: hands what the appliance sent to the
    pane showing it, as SerialText messages (thread-safe; the driver already
    batches). The feed outlives the screens: it keeps the transcript's lines
    (``history``) so the next step's pane shows the session from its start."""

    MAX_LINES = 500

    def __init__(self) -> None:
        self.pane: Widget | None = None
        self.history: list[str] = []
        self.partial = ""

    def __call__(self, data: bytes) -> None:
        pane = self.pane
        if pane is not None and data:
            pane.post_message(SerialText(data.decode("utf-8", "replace")))

    def keep(self, line: str) -> None:
        self.history.append(line)
        del self.history[:-self.MAX_LINES]


class SerialPane(Vertical):
    """Hidden until toggled (or ``opened``). Field 1: the device; Enter opens
    it. Field 2: a line to send. With ``feed_only`` only the transcript shows."""

    DEFAULT_CSS = """
    SerialPane { display: none; dock: bottom; height: 10; margin-bottom: 2;
                 border-top: ascii $primary; background: $surface; }
    SerialPane.-open { display: block; }
    SerialPane.-feed { height: 7; }
    SerialPane Log { height: 1fr; }
    SerialPane .row { height: 1; }
    SerialPane Label { width: 8; }
    """

    def __init__(self, feed: SerialFeed | None = None, opened: bool = False) -> None:
        super().__init__(id="serial", classes=" ".join(
            c for c, on in (("-feed", feed is not None), ("-open", opened)) if on))
        self.feed = feed
        self.feed_only = feed is not None
        self._port = None
        self._partial = ""
        self._partial_timer = None

    def compose(self) -> ComposeResult:
        if self.feed is not None:
            yield Log(id="serial-log", max_lines=SerialFeed.MAX_LINES)
            return
        with Horizontal(classes="row"):
            yield Label("Device")
            yield Field(default_console_device(self.app), id="serial-device",
                        placeholder="/dev/ttyUSB0 (Enter opens, 115200 8N1)")
        yield Log(id="serial-log", max_lines=500)
        with Horizontal(classes="row"):
            yield Label("Send")
            yield Field("", id="serial-send", placeholder="a line for the appliance (Enter sends)")

    def on_mount(self) -> None:
        if self.feed is not None:
            log = self.query_one(Log)
            for line in self.feed.history:
                log.write_line(line)
            self._partial = self.feed.partial
            self.feed.pane = self

    def toggle(self) -> None:
        self.toggle_class("-open")
        if self.has_class("-open") and not self.feed_only:
            self.query_one("#serial-device" if self._port is None else "#serial-send").focus()
        elif not self.has_class("-open") and self.screen.focused in self.query("*"):
            self.screen.set_focus(None)

    @property
    def text(self) -> str:
        """Everything the transcript shows (for tests and the report)."""
        return "\n".join(self.query_one(Log).lines)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "serial-device":
            if event.value.strip():
                self.read_port(event.value.strip())
        elif self._port is not None:
            self._port.write((event.value + "\r").encode())
            self._stamp(f"> {event.value}")
            event.input.value = ""

    def _stamp(self, text: str) -> None:
        log = self.query_one(Log)
        for line in text.splitlines() or [""]:
            stamped = f"{time.strftime('%H:%M:%S')} {line}"
            log.write_line(stamped)
            if self.feed is not None:
                self.feed.keep(stamped)

    def on_serial_text(self, message: SerialText) -> None:
        """Whole lines are stamped at once; a partial line (a prompt) waits a
        moment for the rest, so a line split across two reads stays one line."""
        message.stop()
        text = (self._partial + message.text).replace("\r\n", "\n").replace("\r", "\n")
        *lines, self._partial = text.split("\n")
        for line in lines:
            self._stamp(line)
        if self._partial_timer is not None:
            self._partial_timer.stop()
            self._partial_timer = None
        if self._partial:
            self._partial_timer = self.set_timer(PARTIAL_LINE_SECONDS, self._flush_partial)
        if self.feed is not None:
            self.feed.partial = self._partial

    def _flush_partial(self) -> None:
        self._partial_timer = None
        if self._partial:
            self._stamp(self._partial)
            self._partial = ""
            if self.feed is not None:
                self.feed.partial = ""

    @work(thread=True, exclusive=True, exit_on_error=False, group="serial")
    def read_port(self, device: str) -> None:
        import serial

        from hwprobe.drivers.console import serial_url

        port = serial.serial_for_url(serial_url(device), baudrate=115200, timeout=BATCH_SECONDS)
        self._port = port
        self.post_message(SerialText(f"-- opened {device} at 115200 8N1 --\n"))
        worker = get_current_worker()
        try:
            while not worker.is_cancelled:
                data = port.read(4096)
                if data:
                    self.post_message(SerialText(data.decode("ascii", "replace")))
        finally:
            self._port = None
            port.close()

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "serial")
        if self.feed is not None and self.feed.pane is self:
            self.feed.pane = None
