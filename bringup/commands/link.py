"""``bringup restore-link`` and ``bringup ports``: the laptop side.

``restore-link`` puts a port back from the journal after a run that died
(SIGKILL, power loss); it is harmless to repeat. ``ports`` lists the laptop's
Ethernet ports with a warning for any that is probably not the appliance cable.
"""
from __future__ import annotations

import argparse
import json

from bringup import runlog
from hwprobe.errors import BadInput
from hwprobe.safetext import shown

RESTORE_HELP = """\
Puts the laptop port back the way it was before bringup took it over
(addresses, routes, up/down, NetworkManager), from the journal bringup writes
before every change. Needed only after bringup was killed (SIGKILL, power
loss); a normal exit, Ctrl-C, SIGTERM or a dropped line restore by themselves.
Running it again does nothing.

exit status: 0 done (or nothing to do), 1 failed (a port is held by another
bringup, or gone), 2 no such port, 3 needs root or a journal is damaged
"""

PORTS_HELP = """\
Lists this laptop's Ethernet ports: MAC, cable (carrier), state and addresses,
and warns about a port that holds the default route or a network address: that
one is probably not the cable to the appliance.
"""


def register(sub, root) -> None:
    r = sub.add_parser("restore-link", help="put the laptop port back from the journal",
                       description=RESTORE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--iface", metavar="IF", help="only this port (default: every journalled one)")
    r.add_argument("--json", action="store_true", help="print what was restored as JSON")
    r.set_defaults(handler=run_restore)

    p = sub.add_parser("ports", help="list the laptop's Ethernet ports and serial devices",
                       description=PORTS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the ports as JSON")
    p.add_argument("--serial", action="store_true",
                   help="only the serial devices (console cables), e.g. with --json")
    p.set_defaults(handler=run_ports)


def _say(text: str) -> None:
    runlog.say(text)      # stderr unless -q, and the run log; never raises


def run_restore(args) -> int:
    from dataclasses import asdict

    from hwprobe import stopping
    from hwprobe.port import journal, recovery

    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        if not args.json:
            _say(text)

    if args.iface and not _port_exists(args.iface) and not journal.has_record(args.iface):
        raise BadInput(f"--iface {shown(args.iface)}: no such port on this laptop, and no "
                       f"journal of one; `bringup ports` lists the ports")
    stopping.run_begins()
    with stopping.critical():        # a signal waits until the ports are back
        restored = recovery.restore_from_journal(args.iface, on_note=note)
    if args.json:
        print(json.dumps({"restored": [asdict(r) for r in restored], "notes": notes}, indent=2))
    elif not restored and not notes:
        print("nothing to restore: no port is left taken over"
              + (f" ({args.iface})" if args.iface else ""))
    return 0


def _port_exists(name: str) -> bool:
    import socket

    try:
        socket.if_nametoindex(name)
    except OSError:
        return False
    return True


def _print_serial(devices) -> None:
    print(f"{'serial device':<16} {'USB':<30} name (stable, /dev/serial/by-id)")
    for d in devices:
        name = ", ".join(d.by_id) or d.description or "-"
        print(f"{d.device:<16} {d.usb() or '-':<30} {name}"
              + ("" if d.accessible else "  (not yours to open: dialout group, or sudo)"))


def run_ports(args) -> int:
    from hwprobe.port import interfaces, serialports

    serial_devices = serialports.list_serial()
    if args.serial:
        if args.json:
            print(json.dumps([d.as_dict() for d in serial_devices], indent=2))
        elif serial_devices:
            _print_serial(serial_devices)
        else:
            print("no serial device found: plug in the console cable's USB adapter")
        return 0
    ports = interfaces.list_ports()
    if args.json:
        print(json.dumps([p.as_dict() for p in ports], indent=2))
        return 0
    if not ports:
        print("no Ethernet port found on this laptop: plug in a USB Ethernet adapter")
        return 1
    print(f"{'port':<12} {'MAC':<17} {'cable':<5} {'state':<14} addresses")
    for p in ports:
        cable = "yes" if p.carrier else "no"
        print(f"{p.name:<12} {p.mac:<17} {cable:<5} {p.operstate:<14} "
              f"{', '.join(p.addresses) or '-'}")
    for p in ports:
        for warning in p.warnings():
            print(f"warning: {warning}")
    if serial_devices:
        print()
        _print_serial(serial_devices)
    return 0
