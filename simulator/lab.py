"""The lab: a simulated B Series appliance cabled to a simulated laptop.

Three network namespaces per lab, all named after the lab:

    N-laptop      lan0 ──┐                       (the technician's laptop port)
    N-patch       cable ─┴─ br-nic1 ── a-nic1 ─┐ (patch panel: one bridge per NIC;
                            br-nic2 ── a-nic2 ─┤  the cable's far end sits in one)
    N-appliance   nic1 ────────────────────────┘  nic2 (the appliance, its simulator)

``plug(name, "nic2")`` moves the cable's far end from one bridge to the other:
the cable end goes down (the laptop sees carrier drop on lan0), changes bridge,
and comes back up. The appliance namespace sets ``arp_ignore=1`` so NIC2's
address is not answered on NIC1. IPv6 is off in every namespace so the wire
carries only what the tool and the appliance send.

Everything about a running lab is in ``/run/bringup-lab/N/lab.json``; ``down``
works from that file and, when it is gone, from the namespace names alone, so
it also cleans a lab whose processes died. Needs root.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets as _secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .factory import FACTORY_ADDRESSES, NICS
from .labfile import (NS_SUFFIXES, PAIR, RUN_ROOT, Lab, get, lab_dir, names, save,
                      save_credentials)
from .netns import (
    LabBadInput, LabError, check_root, in_netns, ip, namespaces, netns_exec,
    netns_popen, new_ns, stop_ns_processes, stop_processes, sysctl,
)
from .netns import alive as _alive

SIM_READY_SECONDS = 30.0

__all__ = [  # what bringup and the tests use of the lab, wherever it is written
    "Lab", "LabBadInput", "LabError", "PAIR", "RUN_ROOT", "down", "get",
    "in_netns", "lab_dir", "names", "netns_exec", "netns_popen", "plug", "restart_appliance",
    "stop_appliance", "unplug", "up",
]


def _check_name(name: str) -> None:
    if not name or len(name) > 20 or not all(c.isalnum() or c in "-_" for c in name):
        raise LabBadInput(
            f"lab name {name!r}: use 1-20 letters, digits, '-' or '_'"
        )


def _ns_names(name: str) -> tuple[str, ...]:
    return f"{name}-laptop", f"{name}-appliance", f"{name}-patch", f"{name}-backup"


def _all_ns_names(name: str) -> tuple[str, ...]:
    return tuple(f"{name}{suffix}" for suffix in NS_SUFFIXES)


def _mac(nic: int) -> str:
    """A new MAC for a lab appliance's NIC (locally administered, ``02:b5``):
    two random octets, so a lab made again is a different appliance, as a new
    box is in the field; bringup keeps its run journals and certificate pins
    per MAC, and a demo run twice must not meet the first run's state."""
    h = os.urandom(2)
    return f"02:b5:{h[0]:02x}:{h[1]:02x}:00:{nic:02x}"


def _macs(macs: dict | None) -> dict:
    """The NICs' MACs: ``macs`` where given (a test that needs exact octets),
    else new ones; nic1 and nic2 share their random octets, as one box's do."""
    made = _mac(1)
    made = {"nic1": made, "nic2": made[:-2] + "02"}
    return {**made, **(macs or {})}


# --- up / plug / down ----------------------------------------------------------

