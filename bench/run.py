"""`make bench`: run every bench/bench_*.py in turn, print their tables, then
every figure as a ratio to its anchor, in one run.

Anchors: the request floor (bench_apply.py defines it), arp-scan over the
same addresses (bench_probe.py), a bare Textual app started alternately with
the console (bench_console.py), curl fetching the same 1 GB /login backup on
the same lab link (bench_kit.py: kit / curl <= 1.25, i.e. curl / kit >= 0.8;
peak RSS 150 MB), curl uploading a 1 GB NSB to Restore Settings on the same
lab link and the finish's request floor (bench_finish.py: bringup / curl <=
1.25; peak RSS 150 MB; requests / floor <= 1.25), and the byte budgets (a step's first screen 4096 B, a
keystroke 200 B, idle 0 B/s). A ratio <= 1.00 meets its goal (requests and
the kit's download: <= 1.25).

Each script is standalone (run as root; the probe and apply benches make
their own labs) and also writes its figures as JSON. The last run is kept in
bench/results/: latest.txt (every table, as printed) and latest.json (the
figures).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCREEN_BUDGET, KEY_BUDGET = 4096, 200


def ratios(figures: dict) -> list[tuple[str, str, float | None, float]]:
    """(figure, measured against its anchor, ratio, the ratio's goal)."""
    rows = []
    apply = figures.get("bench_apply.py") or {}
    for what, run in apply.items():
        rows.append((f"apply requests, {what}", f"{run['requests']} / floor {run['floor']}",
                     run["ratio"], 1.25))
    slow = next((r for w, r in apply.items() if "delay" in w), None)
    if slow:
        waiting = slow["floor"] * 0.2
        rows.append(("apply wall time, delay=0.2", f"{slow['wall_s']:.2f} s / floor's "
                     f"waiting {waiting:.1f} s", slow["wall_s"] / waiting, float("nan")))
    probe = figures.get("bench_probe.py") or {}
    if probe:
        rows.append(("bringup probe process / arp-scan", f"{probe['whole_process_ms']:.0f} ms / "
                     f"{probe['arp_scan_process_ms']:.0f} ms", probe["whole_ratio"], 1.0))
        rows.append(("  in-process probe (port held) / arp-scan",
                     f"{probe['in_process_https_ms']:.0f} ms", probe["in_process_ratio"], 1.0))
        if "listen_cost_ms" in probe:
            # a figure: what listening adds to a silent search beyond its own window
            rows.append(("listen after a silent search, own cost",
                         f"{probe['listen_cost_ms']:.0f} ms beyond 1 s, "
                         f"{probe['listen_peak_rss_mb']:.0f} MB peak", None, float("nan")))
    kit = figures.get("bench_kit.py") or {}
    for rate, run in (kit.get("by_rate") or {}).items():
        cable = "veth" if rate == "veth" else f"cable {rate}"
        rows.append((f"kit: {run['bytes'] / 2 ** 30:.0f} GiB backup / curl, {cable}",
                     f"{run['kit_s']:.2f} s / {run['curl_s']:.2f} s", run["kit_over_curl"], 1.25))
        rows.append((f"kit: peak RSS, {cable}", f"{run['peak_rss_mb']:.0f} MB / 150 MB",
                     run["peak_rss_mb"] / 150, 1.0))
    finish = figures.get("bench_finish.py") or {}
    if finish.get("requests"):
        q = finish["requests"]
        rows.append(("finish requests (apply --kit)", f"{q['requests']} / floor {q['floor']}",
                     q["ratio"], 1.25))
    for rate, run in (finish.get("by_rate") or {}).items():
        cable = "veth" if rate == "veth" else f"cable {rate}"
        rows.append((f"finish: {run['bytes'] / 2 ** 30:.0f} GiB NSB upload / curl, {cable}",
                     f"{run['bringup_s']:.2f} s / {run['curl_s']:.2f} s",
                     run["bringup_over_curl"], 1.25))
        rows.append((f"finish: peak RSS, {cable}", f"{run['peak_rss_mb']:.0f} MB / 150 MB",
                     run["peak_rss_mb"] / 150, 1.0))
    console = figures.get("bench_console.py") or {}
    if console:
        rows.append(("console first frame / bare Textual", f"{console['first_frame_s']:.2f} s / "
                     f"{console['bare_textual_s']:.2f} s", console["first_frame_ratio"], 1.15))
        for step, size in (console.get("screens") or {}).items():
            rows.append((f"console step {step}, first screen", f"{size} B / {SCREEN_BUDGET} B",
                         size / SCREEN_BUDGET, 1.0))
        if "keystroke_median" in console:
            rows.append(("console keystroke in a text field (median)",
                         f"{console['keystroke_median']:.0f} B / {KEY_BUDGET} B",
                         console["keystroke_median"] / KEY_BUDGET, 1.0))
            rows.append(("  largest keystroke", f"{console['keystroke_max']} B / {KEY_BUDGET} B",
                         console["keystroke_max"] / KEY_BUDGET, 1.0))
        rows.append(("console idle", f"{console['idle_bytes_per_s']:.0f} B/s / 0 B/s", None, 0.0))
    return rows


def main() -> int:
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    failures = 0
    text: list[str] = []
    figures: dict[str, dict] = {}

    def say(line: str = "") -> None:
        print(line, flush=True)
        text.append(line)

    with tempfile.TemporaryDirectory() as tmp:
        for script in sorted(HERE.glob("bench_*.py")):
            say(f"== {script.name} ({time.strftime('%Y-%m-%d %H:%M:%S')})")
            out = Path(tmp) / f"{script.stem}.json"
            r = subprocess.run([sys.executable, str(script), "--json", str(out)],
                               capture_output=True, text=True)
            for line in r.stdout.splitlines():
                say(line)
            if r.returncode != 0:
                failures += 1
                say(f"   FAILED (exit {r.returncode}): {r.stderr[-800:]}")
            elif out.exists():
                figures[script.name] = json.loads(out.read_text())
    say("== every figure against its anchor")
    width = 44
    say(f"  {'figure'.ljust(width)} {'measured / anchor':>34} {'ratio':>6}  goal")
    for what, measured, ratio, goal in ratios(figures):
        shown = "-" if ratio is None else f"{ratio:.2f}"
        if goal != goal:                                   # nan: no goal, a figure
            verdict = "figure"
        elif ratio is None:
            verdict = "met" if measured.startswith("0 B") else "MISSED"
        else:
            verdict = "met" if ratio <= goal else "MISSED"
        goal_text = "" if goal != goal else f"<= {goal:g}"
        say(f"  {what.ljust(width)} {measured:>34} {shown:>6}  {goal_text} {verdict}")
    (out_dir / "latest.txt").write_text("\n".join(text) + "\n")
    (out_dir / "latest.json").write_text(json.dumps(
        {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "figures": figures}, indent=2))
    print(f"figures saved in {out_dir / 'latest.txt'} and latest.json")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
