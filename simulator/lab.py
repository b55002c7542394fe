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
import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hwprobe.fsutil import atomic_write
from hwprobe.errors import BadInput, BringupError, NeedsPrivileges

RUN_ROOT = Path(os.environ.get("BRINGUP_LAB_DIR", "/run/bringup-lab"))
FACTORY = ("169.254.1.1", "169.254.1.2", "169.254.1.3", "169.254.1.4")
NIC_CHOICES = ("nic1", "nic2")
SIM_READY_SECONDS = 30.0
# a failover pair's production addresses (documentation range) and shared IP
PAIR = {"primary": "198.51.100.20", "backup": "198.51.100.21", "shared": "198.51.100.30",
        "netmask": "255.255.255.0", "laptop": "198.51.100.254"}


class LabError(BringupError):
    """A lab could not be made, changed or removed."""


@dataclass
class Lab:
    """One running lab, as ``lab.json`` records it."""

    name: str
    laptop_ns: str
    appliance_ns: str
    patch_ns: str
    laptop_iface: str
    appliance_address: str
    answers_on: str
    plug: str
    dir: str
    state_dir: str
    console: str | None = None
    control: str | None = None
    https_port: int = 443
    sim_pid: int | None = None
    nic_macs: dict | None = None
    backup: dict | None = None      # a paired backup appliance: ns, address, control, pid
    peers: dict | None = None       # real laptop-side programs (simulator.laptop): name -> pid, ...
    production: dict | None = None  # the production network (simulator/production.py)

    @property
    def primary_address(self) -> str | None:
        return PAIR["primary"] if self.backup else None

    @property
    def state_file(self) -> str:
        return str(Path(self.state_dir) / "state.json")

    def to_json(self) -> dict:
        d = asdict(self)
        d["state_file"] = self.state_file
        return d


# --- small helpers -----------------------------------------------------------

