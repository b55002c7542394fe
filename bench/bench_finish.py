"""The finish of a site (issue 23) against a factory appliance in the lab.
Run as root; it makes its own site lab (the kit) and factory lab.

1. Requests: `bringup apply --kit` on a factory appliance; the web requests
   of the finish (from the first read of Security > Certificates to the end,
   the run's logout left out), counted by the simulator, against the floor:

       certificate    5   read the list, the Import page (its form), Import,
                          the list again (to see it held), make it the default
       site software  5   read Updates, upload the update file; after the
                          restart the session is gone: log in (2), read Updates
       /login backup  8   the proof first (a token: refused), /login's login
                          page and form, Software Management (its form), the
                          upload; then the proof: a token, /check_health,
                          check_health
                     ---
                     18   (the requests made while /login restarts are
                          waiting, counted apart: they depend on how long it takes)

   Aim: requests / floor <= 1.25.

2. Upload: a 1 GiB NSB sent to Restore Settings by bringup (`bringup
   restore-login`, the finish's /login step: its own timing of the upload,
   from the first byte to the appliance's answer) against curl's multipart
   upload of a 1 GiB NSB to the same form on the same lab link (curl's
   time_total of that request), three each, alternating, medians. Aims: curl
   time / bringup time >= 0.8 (run.py shows bringup / curl <= 1.25), and
   bringup's peak RSS under 150 MB. The lab's cable as it is (a veth) and
   shaped to 1 Gbit/s (``--rates``). The appliance reads each upload to disk
   and decrypts it whole before it answers, for both.

``--size BYTES`` for a smaller trial; ``--json FILE`` writes the figures.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
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

from simulator import control, nsb  # noqa: E402
from simulator import lab as labmod  # noqa: E402
from simulator.lab import PAIR  # noqa: E402
from simulator.login_api import secret_hash  # noqa: E402

RUNS = 3
FLOOR = 18
RATIO_AIM, REQUESTS_AIM, RSS_AIM_MB = 0.8, 1.25, 150
ADDRESS = "169.254.1.3"
SECRETS = {"BRINGUP_PASSWORD": "Bench-Site-Pw#31", "BRINGUP_API_CLIENT_ID": "bench-kit",
           "BRINGUP_API_SECRET": "Bench-Api-Secret-5", "BRINGUP_BACKUP_PASSWORD": "Bench-Bk-Pw-7",
           "BRINGUP_CERTIFICATE_PASSPHRASE": "Bench-Pp-9"}
FINISH = {"BRINGUP_NEW_PASSWORD": "Bench-New-Pw#42", "BRINGUP_SMTP_PASSWORD": "Bench-Smtp-3"}
CLIENTS = {"curl": ("bench-curl", "Bench-Curl-Secret-1"), "bringup": ("bench-b", "Bench-B-Secret-2")}


def bringup(lab, *args: str, env: dict) -> tuple[subprocess.CompletedProcess, float]:
    """``bringup ARGS`` in the laptop namespace; (the result, its peak RSS in MB)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    full.update(env, PYTHONPATH=str(ROOT))
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup", "-q", *args]
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        proc = subprocess.Popen(argv, env=full, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        so.seek(0)
        se.seek(0)
        out, err = so.read().decode(), se.read().decode()
    result = subprocess.CompletedProcess(argv, os.waitstatus_to_exitcode(status), out, err)
    return result, usage.ru_maxrss / 1024


def requests_of(log: list[str]) -> dict:
    """The finish's requests in the simulator's log of one apply --kit run."""
    first = next(i for i, e in enumerate(log) if e == "GET /appliance/security/certificates")
    mine = [e for e in log[first:] if e != "GET /appliance/logout"]
    waiting = max(0, sum(e == "POST /oauth2/token" for e in mine) - 2)
    return {"requests": len(mine) - waiting, "waiting": waiting, "floor": FLOOR,
            "ratio": round((len(mine) - waiting) / FLOOR, 3), "log": mine}


def big_nsb(path: Path, state: dict, client: tuple[str, str], size: int) -> Path:
    """A /login backup of ``size`` bytes of session data whose only API
    account is ``client`` (so a restore of it can be told by a token)."""
    state = dict(state, api_clients={client[0]: {"secret_sha256": secret_hash(client[1]),
                                                 "permissions": ["command", "backup"]}})
    with open(path, "wb") as f:
        for piece in nsb.Writer(state, SECRETS["BRINGUP_BACKUP_PASSWORD"], padding=size,
                                about={"software_version": "7.1.2"}):
            f.write(piece)
    return path


def kit_with(kit: Path, to: Path, backup: Path) -> Path:
    """A copy of ``kit`` whose /login backup is ``backup`` (the manifest made to match)."""
    shutil.copytree(kit, to, ignore=shutil.ignore_patterns("login-backup-*"))
    manifest = json.loads((to / "manifest.json").read_text())
    entry = manifest["files"]["login_backup"]
    os.link(backup, to / entry["name"]) if backup.stat().st_dev == to.stat().st_dev else \
        shutil.copyfile(backup, to / entry["name"])
    digest = hashlib.sha256()
    with open(backup, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    entry.update(size=backup.stat().st_size, sha256=digest.hexdigest())
    (to / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return to


def curl(lab, *args: str, config: str = "") -> str:
    cmd = ["ip", "netns", "exec", lab.laptop_ns, "curl", "-sk", "--config", "-", *args]
    return subprocess.run(cmd, input=config, capture_output=True, text=True, check=True).stdout


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)


def upload_by_curl(lab, backup: Path, jar: Path) -> dict:
    """/login's login, Software Management, then the upload: curl's own time
    of the upload request (its time_total)."""
    base = f"https://{ADDRESS}"
    page = curl(lab, "-c", str(jar), "-b", str(jar), f"{base}/login")
    curl(lab, "-c", str(jar), "-b", str(jar), "-o", "/dev/null", f"{base}/login",
         config=f'data = "csrf_token={csrf(page)}&username=admin&password=password"\n')
    page = curl(lab, "-b", str(jar), f"{base}/login/management/software")
    config = (f'form = "csrf_token={csrf(page)}"\n'
              f'form = "backup_password={SECRETS["BRINGUP_BACKUP_PASSWORD"]}"\n'
              f'form = "backup_file=@{backup}"\n')
    size, seconds = curl(lab, "-b", str(jar), "-o", "/dev/null", "-w",
                         "%{size_upload} %{time_total}",
                         f"{base}/login/management/software/restore", config=config).split()
    return {"seconds": float(seconds), "bytes": int(size)}


def upload_by_bringup(lab, kit: Path, state: Path) -> dict:
    env = {**SECRETS, "BRINGUP_STATE_DIR": str(state), "BRINGUP_LOGIN_PASSWORD": "password",
           "BRINGUP_API_CLIENT_ID": CLIENTS["bringup"][0],
           "BRINGUP_API_SECRET": CLIENTS["bringup"][1]}
    r, rss = bringup(lab, "restore-login", "--address", ADDRESS, "--kit", str(kit), "--json",
                     env=env)
    if r.returncode != 0:
        raise SystemExit(f"bench_finish: restore-login failed: {r.stdout[-800:]} {r.stderr[-800:]}")
    step = json.loads(r.stdout)["step"]
    line = next(d for d in step["detail"] if d.startswith("upload: "))
    size, seconds = re.match(r"upload: (\d+) bytes in ([\d.]+) s", line).groups()
    return {"seconds": float(seconds), "bytes": int(size), "peak_mb": rss}


def login_back(lab, client: tuple[str, str], timeout: float = 60) -> None:
    """Wait until /login answers again and holds ``client`` (a restore landed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = curl(lab, "-o", "/dev/null", "-w", "%{http_code}",
                       f"https://{ADDRESS}/oauth2/token",
                       config=f'user = "{client[0]}:{client[1]}"\n'
                              'data = "grant_type=client_credentials"\n')
        except subprocess.CalledProcessError:
            got = ""
        if got == "200":
            return
        time.sleep(0.3)
    raise SystemExit("bench_finish: /login did not come back after a restore")


def shape(lab, rate: str | None) -> None:
    """The laptop's cable as fast as the veth goes (None) or at ``rate`` (tc's
    words, e.g. 1gbit) in the upload's direction: out of the laptop's port."""
    subprocess.run(["tc", "-n", lab.laptop_ns, "qdisc", "del", "dev", "lan0", "root"],
                   capture_output=True)
    if rate:
        subprocess.run(["tc", "-n", lab.laptop_ns, "qdisc", "add", "dev", "lan0", "root", "tbf",
                        "rate", rate, "burst", "2mb", "latency", "100ms"], check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 30, help="bytes of session data (1 GiB)")
    ap.add_argument("--rates", default="veth,1gbit",
                    help="comma-separated: veth (the cable as it is), or a tc rate (1gbit)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_finish: run as root (it makes labs in network namespaces)")
        return 2
    from site_helpers import site_up

    site_name, name = f"bs{uuid.uuid4().hex[:5]}", f"bf{uuid.uuid4().hex[:5]}"
    figures: dict = {"by_rate": {}}
    with tempfile.TemporaryDirectory(prefix="bench-finish-", dir=args.dir) as tmp:
        tmp_path = Path(tmp)
        try:
            site = site_up(site_name, "--site", env={k: SECRETS[k] for k in (
                "BRINGUP_PASSWORD", "BRINGUP_API_CLIENT_ID", "BRINGUP_API_SECRET")})
            kit = tmp_path / "kit"
            r, _ = bringup(site, "kit", "--address", PAIR["primary"], "--out", str(kit),
                           "--update-file", site.site["update_file"],
                           env={**SECRETS, "BRINGUP_STATE_DIR": str(tmp_path / "state")})
            if r.returncode != 0:
                raise SystemExit(f"bench_finish: bringup kit failed: {r.stderr[-800:]}")
            lab = labmod.up(name=name, appliance_address=ADDRESS, sim_args=[
                "--install-seconds", "2", "--login-restart-seconds", "1"])
            env = {**{k: v for k, v in SECRETS.items() if k != "BRINGUP_PASSWORD"}, **FINISH,
                   "BRINGUP_STATE_DIR": str(tmp_path / "state")}      # a factory password
            started = time.monotonic()
            r, rss = bringup(lab, "apply", "--kit", str(kit), "--iface", "lan0", env=env)
            wall = time.monotonic() - started
            if r.returncode != 0:
                raise SystemExit(f"bench_finish: apply --kit failed: {r.stdout[-1500:]} {r.stderr[-1500:]}")
            figures["requests"] = requests_of(control.send(lab.control, get="stats")["log"])
            figures["requests"].update(wall_s=round(wall, 2), peak_rss_mb=round(rss, 1))

            small = kit / json.loads((kit / "manifest.json").read_text())["files"][
                "login_backup"]["name"]
            with open(small, "rb") as f:
                _, state = nsb.read_state(f, SECRETS["BRINGUP_BACKUP_PASSWORD"])
            for_curl = big_nsb(tmp_path / "curl.nsb", state, CLIENTS["curl"], args.size)
            for_bringup = kit_with(kit, tmp_path / "kit-big", big_nsb(
                tmp_path / "bringup.nsb", state, CLIENTS["bringup"], args.size))
            subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev",
                            "lan0"], check=True)
            for rate in [r.strip() for r in args.rates.split(",") if r.strip()]:
                shape(lab, None if rate == "veth" else rate)
                curls, ours = [], []
                for _ in range(RUNS):
                    curls.append(upload_by_curl(lab, for_curl, tmp_path / "jar"))
                    login_back(lab, CLIENTS["curl"])
                    ours.append(upload_by_bringup(lab, for_bringup, tmp_path / "state"))
                c = statistics.median(x["seconds"] for x in curls)
                b = statistics.median(x["seconds"] for x in ours)
                figures["by_rate"][rate] = {
                    "bytes": ours[0]["bytes"], "bringup_s": round(b, 3), "curl_s": round(c, 3),
                    "curl_over_bringup": round(c / b, 3), "bringup_over_curl": round(b / c, 3),
                    "peak_rss_mb": round(max(x["peak_mb"] for x in ours), 1),
                    "runs": [[o["seconds"], x["seconds"]] for o, x in zip(ours, curls)]}
        finally:
            for lab_name in (name, site_name):
                labmod.down(lab_name)
    q = figures["requests"]
    print(f"apply --kit on a factory appliance: the finish made {q['requests']} requests, floor "
          f"{FLOOR} ({q['ratio']:.2f}, aim <= {REQUESTS_AIM}); {q['waiting']} more while /login "
          f"restarted; whole run {q['wall_s']:.1f} s, peak RSS {q['peak_rss_mb']:.0f} MB")
    for rate, f in figures["by_rate"].items():
        cable = "lab cable as it is (veth)" if rate == "veth" else f"lab cable at {rate}"
        size = f["bytes"]
        print(f"{cable}: {size / 2 ** 30:.2f} GiB /login backup uploaded to Restore Settings")
        print(f"  {'curl -F (multipart)':<34}{f['curl_s']:>7.2f} s {size / f['curl_s'] / 1e6:>6.0f} MB/s")
        print(f"  {'bringup restore-login':<34}{f['bringup_s']:>7.2f} s "
              f"{size / f['bringup_s'] / 1e6:>6.0f} MB/s")
        print(f"  curl / bringup = {f['curl_over_bringup']:.2f} (aim >= {RATIO_AIM}); peak RSS "
              f"{f['peak_rss_mb']:.0f} MB (aim < {RSS_AIM_MB}); runs (bringup/curl s): "
              + ", ".join(f"{o:.2f}/{c:.2f}" for o, c in f["runs"]))
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    met = q["ratio"] <= REQUESTS_AIM and all(
        f["curl_over_bringup"] >= RATIO_AIM and f["peak_rss_mb"] < RSS_AIM_MB
        for f in figures["by_rate"].values())
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