def up(
    name: str = "lab",
    appliance_address: str = "169.254.1.1",
    answers_on: str = "nic1",
    plug: str = "nic1",
    sim_args: list[str] | tuple[str, ...] = (),
    start_sim: bool = True,
    fresh: bool = True,
    pair: bool = False,
    api_client: tuple[str, str] | None = None,
    production: tuple[str, ...] | None = None,
    smtp_password: str | None = None,
    site: bool = False,
    factory: bool = False,
    appliance_password: str | None = None,
    macs: dict | None = None,
    gateway: str | None = None,
    dhcp_client: bool = False,
    switch: bool = False,
    booting: float = 0.0,
) -> Lab:
    """Create lab ``name`` and start its simulated appliance; returns the Lab.

    Raises LabBadInput for a bad name/address/NIC, LabNeedsRoot when not root,
    LabError when a namespace already exists or the simulator does not start
    (its log's last lines are in the message). A half-made lab is removed.

    ``pair=True`` adds a second appliance (namespace N-backup, factory address
    169.254.1.2) cabled to the same patch bridges, and makes the two a failover
    pair on 198.51.100.20 (primary) and .21 (backup) with shared IP .30. Their
    API accepts ``api_client`` (id, secret); without one a random secret is
    made and kept, readable by root only, in the lab's directory
    (credentials.json).

    ``site=True`` (one appliance) and ``pair=True`` put the appliances in
    production (simulator/site.py): the example sheet's settings, the site's
    CA-signed certificate, site software, /login state, the /appliance
    password ``appliance_password`` (else made and kept like the API
    secret), the site's update file in the lab's directory, and lan0 on
    198.51.100.250/24. ``factory=True`` leaves a pair as from the factory
    (the pair's addresses only), for drills that bring one up.

    ``production=("nic1", "nic2")`` adds the production network with its real
    services (simulator/production.py) and cables those NICs to it; its relay
    accepts user bt-alerts with ``smtp_password`` (else a random one, kept in
    the lab's directory, root only).

    ``macs`` ({"nic1": ..., "nic2": ...}): the appliance NICs' MACs; by
    default new random ones each time a lab is made.

    Not factory-fresh (simulator/used.py, simulator/cable.py):
    ``appliance_address="203.0.113.40/24"`` (any address with its prefix)
    holds an earlier site's settings, ``gateway`` among them, and its
    password (``appliance_password``, else made and kept like the site's),
    and sends DNS and NTP queries on its own; ``dhcp_client`` runs a real dhclient in the
    appliance namespace (no address); ``switch`` patches the laptop's cable
    into a switch running real lldpd instead; ``booting`` keeps the
    appliance silent that many seconds.
    """
    _check_name(name)
    address, prefix = _appliance_address(appliance_address, gateway, dhcp_client)
    if booting < 0 or booting > 3600:
        raise LabBadInput(f"--booting {booting:g}: give 0-3600 seconds")
    if answers_on not in (*NICS, "both"):
        raise LabBadInput(f"--answers-on {answers_on}: must be nic1, nic2 or both")
    if plug not in NICS:
        raise LabBadInput(f"--plug {plug}: must be nic1 or nic2")
    if site and pair:
        raise LabBadInput("--site and --pair: choose one (a pair's appliances are in production too)")
    if (site or pair) and (prefix or dhcp_client or booting):
        raise LabBadInput("--site and --pair make appliances of their own: leave out "
                          "--appliance-address ADDRESS/PREFIX, --dhcp-client and --booting")
    in_production = site or (pair and not factory)
    check_root()
    laptop, appliance, patch, _ = _ns_names(name)
    existing = namespaces() & set(_all_ns_names(name))
    if existing:
        raise LabError(
            f"lab {name!r} is already up (namespaces {', '.join(sorted(existing))}); "
            f"`bringup lab down --name {name}` first"
        )
    d = lab_dir(name)
    if d.exists() and fresh:
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    lab = Lab(
        name=name, laptop_ns=laptop, appliance_ns=appliance, patch_ns=patch,
        laptop_iface="lan0", appliance_address=address,
        answers_on=answers_on, plug=plug, dir=str(d), state_dir=str(d / "appliance"),
        nic_macs=_macs(macs),
        appliance_prefix=prefix, appliance_gateway=gateway if prefix else None,
        dhcp=dhcp_client, booting=float(booting),
    )
    try:
        _build_topology(lab)
        save(lab)
        if in_production:
            from . import site as sitemod

            smtp_password = smtp_password or _secrets.token_urlsafe(15)
            lab.site = sitemod.prepare(lab, pair=pair, api_client=api_client,
                                       appliance_password=appliance_password,
                                       firmware=_firmware(sim_args), smtp_password=smtp_password)
            save(lab)
        elif pair:
            _pair_config(lab, api_client)
        elif prefix or dhcp_client:
            _used_state(lab, appliance_password)
        if start_sim:
            _start_sim(lab, list(sim_args))
            save(lab)
        if pair:
            _add_backup(lab, list(sim_args), start_sim)
            save(lab)
        if in_production:
            ip("-n", lab.laptop_ns, "addr", "add", f"{lab.site['laptop']}/24", "dev",
               lab.laptop_iface)
        if production is not None:
            from . import production as prod

            prod.build(lab, tuple(production), smtp_password)
        if dhcp_client or switch:
            from . import cable

            if dhcp_client:
                cable.start_dhcp_client(lab)
            if switch:
                cable.add_switch(lab)
    except BaseException:
        down(name)
        raise
    return lab


