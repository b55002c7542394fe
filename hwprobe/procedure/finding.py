"""The procedure's first steps: take the laptop port, find the appliance on
it, choose the one to set up; and, later, check on the wire that a new
address answers from the NIC it was added on.

``Finding`` is a part of ``BringupSession`` (hwprobe/procedure/session.py),
written here so that each file holds one job; it uses the session's
``target``, ``takeover``, ``responder``, ``stage``,
``run_result``, ``note()`` and ``_journal``.

Every face searches the same way (``probe()``, one ``hwprobe.port.search.Search``):
the console's Find step, ``bringup apply``/``capture``/``verify``/``survey``
through ``find()``, and ``bringup probe``, which starts its search before
the takeover and hands it in.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from hwprobe.constants import FACTORY_ADDRESSES
from hwprobe.errors import BadInput, BringupError, ProbeTimeout
from hwprobe.safetext import nic_name, shown

TYPE_CHECKING = False           # (typing itself costs every bringup start)
if TYPE_CHECKING:
    from hwprobe.appliance.state import ApplianceState, IpAddress
    from hwprobe.port.takeover import Takeover
    from hwprobe.port.probe import ProbeResult, Responder
    from hwprobe.port.search import Search

OTHER_NIC = {"nic1": "nic2", "nic2": "nic1"}


def other_nic(nic: str) -> str:
    """The appliance's other NIC: where the cable goes when nothing answers."""
    return OTHER_NIC[nic]


def best_responder(responders: list["Responder"]) -> "Responder":
    """The answer to offer first: the first whose web interface answered,
    else the first (``responders`` must not be empty)."""
    return next((r for r in responders if getattr(r, "https_ok", False)), responders[0])


