"""How fast `bringup probe` finds the appliance, beside arp-scan, in one fresh lab.

Run as root:  python bench/bench_probe.py  [--runs N]

Makes a lab (appliance on 169.254.1.1 via NIC1), takes lan0 over in-process,
then alternates N times:
  - hwprobe.probe.probe() over 169.254.1.1-.4 (scapy already imported, as in the
    console after its first frame), ARP only and with the HTTPS check, with the
    same 200 ms timeout as arp-scan;
  - arp-scan --retry=1 --timeout=200 -I lan0 --arpspa=169.254.1.254 169.254.1.1-169.254.1.4
    (started from the laptop namespace, wall time of the whole process), and the
    same with --quiet (no vendor files: arp-scan's fastest); the ratio uses the
    faster of the two.
Also times `bringup probe --json` end to end once (a fresh process: Python start,
takeover, scapy import, probe, give-back): what a technician at a shell waits.
Prints medians and the ratio. Aims: first responder < 50 ms; total no slower
than arp-scan.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_probe: run as root (it makes a lab in network namespaces)")
        return 3
    if shutil.which("arp-scan") is None:
        print("bench_probe: needs arp-scan (apt-get install arp-scan)")
        return 2
    os.environ.setdefault("BRINGUP_STATE_DIR", tempfile.mkdtemp(prefix="bench-probe-"))
    from hwprobe import link, probe
    from simulator import lab as labmod

    name = f"bp{os.getpid() % 100000}"
    lab = labmod.up(name)
    try:
        t0 = time.monotonic()
        probe.preload()
        scapy_ms = (time.monotonic() - t0) * 1000
        ours_arp, ours_first, ours_https, ours_rtt, scan, scan_quiet = [], [], [], [], [], []
        with labmod.in_netns(lab.laptop_ns):
            with link.Takeover("lan0", handle_signals=False) as held:
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
        cli_start = time.monotonic()
        cli = subprocess.run(["ip", "netns", "exec", lab.laptop_ns,
                              str(Path(sys.executable).with_name("bringup")), "probe",
                              "--iface", "lan0", "--json"], capture_output=True, text=True)
        cli_ms = (time.monotonic() - cli_start) * 1000
        cli_out = json.loads(cli.stdout) if cli.returncode == 0 else {}
    finally:
        labmod.down(name)

    med = statistics.median
    best_scan = min(med(scan), med(scan_quiet))  # compare with arp-scan at its best
    print(f"probe over {', '.join(a.rsplit('.', 1)[1] for a in ADDRESSES)} of 169.254.1.x, "
          f"appliance on .1, {args.runs} runs, medians")
    print(f"{'':34} {'first responder':>16} {'total':>10}")
    print(f"{'bringup probe (ARP only)':34} {med(ours_first):>13.1f} ms {med(ours_arp):>7.1f} ms")
    print(f"{'bringup probe (ARP + HTTPS cert)':34} {'':>16} {med(ours_https):>7.1f} ms")
    print(f"{'arp-scan --retry=1 --timeout=200':34} {'n/a':>16} {med(scan):>7.1f} ms")
    print(f"{'  the same with --quiet':34} {'n/a':>16} {med(scan_quiet):>7.1f} ms")
    print(f"(ARP round trip on the veth: {med(ours_rtt):.3f} ms)")
    print(f"ratio bringup/arp-scan (faster of the two) total: ARP only "
          f"{med(ours_arp) / best_scan:.2f}, with HTTPS {med(ours_https) / best_scan:.2f}")
    print(f"aims: first responder < 50 ms: "
          f"{'met' if med(ours_first) < 50 else 'MISSED'}; total no slower than arp-scan: "
          f"{'met' if med(ours_https) <= best_scan else 'MISSED'}")
    first_cli = cli_out.get("first_answer_ms")
    print(f"cold `bringup probe --json` process: {cli_ms:.0f} ms end to end "
          f"(first responder {first_cli} ms into the probe; scapy import "
          f"{scapy_ms:.0f} ms, overlapped with the takeover)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
