"""The console with a recovery kit, in a real terminal (tmux at 80x24,
TERM=linux), against a factory appliance on 169.254.1.3 answering on NIC2
with the cable first in NIC1, and a kit taken from `lab up --site`: from the
start screen through Restore to the Site step; quitting while the appliance
restarts says the run can be resumed; the next start resumes and lands on
the Site step, which finishes the site; from outside, the site's clients get
the kit's certificate, the backup's API account answers check_health with
the site's hostname, verify (Done's v) reaches every service, and the laptop
port is as it was."""
from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from finish_helpers import FINISH_ENV, HOSTNAME, counted, served, site_answers
from lab_helpers import NEW_PASSWORD, SMTP_PASSWORD, port_state
from tmux_helpers import Tmux

pytestmark = [pytest.mark.lab, pytest.mark.tmux, pytest.mark.xdist_group("site-lab"),
              pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")]
ROOT = Path(__file__).resolve().parent.parent


def _console(lab, kit: Path, state_dir, log: Path) -> str:
    """The console in the lab's laptop namespace, recorded by script(1); its
    secrets in its environment (from a script of the test's own, 0700),
    never on a command line."""
    env = {**{k: v for k, v in FINISH_ENV.items() if k not in ("BRINGUP_NEW_PASSWORD",
                                                               "BRINGUP_SMTP_PASSWORD")},
           "TERM": "linux", "BRINGUP_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT)}
    script = log.with_suffix(".sh")
    script.write_text("#!/bin/sh\ncd " + shlex.quote(str(ROOT)) + "\n"
                      + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
                      + f"exec ip netns exec {lab.laptop_ns} {sys.executable} -m bringup "
                        f"--kit {kit} --iface lan0\n")
    script.chmod(0o700)
    return f"script -qfec {shlex.quote(str(script))} {log}; sleep 60"


def test_the_console_finishes_the_site_resuming_on_the_site_step_after_a_quit_in_the_restart(
        make_lab, kit, state_dir, tmp_path):
    from conftest import require_tool
    from simulator import lab as labmod

    require_tool("tmux", "tmux")
    lab = make_lab(appliance_address="169.254.1.3", answers_on="nic2", plug="nic1",
                   production=("nic1", "nic2"), smtp_password=SMTP_PASSWORD,
                   sim_args=("--install-seconds", "20", "--login-restart-seconds", "1"))
    before = port_state(lab.laptop_ns)
    name = f"f{uuid.uuid4().hex[:6]}"
    t = Tmux(name, name)
    shots: dict[str, str] = {}
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    try:
        t.run("new-session", "-d", "-s", name, "-x", "80", "-y", "24",
              _console(lab, kit, state_dir, logs[0]))
        shots["start"] = t.wait("Kit loaded")
        t.keys("Enter")
        t.wait("Arrows choose")
        t.keys("Enter")
        shots["find"] = t.wait("Nothing answered through NIC1")
        labmod.plug(lab.name, "nic2")
        t.wait("Found the appliance at 169.254.1.3")
        t.keys("Enter")
        t.wait("Step 4 of 8: Log in")
        t.new_password_twice(NEW_PASSWORD)
        t.keys("Enter")
        t.wait("Step 5 of 8: Network")
        t.keys("C-g")
        t.wait("settings differ")
        t.keys(SMTP_PASSWORD, literal=True)
        t.keys("Enter")
        t.wait("Enter: the Site step", timeout=90)
        t.keys("Enter")
        shots["site"] = t.wait("Enter finishes the site.")
        t.keys("Enter")
        shots["restart"] = t.wait("waiting for the appliance to restart", timeout=60)
        t.keys("C-x")               # the finish at work: stop after its step in flight?
        shots["quit"] = t.wait("y  stop after this step")
        t.keys("y")
        t.wait("Left undone", timeout=30)
        t.run("kill-server")

        t = Tmux(name + "b", name + "b")
        t.run("new-session", "-d", "-s", t.name, "-x", "80", "-y", "24",
              _console(lab, kit, state_dir, logs[1]))
        shots["resume"] = t.wait("c  continue from there")
        t.keys("c")
        # still restarting, most often: Enter then waits for it at Log in
        shots["find-again"] = t.wait_any("is restarting after installing its site software",
                                         "Found the appliance at 169.254.1.3", timeout=60)
        t.keys("Enter")
        t.wait("Step 4 of 8: Log in")
        t.keys(NEW_PASSWORD, literal=True)
        t.keys("C-g")
        shots["resumed"] = t.wait("Step 7 of 8: Site", timeout=60)
        t.wait("Enter finishes the site.")
        t.keys("Enter")
        shots["finished"] = t.wait("The site is finished", timeout=90)
        t.keys("Space")
        shots["detail"] = t.wait("Esc close")
        t.keys("Escape")
        t.wait("Enter Finish the site")            # the pane closed
        t.keys("Enter")
        shots["done"] = t.wait("given back as it was")
        # after the cables move: the laptop on the production network, NIC1's switch
        labmod.plug(lab.name, "nic1")
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "198.51.100.250/24", "dev",
                        "lan0"], check=True)
        t.keys("v")
        shots["verify-offer"] = t.wait("Verify: is every restored service reached?")
        # the address is filled in: NIC1's production address, the cable's NIC
        # (typing it again raced the field's focus and once left it empty)
        assert "198.51.100.20" in shots["verify-offer"], shots["verify-offer"]
        t.keys("Enter")
        shots["verify"] = t.wait("Every service reached", timeout=90)
    finally:
        for socket in (name, name + "b"):
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)

    for step, shot in shots.items():
        assert all(c.isascii() for c in shot), f"non-ASCII on the {step} screen"
        assert len(shot.splitlines()) <= 24
    assert "Step 1 of 8: Settings sheet" in shots["start"]
    assert "Then the Site step will:" in shots["start"] or "Recovery kit of B400" in shots["start"]
    assert "Certificate" in shots["site"] and "/login backup" in shots["site"]
    assert "Finishing: stop after the step in flight, or go on?" in shots["quit"]
    assert "The appliance is restarting. Quitting now is safe: the run" in shots["quit"]
    assert "recovery kit   : " in shots["resume"] and "it was at      : Site" in shots["resume"]
    assert "[x] done" in shots["finished"] and "[!]" not in shots["finished"]
    assert "Finish: /login backup: done" in shots["done"]
    assert counted(lab) == {"imports": 1, "installs": 1, "restores": 1}
    sha = __import__("json").loads((kit / "manifest.json").read_text())["certificate"]["sha256"]
    assert served(lab, "198.51.100.20", HOSTNAME) == sha
    assert site_answers(lab, "198.51.100.20") == (200, HOSTNAME)
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "del", "198.51.100.250/24", "dev", "lan0"],
                   check=True)
    assert port_state(lab.laptop_ns) == before
    for log in logs:
        text = log.read_bytes()
        assert not [s for s in (NEW_PASSWORD, SMTP_PASSWORD, *FINISH_ENV.values())
                    if len(s) > 8 and s.encode() in text and s != FINISH_ENV[
                        "BRINGUP_API_CLIENT_ID"]]
