"""What the headless commands (``apply``, ``capture``, ``verify``, ``survey``)
share: the flags that say where the appliance is, the procedure's ``Target``
from them, and the terminal as the procedure's ``Prompter``.

The procedure itself (find, choose, log in, preview, run, report) is the
core's ``BringupSession``; what it asks the technician, it asks through
``TerminalPrompter``: a prompt without echo on a terminal, nobody to ask
otherwise (the environment must then give it).
"""
from __future__ import annotations

import argparse
import getpass
import sys

from bringup import runlog
from hwprobe.constants import FACTORY_USER, LAPTOP_ADDRESS
from hwprobe.procedure import argcheck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hwprobe.procedure.target import Target


def say(text: str) -> None:
    runlog.say(text)      # stderr unless -q, and the run log; never raises


class TerminalPrompter:
    """The procedure's Prompter on a terminal (hwprobe.procedure.passwords)."""

    def secret(self, question: str) -> str | None:
        """Asked without echo when standard input is a terminal, else None."""
        return getpass.getpass(question) if sys.stdin.isatty() else None

    def tell(self, text: str) -> None:
        say(text)


def target_args(p) -> None:
    """The flags of ``apply``, ``capture`` and ``verify`` that say where the
    appliance is and how to reach it."""
    p.add_argument("--address", metavar="A",
                   help="the appliance's address (e.g. 169.254.1.3); with --iface it may be "
                        "left out: the factory addresses 169.254.1.1-.4 are searched and the "
                        "one that answers is used. Another address (an earlier site's, "
                        "heard on the cable: 203.0.113.40/24) is reached too: the port "
                        "takes a free address next to it")
    p.add_argument("--iface", metavar="IF", type=argcheck.iface,
                   help="take over this laptop port for the run (and check addresses on the wire)")
    p.add_argument("--laptop-address", default=LAPTOP_ADDRESS, metavar="A", type=argcheck.laptop_address,
                   help=f"the laptop port's address with --iface (default {LAPTOP_ADDRESS})")
    argcheck.listen_arguments(p)
    p.add_argument("--force-port", action="store_true",
                   help="allow --iface on a port with the default route or a global address")
    p.add_argument("--console", metavar="DEV",
                   help="use the appliance's local console instead of the web (device, rfc2217:// or socket://)")
    p.add_argument("--baud", type=argcheck.baud, default=115200,
                   help="console speed (default 115200, 8N1)")
    p.add_argument("--flow", choices=("none", "rtscts", "xonxoff"), default="none",
                   help="console flow control (default none; rtscts: hardware, xonxoff: software)")
    p.add_argument("--user", default=FACTORY_USER, help="appliance user (default admin)")
    p.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    p.add_argument("--trust-new-certificate", action="store_true",
                   help="accept a certificate different from the one pinned on first use")


def target_of(args, *, handle_signals: bool = True) -> "Target":
    """The session's target from the command line (checked later by Target.check).
    Raises BadInput for an --address whose prefix is not 1-30."""
    from hwprobe.procedure.target import Target, split_address

    address, prefix = split_address(args.address)
    return Target(iface=args.iface, laptop_address=args.laptop_address,
                  force_port=args.force_port, address=address, appliance_prefix=prefix,
                  listen_seconds=args.listen, pcap=args.pcap, console=args.console,
                  baud=args.baud, flow=args.flow, https_port=args.https_port, user=args.user,
                  trust_new_certificate=args.trust_new_certificate,
                  handle_signals=handle_signals)
