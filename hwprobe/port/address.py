"""Which address the laptop claims on the port it takes over.

``choose(iface, requested, arp_wait, note, elsewhere=None, holders=None) -> address``
    The requested address unless something holds it: a device on the wire
    (an RFC 5227-style ARP probe from 0.0.0.0, or ``holders``, the answer
    of such a check the caller started already) or another port of this
    laptop (``elsewhere``: address -> port name). The default laptop
    address then moves aside to a free one of 169.254.1.200-.253 (said
    through ``note``); a chosen one raises LinkError, as does a laptop
    with every fallback in use.

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
