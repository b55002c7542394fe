"""Take one laptop port over for the appliance, and give it back exactly.

Usable from worker threads; everything happens in the network namespace of
the calling thread.

``Takeover(iface, address=LAPTOP_ADDRESS, prefix=24, force=False, on_note=None)``
    ``take()`` records the port's state in the journal (hwprobe.port.journal) and
    only then changes it: NetworkManager is told to leave the port alone
    (``nmcli device set IF managed no``, when it managed it), the port's IPv4
    addresses and routes are removed, the port is brought up, an RFC 5227-style
    ARP probe checks nobody holds ``address`` (169.254.1.254 falls back to a
    free one in 169.254.1.200-.253, and says so), and the address is added —
    no gateway, no DNS. ``give_back()`` restores exactly the previous addresses,
    routes and up/down state, hands the port back to NetworkManager, and forgets
    the journal entry; it is harmless to call twice. Use it as a context
    manager. ``.address`` is the address actually claimed; ``.notes`` lists
    every sentence said to the technician (also passed to ``on_note``).
    Called from the main thread (and ``handle_signals=True``), ``take()`` also
    catches SIGINT, SIGTERM and SIGHUP until the give-back: the port is given
    back, then Stopped (a SystemExit, 128+signal) is raised. From a worker thread no
    handler is installed: the caller (the console) must call ``give_back()``
    on its own exit paths. Other keywords: ``arp_wait`` (seconds the address
    check listens, default 0.2), ``carrier_wait`` (seconds to wait for a
    cable after bringing the port up, default 3), ``on_port_up`` (called,
    and must not block, once the port is up and before its address is
    checked and claimed: the probe command starts its 0.0.0.0 ARP search
    there, so the search and the address check share their wait; a port
    already up with a cable is checked, from 0.0.0.0, which changes nothing
    on it, while the journal is written and its owners are handed off),
    ``on_claimed(address)`` (called, and must not block, once the address
    is on the port, before the journal records it: the probe command starts
    its HTTPS check there), ``address_check`` (the ARP check of ``address``
    from 0.0.0.0, started by the caller before the takeover: an object whose
    ``result()`` returns ``probe.arp_holders``' answer; used when the port is
    already up with a cable, so the check's wait starts before the takeover's
    own imports and journal). A non-default ``address`` that is taken raises
    LinkError instead of moving aside.
    IPv6: only permanent global IPv6 addresses are journalled and re-added;
    IPv6 is otherwise left alone. NetworkManager (hwprobe.port.networkmanager)
    that runs but does not answer is a LinkError (it could take the port
    back). DHCP and link-local clients on the port (dhclient, dhcpcd,
    avahi-autoipd) are stopped (dhcpcd paused) before the port is claimed
    and started again at the give-back; systemd-networkd is refused with the
    commands to run (hwprobe.port.owners). When NetworkManager or such a
    client is handed the port back, its leased addresses and routes are left
    to it to renew (re-added by hand they would stay forever); give_back
    waits up to NM_SETTLE seconds for NetworkManager to reactivate. A port
    that nobody owned gets its leased addresses back without their lease
    time. A link journal left by a run that died is put back first
    (hwprobe.port.recovery); one that cannot be read refuses the port.

Errors: BadInput (unknown port, bad address; exit 2), PortRefused (default
route or global address without force; exit 2), PortBusy (another bringup
holds the port), NeedsPrivileges (exit 3), LinkError (netlink failed, port
held by another bringup; exit 1).
"""
from __future__ import annotations

import ipaddress
import os
import signal
import threading
import time
from collections.abc import Callable

from hwprobe.constants import LAPTOP_ADDRESS, LAPTOP_PREFIX
from hwprobe.errors import (BadInput, LinkError, PortRefused, StateDirUnusable, StateFileDamaged,
                            Stopped)
