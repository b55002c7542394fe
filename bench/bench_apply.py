"""Headless `bringup apply` against factory-fresh simulated appliances, end to
end (login, password change, plan, every save, read-back, report, logout):
web requests against the request floor, wall time and peak memory. Run as root.

The request floor of a sheet, on a factory appliance (the fewest requests that
still read everything before changing it and read back everything changed):

    login                      2   (the login page, its form)
    password change            2   (the page, its form)
    read each page once        5   (Status > Basics, IP Configuration, Static
                                    Routes, Appliance Administration, Email)
    saves                      one per address, one Global Configuration
                               (host name, gateway and DNS are one form), one
                               per route, NTP, syslog, e-mail
    read-back                  one per page a save touched
    logout                     1

Requests are counted by the simulator (its control channel's stats), so the
figure is what the appliance served. Three runs, each on a fresh lab:

- the example sheet (assets/example-sheet.toml): requests / floor, wall time;
- a generated larger sheet (10 addresses, 5 routes): requests / floor;
- the example sheet with every answer delayed 0.2 s (the simulator's delay
  fault; a loaded appliance or a KVM crash cart): wall time beside the
  floor's share of it (floor x 0.2 s).

Aims: requests within 1.25x of the floor; wall time < 5 s; peak memory < 120 MB.
``--json FILE`` also writes the figures as JSON (bench/run.py uses it).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hwprobe.settings.areas import AREAS  # noqa: E402
from hwprobe.appliance.pagemap import PAGES  # noqa: E402
from simulator import control  # noqa: E402
from simulator import lab as labmod  # noqa: E402

EXAMPLE = ROOT / "assets" / "example-sheet.toml"
DELAY = 0.2
RATIO_AIM = 1.25

LARGER = """format = 1
{ips}
[network]
hostname = "support.example.net"
default_gateway = "198.51.100.1"
dns_servers = ["198.51.100.53", "203.0.113.53"]
{routes}
[ntp]
servers = ["198.51.100.123", "ntp.example.net"]

[syslog]
servers = ["198.51.100.5", "198.51.100.6"]
format = "rfc5424"

