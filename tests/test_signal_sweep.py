"""Signals at every moment of the first second: ``bringup apply --iface
lan0`` against a lab's factory appliance, sent SIGINT or SIGTERM at 20
points spread over its first second (50 ms apart), from the source tree and
from dist/bringup on its first start (a fresh PEX_ROOT each time, so every
point lands in its unpacking).

At every point: status 130 (SIGINT) or 143 (SIGTERM); no traceback; exactly
one line saying what stopped it; lan0 exactly as it was (untouched or given
back); and once the run took the port, a report saying where it stopped.
Both start Python as the bundle's launcher does (scripts/dist-signals):
with the signals blocked until bringup's first line (hwprobe.stopping.guard)
unblocks them, so a signal that lands while the interpreter itself starts
waits for bringup instead of being Python's own KeyboardInterrupt.
The appliance answers every request 50 ms late, so the run spans the whole
second: start-up, the takeover, the search, the login and the password
change, the plan and the first saves. One state directory for the sweep:
the run journal carries the password change from one run to the next."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import require_lab
from lab_helpers import EXAMPLE, NEW_PASSWORD, SMTP_PASSWORD, no_traceback, port_state
from simulator import control

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "bringup"
POINTS = [round(0.05 * i, 2) for i in range(1, 21)]
SIGNALS = (signal.SIGINT, signal.SIGTERM)
WORDS = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "stopped by SIGTERM"}
BLOCKED = ["env", "--block-signal=INT", "--block-signal=TERM", "--block-signal=HUP"]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _sweep(lab, tmp_path, argv_of, env_of) -> list[dict]:
    """Run the sweep; returns one record per (point, signal)."""
    state = tmp_path / "state"
    state.mkdir()
    before = port_state(lab.laptop_ns)
    rows = []
    for at in POINTS:
        for sig in SIGNALS:
            reports = set((state / "reports").glob("*.md"))
            env = env_of(state)
            proc = subprocess.Popen(argv_of(), env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
            time.sleep(at)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=90)
            new_reports = set((state / "reports").glob("*.md")) - reports
            took_port = "lan0 is on 169.254.1" in err
            status = proc.returncode
            rows.append({
                "at": at, "signal": sig.name,
                # a negative status: ended by the signal itself, before the
                # interpreter ran bringup's first line (a shell reports 128 + n)
                "status": 128 - status if status < 0 else status, "before_bringup": status < 0,
                "traceback": not no_traceback(out, err),
                "lines": sum(line.startswith("bringup: ") and WORDS[sig] in line
                             for line in err.splitlines()),
                "port": port_state(lab.laptop_ns) == before,
                "took_port": took_port, "report": bool(new_reports),
                "stopped_in": next((r.read_text().split("result: ", 1)[1].split("\n")[0]
                                    for r in new_reports), ""),
                "said": err.strip().splitlines()[-1] if err.strip() else "",
            })
            for unpacked in tmp_path.glob("pex-*"):      # the next start is a first one too
                shutil.rmtree(unpacked, ignore_errors=True)
    return rows


def _check(rows: list[dict], title: str) -> None:
    print(f"\n{title}\n| at (s) | signal | status | tracebacks | lines | port as it was "
          f"| took the port | report |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['at']:.2f} | {r['signal']} | {r['status']} | {int(r['traceback'])} | "
              f"{r['lines']} | {'yes' if r['port'] else 'NO'} | "
              f"{'yes' if r['took_port'] else 'no'} | {r['stopped_in'] or '-'} |")
    bad = [r for r in rows
           if r["status"] != 128 + signal.Signals[r["signal"]] or r["traceback"]
           or r["lines"] != (0 if r["before_bringup"] else 1) or not r["port"]
           or (r["took_port"] and not r["report"])]
    print(f"{len(rows)} points: {sum(r['traceback'] for r in rows)} tracebacks, "
          f"{sum(not r['before_bringup'] for r in rows)} heard by bringup, "
          f"{sum(r['before_bringup'] for r in rows)} before its first line, "
          f"{sum(r['took_port'] for r in rows)} after taking the port")
    assert not bad, [(r["at"], r["signal"], r["status"], r["said"]) for r in bad]


@pytest.fixture
def slow_lab(make_lab):
    """A factory appliance that answers every request 50 ms late."""
    lab = make_lab()
    control.send(lab.control, fault="delay", value=0.05)
    return lab


ENV = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}


def test_signals_over_the_first_second_from_the_source_tree(slow_lab, tmp_path):
    lab = slow_lab

    def argv():
        # started as the bundle starts Python: the signals blocked until
        # bringup's first line unblocks them (before it, a bare interpreter
        # is still in its own start-up, where Ctrl-C is Python's)
        return ["ip", "netns", "exec", lab.laptop_ns, *BLOCKED, sys.executable, "-m",
                "bringup", "apply", "--sheet", str(EXAMPLE), "--iface", "lan0"]

    def env(state):
        base = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
        return {**base, **ENV, "PYTHONPATH": str(ROOT), "BRINGUP_STATE_DIR": str(state)}

    rows = _sweep(lab, tmp_path, argv, env)
    _check(rows, "signal sweep, source tree")
    assert not any(r["before_bringup"] for r in rows)
    assert sum(r["took_port"] for r in rows) >= 10     # the sweep reached the run itself


def test_signals_over_the_first_second_of_the_bundles_first_start(slow_lab, tmp_path):
    require_lab()
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: build it with `make dist`")
    lab = slow_lab

    def argv():
        return ["ip", "netns", "exec", lab.laptop_ns, str(BUNDLE), "apply", "--sheet",
                str(EXAMPLE), "--iface", "lan0"]

    def env(state):
        # a stock laptop: the system's python3 and tools, an empty PEX_ROOT
        root = tmp_path / f"pex-{uuid.uuid4().hex[:6]}"
        return {"PATH": SYSTEM_PATH, "HOME": str(tmp_path), "LANG": "C.UTF-8",
                "PEX_ROOT": str(root),
                "BRINGUP_STATE_DIR": str(state), **ENV}

    rows = _sweep(lab, tmp_path, argv, env)
    _check(rows, "signal sweep, dist/bringup on its first start")
    # the bundle starts Python with the signals blocked: every one is heard
    assert not any(r["before_bringup"] for r in rows)
