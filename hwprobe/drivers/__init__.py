"""Appliance drivers: the web interface (``web.WebDriver``) and the local
console (``console.ConsoleDriver``), both implementing ``base.ApplianceDriver``.

``connect_web(address, ...)`` and ``connect_console(device, ...)`` return an
opened driver (use it as a context manager to close it). Driver modules are
imported on first use so that importing ``hwprobe.drivers`` stays cheap.
"""
from __future__ import annotations

from .base import ALL_CAPABILITIES, ApplianceDriver, LoginResult

__all__ = ["ALL_CAPABILITIES", "ApplianceDriver", "LoginResult", "connect_console", "connect_web"]


def connect_web(address: str, port: int = 443, **kwargs):
    """An opened WebDriver for the appliance at ``address`` (keyword arguments
    as for ``WebDriver``: pinned_fingerprint, on_first_use, trust_new_certificate,
    timeout...). Raises Unreachable or CertificateChanged."""
    from .web import WebDriver

    driver = WebDriver(address, port, **kwargs)
    driver.open()
    return driver


def connect_console(device: str, **kwargs):
    """An opened ConsoleDriver on ``device`` (a device path, ``rfc2217://`` or
    ``socket://`` URL; keyword arguments as for ``ConsoleDriver``). Raises
    Unreachable when the port cannot be opened."""
    from .console import ConsoleDriver

    driver = ConsoleDriver(device, **kwargs)
    driver.open()
    return driver
