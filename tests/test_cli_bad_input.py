"""Bad input: a clear message that says where and what, exit status 2, and
nothing sent to the appliance."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import control

ROOT = Path(__file__).resolve().parent.parent
BAD = sorted((ROOT / "tests" / "bad_sheets").glob("*.toml"))


def run(*args, ns=None, env_extra=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    argv = [sys.executable, "-m", "bringup", *args]
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    return subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def test_corpus_has_at_least_25_bad_sheets():
    assert len(BAD) >= 25


@pytest.mark.lab
def test_bad_sheets_exit_2_with_every_problem_and_contact_nothing(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.2")
    before = control.send(lab.control, get="stats")["requests"]
    for sheet in BAD:
        expected = (sheet.with_suffix(".expected")).read_text().splitlines()
        r = run("apply", "--sheet", str(sheet), "--address", "169.254.1.2", "--iface", "lan0",
                ns=lab.laptop_ns, env_extra={"BRINGUP_NEW_PASSWORD": "Never-Sent#1"})
        assert r.returncode == 2, (sheet.name, r.stderr)
        lines = r.stderr.splitlines()
        for want in expected:
            assert any(line.endswith(want) for line in lines), (sheet.name, want, r.stderr)
        assert "nothing was sent to the appliance" in lines[-1]
    assert control.send(lab.control, get="stats")["requests"] == before
    addrs = subprocess.run(["ip", "-n", lab.laptop_ns, "-o", "addr", "show", "lan0"],
                           capture_output=True, text=True).stdout
    assert "169.254.1.254" not in addrs, "the laptop port was taken over for a bad sheet"


@pytest.mark.parametrize("args, says", [
    (["apply", "--sheet", "assets/example-sheet.toml", "--address", "169.254.1"],
     "--address 169.254.1: not an IPv4 address"),
    (["apply", "--sheet", "no-such-sheet.toml", "--address", "169.254.1.1"],
     "no-such-sheet.toml: cannot read the sheet"),
    (["apply", "--sheet", "assets/example-sheet.toml"], "--address"),
    (["probe"], "--iface"),
    (["lab", "up", "--appliance-address", "169.254.1.9"], "169.254.1.9"),
    (["lab", "up", "--appliance-address", "203.0.113.40/31"], "the prefix must be 1-30"),
    (["lab", "up", "--appliance-address", "203.0.113.40/24", "--appliance-gateway",
      "198.51.100.1"], "gateway 198.51.100.1 is not another address of 203.0.113.0/24"),
    (["lab", "up", "--appliance-gateway", "203.0.113.1"], "--appliance-gateway goes with"),
    (["lab", "up", "--dhcp-client", "--appliance-address", "203.0.113.40/24"],
     "--dhcp-client makes an appliance with no address"),
    (["apply", "--sheet", "assets/example-sheet.toml", "--address", "203.0.113.40/33"],
     "--address 203.0.113.40/33: the prefix after / must be 1-30"),
    (["apply", "--sheet", "assets/example-sheet.toml", "--address", "169.254.1.1",
      "--listen", "soon"], "argument --listen: 'soon': give seconds from 0"),
    (["capture", "--address", "169.254.1.1", "--out", "x.toml", "--pcap",
      "/no-such-folder/lan0.pcap"], "folder /no-such-folder does not exist"),
])
def test_bad_arguments_exit_2_and_say_what(args, says):
    r = subprocess.run([sys.executable, "-m", "bringup", *args], capture_output=True, text=True,
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 2, r.stderr
    assert says in r.stderr


def test_new_password_breaking_the_rule_is_refused_before_contacting_anything(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "bringup", "apply", "--sheet", "assets/example-sheet.toml",
         "--address", "169.254.1.1"],
        capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(ROOT), BRINGUP_NEW_PASSWORD="short"),
    )
    assert r.returncode == 2
    assert "must be at least 8 characters" in r.stderr and "nothing was sent" in r.stderr
    assert "short" not in r.stderr.replace("must be", "")