from hwprobe import stopping
from hwprobe.port import address as laptop_address
from hwprobe.port import interfaces, journal, linkstate, networkmanager, owners as portowners
from hwprobe.port import recovery
from hwprobe.port.lock import PortLock
from hwprobe.port.privileges import require_privileges

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Takeover:
    """One laptop port, held for the appliance until ``give_back()``.

    See the module docstring. Attributes: ``iface``, ``address`` (the address
    actually claimed, set by ``take()``), ``prefix``, ``notes`` (sentences said
    to the technician), ``heeded`` (those of them that change what to expect),
    ``record`` (the journal entry while held).
    """

    def __init__(self, iface: str, address: str = LAPTOP_ADDRESS,
                 prefix: int = LAPTOP_PREFIX, force: bool = False,
                 on_note: Callable[[str], None] | None = None,
                 handle_signals: bool = True, arp_wait: float = 0.2,
                 carrier_wait: float = 3.0, on_port_up: Callable[[], None] | None = None,
                 on_claimed: Callable[[str], None] | None = None, address_check=None,
                 near: tuple[str, int] | None = None, avoid=()):
        self.iface = iface
        self.requested = address
        self.address = address
        self.prefix = prefix
        self.requested_prefix = prefix
        self.force = force
        self.on_note = on_note
        self.arp_wait = arp_wait
        self.carrier_wait = carrier_wait
        self.on_port_up = on_port_up
        self.on_claimed = on_claimed
        self.address_check = address_check if near is None else None
        self.near = near
        self.avoid = tuple(avoid)
        if near is not None:
            self.prefix = near[1]
        self.notes: list[str] = []
        self.heeded: list[str] = []
        self.record: journal.LinkRecord | None = None
        self._lock = threading.RLock()
        self._key: tuple[int, str] | None = None
        self._signals = _ExitSignals(self, enabled=handle_signals)
        self._port_lock: PortLock | None = None
        self._early_choice: laptop_address.Early | None = None
        self._elsewhere: dict[str, str] = {}

    # -- words for the technician
    def note(self, text: str, heed: bool = False, aside: bool = False) -> None:
        """Say ``text`` to the technician; ``heed``: it changes what they should
        expect (an address moved aside, a client stopped, no cable...), so the
        console shows it on the next step too (``heeded``); ``aside``: nothing
        was done that they need to know (no NetworkManager to hand off from),
        so it goes to the notes and the run log only."""
        self.notes.append(text)
        if aside:
            import logging

            logging.getLogger("hwprobe.port.takeover").info(text)
            return
        if heed:
            self.heeded.append(text)
        if self.on_note is not None:
            try:
                self.on_note(text)
            except OSError:  # a dropped terminal (SIGHUP) must not stop a give-back
                pass

    def _heed(self, text: str) -> None:
        self.note(text, heed=True)

    # -- take: check, lock and journal, hand off, claim, record
    def take(self) -> "Takeover":
        """Record the port, then put it on the appliance's link; returns self.

        Raises BadInput, PortRefused, NeedsPrivileges or LinkError; on any
        failure after the first change the port is already given back.
        """
        with self._lock:
            if self.record is not None:
                return self
            self._check_input()
            require_privileges()
            self._lock_and_journal()
            self._signals.install()
            with self._signals.deferred():
                try:
                    self._hand_off_networkmanager()
                    self._hand_off_clients()
                    self._claim()
                except BaseException:
                    self.give_back()
                    raise
            self._signals.raise_pending()
            return self

    def _check_input(self) -> None:
        try:
            ip = ipaddress.IPv4Address(self.requested)
        except ValueError:
            raise BadInput(f"--laptop-address {self.requested}: not an IPv4 address") from None
        if not 1 <= int(self.prefix) <= 30:
            raise BadInput(f"prefix /{self.prefix}: must be 1-30")
        if self.near is not None:
            try:
                ipaddress.IPv4Address(self.near[0])
            except ValueError:
                raise BadInput(f"--address {self.near[0]}: not an IPv4 address") from None
            return
        if not ip.is_link_local:
            self._heed(f"{ip} is not a link-local address; using it as asked")

    def _lock_and_journal(self) -> None:
        """One bringup per port, across processes and state dirs: the port's
        lock is taken before the journal is read, so a second run never
        touches it; under it, the port is journalled (nothing changed yet)."""
        key = (journal.netns_inode(), self.iface)
        with recovery.HELD_LOCK:
            if key in recovery.HELD:
                raise LinkError(f"{self.iface} is already taken over by this bringup")
            port_lock = PortLock(self.iface, key[0])
            port_lock.acquire()
            try:
                self._put_back_leftovers()
                port = self._checked_port()
                self.record = self._journal(port)
            except BaseException:
                port_lock.release()
                raise
            self._port_lock = port_lock
            recovery.HELD[key] = self
            self._key = key

    def _put_back_leftovers(self) -> None:
        """A journal of a run that died on this port: put the port back first."""
        try:
            stale = journal.load(self.iface)
        except journal.LinkJournalDamaged as exc:
            # set aside, the next journal would record the takeover address
            # as the port's own: the technician decides, by hand
            raise StateFileDamaged(recovery.damaged_journal_message(exc)) from None
        if stale is None:
            return
        if stale.owner_alive() and stale.owner_pid != os.getpid():
            raise LinkError(f"{self.iface} is in use by another bringup "
                            f"(pid {stale.owner_pid}); quit that one first")
        self._heed(f"{self.iface} was left taken over by an earlier run "
                   f"that did not finish; putting it back first")
        recovery.restore(stale, self.note)

    def _checked_port(self) -> interfaces.Port:
        """The port, unless it looks like the laptop's way to its own network."""
        port = interfaces.get_port(self.iface)
        reasons = []
        if port.default_route:
            reasons.append("it holds this laptop's default route")
        if port.global_address:
            reasons.append(f"it has the network address {', '.join(port.global_addresses)}")
        if reasons and not self.force:
            raise PortRefused(
                f"{self.iface} refused: {' and '.join(reasons)}, so it is "
                f"probably not the cable to the appliance and taking it over "
                f"would cut this laptop off that network. Pick the port the "
                f"appliance is patched into (`bringup ports` lists them), or "
                f"add --force.")
        if reasons:
            self._heed(f"--force: taking over {self.iface} although {' and '.join(reasons)}")
        return port

    def _journal(self, port: interfaces.Port) -> journal.LinkRecord:
        """The port's state, saved before anything changes on it."""
        with linkstate.open_netlink() as ipr:
            # the laptop's own addresses on its other ports: never claimed twice
            self._elsewhere = linkstate.addresses_elsewhere(ipr, port.index)
            self._early_choice = None
            if port.up and port.carrier:
                # the port is already up with a cable: the address check (and the
                # on_port_up work) change nothing on it, so they start now and
                # wait while the journal is written and its owners handed off
                started = self.address_check
                self._early_choice = laptop_address.Early(lambda: self._choose_address(
                    started.result() if started is not None else None))
                if self.on_port_up is not None:
                    self.on_port_up()
            record = linkstate.snapshot(ipr, port)
        try:
            journal.save(record)
        except OSError as exc:
            raise StateDirUnusable(f"cannot write the link journal ({exc}); nothing was "
                                   f"changed on {self.iface}. Set BRINGUP_STATE_DIR to a "
                                   f"writable directory.") from exc
        return record

    def _hand_off_networkmanager(self) -> None:
        """NetworkManager lets go of the port, if it managed it (it would undo
        the takeover); journalled, so a give-back or restore-link hands the
        port back to it."""
        rec = self.record
        managed, why = networkmanager.manages(self.iface)
        if managed:
            problem = networkmanager.set_managed(self.iface, False)
            if problem:
                raise LinkError(f"NetworkManager manages {self.iface} and would undo "
                                f"the takeover, but refused to let go: {problem}")
            rec.networkmanager = True
            journal.save(rec)
            self._heed(f"NetworkManager managed {self.iface}: set it unmanaged for now "
                       f"(`nmcli device set {self.iface} managed no`); it gets it "
                       f"back afterwards")
        else:
            rec.networkmanager = False
            self.note(why, aside=True)

    def _hand_off_clients(self) -> None:
        """Every DHCP or link-local client on the port stops (they would put
        their address back); each is journalled before it is touched, so a
        give-back or restore-link starts it again."""
        rec = self.record
        owners = portowners.find(self.iface, rec.ifindex)
        for owner in owners:     # refuse before stopping any of them
            refusal = portowners.refusal(owner, self.iface)
            if refusal:
                raise LinkError(refusal + "; nothing was changed")
        for owner in owners:
            rec.port_owners.append(owner.saved())
            journal.save(rec)
            done = portowners.hand_off(owner, self.iface)
            rec.port_owners[-1] = owner.saved()     # with any helper it forked meanwhile
            journal.save(rec)
            self._heed(f"{owner.kind} ran on {self.iface} (pid {owner.pid}): {done} "
                       f"for now; it runs again afterwards")

    def _claim(self) -> None:
        """The port up, with the chosen address on it, and that journalled."""
        with linkstate.open_netlink() as ipr:
            index = linkstate.index_of(ipr, self.iface)
            if index is None:
                raise LinkError(f"{self.iface} disappeared during takeover")
            try:
                linkstate.flush_ipv4(ipr, index)
                ipr.link("set", index=index, state="up")
                if not self._wait_carrier(ipr, index):
                    self._heed(f"no carrier on {self.iface}: is the cable in, and "
                               f"the appliance powered?")
                if self._early_choice is not None:
                    self.address = self._early_choice.result()
                else:
                    if self.on_port_up is not None:
                        self.on_port_up()   # e.g. a 0.0.0.0 search, during the address check
                    self.address = self._choose_address()
                ipr.addr("add", index=index, address=self.address, prefixlen=self.prefix)
                linkstate.pin_network(ipr, index, self.iface, self.address, self.prefix,
                                      self._heed)
            except (BadInput, LinkError):
                raise
            except Exception as exc:  # noqa: BLE001 - rtnl raises NetlinkError/OSError
                raise LinkError(f"could not set up {self.iface}: {exc}") from exc
        if self.on_claimed is not None:
            self.on_claimed(self.address)   # e.g. the HTTPS check, during the save below
        rec = self.record
        rec.claimed = f"{self.address}/{self.prefix}"
        journal.save(rec)
        if self.near is not None:
            self._heed(f"{self.near[0]} is not a factory address: {self.iface} takes "
                       f"{self.address}/{self.prefix}, a free address on its network")
        self.note(f"{self.iface} is on {self.address}/{self.prefix}, no gateway, no DNS "
                  f"(was: {rec.describe()})")

    def _wait_carrier(self, ipr, index: int) -> bool:
        deadline = time.monotonic() + self.carrier_wait
        while True:
            link = ipr.get_links(index)[0]
            if link.get("carrier"):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _choose_address(self, holders: dict[str, str] | None = None) -> str:
        if self.near is not None:
            return laptop_address.choose_near(self.iface, self.near[0], self.near[1],
                                              self.arp_wait, self._heed, self._elsewhere,
                                              self.avoid)
        return laptop_address.choose(self.iface, self.requested, self.arp_wait, self._heed,
                                     self._elsewhere, holders)

    # -- move into an appliance's network (or back) while held
    def covers(self, address: str) -> bool:
        """``address`` is on the held port's network (reachable from it)."""
        try:
            return ipaddress.IPv4Address(address) in ipaddress.IPv4Interface(
                f"{self.address}/{self.prefix}").network
        except ValueError:
            return False

    def move(self, near: tuple[str, int] | None, avoid=()) -> str:
        """The held port leaves its address for a free one of ``near``'s
        network (``near=(appliance, prefix)``, see the module docstring), or,
        with None, for the address asked for at the start (169.254.1.254):
        the factory addresses' network. Returns the new address. Raises
        LinkError (the port is then given back), BadInput for a bad address."""
        with self._lock:
            if self.record is None:
                raise LinkError(f"{self.iface} is not held: take it over first")
            if near is not None:
                try:
                    near = (str(ipaddress.IPv4Address(near[0])), int(near[1]))
                except ValueError:
                    raise BadInput(f"{near[0]}: not an IPv4 address") from None
            with self._signals.deferred():
                try:
                    self.near, self.avoid = near, tuple(avoid)
                    self.prefix = near[1] if near is not None else self.requested_prefix
                    with linkstate.open_netlink() as ipr:
                        index = linkstate.index_of(ipr, self.iface)
                        if index is None:
                            raise LinkError(f"{self.iface} disappeared")
                        linkstate.flush_ipv4(ipr, index)
                        self.address = self._choose_address()
                        ipr.addr("add", index=index, address=self.address,
                                 prefixlen=self.prefix)
                        linkstate.pin_network(ipr, index, self.iface, self.address,
                                              self.prefix, self._heed)
                    self.record.claimed = f"{self.address}/{self.prefix}"
                    journal.save(self.record)
                except (BadInput, LinkError):
                    self.give_back()
                    raise
                except Exception as exc:  # noqa: BLE001 - rtnl raises NetlinkError/OSError
                    self.give_back()
                    raise LinkError(f"could not move {self.iface} to another address: "
                                    f"{exc}") from exc
            where = (f"on the network of {near[0]}, which is not a factory address"
                     if near is not None else "back on the factory addresses' network")
            self.note(f"{self.iface} is on {self.address}/{self.prefix} now, no gateway, "
                      f"no DNS: {where}")
            self._signals.raise_pending()
            return self.address

    # -- give back
    def give_back(self) -> recovery.RestoredPort | None:
        """Restore the port exactly as recorded; returns what was restored
        (None when nothing was held). Harmless to repeat. Raises LinkError
        when netlink refuses (the journal is then kept for restore-link)."""
        with self._lock:
            rec = self.record
            if rec is None:
                return None
            try:
                with self._signals.deferred():
                    restored = recovery.restore(rec, self.note)
                    if restored is not None:
                        self.note(f"{self.iface} given back: {rec.describe()}")
                    self.record = None
                    with recovery.HELD_LOCK:
                        recovery.HELD.pop(self._key, None)
                    if self._port_lock is not None:
                        self._port_lock.release()
                        self._port_lock = None
            finally:
                self._signals.remove()
            self._signals.raise_pending()
            return restored

    def __enter__(self) -> "Takeover":
        return self.take()

    def __exit__(self, *exc) -> None:
        self.give_back()


