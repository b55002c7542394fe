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

The lab's cable is a veth: no wire limits it, so both clients run as fast as
two cores let them, and the kit also hashes every byte (SHA-256 for the
manifest). The same runs are then made with the cable shaped to a B Series
NIC's 1 Gbit/s (``tc tbf`` on the patch panel's end of the laptop's cable),
the speed a real appliance's backup comes at; ``--rates`` picks which.

Both write into the same folder, by default on /dev/shm (``--dir``): on this
project's virtual machines a gigabyte of new page cache kept on disk costs
the writer more than the download itself, and varies from run to run; that
is the laptop's disk, not the download, and is left out of the comparison.
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


def shape(lab, rate: str | None) -> None:
    """The laptop's cable as fast as the veth goes (None) or at ``rate``
    (tc's words, e.g. 1gbit), towards the laptop."""
    subprocess.run(["tc", "-n", lab.patch_ns, "qdisc", "del", "dev", "cable", "root"],
                   capture_output=True)
    if rate:
        subprocess.run(["tc", "-n", lab.patch_ns, "qdisc", "add", "dev", "cable", "root", "tbf",
                        "rate", rate, "burst", "2mb", "latency", "100ms"], check=True)


def measure(lab, tmp: str, runs: int) -> tuple[list[dict], list[dict]]:
    kits, curls = [], []
    for n in range(runs):
        curls.append(run_curl(lab, Path(tmp) / "curl.nsb"))
        kit_dir = Path(tmp) / f"kit{n}"
        kits.append(run_kit(lab, kit_dir, Path(tmp) / "state"))
        subprocess.run(["rm", "-rf", str(kit_dir)], check=True)
    return kits, curls


def figures_of(kits: list[dict], curls: list[dict]) -> dict:
    kit_s = statistics.median(k["seconds"] for k in kits)
    curl_s = statistics.median(c["seconds"] for c in curls)
    return {"bytes": kits[0]["bytes"], "kit_s": round(kit_s, 3), "curl_s": round(curl_s, 3),
            "curl_over_kit": round(curl_s / kit_s, 3), "kit_over_curl": round(kit_s / curl_s, 3),
            "peak_rss_mb": round(max(k["peak_mb"] for k in kits), 1),
            "curl_cpu_s": round(statistics.median(c["cpu_s"] for c in curls), 2),
            "kit_cpu_s": round(statistics.median(k["cpu_s"] for k in kits), 2),
            "kit_wall_s": round(statistics.median(k["wall_s"] for k in kits), 2),
            "runs": [[k["seconds"], c["seconds"]] for k, c in zip(kits, curls)]}


def report(title: str, f: dict) -> None:
    size = f["bytes"]
    print(f"{title}: {size / 2 ** 30:.2f} GiB /login backup")
    print(f"  {'curl (same request, to disk)':<34}{f['curl_s']:>7.2f} s {size / f['curl_s'] / 1e6:>6.0f} MB/s")
    print(f"  {'bringup kit (SHA-256, to disk)':<34}{f['kit_s']:>7.2f} s {size / f['kit_s'] / 1e6:>6.0f} MB/s")
    print(f"  curl / kit = {f['curl_over_kit']:.2f} (aim >= {RATIO_AIM}): "
          f"{'met' if f['curl_over_kit'] >= RATIO_AIM else 'MISSED'}; peak RSS "
          f"{f['peak_rss_mb']:.0f} MB (aim < {RSS_AIM_MB}): "
          f"{'met' if f['peak_rss_mb'] < RSS_AIM_MB else 'MISSED'}; whole kit {f['kit_wall_s']:.1f} s")
    print(f"  processor time: curl {f['curl_cpu_s']:.2f} s, bringup kit {f['kit_cpu_s']:.2f} s; "
          "runs (kit/curl s): " + ", ".join(f"{k:.2f}/{c:.2f}" for k, c in f["runs"]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 30, help="bytes of session data (1 GiB)")
    ap.add_argument("--rates", default="veth,1gbit",
                    help="comma-separated: veth (the cable as it is), or a tc rate (1gbit)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where both write the backup (default: /dev/shm, see above)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_kit: run as root (it makes a lab in network namespaces)")
        return 2
    from site_helpers import site_up

    name = f"bk{uuid.uuid4().hex[:5]}"
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-kit-", dir=args.dir) as tmp:
        try:
            lab = site_up(name, "--site", env={k: SECRETS[k] for k in (
                "BRINGUP_PASSWORD", "BRINGUP_API_CLIENT_ID", "BRINGUP_API_SECRET")})
            control.send(lab.control, fault="large_backup", value=args.size)
            for rate in [r.strip() for r in args.rates.split(",") if r.strip()]:
                shape(lab, None if rate == "veth" else rate)
                results[rate] = figures_of(*measure(lab, tmp, RUNS))
        finally:
            labmod.down(name)
    for rate, f in results.items():
        report("lab cable as it is (veth)" if rate == "veth" else f"lab cable at {rate}", f)
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)")
    first = next(iter(results.values()))
    figures = dict(first, by_rate=results)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    met = all(f["curl_over_kit"] >= RATIO_AIM and f["peak_rss_mb"] < RSS_AIM_MB
              for f in results.values())
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
