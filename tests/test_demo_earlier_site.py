"""Practising an earlier site's appliance: ``bringup demo --appliance-address
A/PREFIX`` in tmux at 80x24 on TERM=vt220, as a technician would.

Find hears the appliance on its earlier site's address, Enter probes it
there, and Log in has that site's password filled in (the demo hands it to
the console in BRINGUP_PASSWORD, as a site hands it to a technician): ^g
logs in without a password change and reaches Step 5. Before this, the demo
made a password nobody could read from inside the console: a dead end.
The password never reaches the screen or the demo's own output.
"""
from __future__ import annotations

import uuid

import pytest

from tmux_helpers import bringup_command, demo_in_tmux

pytestmark = [pytest.mark.lab, pytest.mark.tmux]

PASSWORD = "Earlier-Site-4u!"          # the earlier site's, given to the demo


def test_a_demo_of_an_earlier_sites_appliance_logs_in_with_that_sites_password(tmp_path):
    from conftest import require_lab, require_tool

    require_lab()
    require_tool("tmux", "tmux")
    name = f"e{uuid.uuid4().hex[:6]}"
    session = f"earlier-{name}"
    log = tmp_path / "demo.log"
    # an address and prefix of no other test: the general case, not the example's
    secret = tmp_path / "password"                 # never in a command line
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    demo = (f"BRINGUP_PASSWORD=\"$(cat {secret})\" env TERM=vt220 "
            f"BRINGUP_STATE_DIR={tmp_path / 'state'} {bringup_command()} demo --name {name} "
            f"--appliance-address 198.51.100.77/25")
    with demo_in_tmux(session, name, demo, log, tmp_path) as t:
        t.wait("Sheet loaded")
        t.keys("Enter")
        t.wait("Arrows choose")
        t.keys("Enter")
        find = t.wait("heard: Enter probes", timeout=60)
        assert "198.51.100.77" in find and "earlier site" in " ".join(find.split()), find
        t.keys("Enter")
        probed = " ".join(t.wait("not factory-fresh").split())
        assert "198.51.100.77 answers" in probed, probed
        t.keys("Enter")
        login = " ".join(t.wait("Step 4 of 7").split())
        assert "Password is filled in from BRINGUP_PASSWORD" in login, login
        assert "factory credentials" not in login
        t.keys("C-g")
        network = t.wait("Step 5 of 7")
        assert "Network" in network
        t.keys("C-x")
        t.wait("Quit")
        t.keys("y")
        t.wait("taken down", timeout=60)
    shown = log.read_text(errors="replace")
    assert PASSWORD not in shown
    assert "as given to lab up (BRINGUP_PASSWORD)" in shown      # the demo's own lines