def _firmware(sim_args) -> str | None:
    """The firmware profile the simulator's flags ask for (--firmware NAME)."""
    args = list(sim_args)
    for i, arg in enumerate(args):
        if arg == "--firmware" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--firmware="):
            return arg.split("=", 1)[1]
    return None


def _build_topology(lab: Lab) -> None:
    for ns in (lab.laptop_ns, lab.appliance_ns, lab.patch_ns):
        new_ns(ns, appliance=ns == lab.appliance_ns)
    p = lab.patch_ns
    for nic in NICS:
        # the bridge is only the cable: nothing of its own on the wire (with
        # multicast snooping it sends IGMP reports, which a listening bringup hears)
        ip("-n", p, "link", "add", f"br-{nic}", "type", "bridge", "stp_state", "0",
           "forward_delay", "0", "mcast_snooping", "0")
        ip("link", "add", nic, "netns", lab.appliance_ns, "address", lab.nic_macs[nic],
           "type", "veth", "peer", "name", f"a-{nic}", "netns", p)
        ip("-n", p, "link", "set", f"a-{nic}", "master", f"br-{nic}", "up")
        ip("-n", p, "link", "set", f"br-{nic}", "up")
        sysctl(lab.appliance_ns, f"net.ipv4.conf.{nic}.arp_ignore", "1")
        ip("-n", lab.appliance_ns, "link", "set", nic, "up")
    ip("link", "add", lab.laptop_iface, "netns", lab.laptop_ns, "type", "veth",
       "peer", "name", "cable", "netns", p)
    ip("-n", p, "link", "set", "cable", "master", f"br-{lab.plug}", "up")
    ip("-n", lab.laptop_ns, "link", "set", lab.laptop_iface, "up")


def _appliance_address(text: str, gateway: str | None,
                       dhcp: bool) -> tuple[str, int | None]:
    """(address, prefix or None for a factory address) of ``--appliance-address``.
    Raises LabBadInput."""
    from .used import network_of

    if "/" not in text:
        if text not in FACTORY_ADDRESSES:
            raise LabBadInput(
                f"--appliance-address {text}: must be one of {', '.join(FACTORY_ADDRESSES)}, "
                f"or ADDRESS/PREFIX for an appliance holding an earlier site's address "
                f"(203.0.113.40/24)")
        if gateway:
            raise LabBadInput("--appliance-gateway goes with --appliance-address ADDRESS/PREFIX")
        return text, None
    address, _, prefix = text.partition("/")
    try:
        if not prefix.isdigit():
            raise ValueError(f"{text}: give ADDRESS/PREFIX, as in 203.0.113.40/24")
        net = network_of(address, int(prefix))
        if gateway is not None:
            import ipaddress

            if ipaddress.IPv4Address(gateway) not in net or gateway == address:
                raise ValueError(f"gateway {gateway} is not another address of {net}")
    except ValueError as exc:
        raise LabBadInput(f"--appliance-address: {exc}") from None
    if dhcp:
        raise LabBadInput("--dhcp-client makes an appliance with no address: leave out "
                          "--appliance-address ADDRESS/PREFIX")
    return address, int(prefix)