class _ExitSignals:
    """SIGINT, SIGTERM and SIGHUP while a takeover holds its port (handlers
    only from the main thread): the port is given back, then
    Stopped (a SystemExit, 128 + signal). A signal that lands while the port is being
    changed (``deferred()``) waits for the change to end."""

    def __init__(self, takeover: Takeover, enabled: bool):
        self._takeover = takeover
        self._enabled = enabled
        self._old_handlers: dict[int, object] = {}
        self._busy = False
        self._pending: int | None = None

    def install(self) -> None:
        if not self._enabled or threading.current_thread() is not threading.main_thread():
            return
        for sig in _SIGNALS:
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def remove(self) -> None:
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers.clear()

    def deferred(self) -> "_ExitSignals":
        """A ``with`` block in which a signal only marks itself pending."""
        return self

    def __enter__(self) -> None:
        self._busy = True

    def __exit__(self, *exc) -> None:
        self._busy = False

    def _on_signal(self, signum, _frame) -> None:
        if stopping.deferring(signum):      # the password change and its record first
            return
        self._pending = signum
        if self._busy:  # in the middle of a change: finish it, then act
            return
        self._takeover.give_back()
        self.raise_pending()

    def raise_pending(self) -> None:
        """Act on a signal that came while the port was being changed: give
        the port back (if still held), say so, and exit."""
        signum = self._pending
        if signum is None:
            return
        self._pending = None
        if self._takeover.record is not None:
            self._takeover.give_back()
        stop = Stopped(signum, said=True)
        self._takeover.note(stop.words)
        raise stop
