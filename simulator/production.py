"""The lab's production network (``bringup lab up --production``).

One more namespace, N-prod, stands for the site: its routers and servers.

    N-patch  br-nic1 ── q-nic1 ══ up1  N-prod  198.51.100.1 (gateway), .254 (router),
                                                .53 DNS, .123 NTP, .5 syslog, .25 mail
             br-nic2 ── q-nic2 ══ up2[.20]     203.0.113.53/25 DNS (VLAN 20 where the
                                                kernel has VLANs, else untagged)
                                        far     203.0.113.200/25 NTP (ntp.example.net),
                                                behind the static route 203.0.113.128/25

The addresses are those of assets/example-sheet.toml (the demo's sheet too).
``patch(name, nic, on)`` cables the appliance's NIC to the production segment
by putting q-nicN into (or out of) the NIC's bridge; the laptop's cable, in the
same bridge, then shares the segment. The services (simulator/services.py) are
real daemons; their pids are in lab.json and ``lab down`` ends them with the
namespace. Needs root.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from . import services
from .labfile import get, save
from .netns import LabError, in_netns, ip, new_ns, stop_processes, sysctl

READY_SECONDS = 15.0
# each service as a message names it, and its log in the production folder
SERVICE_NAMES = {"dnsmasq": "DNS server (dnsmasq)", "chronyd": "NTP server (chronyd)",
                 "rsyslog": "syslog server (rsyslog)", "smtp": "e-mail relay (aiosmtpd)"}
LOGS = {"rsyslog": "rsyslog.log", "smtp": "smtp.log"}


def prod_ns(name: str) -> str:
    return f"{name}-prod"


def build(lab, nics: tuple[str, ...] = ("nic1", "nic2"), smtp_password: str | None = None) -> dict:
    """Make N-prod, start the four services, patch ``nics``; returns the record
    kept in lab.json (namespace, pids, directory, SMTP user and password file).
    LabError when a service is missing or does not get ready (its log's tail)."""
    ns = prod_ns(lab.name)
    d = Path(lab.dir) / "production"
    d.mkdir(parents=True, exist_ok=True)
    for binary in ("dnsmasq", "chronyd", "rsyslogd", "aiosmtpd"):
        try:
            services.tool(binary)
        except services.ServiceMissing as exc:
            raise LabError(str(exc)) from None
    new_ns(ns)
    sysctl(ns, "net.ipv4.ip_forward", "1")
    for n, nic in ((1, "nic1"), (2, "nic2")):
        ip("link", "add", f"up{n}", "netns", ns, "type", "veth", "peer", "name", f"q-{nic}",
            "netns", lab.patch_ns)
        ip("-n", ns, "link", "set", f"up{n}", "up")
    for addr in services.NIC1_ADDRESSES.values():
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "up1")
    nic2_dev = "up2.20"
    if ip("-n", ns, "link", "add", "link", "up2", "name", nic2_dev, "type", "vlan", "id", "20",
           check=False).returncode != 0:
        nic2_dev = "up2"        # no 8021q here: the appliance also puts VLAN 20 untagged
    ip("-n", ns, "link", "set", nic2_dev, "up")
    for addr in services.NIC2_ADDRESSES.values():
        ip("-n", ns, "addr", "add", f"{addr}/25", "dev", nic2_dev)
    # a veth pair, not a dummy: some kernels here have no dummy module
    ip("-n", ns, "link", "add", "far", "type", "veth", "peer", "name", "far-end")
    for dev in ("far", "far-end"):
        ip("-n", ns, "link", "set", dev, "up")
    for addr in services.FAR_ADDRESSES.values():
        ip("-n", ns, "addr", "add", f"{addr}/25", "dev", "far")
    password_file = d / "smtp-password"
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(smtp_password or secrets.token_urlsafe(15))
    certs = services.make_certificates(d / "tls")
    record = {"ns": ns, "dir": str(d), "smtp_user": services.SMTP_USER,
              "smtp_password_file": str(password_file), "ca": certs["ca"], "patched": [],
              "syslog_log": str(d / "syslog" / "received.log"), "mail_spool": str(d / "mail"),
              "pids": {}}
    lab.production = record
    save(lab)
    procs = {"dnsmasq": services.start_dnsmasq(ns, d), "chronyd": services.start_chronyd(ns, d),
             "rsyslog": services.start_rsyslog(ns, d, certs),
             "smtp": services.start_smtp(ns, d, certs, password_file)}
    record["pids"] = {k: p.pid for k, p in procs.items()}
    save(lab)
    _wait_ready(ns, d, procs)
    for nic in nics:
        patch_nic(lab, nic, True)
    save(lab)
    return record


