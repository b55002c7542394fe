"""Console figures, measured in a real pseudo-terminal at 80x24 with TERM=linux.

1. Process start to first painted frame (aim < 0.6 s): from spawning
   ``python -m bringup --console-profile`` until the step bar and the footer
   have both been written to the terminal. Median of 5 runs.
2. Bytes written to the terminal for the first frame (aim < 10 KB), and per
   idle second afterwards (aim 0).
3. Peak memory (VmHWM) of the console over a whole demo run (aim < 120 MB):
   a lab is made, the console runs in its laptop namespace and is driven by
   keystrokes from the first step to Done. Needs root; skipped otherwise.

Standalone: ``sudo .venv/bin/python bench/bench_console.py``.
"""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "assets" / "example-sheet.toml"
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[()][0-9A-B]|[=>78cDEHM])")
IDLE_SECONDS = 5.0


class Pty:
    """A child process on a pty of 80x24 with TERM=linux; counts what it writes."""

    def __init__(self, argv: list[str], env: dict):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, cwd=str(ROOT))
        os.close(slave)
        self.data = bytearray()
        self.marks: list[tuple[float, int]] = []

    def read(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.data += chunk
            self.marks.append((time.perf_counter(), len(self.data)))

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.data)).decode("utf-8", "replace")

    def wait_for(self, *needles: str, timeout: float = 30.0, since: int = 0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            plain = ANSI.sub(b"", bytes(self.data[since:])).decode("utf-8", "replace")
            if all(n in plain for n in needles):
                return time.perf_counter()
            self.read(0.02)
        raise TimeoutError(f"never saw {needles!r}; last output: {self.text()[-600:]!r}")

    def quiet(self, seconds: float = 0.5, timeout: float = 10.0) -> None:
        """Read until nothing has been written for ``seconds``."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            before = len(self.data)
            self.read(seconds)
            if len(self.data) == before:
                return

    def send(self, keys: str | bytes) -> None:
        os.write(self.master, keys.encode() if isinstance(keys, str) else keys)
        time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send(b"\x11")                       # ctrl+q
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
        os.close(self.master)


def _env(state: str) -> dict:
    env = dict(os.environ, TERM="linux", BRINGUP_STATE_DIR=state, COLUMNS="80", LINES="24")
    env.pop("TEXTUAL", None)
    return env


BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static
class Bare(App):
    def compose(self):
        yield Static("Step 1 of 7")
        yield Footer()
Bare().run()
"""


def first_frame(argv: list[str] | None = None) -> dict:
    argv = argv or [sys.executable, "-m", "bringup", "--console-profile"]
    with tempfile.TemporaryDirectory() as state:
        p = Pty(argv, _env(state))
        try:
            painted = p.wait_for("Step 1 of 7", "palette")
            at_paint = len(p.data)
            p.quiet(0.5)
            frame = len(p.data)
            idle_start = len(p.data)
            p.read(IDLE_SECONDS)
            idle = (len(p.data) - idle_start) / IDLE_SECONDS
        finally:
            p.close()
    return {"seconds": painted - p.started, "bytes_at_paint": at_paint, "bytes_frame": frame,
            "idle_bytes_per_s": idle}


def demo_peak_memory() -> dict:
    sys.path.insert(0, str(ROOT))
    from simulator import lab as labmod

    name = f"b{uuid.uuid4().hex[:6]}"
    lab = labmod.up(name=name, appliance_address="169.254.1.2")
    try:
        with tempfile.TemporaryDirectory() as state:
            argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                    "--console-profile", "--lab", name, "--sheet", str(SHEET), "--iface", "lan0"]
            p = Pty(argv, _env(state))
            t0 = time.perf_counter()
            try:
                p.wait_for("Sheet loaded")
                mark = len(p.data)
                p.send("\r")
                p.wait_for("Arrows choose", since=mark)
                mark = len(p.data)
                p.send("\r")
                p.wait_for("Found the appliance", timeout=30, since=mark)
                mark = len(p.data)
                p.send("\r")
                p.wait_for("Step 4 of 7", since=mark)
                p.quiet(0.3)
                p.send("Rack-42-Green")
                p.send("\r")
                p.send("Rack-42-Green")
                p.quiet(0.3)
                mark = len(p.data)
                p.send("\r")
                p.wait_for("Step 5 of 7", since=mark)
                mark = len(p.data)
                p.send(b"\x07")                          # ctrl+g
                p.wait_for("settings differ", since=mark)
                mark = len(p.data)
                p.send("relay-Pass1\r")
                p.wait_for("applied and read back", timeout=90, since=mark)
                mark = len(p.data)
                p.send("\r")
                p.wait_for("given back", since=mark)
                status = Path(f"/proc/{p.proc.pid}/status").read_text()
                hwm_kb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
                p.send("\r")
                p.proc.wait(10)
                seconds = time.perf_counter() - t0
                written = len(p.data)
            finally:
                p.close()
    finally:
        labmod.down(name)
    return {"peak_mb": hwm_kb / 1024, "seconds": seconds, "bytes": written}


def main() -> int:
    runs = [first_frame() for _ in range(5)]
    seconds = statistics.median(r["seconds"] for r in runs)
    frame = statistics.median(r["bytes_frame"] for r in runs)
    at_paint = statistics.median(r["bytes_at_paint"] for r in runs)
    idle = max(r["idle_bytes_per_s"] for r in runs)
    bare = statistics.median(first_frame([sys.executable, "-c", BARE_APP])["seconds"]
                             for _ in range(3))
    rows = [
        ("start to first painted frame", f"{seconds:.3f} s", "< 0.6 s"),
        ("  (a bare Textual app on this machine)", f"{bare:.3f} s", "floor"),
        ("bytes for the first frame (painted)", f"{at_paint / 1024:.1f} KB", "< 10 KB"),
        ("bytes until the screen settles", f"{frame / 1024:.1f} KB", "< 10 KB"),
        ("bytes per idle second", f"{idle:.0f} B", "0"),
    ]
    if os.geteuid() == 0:
        demo = demo_peak_memory()
        rows += [
            ("peak memory over a demo run", f"{demo['peak_mb']:.0f} MB", "< 120 MB"),
            ("demo run, start to done (keys sent by the bench)", f"{demo['seconds']:.1f} s", "-"),
            ("bytes written over the demo run", f"{demo['bytes'] / 1024:.0f} KB", "-"),
        ]
    else:
        rows.append(("peak memory over a demo run", "skipped (needs root)", "< 120 MB"))
    print(f"console at 80x24, TERM=linux, console profile ({len(runs)} starts)")
    width = max(len(r[0]) for r in rows)
    print(f"  {'figure'.ljust(width)}  {'measured':>12}  aim")
    for what, value, aim in rows:
        print(f"  {what.ljust(width)}  {value:>12}  {aim}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
