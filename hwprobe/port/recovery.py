"""Put a port back from its link journal: at a takeover's give-back, and
after a run that died (SIGKILL, power loss) at ``bringup restore-link`` or
the next start.

``restore_from_journal(iface=None, on_note=None) -> list[RestoredPort]``
    Puts back every port of this namespace left in the journal by a run that
    died. Ports still held by a live bringup are left alone (LinkError when
    ``iface`` names one). Repeating it is harmless. A journal is only
    applied to the port it was written for: its interface name and MAC must
    match the live port, and never the loopback. A journal that cannot be
    read, or that names another port, is kept and reported (LinkError) with
    what the port holds now and how to put it back by hand; the takeover
    refuses the port in that case too, so the takeover address is never
    journalled as the port's own.

``restore(rec, note) -> RestoredPort | None``: one record applied to its
port (addresses, routes, up/down, NetworkManager, DHCP clients), then the
journal entry forgotten; what a give-back does.

``HELD``: the ports this process holds now, (netns inode, iface) ->
takeover, under ``HELD_LOCK``; a journal of this process's own is only
skipped for those.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hwprobe.constants import LAPTOP_ADDRESS, LAPTOP_PREFIX
from hwprobe.errors import LinkError, PortBusy, StateFileDamaged
from hwprobe.port import journal, linkstate, networkmanager, owners as portowners
from hwprobe.port.lock import PortLock
from hwprobe.port.privileges import require_privileges

HELD: dict[tuple[int, str], object] = {}
HELD_LOCK = threading.Lock()
_IFF_LOOPBACK = 0x8


@dataclass
class RestoredPort:
    """A port put back from the journal."""

    iface: str
    addresses: list[str]
    up: bool
    networkmanager: bool            # handed back to NetworkManager

    def describe(self) -> str:
        return (f"{self.iface}: {', '.join(self.addresses) or 'no address'}, "
                f"{'up' if self.up else 'down'}"
                + (", managed by NetworkManager again" if self.networkmanager else ""))


def _port_now(iface: str) -> str:
    """What ``iface`` holds now, in words (for a journal bringup cannot use)."""
    try:
        with linkstate.open_netlink() as ipr:
            index = linkstate.index_of(ipr, iface)
            if index is None:
                return f"{iface} is not on this laptop now"
            up = bool(ipr.get_links(index)[0]["flags"] & 1)
            addrs = [f"{m.get('address')}/{m['prefixlen']}" for m in ipr.get_addr(index=index)]
    except Exception as exc:  # noqa: BLE001 - only words for a message
        return f"what {iface} holds now could not be read ({exc})"
    return f"{iface} now holds {', '.join(addrs) or 'no address'}, {'up' if up else 'down'}"


def _by_hand(iface: str, path) -> str:
    return (f"Put {iface} back by hand: remove the takeover address if it is there "
            f"(`ip addr del {LAPTOP_ADDRESS}/{LAPTOP_PREFIX} dev {iface}`), add back its own "
            f"addresses or hand it back to its owner (`nmcli device set {iface} managed yes`, "
            f"or restart its DHCP client), then remove the journal (`rm {path}`) and run again. "
            f"Nothing was changed on {iface}.")


def damaged_journal_message(exc: "journal.LinkJournalDamaged") -> str:
    """The loud sentence for a link journal that cannot be read."""
    return (f"{exc}: bringup cannot tell how {exc.iface} was before an earlier run took "
            f"it over. {_port_now(exc.iface)}. {_by_hand(exc.iface, exc.path)}")


def _refusal(rec: journal.LinkRecord, ipr, index: int) -> str | None:
    """Why ``rec`` must not be applied to the port at ``index`` (None: it may)."""
    link = ipr.get_links(index)[0]
    path = journal.path_of(rec.iface, rec.netns)
    if rec.iface == "lo" or link["flags"] & _IFF_LOOPBACK:
        return (f"the link journal {path} names the loopback {rec.iface}, which bringup "
                f"never takes over: it is not applied (it would cut this laptop's own "
                f"services off). Remove it: `rm {path}`")
    live = (link.get("address") or "").lower()
    if live != rec.mac.lower():
        return (f"the link journal {path} was written for {rec.iface} with MAC {rec.mac}, "
                f"but {rec.iface} here has MAC {live or 'none'} (another adapter, or the "
                f"same name on another socket): it is not applied. {_port_now(rec.iface)}. "
                f"{_by_hand(rec.iface, path)}")
    return None


def restore(rec: journal.LinkRecord, note: Callable[[str], None]) -> RestoredPort | None:
    """Apply ``rec`` to its port. Returns None when the port is gone (journal
    kept); raises LinkError when netlink refuses or the journal does not
    belong to the live port (journal kept, nothing changed)."""
    with linkstate.open_netlink() as ipr:
        index = linkstate.index_of(ipr, rec.iface)
        if index is None:
            note(f"{rec.iface} is gone (adapter unplugged?): its journal is kept; "
                 f"plug it back in and run `bringup restore-link`")
            return None
        refusal = _refusal(rec, ipr, index)
        if refusal:
            raise LinkError(refusal)
        try:
            linkstate.apply_record(ipr, rec, index)
        except Exception as exc:  # noqa: BLE001 - netlink errors come in many types
            raise LinkError(f"could not put {rec.iface} back ({exc}); its journal "
                            f"is kept: run `bringup restore-link` as root") from exc
    handed = False
    if rec.networkmanager:
        problem = networkmanager.set_managed(rec.iface, True)
        if problem:
            note(f"could not hand {rec.iface} back to NetworkManager ({problem}): "
                 f"run `nmcli device set {rec.iface} managed yes`")
        else:
            handed = True
            note(f"NetworkManager manages {rec.iface} again ({networkmanager.settle(rec.iface)})")
    for saved in rec.port_owners:
        try:
            note(portowners.give_back(saved, rec.iface))
        except LinkError as exc:
            note(str(exc))
    journal.remove(rec.iface, rec.netns)
    return RestoredPort(rec.iface, [str(a) for a in rec.addresses], rec.was_up, handed)


def restore_from_journal(iface: str | None = None,
                         on_note: Callable[[str], None] | None = None) -> list[RestoredPort]:
    """Put back ports left taken over by a run that died; returns what was restored.

    Only this thread's network namespace is looked at. A port whose journal
    owner still runs is left to it: PortBusy (exit 1) once the others are
    put back, whether ``iface`` names it or not. Raises NeedsPrivileges when
    there is something to restore but no CAP_NET_ADMIN, LinkError when
    netlink refuses or a journalled port is gone (its journal is kept),
    StateFileDamaged (exit 3) when the only trouble is a damaged journal.
    """
    note = on_note or (lambda _text: None)
    done = []
    damaged: list = []
    problems = []
    busy = []
    for rec in journal.records(damaged=damaged):
        if iface is not None and rec.iface != iface:
            continue
        if rec.owner_alive() and (rec.owner_pid != os.getpid()
                                  or (rec.netns, rec.iface) in HELD):
            msg = (f"{rec.iface} is in use by bringup (pid {rec.owner_pid}); "
                   f"quit that one first, it gives the port back itself")
            if iface is not None:
                raise PortBusy(msg, rec.owner_pid)
            busy.append(msg)
            continue
        require_privileges(("CAP_NET_ADMIN",), f"put {rec.iface} back")
        # a new run on this port may be starting right now: it takes the
        # port's lock before it reads this journal, so take it too, or leave
        # the port to that run (it puts the port back itself first)
        port_lock = PortLock(rec.iface, rec.netns)
        try:
            port_lock.acquire()
        except PortBusy as exc:
            if iface is not None:
                raise
            busy.append(str(exc))
            continue
        try:
            restored = restore(rec, note)
        except LinkError as exc:        # the other ports are still put back
            problems.append(str(exc))
            continue
        finally:
            port_lock.release()
        if restored is not None:
            note(f"{rec.iface} put back: {rec.describe()}")
            done.append(restored)
        else:
            problems.append(f"{rec.iface} was not put back (it is gone, above)")
    unreadable = [damaged_journal_message(d) for d in damaged
                  if iface is None or d.iface == iface]
    if problems or busy or unreadable:
        said = [f"{restored.iface} put back: {restored.describe()}" for restored in done]
        text = "\n".join([*said, *problems, *busy, *unreadable])
        if problems:
            raise LinkError(text)
        if busy:
            raise PortBusy(text)
        raise StateFileDamaged(text)
    return done
