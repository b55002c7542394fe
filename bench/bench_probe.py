"""How fast `bringup probe` finds the appliance, beside arp-scan, in one fresh lab.

Run as root:  python bench/bench_probe.py  [--runs N]

Compiles bringup's modules to bytecode first (as an installed bringup has
them), makes a lab (appliance on 169.254.1.1 via NIC1), then alternates N times:
  - `bringup probe --iface lan0 --json` as a whole process (Python start,
    imports, takeover with its address check, the ARP search from 0.0.0.0
    overlapping that check, the HTTPS certificate check, give-back), beside
  - arp-scan over the same four addresses, as a whole process (the goal:
    bringup probe no slower than it);
then takes lan0 over in-process and alternates N times:
  - hwprobe.port.probe.probe() over 169.254.1.1-.4 (modules already imported, as in
    the console), ARP only and with the HTTPS check, with the
    same 200 ms timeout as arp-scan;
  - arp-scan --retry=1 --timeout=200 -I lan0 --arpspa=169.254.1.254 169.254.1.1-169.254.1.4
    (started from the laptop namespace, wall time of the whole process), and the
    same with --quiet (no vendor files: arp-scan's fastest); the ratio uses the
    faster of the two.
and, a figure without a goal, the listen's own cost: `bringup probe
--address 169.254.1.3 --listen 1 --json` (nobody holds .3: the search finds
nothing, so bringup listens for 1 s), as a whole process; the listen's time
beyond its 1 s window (loading scapy, opening and closing the socket,
stopping the sniffer, reading the vendor table, writing the capture) from
its JSON, and the process's peak RSS (wait4).
Prints medians and the ratios. Aims: first responder < 50 ms; the whole
`bringup probe` process no slower than arp-scan. ``--json FILE`` also writes
the figures as JSON (bench/run.py uses it).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
try:
    import pyroute2  # noqa: F401
except ImportError:  # run with a bare `python`: use the project's venv instead
    VENV_PY = ROOT / ".venv" / "bin" / "python"
    if VENV_PY.exists() and Path(sys.executable) != VENV_PY:
        os.execv(str(VENV_PY), [str(VENV_PY), *sys.argv])
    raise

ADDRESSES = ("169.254.1.1", "169.254.1.2", "169.254.1.3", "169.254.1.4")


def _arp_scan(src: str, quiet: bool) -> float:
    """Wall time (ms) of one arp-scan over the four addresses; ``quiet`` skips
    loading its vendor files (its fastest mode)."""
    argv = ["arp-scan", "--retry=1", "--timeout=200", "-I", "lan0", f"--arpspa={src}",
            *(["--quiet"] if quiet else []), "169.254.1.1-169.254.1.4"]
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True)
    wall = (time.monotonic() - start) * 1000
    if r.returncode != 0 or "169.254.1.1" not in r.stdout:
        raise SystemExit(f"arp-scan failed: {r.stderr.strip() or r.stdout}")
    return wall


def _cli_probe(lab, bringup: str) -> tuple[float, dict]:
    """Wall time (ms) of one whole `bringup probe --json` process, and its JSON."""
    start = time.monotonic()
    r = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, bringup, "probe",
                        "--iface", "lan0", "--json"], capture_output=True, text=True)
    wall = (time.monotonic() - start) * 1000
    if r.returncode != 0:
        raise SystemExit(f"bringup probe failed: {r.stderr.strip()}")
    return wall, json.loads(r.stdout)


def _cli_listen(lab, bringup: str) -> tuple[float, float, float]:
    """One whole `bringup probe` whose search finds nothing and listens 1 s:
    (wall ms, the listen's ms beyond its window, peak RSS MB)."""
    start = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", lab.laptop_ns, bringup, "probe", "--iface",
                             "lan0", "--address", "169.254.1.3", "--listen", "1", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.monotonic() - start) * 1000
    listened = json.loads(out)["listened"]
    if os.waitstatus_to_exitcode(status) != 1 or listened is None:
        raise SystemExit(f"the silent probe did not listen: {out[-400:]}")
    return wall, listened["elapsed_ms"] - 1000.0, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_probe: run as root (it makes a lab in network namespaces)")
        return 3
    if shutil.which("arp-scan") is None:
        print("bench_probe: needs arp-scan (apt-get install arp-scan)")
        return 2
    os.environ.setdefault("BRINGUP_STATE_DIR", tempfile.mkdtemp(prefix="bench-probe-"))
    # bringup as installed: its modules' bytecode compiled once, as pip and a
    # wheel install leave it. An editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (set here) would otherwise compile every
    # module on every start, ~30 ms that no installed bringup pays.
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(ROOT / p) for p in ("bringup", "hwprobe", "tui"))], check=True)
    from hwprobe.port import probe
    from hwprobe.port.takeover import Takeover
    from simulator import lab as labmod

    bringup = str(Path(sys.executable).with_name("bringup"))
    name = f"bp{os.getpid() % 100000}"
    lab = labmod.up(name)
    try:
        cli, cli_scan, cli_first = [], [], []
        with labmod.in_netns(lab.laptop_ns):
            _arp_scan("169.254.1.254", quiet=True)          # warm the page cache for both
        _cli_probe(lab, bringup)
        for _ in range(args.runs):
            wall, out = _cli_probe(lab, bringup)
            cli.append(wall)
            cli_first.append(out["first_answer_ms"])
            with labmod.in_netns(lab.laptop_ns):
                cli_scan.append(min(_arp_scan("169.254.1.254", quiet=False),
                                    _arp_scan("169.254.1.254", quiet=True)))
        listen_wall, listen_cost, listen_rss = [], [], []
        for _ in range(max(3, args.runs // 2)):
            wall, cost, rss = _cli_listen(lab, bringup)
            listen_wall.append(wall)
            listen_cost.append(cost)
            listen_rss.append(rss)
        ours_arp, ours_first, ours_https, ours_rtt, scan, scan_quiet = [], [], [], [], [], []
        with labmod.in_netns(lab.laptop_ns):
            with Takeover("lan0", handle_signals=False) as held:
                for _ in range(args.runs):
                    r = probe.probe("lan0", held.address, ADDRESSES, timeout=0.2,
                                    check_https=False)
                    assert r.found, "the appliance did not answer"
                    ours_arp.append(r.elapsed_ms)
                    ours_first.append(r.first_answer_ms)
                    ours_rtt.append(r.responders[0].rtt_ms)
                    r = probe.probe("lan0", held.address, ADDRESSES, timeout=0.2)
                    assert r.responders[0].https_ok, r.responders[0].https_error
                    ours_https.append(r.elapsed_ms)
                    scan.append(_arp_scan(held.address, quiet=False))
                    scan_quiet.append(_arp_scan(held.address, quiet=True))
    finally:
        labmod.down(name)

    med = statistics.median
    best_scan = min(med(scan), med(scan_quiet))  # compare with arp-scan at its best
    whole = med(cli) / med(cli_scan)
    print(f"probe over {', '.join(a.rsplit('.', 1)[1] for a in ADDRESSES)} of 169.254.1.x, "
          f"appliance on .1, {args.runs} runs each, alternating, medians")
    print(f"{'whole process':34} {'first responder':>16} {'total':>10}")
    print(f"{'bringup probe --iface lan0 --json':34} {med(cli_first):>13.1f} ms "
          f"{med(cli):>7.0f} ms")
    print(f"{'arp-scan (faster of plain/--quiet)':34} {'n/a':>16} {med(cli_scan):>7.0f} ms")
    print(f"ratio whole process bringup probe / arp-scan: {whole:.2f} (aim <= 1.00: "
          f"{'met' if whole <= 1.0 else 'MISSED'})")
    print(f"{'in-process, port already held':34} {'first responder':>16} {'total':>10}")
    print(f"{'probe() (ARP only)':34} {med(ours_first):>13.1f} ms {med(ours_arp):>7.1f} ms")
    print(f"{'probe() (ARP + HTTPS cert)':34} {'':>16} {med(ours_https):>7.1f} ms")
    print(f"{'arp-scan --retry=1 --timeout=200':34} {'n/a':>16} {med(scan):>7.1f} ms")
    print(f"{'  the same with --quiet':34} {'n/a':>16} {med(scan_quiet):>7.1f} ms")
    print(f"(ARP round trip on the veth: {med(ours_rtt):.3f} ms)")
    inproc = med(ours_https) / best_scan
    print(f"ratio in-process probe/arp-scan: ARP only {med(ours_arp) / best_scan:.2f}, "
          f"with HTTPS {inproc:.2f}; first responder < 50 ms: "
          f"{'met' if med(ours_first) < 50 else 'MISSED'}")
    print(f"listen after a silent search (1 s window), whole process: {med(listen_wall):.0f} "
          f"ms; the listen's own cost beyond its window {med(listen_cost):.0f} ms; peak RSS "
          f"{max(listen_rss):.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "listen_cost_ms": round(med(listen_cost), 1),
            "listen_process_ms": round(med(listen_wall), 1),
            "listen_peak_rss_mb": round(max(listen_rss), 1),
            "whole_process_ms": round(med(cli), 1), "arp_scan_process_ms": round(med(cli_scan), 1),
            "whole_ratio": round(whole, 3), "in_process_https_ms": round(med(ours_https), 1),
            "in_process_ratio": round(inproc, 3), "first_answer_ms": round(med(ours_first), 3),
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
