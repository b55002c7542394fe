"""``bringup probe``: which factory address answers on this laptop port?

Takes the port over (unless ``--no-takeover``), asks 169.254.1.1-.4 by ARP on
that port only, checks HTTPS on whoever answers, prints a table (or JSON) and
gives the port back. When nothing answers it listens on the cable and says
what is there (the session's ``after_silence``), and leaves a capture.
``--address A`` outside the laptop's network (an earlier site's, heard by
listening) is reached from a free address next to it. Exit 0 found, 1
nothing answered, 2 bad input, 3 needs privileges.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import sys

from bringup import runlog
from hwprobe.procedure import argcheck
from hwprobe.constants import FACTORY_ADDRESSES, LAPTOP_ADDRESS

HELP = """\
Takes over the laptop port IF (169.254.1.254/24, no gateway, no DNS; the port's
previous state is journalled and put back afterwards, also on Ctrl-C, SIGTERM
and SIGHUP), asks the factory addresses 169.254.1.1-.4 by ARP on that port
only, and checks HTTPS on whoever answers. Prints each answer as it arrives,
then a table. When nothing answers on a port with carrier, it listens (5 s,
--listen) and says what is on the cable: an appliance holding an earlier
site's address, a switch, a DHCP client, or silence (still booting); the
capture is left in the state directory (or --pcap FILE) for Support.

examples:
  sudo bringup probe --iface eth1
  sudo bringup probe --iface eth1 --json
  sudo bringup probe --iface eth1 --no-takeover     (port already configured)
  sudo bringup probe --iface eth1 --address 203.0.113.40/24   (heard on the cable)