def _used_state(lab: Lab, password: str | None) -> None:
    """The state of an appliance that is not factory-fresh (simulator/used.py),
    written before its simulator starts: an earlier site's settings and
    password (``password``, else one made and kept like the site's, root
    only), or set to DHCP. Raises LabBadInput for what the appliance refuses."""
    from . import used
    from .appliance import Refused

    state = Path(lab.state_dir)
    try:
        if lab.dhcp:
            used.configure_dhcp(state, answers_on=lab.answers_on)
            return
        if password is None:
            password = "Earlier-" + _secrets.token_urlsafe(12) + "-7b"
            save_credentials(lab.dir, {"appliance_password": password})
        used.configure(state, address=lab.appliance_address, prefix=lab.appliance_prefix,
                       gateway=lab.appliance_gateway, answers_on=lab.answers_on,
                       password=password)
    except (ValueError, Refused) as exc:
        raise LabBadInput(f"the earlier site's appliance: {exc}") from None


def _state_args(lab: Lab) -> list[str]:
    """The simulator's flags for an appliance that is not factory-fresh."""
    return ((["--chatter"] if lab.appliance_prefix else [])
            + (["--boot-seconds", f"{lab.booting:g}"] if lab.booting else []))


def _start_sim(lab: Lab, sim_args: list[str]) -> None:
    factory = FACTORY_ADDRESSES[0] if lab.appliance_prefix else lab.appliance_address
    ready = _launch(lab, lab.appliance_ns, Path(lab.state_dir), "", factory,
                    lab.answers_on, [*_state_args(lab), *sim_args])
    lab.sim_pid = ready["pid"]
    lab.console = ready["console"]
    lab.control = ready["control"]
    lab.https_port = int(ready.get("https_port") or 443)


