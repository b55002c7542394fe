"""Which MAC the laptop sees for an address: its neighbour (ARP) table.

After bringup has talked to an appliance on the laptop's own network (a
production address on the segment the laptop joined, or a factory address
without ``--iface``), the kernel holds the MAC that answered for it. That MAC
is what identifies the appliance to bringup (its run journal, the report of
the run that set it up), where the appliance's own words could not: a sheet's
serial is shared by every box restored from it. Reads only; sends nothing.
"""
from __future__ import annotations

import threading

_COMPLETE = 0x2         # ATF_COM: the entry holds an answer, not a pending ask


def neighbour_mac(address: str | None) -> str | None:
    """The MAC (lower case) the laptop's neighbour table holds for IPv4
    ``address`` in this thread's network namespace, or None: none known, the
    address is behind a router (the router's MAC is not the appliance's), or
    the table cannot be read. Never raises."""
    if not address:
        return None
    # the calling thread's namespace: a console worker may have entered a lab's
    path = f"/proc/self/task/{threading.get_native_id()}/net/arp"
    try:
        with open(path, encoding="ascii", errors="replace") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        return None
    for row in rows:
        fields = row.split()
        if len(fields) >= 4 and fields[0] == address:
            try:
                complete = int(fields[2], 16) & _COMPLETE
            except ValueError:
                continue
            if complete and fields[3] != "00:00:00:00:00:00":
                return fields[3].lower()
    return None
