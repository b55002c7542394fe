"""The bad day meets the finish of a site (issue 26 after issue 23): Ctrl-C
during the finish steps, headless and in the console, with a kit taken from
`lab up --site` (the shared site lab), while the appliance restarts after
installing the site software.

- headless (`bringup apply --kit`), SIGINT: exit 130, one line saying it
  was interrupted; stderr and the report's first lines say STOPPED and list
  what was done (the network changes, the certificate), what was in flight
  (the site software) and what is left (the /login backup), and that
  running again resumes; the laptop port is given back; the next run converges (one
  install, one restore);
- the console (Pilot at 80x24), Ctrl-C on the Site step: the question is
  the one Apply asks, "stop after the step in flight, or go on"; y stops
  waiting for the restart (the step in flight), the console leaves with 130
  and the report lists the same.
"""
from __future__ import annotations

import asyncio
import signal

import pytest
import urllib3

from bringup.console import make_app
from finish_helpers import (FINISH_ENV, apply_kit, counted, start_apply_kit, stats,
                            wait_for)
from lab_helpers import NEW_PASSWORD, no_traceback, port_state, reports
from simulator import lab as labmod
from test_tui_flow import ctrl_c_then_stop, on_step, screen_text
from test_tui_flow import wait_for as wait_in_app

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("site-lab"),
              pytest.mark.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)]
# the install's restart lasts long enough to be interrupted in
SLOW_RESTART = ("--install-seconds", "12", "--login-restart-seconds", "1")


def _head(text: str) -> str:
    """A report's lines before its table of steps."""
    return text.split("## Steps")[0]


def test_ctrl_c_during_the_finish_headless_stops_lists_the_finish_steps_and_the_next_run_converges(
        make_lab, kit, state_dir):
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=SLOW_RESTART)
    before = port_state(lab.laptop_ns)
    proc = start_apply_kit(lab, kit, state_dir)
    wait_for(lambda: stats(lab)["faults"]["rebooting"] or proc.poll() is not None, timeout=120)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)         # ip netns exec execs: this is bringup itself
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out[-2000:] + err[-2000:]
    assert no_traceback(out, err)
    assert "[done] Certificate: imported" in out
    assert "In flight when it stopped (read back by the next run): Site software" in err, err
    assert "Left: /login backup" in err
    assert err.count("interrupted (Ctrl-C)") == 1, err[-1500:]
    assert "READY:" not in out + err.replace("NOT READY", "")
    text = reports(state_dir)[-1].read_text()
    assert text.startswith("# STOPPED while finishing the site (interrupted (Ctrl-C)): not ready "
                           "for the cables"), text[:300]
    head = _head(text)
    assert "- Done: the first-login password change; " in head and "; Certificate" in head, head
    assert "- In flight when it stopped (read back by the next run): Site software" in head
    assert "- Left: /login backup" in head and "resumes where this run stopped" in head
    assert "| [>] | Site software |" in text        # the finish's table: in flight
    assert port_state(lab.laptop_ns) == before
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 0}

    r = apply_kit(lab, kit, state_dir)       # waits out the restart, then goes on
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert r.stdout.splitlines()[-1].startswith("READY: ")
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}


def test_ctrl_c_on_the_site_step_asks_to_stop_after_the_step_in_flight_and_the_report_says_so(
        make_lab, kit, state_dir, monkeypatch, tmp_path):
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic2",
                   sim_args=SLOW_RESTART)
    for key, value in FINISH_ENV.items():
        if key != "BRINGUP_NEW_PASSWORD":            # typed at Log in, as a technician does
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make_app(["--console-profile", "--kit", str(kit), "--iface", "lan0", "--lab",
                    lab.name])
    app.options.resume = False
    seen: dict[str, str] = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_in_app(pilot, lambda: on_step(app, "start") and "Kit loaded"
                              in screen_text(app), "the kit loaded")
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: on_step(app, "port") and app.screen.ports, "ports")
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: on_step(app, "find") and app.screen.responders
                              and not app.screen._probing, "the appliance found", timeout=60)
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: on_step(app, "login"), "login step")
            await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
            await wait_in_app(pilot, lambda: on_step(app, "network"), "network step")
            await pilot.press("ctrl+g")
            await wait_in_app(pilot, lambda: on_step(app, "restore") and app.screen.plan,
                              "the diff", timeout=60)
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: app.screen.finished, "applied", timeout=90)
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: on_step(app, "site")
                              and "Enter finishes the site." in screen_text(app), "site step")
            await pilot.press("enter")
            await wait_in_app(pilot, lambda: app.screen.waiting_restart, "the restart",
                              timeout=120)
            seen["question"] = await ctrl_c_then_stop(pilot, app)

    with labmod.in_netns(lab.laptop_ns):
        asyncio.run(run())
    assert "Finishing: stop after the step in flight, or go on?" in seen["question"]
    assert "y  stop after this step   n  go on" in seen["question"]
    assert "The appliance is restarting. Quitting now is safe" in seen["question"]
    assert app.return_code == 130
    text = reports(state_dir)[-1].read_text()
    assert text.startswith("# STOPPED while finishing the site (asked to stop after the step in "
                           "flight): not ready for the cables"), text[:300]
    head = _head(text)
    assert "; Certificate" in head.split("- Done: ")[1].splitlines()[0], head
    assert "- In flight when it stopped (read back by the next run): Site software" in head
    assert "- Left: /login backup" in head and "resumes where this run stopped" in head
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 0}
