"""The serial line as tio handles it: baud rate and flow control, an adapter
unplugged and plugged back in, and sessions opened by hand in the console's
serial pane logged like the driver's.

The peer is the simulated appliance's console on a real pty. It reads the
line settings the technician's end put on the pty (ptys do not pace bytes)
and answers in garbage at the wrong speed; its ``unplug_console`` fault takes
the pty away and brings a new one back behind the same link, as a USB
adapter's /dev/serial/by-id name does.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwprobe.appliance.connect import connect_console
from hwprobe.errors import Unreachable
from area_helpers import read_state, send
from simfixture import make_sim, sim  # noqa: F401  (fixtures)
from sim_helpers import GOOD_PASSWORD, wait_until
from test_tui_screens import console_app, fixed_hardware, goto  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
BASIC = (Path(__file__).parent / "sheets" / "basic.toml").read_text()


def link(sim) -> str:
    return str(sim.dir / "console")


def test_an_unplugged_adapter_is_reopened_when_it_comes_back_and_the_session_goes_on(
        sim, tmp_path):
    transcript = tmp_path / "console.log"
    with connect_console(link(sim), timeout=10.0, transcript=transcript) as d:
        assert d.login("admin", "password").change_required
        d.change_password("password", GOOD_PASSWORD)
        sim.fault("unplug_console", 1.5)
        wait_until(lambda: not os.path.exists(link(sim)))          # the adapter is gone
        state = read_state(d)                      # waits for it, reopens, logs in again
        send(d, "hostname", hostname="replugged.example.net")
        assert read_state(d).hostname == "replugged.example.net"
    said = transcript.read_text()
    assert state.model == "B400"
    assert f"# the console {link(sim)} stopped working" in said
    assert f"# reopened {link(sim)}" in said
    assert GOOD_PASSWORD not in said


def test_baud_and_flow_control_reach_the_line_and_a_wrong_speed_is_said(make_sim, tmp_path,
                                                                          state_dir):
    slow = make_sim("--fault", "console_baud=9600")
    with pytest.raises(Unreachable) as wrong:
        connect_console(link(slow), timeout=2.0, transcript=tmp_path / "t.log").login(
            "admin", "password")
    assert "the baud rate (115200 8N1)" in str(wrong.value)
    sheet = tmp_path / "basic.toml"
    sheet.write_text(BASIC)
    env = {**os.environ, "BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT),
           "BRINGUP_NEW_PASSWORD": GOOD_PASSWORD}
    env.pop("BRINGUP_PASSWORD", None)
    r = subprocess.run([sys.executable, "-m", "bringup", "apply", "--sheet", str(sheet),
                        "--console", link(slow), "--baud", "9600", "--flow", "rtscts", "--json"],
                       env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr + r.stdout
    assert {s["status"] for s in json.loads(r.stdout)["steps"]} == {"verified"}
    assert slow.stats()["console_line"] == {"baud": 9600, "flow": "rtscts"}
    [log] = (state_dir / "transcripts").glob("console-*.log")
    assert f"console {link(slow)} at 9600 8N1, RTS/CTS, opened" in log.read_text()


def test_pane_opened_by_hand_enter_opens_logs_masked_and_reopens(sim, fixed_hardware):
    """On the Find step, Enter in the pane's Device field opens the device
    (it does not go on to Log in); the session is in a transcript with the
    password masked; an unplug is waited out and the device reopened."""
    app = console_app()

    async def run():
        async with app.run_test(size=(100, 30)) as pilot:
            pane, send = await open_pane(pilot, sim, baud="115200")
            assert app.screen.STEP == "find"                   # not on to Log in
            for line in ("", "admin"):
                send.value = line
                await pilot.press("enter")
            await until(pilot, lambda: send.password)           # at "Password:"
            send.value = "password"
            await pilot.press("enter")
            await until(pilot, lambda: "New password" in pane.text)
            send.value = GOOD_PASSWORD
            await pilot.press("enter")
            sim.fault("unplug_console", 1.0)
            await until(pilot, lambda: "waiting for it to come back" in pane.text)
            await until(pilot, lambda: "-- reopened" in pane.text)
            return pane.text, pane.transcript.path

    text, path = asyncio.run(run())
    assert "> admin" in text and "> ********" in text
    assert "> password" not in text and GOOD_PASSWORD not in text
    logged = Path(path).read_text()
    assert f"console {link(sim)} at 115200 8N1, opened" in logged
    assert "> admin" in logged and "> ********" in logged
    assert "> password" not in logged and GOOD_PASSWORD not in logged
    assert f"# reopened {link(sim)}" in logged


def test_pane_masks_a_password_the_console_echoes_one_byte_at_a_time(sim, fixed_hardware):
    """A broken console echoes what is typed at its password prompts, one byte
    per write: the pane and its transcript show ******** (the channel holds an
    echo that could be a password's start until the rest arrives)."""
    sim.fault("hostile", "echo_secret")
    app = console_app()

    async def run():
        async with app.run_test(size=(100, 30)) as pilot:
            pane, send = await open_pane(pilot, sim)
            for prompt, line in (("", ""), ("login:", "admin"), ("Password:", "password"),
                                 ("New password:", GOOD_PASSWORD),
                                 ("Confirm new password:", GOOD_PASSWORD)):
                await until(pilot, lambda: pane._tail.strip().endswith(prompt))
                send.value = line
                await pilot.press("enter")
            await until(pilot, lambda: "Select [1-9]:" in pane.text)
            return pane.text, pane.transcript.path

    try:
        text, path = asyncio.run(run())
    finally:
        sim.fault("hostile", "")
    logged = Path(path).read_text()
    echoed = [ln for ln in text.splitlines() if ln.endswith(" ********") and " > " not in ln]
    # the echo is there, masked: the factory password's too (it is a public
    # word, but its echo at a password prompt is a password echoed)
    assert len(echoed) == 3, text
    for part in (GOOD_PASSWORD, GOOD_PASSWORD[:5], GOOD_PASSWORD[4:]):
        assert part not in text and part not in logged, part


async def open_pane(pilot, sim, baud: str | None = None):
    """On the Find step, open the simulator's console in the pane (^t, then
    Enter in the Device field); returns the pane and its Send field, focused."""
    await goto("find")(pilot)
    await pilot.press("ctrl+t")
    pane = pilot.app.screen.query_one("#serial")
    device = pane.query_one("#serial-device")
    device.value = link(sim)
    if baud is not None:
        pane.query_one("#serial-baud").value = baud
    device.focus()
    await pilot.press("enter")
    await until(pilot, lambda: "-- opened" in pane.text)
    send = pane.query_one("#serial-send")
    send.focus()
    return pane, send


async def until(pilot, check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {pilot.app.screen.query_one('#serial').text}")
        await pilot.pause(0.05)

