"""The bad day meets the finish of a site (issue 26 after issue 23): Ctrl-C
during the finish steps, headless, with a kit taken from
`lab up --site` (the shared site lab), while the appliance restarts after
installing the site software.

- headless (`bringup apply --kit`), SIGINT: exit 130, one line saying it
  was interrupted; stderr and the report's first lines say STOPPED and list
  what was done (the network changes, the certificate), what was in flight
  (the site software) and what is left (the /login backup), and that
  running again resumes; the laptop port is given back; the next run converges (one
  install, one restore).
"""
from __future__ import annotations

import signal

import pytest
import urllib3

from finish_helpers import (apply_kit, counted, start_apply_kit, stats, take_kit,
                            wait_for)
from lab_helpers import no_traceback, port_state, reports

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("site-lab"),
              pytest.mark.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)]
# the install's restart lasts long enough to be interrupted in
SLOW_RESTART = ("--install-seconds", "12", "--login-restart-seconds", "1")


@pytest.fixture(scope="module")
def kit(site_lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "kit"
    take_kit(site_lab, out, tmp_path_factory.mktemp("kit-state"))
    return out


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
