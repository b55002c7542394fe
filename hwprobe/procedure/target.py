"""What the technician pointed bringup at: the laptop port, the appliance's
address or local console, the user, and how the run may treat the port and
the certificate (from a command's flags or the console's fields).

``Target.check()`` tells everything about it that can be told before the
port is touched.
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

    def check(self) -> None:
        """Everything about the target that can be told before touching the
        port. Raises BadInput (exit 2, nothing changed)."""
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
                if addr not in net:
                    raise BadInput(
                        f"--address {addr} is not on the laptop port's network {net}: with "
                        f"--iface {self.iface} the port gets {self.laptop_address}/"
                        f"{self.laptop_prefix}, no gateway, and could not reach it. For an "
                        f"appliance already on its production address, leave out --iface.")
