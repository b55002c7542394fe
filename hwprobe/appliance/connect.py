"""Open an appliance driver: ``connect_web(address, ...)`` and
``connect_console(device, ...)`` return an opened driver (use it as a context
manager to close it). The driver modules are imported on first use, so
importing this one stays cheap."""
from __future__ import annotations


def connect_web(address: str, port: int = 443, **kwargs):
    """An opened WebDriver for the appliance at ``address`` (keyword arguments
    as for ``WebDriver``: pinned_fingerprint, on_first_use, trust_new_certificate,
    timeout...). Raises Unreachable or CertificateChanged."""
    from hwprobe.appliance.web import WebDriver

    driver = WebDriver(address, port, **kwargs)
    driver.open()
    return driver


def connect_console(device: str, **kwargs):
    """An opened ConsoleDriver on ``device`` (a device path, ``rfc2217://`` or
    ``socket://`` URL; keyword arguments as for ``ConsoleDriver``). Raises
    Unreachable when the port cannot be opened."""
    from hwprobe.appliance.console import ConsoleDriver

    driver = ConsoleDriver(device, **kwargs)
    driver.open()
    return driver
