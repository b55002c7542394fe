"""What a running lab is, as its ``lab.json`` records it (``RUN_ROOT/N/lab.json``),
and which labs there are. ``lab`` makes and removes labs; ``production`` and
``laptop`` add to one and record it here.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .jsonfile import save_json
from .netns import LabError, namespaces

RUN_ROOT = Path(os.environ.get("BRINGUP_LAB_DIR", "/run/bringup-lab"))
# a failover pair's production addresses (documentation range) and shared IP
PAIR = {"primary": "198.51.100.20", "backup": "198.51.100.21", "shared": "198.51.100.30",
        "netmask": "255.255.255.0", "laptop": "198.51.100.250"}
# the namespaces of lab N are N-<suffix>
NS_SUFFIXES = ("-laptop", "-appliance", "-patch", "-backup", "-prod", "-switch")


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
    site: dict | None = None        # appliances in production (simulator/site.py)
    # not factory-fresh (simulator/used.py): an earlier site's network, its gateway
    appliance_prefix: int | None = None
    appliance_gateway: str | None = None
    dhcp: bool = False              # set to DHCP, no address (a real dhclient: simulator.cable)
    booting: float = 0.0            # silent this many seconds after lab up

    @property
    def primary_address(self) -> str | None:
        return PAIR["primary"] if self.backup or self.site else None

    @property
    def state_file(self) -> str:
        return str(Path(self.state_dir) / "state.json")

    def to_json(self) -> dict:
        d = asdict(self)
        d["state_file"] = self.state_file
        return d


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


def save(lab: Lab) -> None:
    """Write ``lab.json`` whole (a reader never sees half of it)."""
    save_json(Path(lab.dir) / "lab.json", lab.to_json(), indent=2)


def names() -> list[str]:
    """Names of labs that have a run directory or namespaces on this machine."""
    found = {p.name for p in RUN_ROOT.glob("*") if (p / "lab.json").exists()} if RUN_ROOT.exists() else set()
    for ns in namespaces():
        for suffix in NS_SUFFIXES:
            if ns.endswith(suffix):
                found.add(ns[: -len(suffix)])
    return sorted(found)


def save_credentials(lab_dir: str | os.PathLike, made: dict) -> Path:
    """Keep the secrets a lab made (API accounts, the /appliance password) in
    its directory, readable by root only: ``credentials.json`` with them all,
    and each secret alone in ``secrets/NAME`` (what ``bringup lab`` tells a
    technician to read into a variable, `"$(sudo cat FILE)"`, so no secret is
    ever typed or shown). Returns the JSON file's path. Raises OSError."""
    path = Path(lab_dir) / "credentials.json"
    files = [(path, json.dumps(made, indent=2))]
    files += [(Path(lab_dir) / "secrets" / key, value + "\n") for key, value in made.items()
              if key.endswith(("_secret", "_password"))]
    for name, text in files:
        name.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    return path


def secret_file(lab_dir: str | os.PathLike, key: str) -> Path | None:
    """Where the lab keeps its own secret ``key`` (``save_credentials``), or
    None when the lab did not make it (it was given to ``lab up``)."""
    path = Path(lab_dir) / "secrets" / key
    return path if path.exists() else None

