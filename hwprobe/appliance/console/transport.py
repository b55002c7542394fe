"""The console's byte pipe: one serial line, opened with pyserial.

Any pyserial URL works (``serial.serial_for_url``): a device path such as
``/dev/ttyUSB0`` or a pty, ``rfc2217://host:port`` or ``socket://host:port``;
8N1 at the baud rate asked for (115200 by default) and the flow control tio
would name (none, rtscts, xonxoff). The transport only moves bytes: a read or
write on a line that went away (an adapter unplugged, a terminal server
restarted) raises ``LineDropped``, and ``reopen`` waits for the line to come
back. What that means for a session (a transcript note, a menu item started
again) is for the layers above to say.
"""
from __future__ import annotations

import errno
import time
from typing import Callable

from hwprobe.constants import SERIAL_BAUD
from hwprobe.errors import Unreachable

FLOW_CONTROL = {"none": {}, "rtscts": {"rtscts": True}, "xonxoff": {"xonxoff": True}}
READ_TIMEOUT = 0.05          # seconds one read waits for a first byte
REOPEN_POLL = 0.2            # seconds between tries to open a line that went away


class LineDropped(Unreachable):
    """A read or write failed: the line went away (``cause`` says how)."""

    def __init__(self, device: str, cause: BaseException):
        self.cause = cause
        super().__init__(f"the console {device} stopped working ({cause})")


def check_flow(flow: str) -> str:
    """``flow`` when it is none, rtscts or xonxoff; ValueError otherwise."""
    if flow not in FLOW_CONTROL:
        raise ValueError(f"flow control {flow!r}: choose none, rtscts or xonxoff")
    return flow


def open_port(device: str, baudrate: int = SERIAL_BAUD, flow: str = "none",
              timeout: float = READ_TIMEOUT):
    """The pyserial port for ``device`` (a path or URL) at ``baudrate`` 8N1
    with ``flow`` control ("none", "rtscts", "xonxoff"). Raises Unreachable
    saying what to do (the dialout group, or sudo) when it cannot be opened."""
    import serial

    check_flow(flow)
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


class Transport:
    """One serial line: ``open()``, ``read()``, ``write()``, ``reopen()``, ``close()``.

    ``read_timeout`` is how long one read waits for a first byte. ValueError
    at once for a flow control other than none, rtscts or xonxoff."""

    def __init__(self, device: str, baudrate: int = SERIAL_BAUD, flow: str = "none",
                 read_timeout: float = READ_TIMEOUT):
        self.device, self.baudrate, self.flow = device, baudrate, check_flow(flow)
        self.read_timeout = read_timeout
        self._port = None

    @property
    def settings(self) -> str:
        """The line as the technician set it: "115200 8N1, RTS/CTS"."""
        return line_settings(self.baudrate, self.flow)

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        """Open the line (nothing happens when it is open already). Raises
        Unreachable saying what to do when it cannot be opened."""
        if self._port is None:
            self._port = open_port(self.device, self.baudrate, self.flow, self.read_timeout)

    def read(self, size: int | None = None) -> bytes:
        """Up to ``size`` bytes (None: what is waiting, at least one), waiting at
        most ``read_timeout`` for the first; b"" when nothing came. Raises
        LineDropped when the line went away."""
        import serial

        try:
            return self._port.read(size or max(1, self._port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise LineDropped(self.device, exc) from None

    def write(self, data: bytes) -> None:
        """Send ``data`` and wait until it is out. Raises LineDropped when the
        line went away."""
        import serial

        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LineDropped(self.device, exc) from None

    def reopen(self, give_up: Callable[[], bool], poll: float = REOPEN_POLL) -> bool:
        """Close the line that went away and open it again once it is back,
        trying every ``poll`` seconds until ``give_up()`` says to stop. Returns
        True when it is open again, False when given up (it is closed then)."""
        self.close()
        while True:
            try:
                self.open()
                return True
            except Unreachable:
                if give_up():
                    return False
                time.sleep(poll)

    def close(self) -> None:
        """Close the line. Never raises: a vanished USB adapter must not stop a
        shutdown."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:           # noqa: BLE001 - it is gone already
                pass