exit status: 0 found, 1 nothing answered, 2 bad input, 3 needs root or
CAP_NET_ADMIN/CAP_NET_RAW
"""


def _ipv4(text: str) -> tuple[str, int | None]:
    """``A`` or ``A/PREFIX`` (an address heard on the cable, with its network)."""
    address, _, prefix = text.partition("/")
    try:
        address = str(ipaddress.IPv4Address(address))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text!r}") from None
    if prefix and not (prefix.isdigit() and 1 <= int(prefix) <= 30):
        raise argparse.ArgumentTypeError(f"{text!r}: the prefix after / must be 1-30")
    return address, int(prefix) if prefix else None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds, more than 0 and at most 3600")
    return value


def register(sub, root) -> None:
    p = sub.add_parser("probe", help="find the appliance on its factory addresses",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iface", required=True, metavar="IF", type=argcheck.iface, help="the laptop port the cable is in")
    p.add_argument("--timeout", type=_seconds, default=1.0, metavar="S",
                   help="how long to keep asking when nothing answers (default 1)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-takeover", action="store_true",
                   help="use the port as it is configured now (it needs an IPv4 address)")
    p.add_argument("--force", action="store_true",
                   help="take over a port even if it has the default route or a global address")
    p.add_argument("--address", dest="addresses", action="append", type=_ipv4, metavar="A",
                   help="probe this address instead of the factory ones (repeatable); one "
                        "outside 169.254.1.0/24 (A/PREFIX, heard on the cable) is reached "
                        "from a free address next to it")
    p.add_argument("--laptop-address", type=argcheck.laptop_address, default=LAPTOP_ADDRESS, metavar="A",
                   help=f"the address the laptop port takes (default {LAPTOP_ADDRESS})")
    p.add_argument("--no-https", action="store_true", help="skip the HTTPS check")
    argcheck.listen_arguments(p)
    p.set_defaults(handler=run)


def _say(text: str) -> None:
    runlog.say(text)      # stderr unless -q, and the run log; never raises


def colon_hex(fingerprint: str) -> str:
    """``AB:CD:...``: how a fingerprint is read aloud and compared by eye."""
    up = fingerprint.upper()
    return ":".join(up[i:i + 2] for i in range(0, len(up), 2))


def _source_address(iface: str) -> str:
    from hwprobe.errors import BadInput
    from hwprobe.port.interfaces import get_port, is_link_local

    port = get_port(iface)
    mine = [a.split("/")[0] for a in port.addresses if ":" not in a]
    if not mine:
        raise BadInput(f"--no-takeover: {iface} has no IPv4 address to probe from; "
                       f"drop --no-takeover and bringup sets {LAPTOP_ADDRESS} itself")
    return next((a for a in mine if is_link_local(a)), mine[0])


def run(args) -> int:
    # the ARP work may start before the rest of bringup loads (see below):
    # what it needs is small (hwprobe.port.arp: no dataclasses, no hashlib)
    from hwprobe.port import arp, interfaces
    from hwprobe.port.privileges import require_privileges
    from hwprobe.port.search import Search

    asked = list(args.addresses or [(a, None) for a in FACTORY_ADDRESSES])
    addresses = tuple(dict.fromkeys(a for a, _ in asked))
    require_privileges(("CAP_NET_RAW",) if args.no_takeover
                            else ("CAP_NET_ADMIN", "CAP_NET_RAW"),
                            f"probe on {args.iface}")
    port = interfaces.get_port(args.iface)             # bad --iface: exit 2, nothing done
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        if not args.json:
            _say(text)

    def answered(r) -> None:
        if args.json:
            return
        if r.https_ok is None and not r.conflict:
            _say(f"{r.address} answered from {r.mac} in {r.rtt_ms:.1f} ms")
        elif r.conflict and r.https_ok is None:
            _say(f"{r.address} ALSO answered from {', '.join(r.conflict_macs)}")

    from hwprobe.procedure.target import Target

    # an address outside the laptop's network (an earlier site's, heard by
    # listening): the takeover takes a free address next to the first one
    target = Target(iface=args.iface, laptop_address=args.laptop_address,
                    force_port=args.force, address=None, listen_seconds=args.listen,
                    pcap=args.pcap)
    near = next(((a, p) for a, p in asked
                 if Target(iface=args.iface, laptop_address=args.laptop_address,
                           address=a).near()), None)
    if near is not None:
        target.address, target.appliance_prefix = near
        target.check()
    if args.no_takeover:
        src = _source_address(args.iface)
        search = Search(args.iface, addresses, args.timeout, answered, src=src,
                        check_https=not args.no_https)
        result = search.result()
        listened, capture = _after(target, search, result, note)
    else:
        # the same search as every face's (BringupSession.probe), started here
        # from 0.0.0.0 and handed to the session once the port is held
        search = Search(args.iface, addresses, args.timeout, answered)
        check = None
        if port.up and port.carrier and not _left_taken_over(args.iface) and (
                args.force or not (port.default_route or port.global_address)):
            # a port up with a cable is checked from 0.0.0.0 by the takeover
            # anyway, which changes nothing on it: the search and the laptop
            # address's check start now, and wait while the takeover's modules
            # load and its journal is written (a port it refuses gets neither,
            # nor one a journal says is taken over: held, or to be put back)
            if near is None:
                check = arp.ArpCheck(args.iface, [args.laptop_address])  # the long pole first
            search.start()
        from hwprobe.port import probe
        from hwprobe.procedure.session import BringupSession

        with BringupSession(target, on_note=note) as session:
            # the ARP search runs from 0.0.0.0 as soon as the port is up, while
            # the takeover checks that the laptop's own address is free
            def port_up() -> None:
                search.start()
                if not args.no_https:
                    probe.warm_https()      # ssl loads during the address check's wait

            def claimed(address: str) -> None:
                if not args.no_https:   # TCP needs the laptop's address: now it has one
                    search.check_https_from(address)

            src = session.take_port(on_port_up=port_up, on_claimed=claimed,
                                    address_check=check).address
            # with the HTTPS check, before the give-back
            result = session.probe(search=search)
            listened, capture = _after(target, search, result, note, session)
    if args.json:
        out = result.as_dict()
        out["laptop_address"] = src
        out["notes"] = notes
        out["next"] = (f"https://{result.responders[0].address}/appliance"
                       if result.found else None)
        out["listened"] = listened.as_dict() if listened is not None else None
        out["capture"] = capture
        print(json.dumps(out, indent=2))
    else:
        _print_table(result)
    if result.found:
        return 0
    _print_silence(args, listened, capture)
    return 1


def _after(target, search, result, note, session=None):
    """After the search: nothing found, the session listens on the cable
    and keeps a capture; found with --pcap, the search's frames are kept.
    Returns (Listened or None, the capture's path or None)."""
    if session is None:             # --no-takeover: the port is used as it is
        from hwprobe.procedure.session import BringupSession

        session = BringupSession(target, on_note=note)
        session.search_frames = search.frames
    listened = None
    if not result.found:        # what is on the cable is this command's result: printed below
        listened = session.after_silence(say=False)
    elif target.pcap:
        session.keep_capture()
    return listened, session.capture


def _print_silence(args, listened, capture) -> None:
    """Nothing answered: what is on the cable, what to do next, the capture."""
    from hwprobe.procedure.listening import advice

    out = sys.stderr if args.json else sys.stdout
    iface = args.iface
    if listened is not None and not listened.carrier:
        print(f"nothing answered on {iface}: {listened.words()[0]}", file=out)
    elif listened is None or listened.silent:
        print(f"nothing answered on {iface}: move the cable to the other NIC", file=out)
    else:
        print(f"nothing answered on {iface} at the appliance's addresses, but something is "
              f"on the cable:", file=out)
    if listened is not None and listened.carrier:
        for words in listened.words():
            print(f"  on the cable: {words}", file=out)
    if listened is None or listened.carrier:
        reach = (lambda h: f"reach {h.address} with: sudo bringup probe --iface {iface} "
                           f"--address {h.where} (then apply with the same --address)")
        for line in advice(listened, iface, reach=reach):
            print(f"  next: {line}", file=out)
    if capture:
        print(f"  capture for Support (pcap): {capture}", file=out)


def _left_taken_over(iface: str) -> bool:
    """A link journal names this port: another bringup holds it, or a dead
    run left it taken over (the takeover puts it back first). Either way
    what the port looks like now is not what will be probed. Unsure: True."""
    from hwprobe.constants import link_journal_file

    try:
        return link_journal_file(iface).exists()
    except OSError:
        return True


def _print_table(result) -> None:
    if not result.found:
        return
    print(f"{'address':<15} {'MAC':<17} {'ARP':>8}  {'HTTPS':<5}")
    for r in result.responders:
        https = {True: "yes", False: "no", None: "-"}[r.https_ok]
        print(f"{r.address:<15} {r.mac:<17} {r.rtt_ms:>5.1f} ms  {https:<5}")
    print()
    for r in result.responders:
        if r.fingerprint_sha256:
            print(f"certificate of {r.address} (SHA-256):\n  {colon_hex(r.fingerprint_sha256)}")
        elif r.https_error:
            print(f"{r.address}: no web interface yet: {r.https_error}")
        if r.conflict:
            print(f"CONFLICT: {r.address} answered from {len(r.conflict_macs) + 1} devices "
                  f"({', '.join([r.mac, *r.conflict_macs])}): two devices claim this "
                  f"address; find and unplug the one that is not the appliance")
    first = result.responders[0]
    print(f"found in {result.first_answer_ms:.1f} ms; next: https://{first.address}/appliance")
