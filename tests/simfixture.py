"""A real simulated appliance on 127.0.0.1 for driver tests.

``start_sim(directory, *flags)`` runs ``python -m simulator serve`` in a
subprocess with ephemeral ports (real HTTPS, a real console pty, the control
socket) and returns a ``Sim`` once its ready line is out. Fixtures: ``sim``
(a factory-fresh appliance) and ``make_sim(*flags)`` for extra simulator flags.
No network namespace and no root needed: everything stays on loopback.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 20.0


@dataclass
class Sim:
    proc: subprocess.Popen
    dir: Path
    https_port: int
    console: str
    control: str
    fingerprint: str

    def send(self, **msg) -> dict:
        from simulator.control import send

        return send(self.control, **msg)

    def fault(self, name: str, value=None) -> dict:
        return self.send(fault=name, value=value)

    def state(self) -> dict:
        return self.send(get="state")["state"]

    def stats(self) -> dict:
        return self.send(get="stats")

    def log(self) -> str:
        path = self.dir / "sim.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_sim(directory: Path, *flags: str) -> Sim:
    """Start a simulator with its state in ``directory``; raises RuntimeError
    (with the simulator's log) when it does not come up."""
    directory.mkdir(parents=True, exist_ok=True)
    control = str(directory / "control.sock")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "simulator", "serve", "--state-dir", str(directory / "state"),
            "--bind", "127.0.0.1", "--https-port", "0", "--http-port", "-1",
            "--console-link", str(directory / "console"), "--control", control, *flags]
    log = open(directory / "sim.log", "a")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                            env=env, cwd=str(ROOT), text=True)
    log.close()
    deadline = time.monotonic() + READY_SECONDS
    line = ""
    while time.monotonic() < deadline:
        if not select.select([proc.stdout], [], [], deadline - time.monotonic())[0]:
            break
        line = proc.stdout.readline()
        if not line:
            break
        try:
            ready = json.loads(line)
        except ValueError:
            continue
        if ready.get("ready"):
            return Sim(proc=proc, dir=directory, https_port=int(ready["https_port"]),
                       console=ready["console"], control=control,
                       fingerprint=ready.get("fingerprint", ""))
    proc.kill()
    proc.wait(5)
    proc.stdout.close()
    tail = (directory / "sim.log").read_text()[-2000:]
    raise RuntimeError(f"the simulator did not start (last line {line!r}); its log:\n{tail}")


@pytest.fixture
def make_sim(tmp_path):
    """Factory: ``make_sim(*flags)`` starts a simulator; all are stopped afterwards."""
    started: list[Sim] = []

    def factory(*flags: str) -> Sim:
        sim = start_sim(tmp_path / f"sim{len(started)}", *flags)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim) -> Sim:
    """A factory-fresh simulated appliance (admin / password, change forced)."""
    return make_sim()