def _launch(lab: Lab, ns: str, state: Path, tag: str, address: str, answers_on: str,
            sim_args: list[str], serial: str | None = None) -> dict:
    """Start one simulator in ``ns``; returns its ready record (pid, console, control)."""
    state.mkdir(parents=True, exist_ok=True)
    out = Path(lab.dir) / f"sim{tag}.out"
    log = Path(lab.dir) / f"sim{tag}.log"
    console = str(Path(lab.dir) / f"console{tag}")
    control = str(Path(lab.dir) / f"control{tag}.sock")
    argv = [
        # -P: the simulator beside this file (PYTHONPATH), not one in the cwd
        sys.executable, "-P", "-m", "simulator", "serve",
        "--state-dir", str(state),
        "--factory-address", address,
        "--answers-on", answers_on,
        "--manage-interfaces",
        "--console-link", console,
        "--control", control,
        *(["--serial", serial] if serial else []),
        *sim_args,
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")])
    )
    with open(out, "w") as fout, open(log, "a") as flog:
        proc = netns_popen(ns, argv, stdout=fout, stderr=flog,
                           stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    deadline = time.monotonic() + SIM_READY_SECONDS
    while time.monotonic() < deadline:
        text = out.read_text() if out.exists() else ""
        for line in text.splitlines():
            try:
                ready = json.loads(line)
            except ValueError:
                continue
            if ready.get("ready"):
                ready.update(pid=proc.pid, console=ready.get("console") and console,
                             control=control)
                return ready
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text()[-1500:] if log.exists() else ""
    if proc.poll() is None:
        proc.kill()
    raise LabError(f"the simulated appliance did not start; its log ends:\n{tail}")


def _pair_config(lab: Lab, api_client: tuple[str, str] | None) -> None:
    """login.json for both appliances of a factory failover pair (secrets hashed)."""
    from .login_api import secret_hash

    if api_client is None:
        api_client = ("drill", _secrets.token_urlsafe(18))
        save_credentials(lab.dir, {"api_client_id": api_client[0],
                                   "api_client_secret": api_client[1]})
    peer_key = _secrets.token_urlsafe(18)
    common = {"api_clients": {api_client[0]: {"secret_sha256": secret_hash(api_client[1]),
                                              "permissions": ["command", "backup"]}},
              "peer_key": peer_key, "shared_ips": [PAIR["shared"]]}
    for role, me, peer, state in (("primary", PAIR["primary"], PAIR["backup"], lab.state_dir),
                                  ("backup", PAIR["backup"], PAIR["primary"],
                                   str(Path(lab.dir) / "backup"))):
        Path(state).mkdir(parents=True, exist_ok=True)
        cfg = {**common, "role": role, "peer": peer, "peer_port": 443,
               "preset_ips": [{"nic": "nic1", "address": me, "netmask": PAIR["netmask"]}]}
        (Path(state) / "login.json").write_text(json.dumps(cfg, indent=2))


def _add_backup(lab: Lab, sim_args: list[str], start_sim: bool) -> None:
    """A second appliance namespace on the same patch bridges, and its simulator."""
    ns = f"{lab.name}-backup"
    new_ns(ns, appliance=True)
    macs = _macs(None)
    for nic in NICS:
        ip("link", "add", nic, "netns", ns, "address", macs[nic],
           "type", "veth", "peer", "name", f"b-{nic}", "netns", lab.patch_ns)
        ip("-n", lab.patch_ns, "link", "set", f"b-{nic}", "master", f"br-{nic}", "up")
        ip("-n", ns, "link", "set", nic, "up")
    lab.backup = {"ns": ns, "address": PAIR["backup"], "state_dir": str(Path(lab.dir) / "backup")}
    if start_sim:
        ready = _launch(lab, ns, Path(lab.backup["state_dir"]), "-backup", "169.254.1.2", "nic1",
                        sim_args, serial="B400-0012346")
        lab.backup.update(pid=ready["pid"], control=ready["control"], console=ready["console"])


def stop_appliance(name: str, which: str = "primary") -> Lab:
    """Stop one appliance's simulator (a failed primary, for a failover drill)."""
    check_root()
    lab = get(name)
    pid = lab.sim_pid if which == "primary" else (lab.backup or {}).get("pid")
    if pid:
        stop_processes([pid], grace=5)
    return lab


def restart_appliance(name: str, sim_args: list[str] | tuple[str, ...] = ()) -> Lab:
    """Stop the lab's simulated appliance and start it again on the same state
    (a power cycle): sessions are gone, settings and password stay."""
    lab = stop_appliance(name, "primary")
    _start_sim(lab, list(sim_args))
    save(lab)
    return lab


def plug(name: str, nic: str) -> Lab:
    """Move lab ``name``'s cable to ``nic`` (or "switch", when the lab has
    one): carrier drops on lan0, then returns."""
    if nic not in (*NICS, "switch"):
        raise LabBadInput(f"lab plug {nic}: must be nic1 or nic2 (or switch)")
    check_root()
    lab = get(name)
    from .cable import check_plug

    bridge = check_plug(lab, nic)
    p = lab.patch_ns
    ip("-n", p, "link", "set", "cable", "down")
    ip("-n", p, "link", "set", "cable", "nomaster")
    time.sleep(0.05)  # a cable pull is never instantaneous; lets watchers see carrier off
    ip("-n", p, "link", "set", "cable", "master", bridge)
    ip("-n", p, "link", "set", "cable", "up")
    lab.plug = nic
    save(lab)
    return lab


def unplug(name: str) -> Lab:
    """Pull the cable out of the appliance: lan0 loses carrier."""
    check_root()
    lab = get(name)
    ip("-n", lab.patch_ns, "link", "set", "cable", "down")
    return lab


def _started_from(pid: int | None, d: Path) -> bool:
    """True when ``pid`` still runs with this lab's directory on its command
    line (a recorded pid may since belong to someone else)."""
    try:
        return bool(pid) and str(d) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(
            errors="replace")
    except OSError:
        return False


def down(name: str) -> bool:
    """Remove lab ``name``: its processes, namespaces (and so its veths) and run
    directory. Safe to repeat; returns True when there was something to remove."""
    check_root()
    did = False
    for ns in _all_ns_names(name):
        if ns in namespaces():
            stop_ns_processes(ns)
            ip("netns", "del", ns, check=False)
            did = True
    d = lab_dir(name)
    if d.exists():
        try:
            data = json.loads((d / "lab.json").read_text())
            pids = [data.get("sim_pid"), (data.get("backup") or {}).get("pid"),
                    *((data.get("production") or {}).get("pids") or {}).values(),
                    *[p.get("pid") for p in (data.get("peers") or {}).values()
                      if _started_from(p.get("pid"), d)]]
        except (OSError, ValueError):
            pids = []
        for pid in pids:
            if pid and _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(d, ignore_errors=True)
        did = True
    return did
