"""`make bench`: run every bench/bench_*.py in turn and print their figures.

Each script is standalone (run as root; the probe and apply benches make their
own lab) and prints a small table. Results are also appended to
bench/results/latest.txt.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    log = out_dir / "latest.txt"
    failures = 0
    with log.open("w") as f:
        for script in sorted(HERE.glob("bench_*.py")):
            header = f"== {script.name} ({time.strftime('%Y-%m-%d %H:%M:%S')})"
            print(header, flush=True)
            r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
            print(r.stdout, end="")
            if r.returncode != 0:
                failures += 1
                print(f"   FAILED (exit {r.returncode}): {r.stderr[-800:]}")
            f.write(f"{header}\n{r.stdout}\n")
    print(f"figures saved in {log}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
