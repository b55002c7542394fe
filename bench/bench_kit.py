"""`bringup kit` taking a 1 GB /login backup, against curl on the same lab
link: the NSB's download through kit (its own timing of the backup API
answer, from the request to the last byte on disk, hashed on the way) beside
curl's time for the same request written to the same disk, and bringup's
peak memory for the whole kit. Run as root; it makes its own site lab
(`lab up --site`) and sets the simulator's large_backup switch.

Runs alternate kit and curl (three each, curl first); the figures are the
medians. Aims: curl time / kit time >= 0.8 (run.py shows kit / curl <= 1.25),
peak RSS < 150 MB. ``--size BYTES`` for a smaller trial, ``--json FILE``
writes the figures (bench/run.py).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from simulator import control  # noqa: E402
from simulator import lab as labmod  # noqa: E402
from simulator.lab import PAIR  # noqa: E402

RUNS = 3
RATIO_AIM = 0.8
RSS_AIM_MB = 150
SECRETS = {"BRINGUP_PASSWORD": "Bench-Site-Pw#31", "BRINGUP_API_CLIENT_ID": "bench-kit",
           "BRINGUP_API_SECRET": "Bench-Api-Secret-5", "BRINGUP_BACKUP_PASSWORD": "Bench-Bk-Pw-7",
           "BRINGUP_CERTIFICATE_PASSPHRASE": "Bench-Pp-9"}


def run_kit(lab, out: Path, state: Path) -> dict:
    """One `bringup kit --json` in the laptop namespace: its figures and its
    own peak RSS (wait4 on the process; `ip netns exec` execs it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    env.update(SECRETS, PYTHONPATH=str(ROOT), BRINGUP_STATE_DIR=str(state))
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", "-q", "kit",
            "--address", PAIR["primary"], "--out", str(out), "--json"]
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        so.seek(0)
        se.seek(0)
        text, err = so.read().decode(), se.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_kit: bringup kit failed: {err[-800:]}")
    got = json.loads(text)
    return {"seconds": got["backup_seconds"], "bytes": got["backup_bytes"], "wall_s": wall,
            "peak_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def run_curl(lab, out: Path) -> dict:
    """curl: a token, then the same backup request written to ``out`` (timed
    from curl's own start of the request to its end, as kit times its own)."""
    token_cmd = ["ip", "netns", "exec", lab.laptop_ns, "curl", "-sk", "--config", "-",
                 f"https://{PAIR['primary']}/oauth2/token"]
    conf = (f'user = "{SECRETS["BRINGUP_API_CLIENT_ID"]}:{SECRETS["BRINGUP_API_SECRET"]}"\n'
            'data = "grant_type=client_credentials"\n')
    token = json.loads(subprocess.run(token_cmd, input=conf, capture_output=True, text=True,
                                      check=True).stdout)["access_token"]
    body = json.dumps({"password": SECRETS["BRINGUP_BACKUP_PASSWORD"]})
    conf = (f'header = "Authorization: Bearer {token}"\nheader = "Content-Type: application/json"\n'
            f"data = {json.dumps(body)}\n")
    cmd = ["ip", "netns", "exec", lab.laptop_ns, "curl", "-sk", "--config", "-", "-o", str(out),
           "-w", "%{size_download} %{time_total}", f"https://{PAIR['primary']}/api/backup"]
    with tempfile.TemporaryFile() as so:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=so, stderr=subprocess.DEVNULL)
        proc.stdin.write(conf.encode())
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        so.seek(0)
        size, seconds = so.read().decode().split()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("bench_kit: curl failed")
    out.unlink()
    return {"seconds": float(seconds), "bytes": int(size),
            "cpu_s": usage.ru_utime + usage.ru_stime}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 30, help="bytes of session data (1 GiB)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_kit: run as root (it makes a lab in network namespaces)")
        return 2
    from site_helpers import site_up

    name = f"bk{uuid.uuid4().hex[:5]}"
    kits, curls = [], []
    with tempfile.TemporaryDirectory(prefix="bench-kit-") as tmp:
        try:
            lab = site_up(name, "--site", env={k: SECRETS[k] for k in (
                "BRINGUP_PASSWORD", "BRINGUP_API_CLIENT_ID", "BRINGUP_API_SECRET")})
            control.send(lab.control, fault="large_backup", value=args.size)
            for n in range(RUNS):
                curls.append(run_curl(lab, Path(tmp) / "curl.nsb"))
                kit_dir = Path(tmp) / f"kit{n}"
                kits.append(run_kit(lab, kit_dir, Path(tmp) / "state"))
                subprocess.run(["rm", "-rf", str(kit_dir)], check=True)
        finally:
            labmod.down(name)
    kit_s = statistics.median(k["seconds"] for k in kits)
    curl_s = statistics.median(c["seconds"] for c in curls)
    size = kits[0]["bytes"]
    peak = max(k["peak_mb"] for k in kits)
    ratio = curl_s / kit_s
    print(f"{f'{size / 1e9:.2f} GB NSB download':<30}{'seconds':>9}{'MB/s':>8}")
    print(f"{'  curl (same request, disk)':<30}{curl_s:>9.2f}{size / curl_s / 1e6:>8.0f}")
    print(f"{'  bringup kit (hashed, disk)':<30}{kit_s:>9.2f}{size / kit_s / 1e6:>8.0f}")
    print(f"curl / kit = {ratio:.2f} (aim >= {RATIO_AIM}): {'met' if ratio >= RATIO_AIM else 'MISSED'}")
    print(f"bringup kit peak RSS {peak:.0f} MB (aim < {RSS_AIM_MB}): "
          f"{'met' if peak < RSS_AIM_MB else 'MISSED'}; whole kit "
          f"{statistics.median(k['wall_s'] for k in kits):.1f} s")
    print("runs (kit s / curl s): " + ", ".join(f"{k['seconds']:.2f}/{c['seconds']:.2f}"
                                                for k, c in zip(kits, curls)))
    print(f"processor time: curl {statistics.median(c['cpu_s'] for c in curls):.2f} s, whole "
          f"bringup kit {statistics.median(k['cpu_s'] for k in kits):.2f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    figures = {"bytes": size, "kit_s": round(kit_s, 3), "curl_s": round(curl_s, 3),
               "curl_over_kit": round(ratio, 3), "kit_over_curl": round(kit_s / curl_s, 3),
               "peak_rss_mb": round(peak, 1),
               "curl_cpu_s": round(statistics.median(c["cpu_s"] for c in curls), 2),
               "kit_cpu_s": round(statistics.median(k["cpu_s"] for k in kits), 2),
               "kit_wall_s": round(statistics.median(k["wall_s"] for k in kits), 2)}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if ratio >= RATIO_AIM and peak < RSS_AIM_MB else 1


if __name__ == "__main__":
    sys.exit(main())
