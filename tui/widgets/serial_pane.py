"""The serial console pane (^t): open the appliance's local console, read a
timestamped transcript, type lines into it. For when the web interface does
not come up: the technician can still see and drive the appliance."""
from __future__ import annotations

import os
import time

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Log
from textual.worker import get_current_worker

from ..messages import SerialText
from .fields import Field

BATCH_SECONDS = 0.1


class SerialPane(Vertical):
    """Hidden until toggled. Field 1: the device (``/dev/ttyUSB0``, a pty, or a
    pyserial URL); Enter opens it. Field 2: a line to send."""

    DEFAULT_CSS = """
    SerialPane { display: none; dock: bottom; height: 10; margin-bottom: 2;
                 border-top: ascii $primary; background: $surface; }
    SerialPane.-open { display: block; }
    SerialPane Log { height: 1fr; }
    SerialPane .row { height: 1; }
    SerialPane Label { width: 8; }
    """

    def __init__(self) -> None:
        super().__init__(id="serial")
        self._port = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("Device")
            yield Field(os.environ.get("BRINGUP_CONSOLE", ""), id="serial-device",
                        placeholder="/dev/ttyUSB0 (Enter opens, 115200 8N1)")
        yield Log(id="serial-log", max_lines=500)
        with Horizontal(classes="row"):
            yield Label("Send")
            yield Field("", id="serial-send", placeholder="a line for the appliance (Enter sends)")

    def toggle(self) -> None:
        self.toggle_class("-open")
        if self.has_class("-open"):
            self.query_one("#serial-device" if self._port is None else "#serial-send").focus()
        else:
            self.screen.set_focus(None)

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
            log.write_line(f"{time.strftime('%H:%M:%S')} {line}")

    def on_serial_text(self, message: SerialText) -> None:
        self._stamp(message.text.rstrip("\r\n"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="serial")
    def read_port(self, device: str) -> None:
        import serial

        port = serial.serial_for_url(device, baudrate=115200, timeout=BATCH_SECONDS)
        self._port = port
        self.post_message(SerialText(f"-- opened {device} at 115200 8N1 --"))
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
