"""The serial console pane (^t): the appliance's local console as a
timestamped transcript.

Two uses. Opened by hand (Find, Login): type a device (``/dev/ttyUSB0``, a
pty, or a pyserial URL), its baud rate and flow control (none, rtscts,
xonxoff, as tio takes them); Enter in any of the three opens it, then type
lines into it. Such a session runs over the console driver's own transport
and channel (hwprobe/appliance/console/), so it is logged like the driver's:
a transcript in STATE/transcripts, a line typed at a password prompt written
(and shown) as ``********``, its echo masked. An adapter that goes away
(unplugged, the terminal server restarted) is reopened when it comes back.
Fed by the console driver (the basic settings run over the local console):
the pane only shows what the appliance sends, which the driver hands over in
batches with every known password already masked; nothing is typed from here
then, so the pane never competes with the driver for the line.
"""
from __future__ import annotations

import codecs
import os
import time

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Log
from textual.worker import get_current_worker

from hwprobe.constants import SERIAL_BAUD
from hwprobe.appliance.pagemap import PAGES
from hwprobe.safetext import shown

from ..messages import SerialText
from .fields import Field

BATCH_SECONDS = 0.1
PARTIAL_LINE_SECONDS = 0.3          # a prompt ("login: ") has no newline: show it after this
DEFAULT_DEVICE = "/dev/ttyUSB0"
REOPEN_SECONDS = 0.5                # how often a vanished adapter is looked for
FLOWS = ("none", "rtscts", "xonxoff")
MASK = "********"
SECRET_PROMPTS = tuple(PAGES["console"][k].strip() for k in
                       ("password_prompt", "new_password_prompt", "confirm_password_prompt"))


