"""When nothing answers: listen, name what is on the cable, keep a capture for
Support; and reach an appliance that is not on a factory address.

The vendor's procedure has one answer for a silent appliance (Hardware
Installation, the paragraph after step 8: the other factory addresses, then
the other NIC). This extends it: when the search finds nothing on a port
with carrier, the session listens (``hwprobe.port.listen``, scapy, loaded
only then) for ``target.listen_seconds`` and says what it heard (an
appliance holding an earlier site's address, a switch, DHCP discovers, IPv6
only, or silence: still booting); with no carrier it says to check the
cable, without listening. Every failed search leaves a capture (the
search's ARP frames and the listen's) in ``target.pcap`` or the state
directory; the report names it. An appliance heard on another address is
reached there: the laptop port moves into its subnet (``reach``), the HTTPS
check, pinning and login are then the factory address's, and the report says
the appliance was not factory-fresh.

``Listening`` is a part of ``BringupSession`` (hwprobe/procedure/session.py),
written here so that each file holds one job; it uses the session's
``target``, ``takeover``, ``stage``, ``note()``, and keeps ``search_frames``
(the last search's ARP frames), ``listened`` (the last listen) and
``capture`` (the pcap written).

Faces call ``after_silence()`` and show ``advice()``; none decides by itself
whether to listen or what to say.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from hwprobe.constants import FACTORY_ADDRESSES, state_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading

    from hwprobe.port.heard import Heard, Listened


def capture_path(iface: str) -> str:
    """Where a failed search's capture goes when no ``--pcap`` was given."""
    return str(state_dir() / "captures" / f"{time.strftime('%Y%m%d-%H%M%S')}-{iface}.pcap")


class Listening:
    """Listening after a silent search; see the module docstring."""

    @property
    def factory_fresh(self) -> bool | None:
        """False when the appliance was reached on an address that is not a
        factory one (an earlier site's); None while not known."""
        address = self.target.address
        if not address or self.target.console or self.responder is None:
            return None
        return address in FACTORY_ADDRESSES

    def after_silence(self, *, on_tick: Callable[[float], None] | None = None,
                      cancel: "threading.Event | None" = None,
                      say: bool = True) -> "Listened | None":
        """The search found nothing: listen (when the port has carrier and
        listening is on), keep the capture, note what was heard (``say``:
        through ``note()``, so the technician hears it now; else only for the
        report, when the face shows it its own way). Returns the Listened
        (its ``carrier`` False: not listened, check the cable), or None when
        listening is off (``--listen 0``). Raises NeedsPrivileges, BadInput;
        a capture that cannot be written is only noted."""
        from hwprobe.port.heard import Listened
        from hwprobe.port.interfaces import carrier_of

        iface = self.target.iface
        seconds = float(self.target.listen_seconds)
        where = self.target.pcap or capture_path(iface)
        listened: Listened | None = None
        if not carrier_of(iface):
            listened = Listened(iface=iface, seconds=0.0, carrier=False)
        elif seconds > 0:
            from hwprobe.port.listen import listen

            self.note(f"nothing answered: listening on {iface} for {seconds:g} s")
            try:
                listened = listen(iface, seconds, cancel=cancel, on_tick=on_tick,
                                  capture=where, earlier=list(self.search_frames))
            except OSError as exc:
                if exc.filename is None:
                    raise
                self.note(f"could not write the capture {where} ({exc.strerror})")
                where = None                # said once: not tried again below
                listened = listen(iface, seconds, cancel=cancel, on_tick=on_tick)
        self.listened = listened
        if listened is not None and listened.capture:
            self.capture = listened.capture
        elif where:
            self.keep_capture(where)
        tell = self.note if say else self.notes.append
        for words in (listened.words() if listened is not None and listened.carrier else []):
            tell(f"on the cable: {words}")
        if listened is not None and not listened.carrier:
            tell(listened.words()[0])
        if self.capture:
            tell(f"capture for Support (pcap, opens in Wireshark): {self.capture}")
        return listened

    def keep_capture(self, where: str | None = None) -> str | None:
        """The last search's frames as a pcap at ``where`` (default
        ``target.pcap``); returns the path, None when there was nowhere to
        write or nothing could be written (noted)."""
        where = where or self.target.pcap
        if not where:
            return None
        from hwprobe.port.listen import write_capture

        try:
            write_capture(where, list(self.search_frames))
        except OSError as exc:
            self.note(f"could not write the capture {where} ({exc.strerror or exc})")
            return None
        self.capture = str(where)
        return self.capture

    def reach(self, address: str, prefix: int | None = None) -> str:
        """Make the held laptop port able to reach ``address``: unchanged
        when it is on its network already; else it moves into that network
        (an appliance heard on an earlier site's address: ``prefix``, default
        /24), or back to the laptop address asked for (a factory address
        after such a move). Addresses heard on the wire (the appliance's
        gateway, other devices) are never taken. Returns the laptop's
        address. Raises LinkError (the port is then given back), BadInput."""
        import ipaddress

        from hwprobe.errors import BringupError

        takeover = self.takeover
        if takeover is None or takeover.record is None:
            raise BringupError("no laptop port is held (give --iface)")
        if takeover.covers(address):
            return takeover.address
        home = ipaddress.IPv4Interface(f"{self.target.laptop_address}/"
                                       f"{self.target.laptop_prefix}").network
        if ipaddress.IPv4Address(address) in home:
            return takeover.move(None)
        avoid = set()
        for heard in (self.listened.heard if self.listened is not None else []):
            avoid.update(heard.asks_for)
            if heard.address and heard.address != address:
                avoid.add(heard.address)
        return takeover.move((address, prefix or 24), sorted(avoid))


def _reach(heard: "Heard") -> str:
    return f"reach {heard.address} with --address {heard.where}"


STEP_OF_KIND = {
    "switch": "patch the laptop straight into the appliance's NIC1 (or NIC2), not into the "
              "switch",
    "dhcp": "an appliance set to DHCP gets no address here: set its address over its local "
            "console",
    "ipv6": "if it is the appliance, it has no IPv4 address on this NIC: try the other NIC, "
            "or its local console",
}


def next_step(heard: "Heard", reach: Callable[["Heard"], str] = _reach) -> str | None:
    """What to do about one thing heard (the face says how a device is
    reached: ``reach``); None when there is nothing to do about it."""
    return reach(heard) if heard.reachable else STEP_OF_KIND.get(heard.kind)


def advice(listened: "Listened | None", iface: str, *,
           reach: Callable[["Heard"], str] = _reach,
           other_nic: str = "the other NIC", again: str = "run again") -> list[str]:
    """What to do next after a silent search, one sentence each, the devices
    to reach first (the face says how: ``reach``, and how to search again:
    ``again``). Safe for any terminal."""
    if listened is None or listened.silent and listened.carrier:
        return [f"the cable may be in {other_nic} of the appliance (move it and {again}), "
                f"or the appliance is still starting (wait, then {again})"]
    if not listened.carrier:
        return []                       # its words say it: check the cable
    out = [reach(heard) for heard in listened.reachable[:3]]
    for heard in listened.heard:
        step = STEP_OF_KIND.get(heard.kind)
        if step and step not in out and not (heard.kind != "switch" and listened.reachable):
            out.append(step)
    return out
