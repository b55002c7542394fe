"""Which address the laptop claims on the port it takes over.

``choose(iface, requested, arp_wait, note, elsewhere=None, holders=None) -> address``
    The requested address unless something holds it: a device on the wire
    (an RFC 5227-style ARP probe from 0.0.0.0, or ``holders``, the answer
    of such a check the caller started already) or another port of this
    laptop (``elsewhere``: address -> port name). The default laptop
    address then moves aside to a free one of 169.254.1.200-.253 (said
    through ``note``); a chosen one raises LinkError, as does a laptop
    with every fallback in use.

``choose_near(iface, appliance, prefix, arp_wait, note, elsewhere=None, avoid=())
-> address``
    For an appliance that is not on a factory address (an earlier site's
    203.0.113.40, say): a free address in its subnet, as close to it as
    possible, so it is on the appliance's network whatever that network's
    real prefix (``candidates_near``). Each candidate is checked with RFC
    5227-style probes from 0.0.0.0 before use; ``avoid`` (addresses heard on
    the wire, the appliance's gateway among them) and this laptop's own
    addresses are never taken. LinkError when none is free.

``Early(fn)``: ``fn()`` started in a thread of its own, its ``result()``
asked later: the takeover chooses the address this way while it writes
its journal, when the port is already up with a cable.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from hwprobe.constants import FALLBACK_ADDRESSES, LAPTOP_ADDRESS
from hwprobe.errors import LinkError


def choose(iface: str, requested: str, arp_wait: float, note: Callable[[str], None],
           elsewhere: dict[str, str] | None = None,
           holders: dict[str, str] | None = None) -> str:
    """The address to claim on ``iface`` (see the module docstring)."""
    from hwprobe.port.arp import arp_holders

    elsewhere = elsewhere or {}
    if requested in elsewhere:
        who = f"this laptop's own {elsewhere[requested]}"
    else:
        if holders is None:    # else: a check the caller started already
            holders = arp_holders(iface, [requested], arp_wait)
        if not holders:
            return requested
        who = holders[requested]
    if requested != LAPTOP_ADDRESS:
        raise LinkError(f"{requested} is already used by {who}; pick another "
                        f"--laptop-address")
    free = [a for a in FALLBACK_ADDRESSES if a not in elsewhere]
    taken = arp_holders(iface, free, arp_wait) if free else {}
    for candidate in reversed(free):
        if candidate not in taken:
            note(f"{requested} is already used by {who}: using {candidate} instead")
            return candidate
    raise LinkError(f"every laptop address 169.254.1.200-.254 is in use on "
                    f"{iface} or another port of this laptop; pick one with "
                    f"--laptop-address")


def candidates_near(appliance: str, prefix: int) -> list[str]:
    """Host addresses of ``appliance``'s /``prefix``, nearest first: the
    other usable host of its /30, then of its /29, ... out to /``prefix``,
    each block's own first and last address left out. Whatever the
    appliance's real prefix P (at most 30), the first free one is a host of
    its network, neither its network nor its broadcast address: those of a
    /P are also the first and last of every smaller block around the
    appliance."""
    import ipaddress

    me = ipaddress.IPv4Address(appliance)
    seen = {me}
    out: list[str] = []
    for size in range(30, max(prefix, 1) - 1, -1):
        block = ipaddress.IPv4Network(f"{me}/{size}", strict=False)
        edges = (block.network_address, block.broadcast_address)
        near = sorted((a for a in block if a not in seen and a not in edges),
                      key=lambda a: abs(int(a) - int(me)))
        for a in near:
            seen.add(a)
            out.append(str(a))
        seen.update(edges)          # never a host of any bigger block either: see above
        if len(out) >= 64:
            break
    return out


def choose_near(iface: str, appliance: str, prefix: int, arp_wait: float,
                note: Callable[[str], None], elsewhere: dict[str, str] | None = None,
                avoid=()) -> str:
    """A free laptop address in ``appliance``'s subnet (see the module docstring)."""
    from hwprobe.port.arp import arp_holders

    skip = set(avoid) | set(elsewhere or {})
    candidates = [a for a in candidates_near(appliance, prefix) if a not in skip]
    for start in range(0, len(candidates), 8):        # eight at a time, nearest first
        batch = candidates[start:start + 8]
        taken = arp_holders(iface, batch, arp_wait)
        free = [a for a in batch if a not in taken]
        if free:
            if taken:
                note(f"{', '.join(sorted(taken))} already in use on {iface}: "
                     f"the laptop takes {free[0]}")
            return free[0]
    raise LinkError(f"no free address near {appliance} on {iface} for the laptop; "
                    f"give one with --laptop-address")


class Early:
    """``fn()`` in a thread of its own (started from the calling thread, so in
    its network namespace); ``result()`` waits for it and returns or raises
    what it did."""

    def __init__(self, fn: Callable[[], str]):
        self._value: str | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # noqa: BLE001 - raised again in result()
                self._error = exc

        self._thread = threading.Thread(target=run, name="address-check", daemon=True)
        self._thread.start()

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