def text_of_bytes():
    """A decoder of the line's bytes, batch after batch: UTF-8 (a character
    split between two batches is kept whole), and a byte that is not UTF-8
    kept as it came, for ``shown`` to write as ``\\xNN`` (never a guessed
    character, never dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    return lambda data: decoder.decode(data)


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
        self._decode = text_of_bytes()

    def __call__(self, data: bytes) -> None:
        pane = self.pane
        if pane is not None and data:
            pane.post_message(SerialText(self._decode(data)))

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
    SerialPane Label.-short { width: 6; margin-left: 1; }
    """

    def __init__(self, feed: SerialFeed | None = None, opened: bool = False) -> None:
        super().__init__(id="serial", classes=" ".join(
            c for c, on in (("-feed", feed is not None), ("-open", opened)) if on))
        self.feed = feed
        self.feed_only = feed is not None
        self._channel = None            # the channel of a session opened here, while open
        self._partial = ""
        self._partial_timer = None
        self._tail = ""                 # the line the appliance is on (a prompt), kept
        self._secrets: set[str] = set()     # typed at a password prompt: masked in every session
        self.transcript = None          # hwprobe Transcript of a session opened here
        self._decode_heard = None          # UTF-8 of what the line sends (text_of_bytes)

    def compose(self) -> ComposeResult:
        if self.feed is not None:
            yield Log(id="serial-log", max_lines=SerialFeed.MAX_LINES)
            return
        with Horizontal(classes="row"):
            yield Label("Device")
            yield Field(default_console_device(self.app), id="serial-device",
                        placeholder="/dev/ttyUSB0 (Enter opens)", classes="-own-enter")
            yield Label("Baud", classes="-short")
            yield Field(str(SERIAL_BAUD), id="serial-baud", classes="-own-enter")
            yield Label("Flow", classes="-short")
            yield Field("none", id="serial-flow", placeholder="none", classes="-own-enter")
        yield Log(id="serial-log", max_lines=500)
        with Horizontal(classes="row"):
            yield Label("Send")
            yield Field("", id="serial-send", placeholder="a line for the appliance (Enter sends)",
                        classes="-own-enter")

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
            self.query_one("#serial-device" if self._channel is None else "#serial-send").focus()
        elif not self.has_class("-open") and self.screen.focused in self.query("*"):
            self.screen.set_focus(None)

    @property
    def text(self) -> str:
        """Everything the transcript shows (for tests and the report)."""
        return "\n".join(self.query_one(Log).lines)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id in ("serial-device", "serial-baud", "serial-flow"):
            self.open_device()
        elif self._channel is not None:
            self.send_line(event.value)
            event.input.value = ""

    def open_device(self) -> None:
        """Open what the Device, Baud and Flow fields say (a bad value is said
        in the transcript pane, and nothing is opened)."""
        device = self.query_one("#serial-device", Input).value.strip()
        baud_text = self.query_one("#serial-baud", Input).value.strip() or str(SERIAL_BAUD)
        flow = self.query_one("#serial-flow", Input).value.strip().lower() or "none"
        from hwprobe.procedure import argcheck

        try:
            baud = argcheck.baud(baud_text)
        except Exception as exc:  # noqa: BLE001 - argparse's type error carries the words
            self._stamp(f"-- Baud: {exc} --")
            return
        if flow not in FLOWS:
            self._stamp(f"-- Flow: {flow!r} is not none, rtscts or xonxoff --")
            return
        if device:
            self.read_port(device, baud, flow)

    def _at_secret_prompt(self) -> bool:
        return self._tail.strip().endswith(SECRET_PROMPTS)

    def send_line(self, line: str) -> None:
        """Type ``line`` (and Enter) into the open device; at a password prompt
        it is written as ******** in the pane and the transcript."""
        secret = self._at_secret_prompt()
        if secret:
            self._secrets.add(line)
        try:
            self._channel.send(line, secret=secret)
        except Exception as exc:  # noqa: BLE001 - the reader reopens a vanished adapter
            self._stamp(f"-- not sent: {getattr(exc, 'cause', exc)} --")
            return
        self._stamp(f"> {MASK if secret else line}")
        self._tail = ""
        self.query_one("#serial-send", Input).password = False

    def _stamp(self, text: str) -> None:
        log = self.query_one(Log)
        for line in text.splitlines() or [""]:
            stamped = f"{time.strftime('%H:%M:%S')} {shown(line)}"
            log.write_line(stamped)
            if self.feed is not None:
                self.feed.keep(stamped)

    def on_serial_text(self, message: SerialText) -> None:
        """Whole lines are stamped at once; a partial line (a prompt) waits a
        moment for the rest, so a line split across two reads stays one line."""
        message.stop()
        text = (self._partial + message.text).replace("\r\n", "\n").replace("\r", "\n")
        self._tail = (self._tail + message.text.replace("\r", "\n")).rsplit("\n", 1)[-1]
        if not self.feed_only:
            self.query_one("#serial-send", Input).password = self._at_secret_prompt()
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

    def _heard(self, data: bytes) -> None:
        """The channel's ``on_bytes``: what the appliance sent, masked, in batches."""
        if self._decode_heard is None:
            self._decode_heard = text_of_bytes()
        self.post_message(SerialText(self._decode_heard(data)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="serial")
    def read_port(self, device: str, baud: int = SERIAL_BAUD, flow: str = "none") -> None:
        """Read ``device`` until the pane goes, reopening it when it comes back
        after going away. A refused open is said in the pane (with what to do:
        the dialout group, or sudo)."""
        from hwprobe.appliance.console.channel import Channel
        from hwprobe.appliance.console.transport import LineDropped, Transport
        from hwprobe.errors import Unreachable

        worker = get_current_worker()
        channel = Channel(Transport(device, baud, flow, read_timeout=BATCH_SECONDS),
                          on_bytes=self._heard)
        channel.hide(*self._secrets)
        try:
            channel.open()
        except Unreachable as exc:
            self.post_message(SerialText(f"-- {exc} --\n"))
            return
        self.transcript, self._channel = channel.transcript, channel
        self.post_message(SerialText(f"-- opened {device} at {channel.transport.settings}; "
                                     f"transcript {channel.transcript_path} --\n"))
        try:
            while not worker.is_cancelled:
                try:
                    channel.read(4096)
                except LineDropped as exc:
                    if not self._wait_for(channel, exc, worker):
                        return
        finally:
            self._channel = None
            channel.close()

    def _wait_for(self, channel, exc, worker) -> bool:
        """The line of ``channel`` went away (``exc``): True once it is open
        again, False when the pane closed first."""
        self._channel = None
        said = f"{channel.device} stopped working ({exc.cause}): waiting for it to come back"
        channel.note(said)
        self.post_message(SerialText(f"-- {said} --\n"))
        if worker.is_cancelled or not channel.transport.reopen(
                give_up=lambda: worker.is_cancelled, poll=REOPEN_SECONDS):
            return False
        self._channel = channel
        channel.note(f"reopened {channel.device}")
        self.post_message(SerialText(f"-- reopened {channel.device} --\n"))
        return True

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "serial")
        if self.feed is not None and self.feed.pane is self:
            self.feed.pane = None
