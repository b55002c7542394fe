"""`bringup ports` lists serial devices: pyserial's list plus /dev/serial/by-id names.

A USB adapter cannot be plugged in here: its udev by-id link is the one thing
faked (a symlink in a temporary directory to a real pty).
"""
from __future__ import annotations

import os

from hwprobe.port import serialports


def test_a_by_id_name_is_listed_with_the_device_it_points_to(tmp_path):
    master, slave = os.openpty()
    try:
        device = os.ttyname(slave)
        by_id = tmp_path / "by-id"
        by_id.mkdir()
        name = by_id / "usb-FTDI_FT232R_USB_UART_A10K5TQ2-if00-port0"
        name.symlink_to(device)
        found = {d.device: d for d in serialports.list_serial(by_id)}
    finally:
        os.close(slave)
        os.close(master)
    assert found[device].by_id == [str(name)]
    assert found[device].accessible
    assert found[device].usb() == ""            # a pty has no USB ids


def test_usb_ids_read_as_tio_shows_them():
    d = serialports.SerialDevice("/dev/ttyUSB0", vid=0x0403, pid=0x6001,
                                 manufacturer="FTDI", product="FT232R USB UART")
    assert d.usb() == "0403:6001 FTDI FT232R USB UART"
    assert d.as_dict()["usb"] == d.usb()


def test_a_missing_by_id_directory_lists_without_failing(tmp_path):
    assert isinstance(serialports.list_serial(tmp_path / "absent"), list)