class Finding:
    """The laptop port and the search; see the module docstring."""

    # --- the port ------------------------------------------------------------------
    @property
    def cable_mac(self) -> str | None:
        return self.responder.mac if self.responder is not None else None

    @property
    def laptop_address(self) -> str | None:
        return self.takeover.address if self.takeover is not None else None

    def take_port(self, on_port_up: Callable[[], None] | None = None,
                  on_claimed: Callable[[str], None] | None = None,
                  address_check=None) -> "Takeover | None":
        """Take the target's laptop port over (journal, lock); None without
        --iface. ``on_port_up``, ``on_claimed``: see ``Takeover`` (work that
        needs the link but no address, started before the address check; work
        that needs the address, started as soon as it is on), ``address_check``:
        see ``Takeover`` (the laptop address's ARP check, already started).
        Raises BadInput,
        PortRefused, PortBusy, NeedsPrivileges, LinkError, StateDirUnusable /
        StateFileDamaged (exit 3); the port is
        unchanged after any of them."""
        if not self.target.iface:
            return None
        if self.takeover is not None and self.takeover.record is not None:
            return self.takeover
        from hwprobe.procedure.argcheck import check_state_dir
        from hwprobe.port.takeover import Takeover

        # journals and reports must be writable before the port changes
        check_state_dir()

        self.stage = "taking the port"
        takeover = Takeover(self.target.iface, address=self.target.laptop_address,
                            prefix=self.target.laptop_prefix, force=self.target.force_port,
                            on_note=self.note, handle_signals=self.target.handle_signals,
                            on_port_up=on_port_up, on_claimed=on_claimed,
                            address_check=address_check, near=self.target.near())
        # kept before take() runs: a give-back from another thread (the console
        # quitting mid-takeover) then waits for take() on its lock and undoes it
        self.takeover = takeover
        try:
            takeover.take()
        except BaseException:
            self.takeover = None    # take() already put the port back
            raise
        return takeover

    def give_back(self) -> None:
        """Give the laptop port back exactly as it was (harmless to repeat).
        Raises LinkError when netlink refuses (its journal is then kept)."""
        takeover = self.takeover
        if takeover is not None:
            takeover.give_back()

    # --- finding the appliance ------------------------------------------------------
    def probe(self, addresses: tuple[str, ...] | None = None, *, timeout: float = 2.0,
              check_https: bool = True, on_answer: Callable | None = None,
              cancel: threading.Event | None = None,
              search: "Search | None" = None) -> "ProbeResult":
        """ARP for the appliance on the held port (the target's address, else
        the factory ones) and check HTTPS on whoever answers; remembers who
        answered for the pin and the wire checks, and chooses the target's
        address, else the first that answered. ``search``: one already
        started (``bringup probe``), whose result is taken instead. Returns
        the ProbeResult. Raises BringupError when no port is held, and what
        the probe raises (LinkError, NeedsPrivileges, OSError)."""
        from hwprobe.port.search import Search

        if self.takeover is None:
            raise BringupError("probe: no laptop port is held (give --iface)")
        self.stage = "finding the appliance"
        if search is None:
            if addresses is None:
                addresses = (self.target.address,) if self.target.address else FACTORY_ADDRESSES
            if self.takeover.record is not None:    # on their network (after a move: back)
                self.reach(addresses[0])
            search = Search(self.target.iface, addresses, timeout, on_answer, cancel,
                            src=self.takeover.address, check_https=check_https)
        result = search.result()
        self.search_frames = search.frames
        wanted = [r for r in result.responders if r.address == self.target.address]
        if wanted or (result.responders and not self.target.address):
            self.choose(wanted[0] if wanted else result.responders[0])
        return result

    def choose(self, responder: "Responder") -> None:
        """The appliance to talk to: one that answered the probe."""
        self.responder = responder
        self.target.address = responder.address
        self._journal = None

    def find(self) -> None:
        """Take the port and find the appliance on it (with --iface): at the
        target's address, or without one on whichever factory address answers
        (two or more answering: BadInput naming them). Over the console only
        the target's address is asked, for its MAC (the web's answer does not
        matter). Raises ProbeTimeout when nothing answers, saying what is on
        the cable (hwprobe/procedure/listening.py) and what to do next; what
        ``take_port()`` and ``probe()`` raise."""
        if self.take_port() is None:
            return
        if self.target.console:
            if self.target.address:
                self.probe(timeout=2.0, check_https=False)
            return
        if not self.target.address:
            result = self.probe(timeout=2.0)        # no address: the factory ones
            self._found_one(result)
        else:
            # a factory --address: the other factory addresses are asked too, so a
            # wrong one is told apart from a cable in the other NIC
            factory = self.target.address in FACTORY_ADDRESSES
            asked = ((self.target.address, *(a for a in FACTORY_ADDRESSES
                                             if a != self.target.address)) if factory else None)
            result = self.probe(asked, timeout=2.0)
            if self.responder is None:
                others = [r for r in result.responders if r.address != self.target.address]
                if others:
                    raise ProbeTimeout(
                        f"{self.target.address} does not answer on {self.target.iface}, but "
                        + ", ".join(f"{r.address} (MAC {shown(r.mac)})" for r in others)
                        + f" does: the appliance is on {others[0].address}, not "
                          f"{self.target.address}. Run again with --address "
                          f"{others[0].address}, or leave --address out to take whichever "
                          f"factory address answers; nothing was changed on the appliance")
                raise self.silent_search(f"{self.target.address} does not answer", also=(
                    ", nor does any other factory address" if factory else ""))
            if self.factory_fresh is False:
                self.note(f"the appliance answered on {self.target.address}, not on a "
                          f"factory address: it was not factory-fresh (it holds an earlier "
                          f"site's address)")
        if self.target.pcap:
            self.keep_capture()             # asked for: the search's frames, found or not

    def silent_search(self, what: str, also: str = "") -> ProbeTimeout:
        """The search found nothing: listen (``after_silence``: what is on
        the cable is said as it is known, and kept for the report), and the
        error that says so (``what`` on the port, ``also``) with what to do
        next. Raises what ``after_silence`` raises."""
        from hwprobe.procedure.listening import advice

        iface = self.target.iface
        listened = self.after_silence()
        said = [f"{what} on {iface}{also}"]
        if listened is not None and not listened.carrier:
            said += listened.words()
        said += advice(listened, iface)
        return ProbeTimeout("; ".join(said))

    def _found_one(self, result: "ProbeResult") -> None:
        """The factory addresses were searched: exactly one must have
        answered (the session chose it). None: ProbeTimeout (after listening
        on the cable); two or more: BadInput naming them (nothing was changed
        on any)."""
        iface = self.target.iface
        found = {r.address: r for r in result.responders}
        if not found:
            raise self.silent_search(f"nothing answers on {', '.join(FACTORY_ADDRESSES)}")
        if len(found) > 1:
            raise BadInput(
                f"{len(found)} appliances answer on {iface}: "
                + ", ".join(f"{a} (MAC {shown(r.mac)})" for a, r in sorted(found.items()))
                + "; give the one to set up with --address; nothing was changed")
        [(address, responder)] = found.items()
        self.note(f"found the appliance at {address} (MAC {shown(responder.mac)}) on {iface}")

    # --- the wire -------------------------------------------------------------------
    def wire_check(self, ip: "IpAddress", state: "ApplianceState") -> str | None:
        """ARP the address just added from the laptop port; it must answer with
        the MAC of the NIC it was added on (only for the NIC the cable is in,
        and not through a VLAN). None when the wire agrees, else why not."""
        from hwprobe.procedure.engine import cable_nic
        from hwprobe.port.probe import probe

        if self.takeover is None or cable_nic(self.cable_mac, state) != ip.nic or ip.vlan:
            return None
        result = probe(self.target.iface, self.takeover.address, addresses=[ip.address],
                       timeout=1.0, check_https=False)
        want = next((n.mac for n in state.nics if n.name == ip.nic), None)
        if not result.responders:
            return f"{ip.address} does not answer ARP on the laptop port"
        got = result.responders[0].mac
        if want and got.lower() != want.lower():
            return f"{ip.address} answered from {got}, not {nic_name(ip.nic)} ({want})"
        return None

    def cable_nic(self, state: "ApplianceState | None" = None) -> str | None:
        """Which of the appliance's NICs the laptop's cable is in, when known:
        by the MAC that answered the probe, in ``state`` (default: the
        appliance as read back after the run)."""
        from hwprobe.procedure.engine import cable_nic

        if state is None:
            state = self.run_result.state_after if self.run_result else None
        return cable_nic(self.cable_mac, state) if state else None