def _wait_ready(ns: str, d: Path, procs: dict) -> None:
    from . import netclients as nc

    checks = {
        "dnsmasq": lambda: nc.dns_query("mail.example.net", services.NIC1_ADDRESSES["dns"], 0.3)[0],
        "chronyd": lambda: nc.ntp_query(services.NIC1_ADDRESSES["ntp"], 0.3)[0],
        "rsyslog": lambda: all(nc.tcp_connect(services.NIC1_ADDRESSES["syslog"], p, 0.3)[0]
                               for p in (514, 6514)),
        "smtp": lambda: all(nc.tcp_connect(services.NIC1_ADDRESSES["smtp"], p, 0.3)[0]
                            for p in (587, 465)),
    }
    waiting = dict(checks)
    dead = None
    deadline = time.monotonic() + READY_SECONDS
    while waiting and dead is None and time.monotonic() < deadline:
        for key in list(waiting):
            if procs[key].poll() is not None:
                dead = key
                break
            with in_netns(ns):
                if waiting[key]():
                    del waiting[key]
        else:
            time.sleep(0.05)
    if dead is None and not waiting:
        return
    # name the one that failed (the one that died, else the first still waited
    # for), with its own log: an empty log of another service says nothing
    key = dead or next(iter(waiting))
    log = d / LOGS.get(key, f"{key}.log")
    tail = log.read_text(errors="replace")[-1200:].strip() if log.exists() else ""
    what = (f"stopped at start (exit status {procs[key].returncode})" if dead
            else f"did not get ready within {READY_SECONDS:.0f} s")
    raise LabError(f"the production network's {SERVICE_NAMES[key]} {what}; its log {log} "
                   f"ends:\n{tail or '(empty)'}")


def patch_nic(lab, nic: str, on: bool = True) -> None:
    """Cable the appliance's ``nic`` to the production segment (or unplug it)."""
    if nic not in ("nic1", "nic2"):
        raise LabError(f"no NIC {nic!r} (nic1 or nic2)")
    if on:
        ip("-n", lab.patch_ns, "link", "set", f"q-{nic}", "master", f"br-{nic}", "up")
    else:
        ip("-n", lab.patch_ns, "link", "set", f"q-{nic}", "nomaster")
    patched = set(lab.production.get("patched", []))
    (patched.add if on else patched.discard)(nic)
    lab.production["patched"] = sorted(patched)


def patch(name: str, nic: str, on: bool = True):
    """``bringup lab production-patch``: cable NIC to production (or not); returns the Lab."""
    lab = get(name)
    if not lab.production:
        raise LabError(f"lab {name!r} has no production network (lab up --production)")
    patch_nic(lab, nic, on)
    save(lab)
    return lab


LAPTOP = "198.51.100.250/24"     # the laptop's address once it joins production


def join(name: str) -> str:
    """Give the lab laptop's port its address on the production network (as
    the technician moves the laptop there after the cables); harmless to
    repeat. Returns the address. LabError when there is no production network."""
    lab = get(name)
    if not lab.production:
        raise LabError(f"lab {name!r} has no production network (lab up --production)")
    have = ip("-n", lab.laptop_ns, "-4", "-o", "addr", "show", "dev", lab.laptop_iface,
              check=False).stdout
    if f" {LAPTOP} " not in have:
        ip("-n", lab.laptop_ns, "addr", "add", LAPTOP, "dev", lab.laptop_iface)
    return LAPTOP.split("/")[0]


def stop(lab) -> None:
    """End the services (SIGTERM, then SIGKILL); the namespace goes with ``down``."""
    pids = list(((lab.production or {}).get("pids") or {}).values())
    if pids:
        stop_processes(pids, grace=3)


def received_syslog(lab) -> list[dict]:
    """What rsyslog received: [{"peer", "input", "message"}], oldest first."""
    path = Path(lab.production["syslog_log"])
    out = []
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        parts = line.split(" ", 2)
        if len(parts) == 3:
            out.append({"peer": parts[0], "input": parts[1], "message": parts[2]})
    return out


def received_mail(lab) -> list[dict]:
    """The relay's spool: [{"port", "tls", "user", "mail_from", "rcpt_tos", "data"}]."""
    spool = Path(lab.production["mail_spool"])
    return [json.loads(p.read_text()) for p in sorted(spool.glob("*.json"))] if spool.exists() else []
