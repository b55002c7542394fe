"""What the technician pointed bringup at: the laptop port, the appliance's
address or local console, the user, and how the run may treat the port and
the certificate (from a command's flags or the console's fields).

``Target.check()`` tells everything about it that can be told before the
port is touched; ``split_address("203.0.113.40/24")`` reads an ``--address``
that carries its network's prefix.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hwprobe.constants import FACTORY_USER, LAPTOP_ADDRESS, LAPTOP_PREFIX, SERIAL_BAUD
from hwprobe.errors import BadInput


@dataclass
class Target:
    """What the technician pointed bringup at (flags or console fields)."""

    iface: str | None = None             # laptop port to take over (None: use the laptop as is)
    laptop_address: str = LAPTOP_ADDRESS
    laptop_prefix: int = LAPTOP_PREFIX
    force_port: bool = False
    address: str | None = None           # the appliance's address (web)
    console: str | None = None           # the appliance's local console (device, rfc2217://...)
    baud: int = SERIAL_BAUD
    flow: str = "none"                   # the console's flow control: none, rtscts, xonxoff
    console_timeout: float = 10.0
    https_port: int = 443
    user: str = FACTORY_USER
    trust_new_certificate: bool = False
    handle_signals: bool = True          # main thread: SIGINT/TERM/HUP give the port back
    appliance_prefix: int | None = None  # --address A/PREFIX: the network of a non-factory A
    listen_seconds: float = 5.0          # after a silent search (0: do not listen)
    pcap: str | None = None              # the capture for Support (default: the state dir)

    def near(self) -> tuple[str, int] | None:
        """(appliance address, prefix) when the laptop port must take an
        address in the appliance's own network: it is not on the laptop's
        (an earlier site's address, say); None otherwise."""
        if not (self.address and self.iface) or self.console:
            return None
        try:
            net = ipaddress.IPv4Interface(f"{self.laptop_address}/{self.laptop_prefix}").network
            if ipaddress.IPv4Address(self.address) in net:
                return None
        except ValueError:
            return None
        return self.address, self.appliance_prefix or LAPTOP_PREFIX

    def check(self) -> None:
        """Everything about the target that can be told before touching the
        port. Raises BadInput (exit 2, nothing changed)."""
        if self.address is not None and not self.address.strip():
            # an empty --address is a mistake, never "search" (that is no --address)
            raise BadInput("--address is empty: give the appliance's address, or leave "
                           "--address out and give --iface PORT to search the factory "
                           "addresses on that port")
        if not self.address and not self.console and not self.iface:
            raise BadInput("give the appliance's --address, or --iface PORT to search the "
                           "factory addresses on that port (or --console DEV)")
        if self.address:
            try:
                addr = ipaddress.IPv4Address(self.address)
            except ValueError:
                raise BadInput(f"--address {self.address}: not an IPv4 address") from None
            if self.iface and not self.console:
                try:
                    net = ipaddress.IPv4Interface(
                        f"{self.laptop_address}/{self.laptop_prefix}").network
                except ValueError:
                    raise BadInput(f"--laptop-address {self.laptop_address}: not an IPv4 "
                                   f"address") from None
                if addr not in net and self.laptop_address != LAPTOP_ADDRESS:
                    raise BadInput(
                        f"--address {addr} is not on the network of --laptop-address "
                        f"{self.laptop_address}/{self.laptop_prefix} ({net}): leave out "
                        f"--laptop-address and the port takes a free address next to {addr}")


def split_address(text: str | None) -> tuple[str | None, int | None]:
    """``--address A`` or ``A/PREFIX`` as (A, PREFIX or None). Raises
    BadInput for a prefix that is not 1-30 (A itself: ``Target.check``)."""
    if not text or "/" not in text:
        return text, None
    address, _, prefix = text.partition("/")
    if not prefix.isdigit() or not 1 <= int(prefix) <= 30:
        raise BadInput(f"--address {text}: the prefix after / must be 1-30 (as in "
                       f"203.0.113.40/24)")
    return address, int(prefix)
