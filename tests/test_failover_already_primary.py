"""The failover path against a pair whose backup already took the primary role.

The procedure (line 18): with Enable Automatic Failover on, the backup takes
the primary role by itself. The simulated pair does not model the automatic
failover, so the test stands in for it: it stops the primary and makes the
backup primary with its own API client, as the appliance would by itself.
Then bringup, headless and in the console, must read the role first, say the
backup is already the primary, and send no set_failover_role: the backup's
control socket counts the command API requests (one check_health, nothing more).
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PAIR_CLIENT
from hwprobe.appliance.failover import FailoverClient
from simulator import control
from simulator import lab as labmod
from simulator.lab import PAIR
from test_tui_flow import screen_text, wait_for
from bringup.console import make_app
from tui.screens.failover import FailoverScreen
from tui.screens.paths import PATH_KEYS, PathsScreen
from tui.screens.start import StartScreen

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "assets" / "example-sheet.toml"


def backup_took_over(lab) -> None:
    """The primary fails; the backup takes the primary role (the automatic
    failover's stand-in, through the command API)."""
    labmod.stop_appliance(lab.name, "primary")
    with labmod.in_netns(lab.laptop_ns):
        client = FailoverClient(PAIR["backup"], client_id=PAIR_CLIENT[0],
                                client_secret=PAIR_CLIENT[1])
        try:
            assert client.set_role("primary").ok
            assert client.health().role == "primary"
        finally:
            client.close()


def command_requests(lab) -> int:
    """How many command API requests the backup has answered so far."""
    stats = control.send(lab.backup["control"], get="stats")
    return stats["requests"].get("POST /api/command", 0)


def squash(text: str) -> str:
    return " ".join(text.split())


def test_headless_promote_says_the_backup_is_already_primary_and_sends_nothing(pair):
    backup_took_over(pair)
    before = command_requests(pair)
    env = dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_API_CLIENT_ID=PAIR_CLIENT[0],
               BRINGUP_API_SECRET=PAIR_CLIENT[1])
    r = subprocess.run(["ip", "netns", "exec", pair.laptop_ns, sys.executable, "-m", "bringup",
                        "failover", "promote", "--address", PAIR["backup"]],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    out = squash(r.stdout)
    assert f"{PAIR['backup']} is already the primary: nothing to promote" in out
    assert ("Next: check that the clients work again, then repair the failed appliance (the "
            "vendor's procedure, BeyondTrust Appliance B Series Recovery: Failover and Spare B "
            "Series Appliances, step 3)") in out
    assert "Nothing was sent." in out
    assert PAIR_CLIENT[1] not in r.stdout + r.stderr
    assert command_requests(pair) - before == 1          # check_health; no set_failover_role


def test_console_reads_the_role_first_says_already_primary_and_does_not_promote(
        pair, tmp_path, monkeypatch, state_dir):
    backup_took_over(pair)
    home = tmp_path / "home"
    home.mkdir()
    sheet = home / "support.toml"
    sheet.write_text(EXAMPLE.read_text() + '\n[failover]\nmethod = "shared_ip"\n'
                     f'peer_address = "{PAIR["backup"]}"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BRINGUP_API_CLIENT_ID", PAIR_CLIENT[0])
    monkeypatch.setenv("BRINGUP_API_SECRET", PAIR_CLIENT[1])
    from hwprobe.port import probe as probe_mod
    monkeypatch.setattr(probe_mod, "preload", lambda: None)     # no scapy needed here
    before = command_requests(pair)
    app = make_app(["--console-profile", "--sheet", str(sheet)])
    app.options.resume = False
    seen = {}

    async def steps(pilot):
        await pilot.pause(0.1)
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen)
                       and app.session.settings is not None, "sheet loaded")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen), "triage")
        await pilot.press("right", "down", "right", "down", "right", "right", "down", "right")
        await pilot.pause(0.1)
        seen["triage"] = screen_text(app)
        await pilot.press("enter")                  # the 1st path: failover
        await wait_for(pilot, lambda: isinstance(app.screen, FailoverScreen)
                       and app.screen.health is not None, "the health read on opening",
                       timeout=40)
        await pilot.pause(0.1)
        seen["opened"] = screen_text(app)
        await pilot.press("ctrl+y")
        await pilot.pause(0.2)
        seen["make primary"] = screen_text(app)

    with labmod.in_netns(pair.laptop_ns):
        async def go():
            async with app.run_test(size=(80, 24)) as pilot:
                await steps(pilot)
        asyncio.run(go())

    assert "2  Failover pair: the primary is down  <- 1st" in seen["triage"]
    opened = squash(seen["opened"])
    assert f"{PAIR['backup']}: role PRIMARY" in opened
    assert "[x] 2. The backup already holds the primary role" in opened
    assert f"{PAIR['backup']} is already the primary: nothing to promote. Next: step 3, " \
           "check that the clients work again." in opened
    assert "bringup: this site (sheet): shared IP" in opened
    assert "is already the primary: nothing to promote" in squash(seen["make primary"])
    assert command_requests(pair) - before == 1          # the one health read; nothing sent
    assert PATH_KEYS.index("failover") == 1
