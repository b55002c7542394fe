"""Take one laptop port over for the appliance, and give it back exactly.

Public API (usable from worker threads; everything happens in the network
namespace of the calling thread):

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
    back, then SystemExit(128+signal) is raised. From a worker thread no
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
    own imports and journal). A
    non-default ``address``
    that is taken raises LinkError instead of moving aside.
    IPv6: only permanent global IPv6 addresses are journalled and re-added;
    IPv6 is otherwise left alone. nmcli is always read with LC_ALL=C. A
    NetworkManager that runs but does not answer is a LinkError (it could
    take the port back). DHCP and link-local clients on the port (dhclient,
    dhcpcd, avahi-autoipd) are stopped (dhcpcd paused) before the port is claimed
    and started again at the give-back; systemd-networkd is refused with the commands to
    run (hwprobe.port.owners). When NetworkManager or such a client is handed
    the port back, its leased addresses and routes are left to it to renew
    (re-added by hand they would stay forever); give_back waits up to
    NM_SETTLE seconds for NetworkManager to reactivate. A port that nobody
    owned gets its leased addresses back without their lease time.

``restore_from_journal(iface=None, on_note=None) -> list[RestoredPort]``
    Puts back every port of this namespace left in the journal by a run that
    died (SIGKILL, power loss). Ports still held by a live bringup are left
    alone (LinkError when ``iface`` names one). Repeating it is harmless.
    A journal is only applied to the port it was written for: its interface
    name and MAC must match the live port, and never the loopback. A journal
    that cannot be read, or that names another port, is kept and reported
    (LinkError) with what the port holds now and how to put it back by hand;
    ``take()`` refuses the port in that case too, so the takeover address is
    never journalled as the port's own.

``missing_privileges(needed) -> list[str]`` / ``require_privileges(needed, what)``

Errors: BadInput (unknown port, bad address; exit 2), PortRefused (default
route or global address without force; exit 2), NeedsPrivileges (exit 3),
LinkError (netlink failed, port held by another bringup; exit 1).
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable

from hwprobe.port import interfaces, journal, owners as portowners
from hwprobe.constants import FALLBACK_ADDRESSES, LAPTOP_ADDRESS, LAPTOP_PREFIX
from hwprobe.errors import BadInput, LinkError, PortBusy, PortRefused
from hwprobe.port.lock import PortLock
from hwprobe.port.privileges import missing_privileges, require_privileges  # noqa: F401 - part of this API

_IFA_F_PERMANENT = 0x80
_RTPROT_KERNEL = 2
_RTPROT_STATIC = 4
_RT_SCOPE_LINK = 253
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_ACTIVE: dict[tuple[int, str], "Takeover"] = {}
_ACTIVE_LOCK = threading.Lock()


# --- NetworkManager -------------------------------------------------------------

NM_TIMEOUT = 5.0          # seconds an nmcli call may take before NM counts as not answering
NM_SETTLE = 5.0           # seconds to wait for NM to pick the port up again at give-back


def _nmcli(*args: str) -> subprocess.CompletedProcess | None:
    exe = shutil.which("nmcli")
    if exe is None:
        return None
    # nmcli translates states ("unmanaged" is "nicht verwaltet" in German):
    # read it in one fixed locale, whatever the technician's is
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["LC_ALL"] = "C"
    try:
        return subprocess.run([exe, *args], capture_output=True, text=True,
                              timeout=NM_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess([exe, *args], 1, "", str(exc) or "timed out")


def _nm_process() -> int | None:
    """pid of a NetworkManager running in this network namespace, if any."""
    return next((pid for pid, comm, _a, _s in portowners._processes()
                 if comm == "NetworkManager"), None)


def _nm_manages(iface: str) -> tuple[bool, str]:
    """(managed, why) from ``nmcli -t -f DEVICE,STATE device``, asked only when
    a NetworkManager process runs in this network namespace. Raises LinkError
    when NetworkManager runs here but does not answer: it could take the
    port back at any moment."""
    if shutil.which("nmcli") is None:
        return False, "NetworkManager is not installed here (no nmcli): nothing to hand off"
    if _nm_process() is None:
        # no NetworkManager in this network namespace: nothing could answer
        # nmcli, so it is not run (a fork and exec on every takeover)
        return False, ("NetworkManager is installed but not running (no NetworkManager "
                       "process in this network namespace): nothing to hand off")
    res = _nmcli("-t", "-f", "DEVICE,STATE", "device")
    if res is None:
        return False, "NetworkManager is not installed here (no nmcli): nothing to hand off"
    if res.returncode != 0:
        why = ((res.stderr or res.stdout).strip().splitlines() or ["no answer"])[-1]
        pid = _nm_process()
        if pid is not None:
            raise LinkError(f"NetworkManager runs (pid {pid}) but does not answer ({why}), "
                            f"so it cannot be asked to leave {iface} alone and could undo "
                            f"the takeover; nothing was changed. Restart it (sudo systemctl "
                            f"restart NetworkManager) or stop it, then try again")
        return False, f"NetworkManager is installed but not running ({why}): nothing to hand off"
    for line in res.stdout.splitlines():
        device, _, state = line.replace("\\:", "\0").partition(":")
        if device.replace("\0", ":") == iface:
            if state.strip() == "unmanaged":
                return False, f"NetworkManager does not manage {iface}: nothing to hand off"
            return True, ""
    return False, f"NetworkManager does not know {iface}: nothing to hand off"


def _nm_set_managed(iface: str, managed: bool) -> str | None:
    """Tell NetworkManager; returns None on success, else what went wrong."""
    res = _nmcli("device", "set", iface, "managed", "yes" if managed else "no")
    if res is None:
        return "nmcli has gone"
    if res.returncode != 0:
        return (res.stderr or res.stdout).strip() or f"nmcli exit {res.returncode}"
    return None


def _nm_state(iface: str) -> str:
    res = _nmcli("-t", "-f", "GENERAL.STATE", "device", "show", iface)
    if res is None or res.returncode != 0:
        return ""
    # "GENERAL.STATE:100 (connected)"
    return res.stdout.strip().partition(":")[2]


def _nm_settle(iface: str) -> str:
    """NM's state for the port once it has picked it up again (``managed yes``
    returns at once): waits up to NM_SETTLE seconds for it to leave the
    unmanaged/disconnected states, and says what it is."""
    deadline = time.monotonic() + NM_SETTLE
    state = ""
    while time.monotonic() < deadline:
        state = _nm_state(iface)
        code = state.split(" ", 1)[0]
        if code.isdigit() and int(code) >= 40:     # prepare .. activated
            if int(code) == 100:
                break
        time.sleep(0.05)
    return state.partition("(")[2].rstrip(")") or state or "no state reported"


# --- netlink helpers --------------------------------------------------------------

def _ipr():
    from hwprobe.port.rtnl import Rtnl     # pyroute2's import alone took longer than the whole probe

    return Rtnl()


def _index(ipr, iface: str) -> int | None:
    found = ipr.link_lookup(ifname=iface)
    return found[0] if found else None


def _snapshot(ipr, port: interfaces.Port) -> journal.LinkRecord:
    rec = journal.LinkRecord(iface=port.name, netns=journal.netns_inode(),
                             ifindex=port.index, mac=port.mac, was_up=port.up)
    for msg in ipr.get_addr(index=port.index):
        family = 4 if msg["family"] == socket.AF_INET else 6
        addr = msg.get("address")
        flags = msg.get("IFA_FLAGS") or msg["flags"]
        cache = msg.get("IFA_CACHEINFO")
        dynamic = bool(cache) and cache.get("ifa_valid", 0xFFFFFFFF) != 0xFFFFFFFF
        if family == 6 and (interfaces.is_link_local(addr) or not flags & _IFA_F_PERMANENT):
            continue  # the kernel (SLAAC, DAD) re-creates these by itself
        label = msg.get("label")
        rec.addresses.append(journal.SavedAddress(
            address=addr, prefixlen=msg["prefixlen"], family=family,
            broadcast=msg.get("broadcast"), scope=msg["scope"],
            label=label if label and label != port.name else None, dynamic=dynamic))
    for msg in ipr.get_routes(family=socket.AF_INET, table=254):
        if msg.get("oif") != port.index or msg["proto"] == _RTPROT_KERNEL:
            continue
        rec.routes.append(journal.SavedRoute(
            dst=msg.get("dst"), dst_len=msg["dst_len"], gateway=msg.get("gateway"),
            priority=msg.get("priority"), proto=msg["proto"]))
    return rec


def _flush_ipv4(ipr, index: int) -> None:
    # secondaries first: deleting a primary would take them along anyway
    for msg in reversed(list(ipr.get_addr(family=socket.AF_INET, index=index))):
        try:
            ipr.addr("del", index=index, address=msg.get("address"),
                     prefixlen=msg["prefixlen"])
        except Exception as exc:  # noqa: BLE001 - gone already is fine
            if getattr(exc, "code", None) not in (99, 19):  # EADDRNOTAVAIL, ENODEV
                raise


def _port_names(ipr) -> dict[int, str]:
    """Interface index -> name, for every link of this namespace."""
    return {msg["index"]: msg.get("ifname") or str(msg["index"]) for msg in ipr.get_links()}


def _addresses_elsewhere(ipr, index: int) -> dict[str, str]:
    """IPv4 address -> port name, for every address of this laptop's other
    ports (loopback's 127/8 included: none of them can be claimed twice)."""
    names = _port_names(ipr)
    return {msg.get("address"): names.get(msg["index"], str(msg["index"]))
            for msg in ipr.get_addr(family=socket.AF_INET) if msg["index"] != index}


def _competing_routes(ipr, index: int, mine: ipaddress.IPv4Network):
    """(network, device name) of every main-table IPv4 route of another port
    that the kernel would prefer to, or rank with, this port's connected route
    to ``mine`` for some address of it: it overlaps ``mine`` with a prefix at
    least as long. Routes through a gateway are left alone (they go to another
    network)."""
    names = _port_names(ipr)
    for msg in ipr.get_routes(family=socket.AF_INET, table=254):
        oif = msg.get("oif")
        if oif is None or oif == index or msg.get("gateway"):
            continue
        net = ipaddress.IPv4Network(f"{msg.get('dst') or '0.0.0.0'}/{msg['dst_len']}",
                                    strict=False)
        if net.prefixlen >= mine.prefixlen and net.subnet_of(mine):
            yield net, names.get(oif, str(oif))


def _handed_off(rec: journal.LinkRecord) -> bool:
    return bool(rec.networkmanager or rec.port_owners)


def _kept(rec: journal.LinkRecord) -> list[journal.SavedAddress]:
    """The addresses bringup puts back itself: a leased one is left to the
    NetworkManager or DHCP client it came from, which renews it with its lease
    time (re-added by hand it would stay forever, and NM would not remove it)."""
    if not _handed_off(rec):
        return rec.addresses
    return [a for a in rec.addresses if not a.dynamic]


def _apply_record(ipr, rec: journal.LinkRecord, index: int) -> None:
    """Make the port's addresses, routes and up/down state match ``rec``."""
    addresses = _kept(rec)
    want4 = [(a.address, a.prefixlen) for a in addresses if a.family == 4]
    have4 = [(m.get("address"), m["prefixlen"])
             for m in ipr.get_addr(family=socket.AF_INET, index=index)]
    if have4 != want4:
        _flush_ipv4(ipr, index)
        for a in addresses:
            if a.family == 4:
                kw = {"broadcast": a.broadcast} if a.broadcast else {}
                if a.label:
                    kw["label"] = a.label
                ipr.addr("add", index=index, address=a.address, prefixlen=a.prefixlen,
                         scope=a.scope, **kw)
    have6 = {(m.get("address"), m["prefixlen"])
             for m in ipr.get_addr(family=socket.AF_INET6, index=index)}
    for a in addresses:
        if a.family == 6 and (a.address, a.prefixlen) not in have6:
            ipr.addr("add", index=index, address=a.address, prefixlen=a.prefixlen)
    ipr.link("set", index=index, state="up" if rec.was_up else "down")
    if rec.was_up:
        for r in ([] if _handed_off(rec) else rec.routes):  # owners re-add their own
            kw = {"dst": f"{r.dst or '0.0.0.0'}/{r.dst_len}", "oif": index, "proto": r.proto}
            if r.gateway:
                kw["gateway"] = r.gateway
            if r.priority is not None:
                kw["priority"] = r.priority
            try:
                ipr.route("add", **kw)
            except Exception as exc:  # noqa: BLE001
                if getattr(exc, "code", None) != 17:  # EEXIST: already back
                    raise


class _Early:
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


IFF_LOOPBACK = 0x8


def _port_now(iface: str) -> str:
    """What ``iface`` holds now, in words (for a journal bringup cannot use)."""
    try:
        with _ipr() as ipr:
            index = _index(ipr, iface)
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
    if rec.iface == "lo" or link["flags"] & IFF_LOOPBACK:
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


def _restore(rec: journal.LinkRecord, note: Callable[[str], None]) -> RestoredPort | None:
    """Apply ``rec`` to its port. Returns None when the port is gone (journal
    kept); raises LinkError when netlink refuses or the journal does not
    belong to the live port (journal kept, nothing changed)."""
    with _ipr() as ipr:
        index = _index(ipr, rec.iface)
        if index is None:
            note(f"{rec.iface} is gone (adapter unplugged?): its journal is kept; "
                 f"plug it back in and run `bringup restore-link`")
            return None
        refusal = _refusal(rec, ipr, index)
        if refusal:
            raise LinkError(refusal)
        try:
            _apply_record(ipr, rec, index)
        except Exception as exc:  # noqa: BLE001 - netlink errors come in many types
            raise LinkError(f"could not put {rec.iface} back ({exc}); its journal "
                            f"is kept: run `bringup restore-link` as root") from exc
    handed = False
    if rec.networkmanager:
        problem = _nm_set_managed(rec.iface, True)
        if problem:
            note(f"could not hand {rec.iface} back to NetworkManager ({problem}): "
                 f"run `nmcli device set {rec.iface} managed yes`")
        else:
            handed = True
            note(f"NetworkManager manages {rec.iface} again ({_nm_settle(rec.iface)})")
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
    owner still runs is skipped (LinkError if it is the one ``iface`` names).
    Raises NeedsPrivileges when there is something to restore but no
    CAP_NET_ADMIN, LinkError when netlink refuses.
    """
    note = on_note or (lambda _text: None)
    done = []
    damaged: list = []
    problems = []
    for rec in journal.records(damaged=damaged):
        if iface is not None and rec.iface != iface:
            continue
        if rec.owner_alive() and (rec.owner_pid != os.getpid()
                                  or (rec.netns, rec.iface) in _ACTIVE):
            msg = (f"{rec.iface} is in use by bringup (pid {rec.owner_pid}); "
                   f"quit that one first, it gives the port back itself")
            if iface is not None:
                raise LinkError(msg)
            note(msg)
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
                raise LinkError(str(exc)) from None
            note(str(exc))
            continue
        try:
            restored = _restore(rec, note)
        except LinkError as exc:        # the other ports are still put back
            problems.append(str(exc))
            continue
        finally:
            port_lock.release()
        if restored is not None:
            note(f"{rec.iface} put back: {rec.describe()}")
            done.append(restored)
    problems += [damaged_journal_message(d) for d in damaged
                 if iface is None or d.iface == iface]
    if problems:
        for restored in done:
            problems.insert(0, f"{restored.iface} put back: {restored.describe()}")
        raise LinkError("\n".join(problems))
    return done


# --- takeover -------------------------------------------------------------------

class Takeover:
    """One laptop port, held for the appliance until ``give_back()``.

    See the module docstring. Attributes: ``iface``, ``address`` (the address
    actually claimed, set by ``take()``), ``prefix``, ``notes`` (sentences said
    to the technician), ``record`` (the journal entry while held).
    """

    def __init__(self, iface: str, address: str = LAPTOP_ADDRESS,
                 prefix: int = LAPTOP_PREFIX, force: bool = False,
                 on_note: Callable[[str], None] | None = None,
                 handle_signals: bool = True, arp_wait: float = 0.2,
                 carrier_wait: float = 3.0, on_port_up: Callable[[], None] | None = None,
                 on_claimed: Callable[[str], None] | None = None, address_check=None):
        self.iface = iface
        self.requested = address
        self.address = address
        self.prefix = prefix
        self.force = force
        self.on_note = on_note
        self.handle_signals = handle_signals
        self.arp_wait = arp_wait
        self.carrier_wait = carrier_wait
        self.on_port_up = on_port_up
        self.on_claimed = on_claimed
        self.address_check = address_check
        self.notes: list[str] = []
        self.heeded: list[str] = []
        self.record: journal.LinkRecord | None = None
        self._lock = threading.RLock()
        self._key: tuple[int, str] | None = None
        self._old_handlers: dict[int, object] = {}
        self._busy = False
        self._pending_signal: int | None = None
        self._port_lock: PortLock | None = None
        self._early_check: _Early | None = None
        self._elsewhere: dict[str, str] = {}

    # -- words for the technician
    def note(self, text: str, heed: bool = False) -> None:
        """Say ``text`` to the technician; ``heed``: it changes what they should
        expect (an address moved aside, a client stopped, no cable...), so the
        console shows it on the next step too (``heeded``)."""
        self.notes.append(text)
        if heed:
            self.heeded.append(text)
        if self.on_note is not None:
            try:
                self.on_note(text)
            except OSError:  # a dropped terminal (SIGHUP) must not stop a give-back
                pass

    def _check_input(self) -> None:
        try:
            ip = ipaddress.IPv4Address(self.requested)
        except ValueError:
            raise BadInput(f"--laptop-address {self.requested}: not an IPv4 address") from None
        if not 1 <= int(self.prefix) <= 30:
            raise BadInput(f"prefix /{self.prefix}: must be 1-30")
        if not ip.is_link_local:
            self.note(f"{ip} is not a link-local address; using it as asked", heed=True)

    def _refusals(self, port: interfaces.Port) -> list[str]:
        reasons = []
        if port.default_route:
            reasons.append("it holds this laptop's default route")
        if port.global_address:
            reasons.append(f"it has the network address {', '.join(port.global_addresses)}")
        return reasons

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
            ns = journal.netns_inode()
            key = (ns, self.iface)
            with _ACTIVE_LOCK:
                if key in _ACTIVE:
                    raise LinkError(f"{self.iface} is already taken over by this bringup")
                # one bringup per port, across processes and state dirs: taken
                # before the journal is read, so a second run never touches it
                port_lock = PortLock(self.iface, ns)
                port_lock.acquire()
                try:
                    self._take_locked(key)
                except BaseException:
                    port_lock.release()
                    raise
                self._port_lock = port_lock
            self._install_signals()
            self._busy = True
            try:
                self._change_port()
            except BaseException:
                self._busy = False
                self.give_back()
                raise
            finally:
                self._busy = False
            self._raise_pending()
            return self

    def _take_locked(self, key: tuple[int, str]) -> None:
        """Under the port lock: put back a dead run's leftovers, check the
        port may be taken, and journal it (nothing is changed yet)."""
        try:
            stale = journal.load(self.iface)
        except journal.LinkJournalDamaged as exc:
            # set aside, the next journal would record the takeover address
            # as the port's own: the technician decides, by hand
            raise LinkError(damaged_journal_message(exc)) from None
        if stale is not None:
            if stale.owner_alive() and stale.owner_pid != os.getpid():
                raise LinkError(f"{self.iface} is in use by another bringup "
                                f"(pid {stale.owner_pid}); quit that one first")
            self.note(f"{self.iface} was left taken over by an earlier run "
                      f"that did not finish; putting it back first", heed=True)
            _restore(stale, self.note)
        port = interfaces.get_port(self.iface)
        reasons = self._refusals(port)
        if reasons and not self.force:
            raise PortRefused(
                f"{self.iface} refused: {' and '.join(reasons)}, so it is "
                f"probably not the cable to the appliance and taking it over "
                f"would cut this laptop off that network. Pick the port the "
                f"appliance is patched into (`bringup ports` lists them), or "
                f"add --force.")
        if reasons:
            self.note(f"--force: taking over {self.iface} although "
                      f"{' and '.join(reasons)}", heed=True)
        with _ipr() as ipr:
            # the laptop's own addresses on its other ports: never claimed twice
            self._elsewhere = _addresses_elsewhere(ipr, port.index)
            self._early_check = None
            if port.up and port.carrier:
                # the port is already up with a cable: the address check (and the
                # on_port_up work) change nothing on it, so they start now and
                # wait while the journal is written and its owners handed off
                started = self.address_check
                self._early_check = _Early(lambda: self._choose_address(
                    self._elsewhere, started.result() if started is not None else None))
                if self.on_port_up is not None:
                    self.on_port_up()
            record = _snapshot(ipr, port)
        try:
            journal.save(record)
        except OSError as exc:
            raise LinkError(f"cannot write the link journal ({exc}); nothing was "
                            f"changed on {self.iface}. Set BRINGUP_STATE_DIR to a "
                            f"writable directory.") from exc
        self.record = record
        _ACTIVE[key] = self
        self._key = key

    def _change_port(self) -> None:
        rec = self.record
        managed, why = _nm_manages(self.iface)
        if managed:
            problem = _nm_set_managed(self.iface, False)
            if problem:
                raise LinkError(f"NetworkManager manages {self.iface} and would undo "
                                f"the takeover, but refused to let go: {problem}")
            rec.networkmanager = True
            journal.save(rec)
            self.note(f"NetworkManager managed {self.iface}: set it unmanaged for now "
                      f"(`nmcli device set {self.iface} managed no`); it gets it "
                      f"back afterwards", heed=True)
        else:
            rec.networkmanager = False
            self.note(why)
        self._hand_off_owners(rec)
        with _ipr() as ipr:
            index = _index(ipr, self.iface)
            if index is None:
                raise LinkError(f"{self.iface} disappeared during takeover")
            try:
                _flush_ipv4(ipr, index)
                ipr.link("set", index=index, state="up")
                carrier = self._wait_carrier(ipr, index)
                if not carrier:
                    self.note(f"no carrier on {self.iface}: is the cable in, and "
                              f"the appliance powered?", heed=True)
                if self._early_check is not None:
                    self.address = self._early_check.result()
                else:
                    if self.on_port_up is not None:
                        self.on_port_up()   # e.g. a 0.0.0.0 search, during the address check
                    self.address = self._choose_address(self._elsewhere)
                ipr.addr("add", index=index, address=self.address, prefixlen=self.prefix)
                self._pin_network(ipr, index)
            except (BadInput, LinkError):
                raise
            except Exception as exc:  # noqa: BLE001 - rtnl raises NetlinkError/OSError
                raise LinkError(f"could not set up {self.iface}: {exc}") from exc
        if self.on_claimed is not None:
            self.on_claimed(self.address)   # e.g. the HTTPS check, during the save below
        rec.claimed = f"{self.address}/{self.prefix}"
        journal.save(rec)
        self.note(f"{self.iface} is on {self.address}/{self.prefix}, no gateway, no DNS "
                  f"(was: {rec.describe()})")

    def _pin_network(self, ipr, index: int) -> None:
        """Keep the laptop port's network on this port while it is held.

        Another port of the laptop on the same network (a second link-local
        port, a USB adapter left configured) has a connected route as good as
        this port's, and the kernel takes the older one: traffic that is not
        bound to this port (the web driver's, and the kernel's own resets and
        ICMP for the appliance's late segments) would leave by the other
        port, from this port's address. Each competing network gets two
        routes one bit longer through this port, from the claimed address;
        the kernel drops them by itself when that address goes (give-back,
        restore-link), so nothing of them needs journalling."""
        mine = ipaddress.IPv4Network(f"{self.address}/{self.prefix}", strict=False)
        pinned: list[str] = []
        others: dict[str, list[str]] = {}
        for net, dev in list(_competing_routes(ipr, index, mine)):
            if net.prefixlen >= 32:
                self.note(f"{net.network_address} is routed through {dev} as a host route: "
                          f"traffic to that one address leaves by {dev}, not "
                          f"{self.iface}", heed=True)
                continue
            for half in net.subnets(prefixlen_diff=1):
                if str(half) in pinned:
                    continue
                try:
                    ipr.route("add", dst=str(half), oif=index, prefsrc=self.address,
                              scope=_RT_SCOPE_LINK, proto=_RTPROT_STATIC)
                except Exception as exc:  # noqa: BLE001
                    if getattr(exc, "code", None) != 17:  # EEXIST: already there
                        raise
                pinned.append(str(half))
            others.setdefault(dev, []).append(str(net))
        if pinned:
            who = ", ".join(dev if nets == [str(mine)] else f"{dev} ({', '.join(nets)})"
                            for dev, nets in others.items())
            self.note(f"{who} is also on {mine}: while "
                      f"bringup holds {self.iface}, that network goes through {self.iface} "
                      f"only (routes {', '.join(pinned)}, removed with the address)", heed=True)

    def _hand_off_owners(self, rec: journal.LinkRecord) -> None:
        """Stop every DHCP or link-local client on the port before claiming it
        (they would put their address back); each is journalled before it
        is touched, so a give-back or restore-link starts it again."""
        owners = portowners.find(self.iface, rec.ifindex)
        for owner in owners:     # refuse before stopping any of them
            why = portowners.refusal(owner, self.iface)
            if why:
                raise LinkError(why + "; nothing was changed")
        for owner in owners:
            rec.port_owners.append(owner.saved())
            journal.save(rec)
            done = portowners.hand_off(owner, self.iface)
            rec.port_owners[-1] = owner.saved()     # with any helper it forked meanwhile
            journal.save(rec)
            self.note(f"{owner.kind} ran on {self.iface} (pid {owner.pid}): {done} "
                      f"for now; it runs again afterwards", heed=True)

    def _wait_carrier(self, ipr, index: int) -> bool:
        deadline = time.monotonic() + self.carrier_wait
        while True:
            link = ipr.get_links(index)[0]
            if link.get("carrier"):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _choose_address(self, elsewhere: dict[str, str] | None = None,
                        holders: dict[str, str] | None = None) -> str:
        """The address to claim: the requested one unless something holds it,
        on the wire (ARP) or on another port of this laptop (``elsewhere``:
        address -> port); the default moves aside to a free fallback, a
        chosen one is refused."""
        from hwprobe.port.arp import arp_holders

        elsewhere = elsewhere or {}
        if self.requested in elsewhere:
            who = f"this laptop's own {elsewhere[self.requested]}"
        else:
            if holders is None:    # else: a check the caller started already
                holders = arp_holders(self.iface, [self.requested], self.arp_wait)
            if not holders:
                return self.requested
            who = holders[self.requested]
        if self.requested != LAPTOP_ADDRESS:
            raise LinkError(f"{self.requested} is already used by {who}; pick another "
                            f"--laptop-address")
        free = [a for a in FALLBACK_ADDRESSES if a not in elsewhere]
        taken = arp_holders(self.iface, free, self.arp_wait) if free else {}
        for candidate in reversed(free):
            if candidate not in taken:
                self.note(f"{self.requested} is already used by {who}: "
                          f"using {candidate} instead", heed=True)
                return candidate
        raise LinkError(f"every laptop address 169.254.1.200-.254 is in use on "
                        f"{self.iface} or another port of this laptop; pick one with "
                        f"--laptop-address")

    def give_back(self) -> RestoredPort | None:
        """Restore the port exactly as recorded; returns what was restored
        (None when nothing was held). Harmless to repeat. Raises LinkError
        when netlink refuses (the journal is then kept for restore-link)."""
        with self._lock:
            rec = self.record
            if rec is None:
                return None
            self._busy = True
            try:
                restored = _restore(rec, self.note)
                if restored is not None:
                    self.note(f"{self.iface} given back: {rec.describe()}")
                self.record = None
                with _ACTIVE_LOCK:
                    _ACTIVE.pop(self._key, None)
                if self._port_lock is not None:
                    self._port_lock.release()
                    self._port_lock = None
            finally:
                self._busy = False
                self._remove_signals()
            self._raise_pending()
            return restored

    # -- signals: give back, then exit with the conventional status
    def _install_signals(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in _SIGNALS:
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def _remove_signals(self) -> None:
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers.clear()

    def _on_signal(self, signum, _frame) -> None:
        if self._busy:  # in the middle of a change: finish it, then act
            self._pending_signal = signum
            return
        self._pending_signal = signum
        self.give_back()
        self._raise_pending()

    def _raise_pending(self) -> None:
        signum = self._pending_signal
        if signum is None:
            return
        self._pending_signal = None
        if self.record is not None:
            self.give_back()
        self.note(f"stopped by {signal.Signals(signum).name}")
        raise SystemExit(128 + signum)

    def __enter__(self) -> "Takeover":
        return self.take()

    def __exit__(self, *exc) -> None:
        self.give_back()
