"""`bringup probe` as a real process in the lab: the port comes back exactly
after a normal exit, SIGTERM, SIGHUP, Ctrl-C, and SIGKILL + `bringup restore-link`."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_link_takeover import office_port, port_state

pytestmark = pytest.mark.lab

BRINGUP = str(Path(sys.executable).with_name("bringup"))
# nobody answers this one, so the probe keeps asking until it is signalled
HANG = ["--address", "169.254.1.77", "--timeout", "120"]


def bringup(lab, *args, **kwargs):
    return subprocess.run(["ip", "netns", "exec", lab.laptop_ns, BRINGUP, *args],
                          capture_output=True, text=True, timeout=60, **kwargs)


def start_probe(lab, *args):
    return subprocess.Popen(["ip", "netns", "exec", lab.laptop_ns, BRINGUP, "probe",
                             "--iface", "lan0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_claimed(lab, state_dir: Path, proc) -> dict:
    """Block until the running probe has put lan0 on its laptop address."""
    inode = os.stat(f"/run/netns/{lab.laptop_ns}").st_ino
    path = state_dir / "links" / f"ns{inode}-lan0.json"
    for _ in range(600):
        if proc.poll() is not None:
            pytest.fail(f"bringup ended early ({proc.returncode}): {proc.stderr.read()}")
        try:
            rec = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            rec = {}
        if rec.get("claimed"):
            return rec
        time.sleep(0.05)
    pytest.fail("the probe never took lan0 over")


@pytest.fixture
def lab(make_lab):
    """Cable in, nothing answering: signals land while the probe still asks."""
    return make_lab(start_sim=False)


@pytest.fixture
def appliance_lab(make_lab):
    return make_lab()


def test_normal_exit_gives_the_port_back_exactly(appliance_lab, state_dir):
    lab = appliance_lab
    before = office_port(lab)
    r = bringup(lab, "probe", "--iface", "lan0", "--force")
    assert r.returncode == 0, r.stderr
    assert "169.254.1.1" in r.stdout
    assert "lan0 given back: 10.99.0.5/24, down" in r.stderr
    assert port_state(lab.laptop_ns) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_gives_the_port_back_and_exits_128_plus_signal(lab, state_dir, sig):
    before = office_port(lab)
    proc = start_probe(lab, "--force", *HANG)
    wait_until_claimed(lab, state_dir, proc)
    assert port_state(lab.laptop_ns)["addresses"][0]["local"] == "169.254.1.254"
    proc.send_signal(sig)  # `ip netns exec` execs bringup: same process
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert "lan0 given back: 10.99.0.5/24, down" in err
    # one line says what stopped it (SIGINT: interrupted, SIGHUP: the terminal went away)
    words = {"SIGTERM": "stopped by SIGTERM", "SIGHUP": "the terminal went away (SIGHUP)",
             "SIGINT": "interrupted (Ctrl-C)"}[sig.name]
    assert err.count(words) == 1, err
    assert port_state(lab.laptop_ns) == before
    assert not list((state_dir / "links").glob("*.json"))


def test_sigkill_then_restore_link_puts_the_port_back_and_again_is_harmless(lab, state_dir):
    before = office_port(lab)
    proc = start_probe(lab, "--force", *HANG)
    wait_until_claimed(lab, state_dir, proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert port_state(lab.laptop_ns) != before  # nobody could clean up

    r = bringup(lab, "restore-link")
    assert r.returncode == 0, r.stderr
    assert "lan0 put back: 10.99.0.5/24, down" in r.stderr
    assert port_state(lab.laptop_ns) == before

    again = bringup(lab, "restore-link", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["restored"] == []
    assert port_state(lab.laptop_ns) == before



def test_sigkill_between_the_first_change_and_the_claim_is_put_back_by_restore_link(
        lab, state_dir):
    """Journal before change: the port's state is on disk before its first
    change, so a SIGKILL after its own address was flushed, while the
    laptop address is still being checked (before it is claimed), leaves a
    port restore-link puts back."""
    before = office_port(lab)
    proc = start_probe(lab, "--force", *HANG)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        now = port_state(lab.laptop_ns)
        if not now["addresses"]:             # flushed, the laptop address not yet on it
            proc.kill()
            break
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "never caught between flush and claim"
    assert port_state(lab.laptop_ns) != before
    r = bringup(lab, "restore-link")
    assert r.returncode == 0, r.stderr
    assert "lan0 put back: 10.99.0.5/24, down" in r.stderr
    assert port_state(lab.laptop_ns) == before

def test_next_start_after_sigkill_restores_first_and_still_gives_back_exactly(appliance_lab,
                                                                               state_dir):
    lab = appliance_lab
    before = office_port(lab)
    proc = start_probe(lab, "--force", *HANG)
    wait_until_claimed(lab, state_dir, proc)
    proc.kill()
    proc.communicate(timeout=30)

    r = bringup(lab, "probe", "--iface", "lan0", "--force")
    assert r.returncode == 0, r.stderr
    assert "earlier run that did not finish" in r.stderr
    assert port_state(lab.laptop_ns) == before


def test_restore_link_refuses_a_port_a_live_bringup_still_holds(lab, state_dir):
    proc = start_probe(lab, *HANG)
    try:
        wait_until_claimed(lab, state_dir, proc)
        r = bringup(lab, "restore-link", "--iface", "lan0")
        assert r.returncode == 1
        assert "in use by bringup" in r.stderr
        assert port_state(lab.laptop_ns)["addresses"][0]["local"] == "169.254.1.254"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert port_state(lab.laptop_ns)["addresses"] == []
