"""Headless `bringup apply` against a hostile simulated appliance, one run per
case of simulator/hostile.py (switched at run time in one lab), with the
product's own answer deadline (30 s): exit status, wall time and bringup's
own peak RSS (wait4 of that process). Aims: every run ends (the drips by
the deadline), peak RSS < 150 MB, no traceback. Run as root."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator import control, lab as labmod  # noqa: E402
from simulator.hostile import CASES, CONSOLE_ONLY  # noqa: E402

NEW = "Bench-Mark#2026"
SMTP = "Relay#Pass-1"
LIMIT = 120.0


def run(lab, state: str, *args: str, env_extra: dict) -> tuple[int, float, float, str]:
    """(exit status, seconds, peak RSS MB, stderr) of one bringup run."""
    env = dict(os.environ, BRINGUP_STATE_DIR=state, PYTHONPATH=str(ROOT), **env_extra)
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", *args]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > LIMIT:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        err.seek(0)
        return (os.waitstatus_to_exitcode(status), time.perf_counter() - t0,
                usage.ru_maxrss / 1024, err.read())


def main() -> int:
    name = f"bho{uuid.uuid4().hex[:5]}"
    lab = labmod.up(name=name, appliance_address="169.254.1.3")
    bad = 0
    try:
        with tempfile.TemporaryDirectory() as state:
            rc, *_ , err = run(lab, state, "capture", "--address", lab.appliance_address,
                               "--iface", "lan0", "--out", f"{state}/first.toml",
                               env_extra={"BRINGUP_NEW_PASSWORD": NEW})
            if rc != 0:
                print(err, file=sys.stderr)
                return 1
            print(f"   {'case':<13} {'exit':>4} {'seconds':>8} {'peak RSS':>9}  traceback")
            peak = longest = 0.0
            for case in (c for c in CASES if c not in CONSOLE_ONLY):
                control.send(lab.control, fault="hostile", value=case)
                try:
                    rc, took, rss, err = run(
                        lab, state, "apply", "--sheet", str(ROOT / "assets" / "example-sheet.toml"),
                        "--address", lab.appliance_address, "--iface", "lan0",
                        env_extra={"BRINGUP_PASSWORD": NEW, "BRINGUP_SMTP_PASSWORD": SMTP})
                finally:
                    control.send(lab.control, fault="hostile", value="")
                tb = "Traceback (most recent call last)" in err
                bad += tb or rss >= 150 or rc not in (0, 1)
                peak, longest = max(peak, rss), max(longest, took)
                print(f"   {case:<13} {rc:>4} {took:>8.1f} {rss:>6.0f} MB  {'YES' if tb else 'no'}",
                      flush=True)
            print(f"   peak RSS {peak:.0f} MB (aim < 150), longest run {longest:.1f} s "
                  f"(answer deadline 30 s)")
    finally:
        labmod.down(name)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
