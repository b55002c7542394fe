"""The laptop's serial devices, for picking the appliance's console cable.

``list_serial(by_id_dir="/dev/serial/by-id") -> list[SerialDevice]``
    Every serial device pyserial's ``list_ports`` knows, plus every
    ``/dev/serial/by-id`` name (the stable names udev gives USB adapters, which
    survive a replug into another USB socket), merged by the device they
    point to. USB adapters carry vendor and product ids, maker and product.
    Never raises: an unreadable directory just adds nothing.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class SerialDevice:
    """One serial device, in the words `tio --list` uses."""

    device: str                              # /dev/ttyUSB0
    by_id: list[str] = field(default_factory=list)
    description: str = ""
    vid: int | None = None
    pid: int | None = None
    manufacturer: str = ""
    product: str = ""
    serial_number: str = ""
    accessible: bool = True                  # this user may open it

    def usb(self) -> str:
        """``"0403:6001 FTDI FT232R"`` or '' for a device that is not USB."""
        if self.vid is None:
            return ""
        ids = f"{self.vid:04x}:{self.pid or 0:04x}"
        return " ".join(filter(None, [ids, self.manufacturer, self.product]))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["usb"] = self.usb()
        return d


def list_serial(by_id_dir: str | os.PathLike = "/dev/serial/by-id") -> list[SerialDevice]:
    """The serial devices of this laptop, sorted by device path (see module doc)."""
    found: dict[str, SerialDevice] = {}
    try:
        from serial.tools import list_ports

        for info in list_ports.comports():
            found[os.path.realpath(info.device)] = SerialDevice(
                device=info.device,
                description="" if info.description == "n/a" else info.description,
                vid=info.vid, pid=info.pid, manufacturer=info.manufacturer or "",
                product=info.product or "", serial_number=info.serial_number or "")
    except Exception:  # noqa: BLE001 - a listing must never stop the technician
        pass
    try:
        names = sorted(Path(by_id_dir).iterdir())
    except OSError:
        names = []
    for link in names:
        target = os.path.realpath(link)
        dev = found.setdefault(target, SerialDevice(device=target))
        dev.by_id.append(str(link))
    for real, dev in found.items():
        dev.accessible = os.access(real, os.R_OK | os.W_OK)
    return sorted(found.values(), key=lambda d: d.device)