def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def netns_exec(ns: str, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` inside namespace ``ns`` and wait; kwargs go to subprocess.run."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(["ip", "netns", "exec", ns, *argv], **kwargs)


def netns_popen(ns: str, argv: list[str], **kwargs) -> subprocess.Popen:
    """Start ``argv`` inside namespace ``ns`` without waiting."""
    return subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kwargs)


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def in_netns(ns: str):
    """Switch the calling thread into network namespace ``ns`` for the block.

    Sockets opened inside the block, and threads started inside it, belong to
    ``ns``; the thread returns to its own namespace afterwards.
    """
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/ns/net") as own, open(f"/run/netns/{ns}") as target:
        _setns(target.fileno())
        try:
            yield
        finally:
            _setns(own.fileno())


def _check_root() -> None:
    if os.geteuid() != 0:
        raise NeedsPrivileges(
            "the lab creates network namespaces and needs root: run it with sudo"
        )
    if shutil.which("ip") is None:
        raise LabError("the lab needs iproute2 (`ip`): apt-get install iproute2")


def _check_name(name: str) -> None:
    if not name or len(name) > 20 or not all(c.isalnum() or c in "-_" for c in name):
        raise BadInput(
            f"lab name {name!r}: use 1-20 letters, digits, '-' or '_'"
        )


def _ns_names(name: str) -> tuple[str, ...]:
    return f"{name}-laptop", f"{name}-appliance", f"{name}-patch", f"{name}-backup"


def _all_ns_names(name: str) -> tuple[str, ...]:
    return (*_ns_names(name), f"{name}-prod")


def _mac(name: str, nic: int) -> str:
    h = hashlib.sha256(name.encode()).digest()
    return f"02:b5:{h[0]:02x}:{h[1]:02x}:00:{nic:02x}"


def _sysctl(ns: str, key: str, value: str) -> None:
    netns_exec(ns, ["sysctl", "-q", "-w", f"{key}={value}"], check=False)


def _namespaces() -> set[str]:
    r = _ip("netns", "list", check=False)
    return {line.split()[0] for line in r.stdout.splitlines() if line.strip()}


def lab_dir(name: str) -> Path:
    return RUN_ROOT / name


def get(name: str) -> Lab:
    """The running lab ``name``; LabError if there is none."""
    path = lab_dir(name) / "lab.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LabError(f"no lab named {name!r} is up (bringup lab up --name {name})") from None
    data.pop("state_file", None)
    # a lab made by a newer bringup may record more: keep what this one knows
    known = set(Lab.__dataclass_fields__)
    return Lab(**{k: v for k, v in data.items() if k in known})


def _save(lab: Lab) -> None:
    atomic_write(Path(lab.dir) / "lab.json", json.dumps(lab.to_json(), indent=2), mode=0o644)


def names() -> list[str]:
    """Names of labs that have a run directory or namespaces on this machine."""
    found = {p.name for p in RUN_ROOT.glob("*") if (p / "lab.json").exists()} if RUN_ROOT.exists() else set()
    for ns in _namespaces():
        for suffix in ("-laptop", "-appliance", "-patch", "-backup", "-prod"):
            if ns.endswith(suffix):
                found.add(ns[: -len(suffix)])
    return sorted(found)


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
) -> Lab:
    """Create lab ``name`` and start its simulated appliance; returns the Lab.

    Raises BadInput for a bad name/address/NIC, NeedsPrivileges when not root,
    LabError when a namespace already exists or the simulator does not start
    (its log's last lines are in the message). A half-made lab is removed.

    ``pair=True`` adds a second appliance (namespace N-backup, factory address
    169.254.1.2) cabled to the same patch bridges, and makes the two a failover
    pair on 198.51.100.20 (primary) and .21 (backup) with shared IP .30. Their
    command API accepts ``api_client`` (id, secret); without one a random
    secret is made and kept, readable by root only, in the lab's directory.

    ``production=("nic1", "nic2")`` adds the production network with its real
    services (simulator/production.py) and cables those NICs to it; its relay
    accepts user bt-alerts with ``smtp_password`` (else a random one, kept in
    the lab's directory, root only).
    """
    _check_name(name)
    if appliance_address not in FACTORY:
        raise BadInput(
            f"--appliance-address {appliance_address}: must be one of {', '.join(FACTORY)}"
        )
    if answers_on not in (*NIC_CHOICES, "both"):
        raise BadInput(f"--answers-on {answers_on}: must be nic1, nic2 or both")
    if plug not in NIC_CHOICES:
        raise BadInput(f"--plug {plug}: must be nic1 or nic2")
    _check_root()
    laptop, appliance, patch, _ = _ns_names(name)
    existing = _namespaces() & set(_all_ns_names(name))
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
        laptop_iface="lan0", appliance_address=appliance_address,
        answers_on=answers_on, plug=plug, dir=str(d), state_dir=str(d / "appliance"),
        nic_macs={"nic1": _mac(name, 1), "nic2": _mac(name, 2)},
    )
    try:
        _build_topology(lab)
        _save(lab)
        if pair:
            _pair_config(lab, api_client)
        if start_sim:
            _start_sim(lab, list(sim_args))
            _save(lab)
        if pair:
            _add_backup(lab, list(sim_args), start_sim)
            _save(lab)
        if production is not None:
            from . import production as prod

            prod.build(lab, tuple(production), smtp_password)
    except BaseException:
        down(name)
        raise
    return lab


def _new_ns(ns: str, *, appliance: bool = False) -> None:
    """A namespace with IPv6 off and loopback up; an appliance's also answers
    ARP only on the NIC that holds the address (arp_ignore=1)."""
    _ip("netns", "add", ns)
    for key in ("all", "default"):
        _sysctl(ns, f"net.ipv6.conf.{key}.disable_ipv6", "1")
        if appliance:
            _sysctl(ns, f"net.ipv4.conf.{key}.arp_ignore", "1")
    _ip("-n", ns, "link", "set", "lo", "up")


def _build_topology(lab: Lab) -> None:
    for ns in (lab.laptop_ns, lab.appliance_ns, lab.patch_ns):
        _new_ns(ns, appliance=ns == lab.appliance_ns)
    p = lab.patch_ns
    for nic in NIC_CHOICES:
        _ip("-n", p, "link", "add", f"br-{nic}", "type", "bridge", "stp_state", "0",
            "forward_delay", "0")
        _ip("link", "add", nic, "netns", lab.appliance_ns, "address", lab.nic_macs[nic],
            "type", "veth", "peer", "name", f"a-{nic}", "netns", p)
        _ip("-n", p, "link", "set", f"a-{nic}", "master", f"br-{nic}", "up")
        _ip("-n", p, "link", "set", f"br-{nic}", "up")
        _sysctl(lab.appliance_ns, f"net.ipv4.conf.{nic}.arp_ignore", "1")
        _ip("-n", lab.appliance_ns, "link", "set", nic, "up")
    _ip("link", "add", lab.laptop_iface, "netns", lab.laptop_ns, "type", "veth",
        "peer", "name", "cable", "netns", p)
    _ip("-n", p, "link", "set", "cable", "master", f"br-{lab.plug}", "up")
    _ip("-n", lab.laptop_ns, "link", "set", lab.laptop_iface, "up")


def _start_sim(lab: Lab, sim_args: list[str]) -> None:
    ready = _launch(lab, lab.appliance_ns, Path(lab.state_dir), "", lab.appliance_address,
                    lab.answers_on, sim_args)
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
        sys.executable, "-m", "simulator", "serve",
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
    """login.json for both appliances of a failover pair (secrets hashed)."""
    import secrets as _secrets

    from .login_api import secret_hash

    if api_client is None:
        api_client = ("drill", _secrets.token_urlsafe(18))
        path = Path(lab.dir) / "api-client.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"client_id": api_client[0], "client_secret": api_client[1]}, f)
    peer_key = _secrets.token_urlsafe(18)
    common = {"api_clients": {api_client[0]: secret_hash(api_client[1])}, "peer_key": peer_key,
              "shared_ips": [PAIR["shared"]]}
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
    _new_ns(ns, appliance=True)
    for n, nic in enumerate(NIC_CHOICES, start=1):
        _ip("link", "add", nic, "netns", ns, "address", _mac(lab.name + "-backup", n),
            "type", "veth", "peer", "name", f"b-{nic}", "netns", lab.patch_ns)
        _ip("-n", lab.patch_ns, "link", "set", f"b-{nic}", "master", f"br-{nic}", "up")
        _ip("-n", ns, "link", "set", nic, "up")
    lab.backup = {"ns": ns, "address": PAIR["backup"], "state_dir": str(Path(lab.dir) / "backup")}
    if start_sim:
        ready = _launch(lab, ns, Path(lab.backup["state_dir"]), "-backup", "169.254.1.2", "nic1",
                        sim_args, serial="B400-0012346")
        lab.backup.update(pid=ready["pid"], control=ready["control"], console=ready["console"])


def stop_appliance(name: str, which: str = "primary") -> Lab:
    """Stop one appliance's simulator (a failed primary, for a failover drill)."""
    _check_root()
    lab = get(name)
    pid = lab.sim_pid if which == "primary" else (lab.backup or {}).get("pid")
    if pid:
        _stop([pid], grace=5)
    return lab


def restart_appliance(name: str, sim_args: list[str] | tuple[str, ...] = ()) -> Lab:
    """Stop the lab's simulated appliance and start it again on the same state
    (a power cycle): sessions are gone, settings and password stay."""
    lab = stop_appliance(name, "primary")
    _start_sim(lab, list(sim_args))
    _save(lab)
    return lab


def plug(name: str, nic: str) -> Lab:
    """Move lab ``name``'s cable to ``nic``: carrier drops on lan0, then returns."""
    if nic not in NIC_CHOICES:
        raise BadInput(f"lab plug {nic}: must be nic1 or nic2")
    _check_root()
    lab = get(name)
    p = lab.patch_ns
    _ip("-n", p, "link", "set", "cable", "down")
    _ip("-n", p, "link", "set", "cable", "nomaster")
    time.sleep(0.05)  # a cable pull is never instantaneous; lets watchers see carrier off
    _ip("-n", p, "link", "set", "cable", "master", f"br-{nic}")
    _ip("-n", p, "link", "set", "cable", "up")
    lab.plug = nic
    _save(lab)
    return lab


def unplug(name: str) -> Lab:
    """Pull the cable out of the appliance: lan0 loses carrier."""
    _check_root()
    lab = get(name)
    _ip("-n", lab.patch_ns, "link", "set", "cable", "down")
    return lab


def _kill_ns_processes(ns: str) -> None:
    r = _ip("netns", "pids", ns, check=False)
    _stop([int(p) for p in r.stdout.split() if p.isdigit()], grace=3)


def _stop(pids: list[int], grace: float) -> None:
    """SIGTERM, up to ``grace`` seconds to end, then SIGKILL (and wait again)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            if not alive:
                return
            time.sleep(0.05)
        pids = alive


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


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
    _check_root()
    did = False
    for ns in _all_ns_names(name):
        if ns in _namespaces():
            _kill_ns_processes(ns)
            _ip("netns", "del", ns, check=False)
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