[smtp]
relay = "mail.example.net"
port = 587
encryption = "starttls"
auth = "password"
username = "bt-alerts"
from_address = "bt-alerts@example.net"
admin_contacts = ["noc@example.net"]
"""


def larger_sheet() -> str:
    """10 addresses (5 per NIC) and 5 static routes, documentation ranges only."""
    ips = [f'[[ip]]\nnic = "nic1"\naddress = "198.51.100.{20 + i}"\nprefix = 24\n'
           for i in range(5)]
    ips += [f'[[ip]]\nnic = "nic2"\naddress = "203.0.113.{20 + i}"\nprefix = 25\n'
            for i in range(5)]
    routes = [f'[[route]]\ndestination = "203.0.113.{128 + 16 * i}/28"\n'
              f'gateway = "198.51.100.254"\nnic = "nic1"\n' for i in range(5)]
    return LARGER.format(ips="\n".join(ips), routes="\n".join(routes))


def page_of(area: str) -> str:
    spec = PAGES[AREAS[area].section]
    return spec.get("path") or spec["page"]


def read_pages() -> set[str]:
    """The pages a whole read of the appliance opens."""
    sections = ("status_basics", "ntp", "ip_config", "global_config", "routes", "syslog", "smtp")
    return {PAGES[s].get("path") or PAGES[s]["page"] for s in sections}


def area_of(step: dict) -> str:
    """The settings area of a step of `apply --json` ("ip:nic1:...", "route:...", "dns")."""
    head = step["key"].split(":", 1)[0]
    return {"route": "routes"}.get(head, head)


def request_floor(steps: list[dict], factory: bool = True) -> dict:
    """The floor, part by part, for the changed steps of a run (its --json)."""
    changed = [dict(s, area=area_of(s)) for s in steps if s["changed"]]
    joint = {s["area"] for s in changed if AREAS[s["area"]].joint is not None}
    saves = len([s for s in changed if AREAS[s["area"]].joint is None]) + (1 if joint else 0)
    parts = {
        "login": 2,
        "password change": 2 if factory else 0,
        "read each page once": len(read_pages()),
        "saves": saves,
        "read-back": len({page_of(s["area"]) for s in changed}),
        "logout": 1,
    }
    parts["total"] = sum(parts.values())
    return parts


def one_apply(sheet: Path, *, sim_args: tuple[str, ...] = ()) -> dict:
    """Apply ``sheet`` to a factory appliance in a fresh lab; returns the
    run's figures. Raises SystemExit when the apply fails."""
    name = f"bap{uuid.uuid4().hex[:5]}"
    lab = labmod.up(name=name, appliance_address="169.254.1.3", sim_args=list(sim_args))
    try:
        with tempfile.TemporaryDirectory() as state:
            env = dict(os.environ, BRINGUP_STATE_DIR=state, PYTHONPATH=str(ROOT),
                       BRINGUP_NEW_PASSWORD="Bench-Mark#2026", BRINGUP_SMTP_PASSWORD="Relay#Pass-1")
            argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", "apply",
                    "--sheet", str(sheet), "--address", lab.appliance_address, "--iface", "lan0",
                    "--json"]
            before = control.send(lab.control, get="stats")
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            after = control.send(lab.control, get="stats")
            if r.returncode != 0:
                raise SystemExit(f"apply failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
    finally:
        labmod.down(name)
    log = after["log"][len(before["log"]):]
    steps = json.loads(r.stdout)["steps"]
    floor = request_floor(steps)
    return {"wall_s": round(wall, 3), "requests": len(log), "floor": floor["total"],
            "ratio": round(len(log) / floor["total"], 3), "floor_parts": floor,
            "by_request": dict(Counter(log).most_common()),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="FILE", help="also write the figures here")
    ap.add_argument("--verbose", action="store_true", help="print each run's requests")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_apply: run as root (it makes labs in network namespaces)")
        return 3
    with tempfile.TemporaryDirectory() as tmp:
        larger = Path(tmp) / "larger.toml"
        larger.write_text(larger_sheet())
        runs = {"example sheet": one_apply(EXAMPLE),
                "10 addresses, 5 routes": one_apply(larger),
                f"example sheet, delay={DELAY}": one_apply(EXAMPLE,
                                                           sim_args=("--fault", f"delay={DELAY}"))}
    print(f"{'apply of a factory appliance':<34}{'requests':>9}{'floor':>7}{'ratio':>7}"
          f"{'wall':>8}  aim")
    for what, r in runs.items():
        print(f"{what:<34}{r['requests']:>9}{r['floor']:>7}{r['ratio']:>7.2f}"
              f"{r['wall_s']:>7.2f}s  ratio <= {RATIO_AIM}")
    slow = runs[f"example sheet, delay={DELAY}"]
    print(f"with delay={DELAY}: {slow['wall_s']:.2f} s, of which the floor's own waiting is "
          f"{slow['floor'] * DELAY:.1f} s ({slow['floor']} x {DELAY} s); "
          f"wall / floor's waiting {slow['wall_s'] / (slow['floor'] * DELAY):.2f}")
    example = runs["example sheet"]
    print(f"floor of the example sheet: " + ", ".join(
        f"{k} {v}" for k, v in example["floor_parts"].items() if k != "total"))
    peak = max(r["peak_mb"] for r in runs.values())
    print(f"apply wall time (example sheet) {example['wall_s']:.2f} s (aim < 5 s); "
          f"peak memory (RSS) {peak:.1f} MB (aim < 120 MB)")
    met = all(r["ratio"] <= RATIO_AIM for r in runs.values())
    print(f"aim requests <= {RATIO_AIM} x floor: {'met' if met else 'MISSED'}")
    if args.verbose:
        for what, r in runs.items():
            print(f"-- {what}: " + ", ".join(f"{k} x{n}" for k, n in r["by_request"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
