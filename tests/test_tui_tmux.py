"""End to end in a real terminal: ``bringup demo`` in tmux at 80x24 with
TERM=linux, driven by send-keys from the first step to Done.

The lab is kept up after the console ends (``--keep-lab``) so the test can
read the simulator's state and the laptop port afterwards; the test takes it
down itself.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from hwprobe.settings.sheet import load_sheet
from tmux_helpers import Tmux, bringup_command

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "assets" / "example-sheet.toml"
NEW_PASSWORD = "Rack-42-Green"
SMTP_PASSWORD = "relay-Pass1"

pytestmark = [pytest.mark.lab, pytest.mark.tmux]


def _lan0(ns: str) -> dict:
    out = subprocess.run(["ip", "-n", ns, "-j", "addr", "show", "dev", "lan0"],
                         capture_output=True, text=True, check=True).stdout
    link = json.loads(out)[0]
    return {"up": "UP" in link["flags"],
            "addresses": sorted(a["local"] for a in link.get("addr_info", []))}


def test_demo_in_tmux_at_80x24_on_a_linux_console_from_start_to_done(tmp_path, state_dir):
    from conftest import require_tool
    from simulator import lab as labmod
    from simulator.control import send

    require_tool("tmux", "tmux")
    name = f"x{uuid.uuid4().hex[:6]}"
    session = f"bringup-{name}"
    log = tmp_path / "demo.log"
    # script(1) keeps the console on a terminal (a pipe to tee would not be one,
    # and bringup refuses to draw into a pipe) while it records every byte
    demo = (f"env TERM=linux BRINGUP_STATE_DIR={state_dir} {bringup_command()} demo --name {name} "
            f"--appliance-address 169.254.1.4 --keep-lab")
    command = f"script -qfec {shlex.quote(demo)} {log}; sleep 30"
    t = Tmux(session, session)
    t.run("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    shots: dict[str, str] = {}
    try:
        shots["start"] = t.wait("Step 1 of 7")
        t.wait("Sheet loaded")
        before = _lan0(f"{name}-laptop")
        t.keys("Enter")
        shots["port"] = t.wait("lan0")
        t.wait("Arrows choose")
        t.keys("Enter")
        shots["find"] = t.wait("Found the appliance at 169.254.1.4")
        t.keys("Enter")
        t.wait("Step 4 of 7")
        shots["login"] = t.new_password_twice(NEW_PASSWORD)
        t.keys("Enter")
        shots["network"] = t.wait("Step 5 of 7")
        t.keys("C-g")
        shots["restore"] = t.wait("settings differ")
        t.keys(SMTP_PASSWORD, literal=True)
        t.keys("Enter")
        shots["applied"] = t.wait("applied and read back", timeout=90)
        t.keys("Enter")
        shots["done"] = t.wait("given back as it was")
        t.keys("Enter")
        t.wait("left up", timeout=30)           # the console ended; demo kept the lab
        after = _lan0(f"{name}-laptop")
        state = send(labmod.get(name).control, get="state")["state"]
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True)
        labmod.down(name)

    for step, shot in shots.items():
        assert all(c.isascii() for c in shot), f"non-ASCII on the {step} screen"
        assert len(shot.splitlines()) <= 24
    assert "Step 2 of 7: Laptop port" in shots["port"]
    assert "Step 3 of 7: Find the appliance" in shots["find"]
    assert NEW_PASSWORD not in shots["login"] and "*************" in shots["login"]
    assert "Step 6 of 7: Restore" in shots["restore"]
    assert "Step 7 of 7: Done" in shots["done"]
    # this demo has no production network: Done says so instead of offering verify
    done = " ".join(shots["done"].split())
    assert "needs a production network" in done and "bringup demo --production" in done
    assert "Verify after" not in done
    sheet = load_sheet(SHEET)
    addresses = {ip["address"] for ip in state["ips"]}
    assert {ip.address for ip in sheet.ips} <= addresses
    assert state["hostname"] == sheet.hostname
    assert state["default_gateway"] == sheet.default_gateway
    assert state["dns_servers"] == sheet.dns_servers
    assert state["ntp_servers"] == sheet.ntp_servers
    assert state["syslog_servers"] == sheet.syslog_servers
    assert state["smtp"]["relay"] == sheet.smtp.relay and state["smtp"]["password_set"]
    assert after == before
    assert NEW_PASSWORD not in log.read_text() and SMTP_PASSWORD not in log.read_text()
