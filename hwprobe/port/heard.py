"""What was heard on the laptop's cable when nothing answered on the factory
addresses (``hwprobe.port.listen`` makes it), and how each thing is said to
the technician.

``Heard``: one thing on the cable, of a ``kind``:

- ``"ipv4"``: a device sending ARP or IPv4 from an address of its own (an
  appliance holding an earlier site's address, most likely);
- ``"dhcp"``: a device asking for an address by DHCP (host name, vendor class);
- ``"switch"``: LLDP, CDP or spanning tree: the cable reaches a switch;
- ``"ipv6"``: a device heard only with IPv6 link-local addresses;
- ``"other"``: a device sending frames from which no address was heard.

``Listened``: the whole listen (the port, how long, carrier, what was heard,
the capture written). ``words()`` of each says it in the technician's words;
every name that came off the wire (DHCP host names, LLDP and CDP names, mDNS
names) goes through ``hwprobe.safetext.shown``, so no byte of a frame reaches
a terminal as control. JSON (``as_dict``) keeps the real strings.

Imports nothing heavy (no scapy): the faces and the report read findings
without loading the listener.
"""
from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field

from hwprobe.safetext import shown

KIND_ORDER = ("switch", "ipv4", "dhcp", "ipv6", "other")
NAME_LIMIT = 64                 # characters kept of a name off the wire
SAID_LIMIT = 8                  # findings said one by one; the rest are counted


@dataclass
class Heard:
    """One thing heard on the cable; see the module docstring for ``kind``."""

    kind: str
    mac: str
    vendor: str | None = None           # from the OUI table scapy ships; None: unknown
    address: str | None = None          # ipv4: its address; ipv6: a link-local one
    prefix: int | None = None           # ipv4: the network it seems to be on
    asks_for: list[str] = field(default_factory=list)   # ipv4: whom it ARPs for
    sends: list[str] = field(default_factory=list)      # what was heard: ARP, DNS, NTP...
    name: str | None = None             # DHCP host name, mDNS, LLDP or CDP system name
    vendor_class: str | None = None     # DHCP option 60
    port: str | None = None             # switch: the port the cable is in
    protocol: str | None = None         # switch: LLDP, CDP or STP
    vlan: int | None = None             # 802.1Q tag its frames carried
    frames: int = 0

    @property
    def reachable(self) -> bool:
        """An IPv4 device: ``--address`` (or Enter at Find) can reach it."""
        return self.kind == "ipv4" and self.address is not None

    @property
    def where(self) -> str:
        """``203.0.113.40/24``: the address to give ``--address``."""
        return f"{self.address}/{self.prefix or 24}" if self.address else ""

    def _who(self) -> str:
        return f"a device {shown(self.mac)} ({_vendor_words(self.mac, self.vendor)})"

    def words(self) -> str:
        """This finding in the technician's words, safe for any terminal."""
        vlan = f", tagged for VLAN {self.vlan}" if self.vlan else ""
        named = f", calling itself \"{shown(self.name)}\"" if self.name else ""
        if self.kind == "switch":
            what = ", ".join(shown(x) for x in (self.name, self.port and f"port {self.port}")
                             if x) or f"heard by {self.protocol}"
            return (f"this cable reaches a switch ({what}), not the appliance "
                    f"({self.protocol}{vlan})")
        if self.kind == "ipv4":
            asks = (f"; it asks for {', '.join(self.asks_for[:3])}"
                    + (" ..." if len(self.asks_for) > 3 else "")) if self.asks_for else ""
            sends = f"; sends {', '.join(self.sends)}" if self.sends else ""
            return (f"{self._who()} is at {self.where}{named}{vlan}: it may be an appliance "
                    f"holding an earlier site's address{asks}{sends}")
        if self.kind == "dhcp":
            said = [f"host name \"{shown(self.name)}\"" if self.name else "no host name",
                    f"vendor class \"{shown(self.vendor_class)}\"" if self.vendor_class
                    else "no vendor class"]
            return (f"{self._who()} asks for an address by DHCP ({', '.join(said)}){vlan}: "
                    f"it may be the appliance set to DHCP; nothing on this cable answers it")
        if self.kind == "ipv6":
            return (f"{self._who()} has only an IPv6 link-local address ({self.address})"
                    f"{named}{vlan}: it is up, with no IPv4 address heard")
        return f"{self._who()} sends frames{vlan}, but no address of its own was heard"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["where"] = self.where or None
        d["words"] = self.words()
        return d


def _vendor_words(mac: str, vendor: str | None) -> str:
    if vendor:
        return shown(vendor)
    try:
        first = int(mac.split(":")[0], 16)
    except ValueError:
        return "vendor unknown"
    return "a locally administered MAC: no vendor" if first & 0x02 else "vendor unknown"


@dataclass
class Listened:
    """One listen on a laptop port (times in milliseconds)."""

    iface: str
    seconds: float
    carrier: bool = True
    heard: list[Heard] = field(default_factory=list)
    more: int = 0                       # devices past the listener's limit, not listed
    frames: int = 0                     # frames read off the cable (ours left out)
    elapsed_ms: float = 0.0
    cancelled: bool = False
    capture: str | None = None          # the pcap written, when one was
    capture_frames: int = 0
    capture_cut: bool = False           # the capture stopped at its size limit

    @property
    def silent(self) -> bool:
        return not self.heard and not self.more

    @property
    def reachable(self) -> list[Heard]:
        """The IPv4 devices heard: each one ``--address`` can reach."""
        return [h for h in self.heard if h.reachable]

    @property
    def switch(self) -> Heard | None:
        return next((h for h in self.heard if h.kind == "switch"), None)

    def words(self) -> list[str]:
        """What was heard, one sentence a finding (the first few; the rest
        counted), or why nothing was; safe for any terminal."""
        if not self.carrier:
            return [f"no carrier on {self.iface}: check the cable (both ends, the link "
                    f"lights) and that the appliance is powered; nothing was listened for"]
        if self.silent:
            return [f"nothing speaks on this cable ({self.seconds:g} s with carrier on "
                    f"{self.iface}): the appliance may still be booting"]
        said = [h.words() for h in self.heard[:SAID_LIMIT]]
        rest = len(self.heard) - len(said) + self.more
        if rest:
            said.append(f"and {rest} more device(s) on this cable (see the capture)"
                        if self.capture else f"and {rest} more device(s)")
        return said

    def as_dict(self) -> dict:
        d = asdict(self)
        d["heard"] = [h.as_dict() for h in self.heard]
        d["words"] = self.words()
        return d


def network_guess(address: str, asked: list[str]) -> int:
    """The prefix of the network ``address`` is on, as far as ARP tells: /24,
    or wider when it asks for an address (its gateway, a server: on its own
    network, or it would not ARP for it) outside its /24."""
    prefix = 24
    try:
        mine = int(ipaddress.IPv4Address(address))
        for other in asked:
            common = 32 - (mine ^ int(ipaddress.IPv4Address(other))).bit_length()
            if 8 <= common < prefix:
                prefix = common
    except ValueError:
        pass
    return prefix
