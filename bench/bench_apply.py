"""Headless `bringup apply` of the example sheet against a factory-fresh
simulated appliance, end to end (login, password change, every step, read
back, report): wall time and peak memory. Aims: < 5 s, < 120 MB. Run as root."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator import lab as labmod  # noqa: E402


def main() -> int:
    name = f"bap{uuid.uuid4().hex[:5]}"
    lab = labmod.up(name=name, appliance_address="169.254.1.3")
    try:
        with tempfile.TemporaryDirectory() as state:
            env = dict(os.environ, BRINGUP_STATE_DIR=state, PYTHONPATH=str(ROOT),
                       BRINGUP_NEW_PASSWORD="Bench-Mark#2026", BRINGUP_SMTP_PASSWORD="Relay#Pass-1")
            argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", "apply",
                    "--sheet", str(ROOT / "assets" / "example-sheet.toml"),
                    "--address", lab.appliance_address, "--iface", "lan0", "--json"]
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if r.returncode != 0:
                print(r.stdout, r.stderr, file=sys.stderr)
                return 1
    finally:
        labmod.down(name)
    print(f"{'measure':<34}{'value':>10}  aim")
    print(f"{'apply example sheet, wall time':<34}{wall:>9.2f}s  < 5 s")
    print(f"{'apply peak memory (RSS)':<34}{peak_mb:>8.1f}MB  < 120 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
