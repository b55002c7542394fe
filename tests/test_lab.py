"""The lab as a technician drives it from the command line, and the simulated
appliance's rules seen through real HTTPS from the laptop namespace."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from hwprobe.appliance.pinning import PinnedAdapter, fetch_fingerprint
from hwprobe.appliance.web import WebDriver
from hwprobe.errors import LockedOut, LoginFailed, PasswordChangeRequired, ValidationRefused
from hwprobe.appliance.state import IpAddress, SmtpSettings
from area_helpers import read_state, send
from simulator import control
from simulator import lab as labmod

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
NEW = "Lab-Rule-2am#9"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "bringup", *args], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)


def curl(ns, url):
    return subprocess.run(["ip", "netns", "exec", ns, "curl", "-sk", "-m", "3", url],
                          capture_output=True, text=True)


def test_lab_up_on_nic2_answers_only_through_nic2_and_down_leaves_nothing():
    name = f"t1{uuid.uuid4().hex[:4]}"
    try:
        r = cli("lab", "up", "--name", name, "--appliance-address", "169.254.1.3",
                "--answers-on", "nic2", "--plug", "nic2")
        assert r.returncode == 0, r.stderr
        assert f"{name}-laptop" in r.stdout and "/run/bringup-lab/" in r.stdout
        lab = labmod.get(name)
        subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev",
                        "lan0"], check=True)
        page = curl(lab.laptop_ns, "https://169.254.1.3/appliance/")
        assert page.returncode == 0 and "Login" in page.stdout
        assert cli("lab", "plug", "nic1", "--name", name).returncode == 0
        subprocess.run(["ip", "-n", lab.laptop_ns, "neigh", "flush", "all"])
        assert curl(lab.laptop_ns, "https://169.254.1.3/appliance/").returncode != 0
        pid = lab.sim_pid
    finally:
        r = cli("lab", "down", "--name", name)
    assert r.returncode == 0
    assert not [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                            text=True).stdout.split() if ns.startswith(name)]
    assert name not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not Path(f"/run/bringup-lab/{name}").exists()
    assert cli("lab", "down", "--name", name).returncode == 0      # safe to repeat


def test_lab_up_quiet_says_only_that_it_is_up():
    name = f"tq{uuid.uuid4().hex[:4]}"
    try:
        r = cli("lab", "up", "--name", name, "-q")
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"lab {name} is up\n", r.stdout
    finally:
        cli("lab", "down", "--name", name)


def test_a_pair_lab_says_how_to_give_failover_its_api_client_without_showing_the_secret():
    """Made without an API client, the pair's lab prints the variables
    `bringup failover` reads, set from its root-only secret file (not a JSON
    file to pick apart); pasted into a shell as printed, they let
    `failover status` in. The secret itself is never printed."""
    name = f"tp{uuid.uuid4().hex[:4]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRINGUP_")}
    try:
        r = subprocess.run([sys.executable, "-m", "bringup", "lab", "up", "--name", name,
                            "--pair"], capture_output=True, text=True, timeout=120,
                           env=dict(env, PYTHONPATH=str(ROOT)))
        assert r.returncode == 0, r.stderr
        secret_file = Path(f"/run/bringup-lab/{name}/secrets/api_client_secret")
        secret = secret_file.read_text().strip()
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
        assert secret not in r.stdout
        export = next(line.strip() for line in r.stdout.splitlines()
                      if line.strip().startswith("export BRINGUP_API_CLIENT_ID=")
                      and "api_client_secret" in line)
        assert export.endswith(f' BRINGUP_API_SECRET="$(sudo cat {secret_file})"'), export
        lab = labmod.get(name)
        status = subprocess.run(
            # (root here, and no sudo installed: a shell function stands in for it)
            ["sh", "-c", f'sudo() {{ "$@"; }}; {export}; ip netns exec {lab.laptop_ns} '
                         f"{sys.executable} -m bringup failover status --address 198.51.100.21"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            env=dict(env, PYTHONPATH=str(ROOT), BRINGUP_STATE_DIR=str(Path(lab.dir) / "st")))
        assert status.returncode == 0, status.stderr
        # role and health, the last sync said once ("never", not "never (never)")
        assert "role backup" in status.stdout and "last data sync never" in status.stdout
        assert "never (never)" not in status.stdout
    finally:
        cli("lab", "down", "--name", name)


def test_lab_down_cleans_a_lab_whose_processes_died(make_lab):
    lab = make_lab()
    os.kill(lab.sim_pid, 9)
    assert labmod.down(lab.name)
    assert not any(ns.startswith(lab.name) for ns in
                   subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())


@pytest.fixture
def web(make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.2", sim_args=["--lockout-seconds", "60"])
    subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "add", "169.254.1.254/24", "dev", "lan0"],
                   check=True)
    with labmod.in_netns(lab.laptop_ns):
        yield lab


def test_in_a_lab_first_login_must_change_the_password_before_any_page(web):
    with WebDriver("169.254.1.2", use_journal=False) as d:
        assert d.login("admin", "password").change_required
        with pytest.raises(PasswordChangeRequired):
            read_state(d)
    s = requests.Session()
    s.mount("https://", PinnedAdapter(fetch_fingerprint("169.254.1.2")))
    for path in ("/appliance/networking/ip", "/appliance/security/email", "/appliance/status/basics"):
        r = s.get(f"https://169.254.1.2{path}", allow_redirects=False)
        assert r.status_code in (302, 303) and "login" in r.headers["Location"]


def test_in_a_lab_a_login_form_that_expires_before_it_is_sent_is_read_again_once(web):
    # The window between reading the login form and posting it is opened on
    # purpose: the driver's page read is wrapped to end every session on the
    # real simulator right after the first read of the login page.
    with WebDriver("169.254.1.2", use_journal=False) as d:
        reads, real_get = [], d._get

        def get_then_expire(path, *args, **kwargs):
            answer = real_get(path, *args, **kwargs)
            reads.append(path)
            if len(reads) == 1:
                control.send(web.control, fault="expire_sessions")
            return answer

        d._get = get_then_expire
        assert d.login("admin", "password").change_required
        assert reads.count(reads[0]) == 2           # the form was read again, once
    with WebDriver("169.254.1.2", use_journal=False) as d:   # no failed try was counted
        for _ in range(4):
            with pytest.raises(LoginFailed) as exc:
                d.login("admin", "not-it")
        assert exc.value.tries_left == 1


def test_in_a_lab_five_bad_logins_lock_the_account(web):
    with WebDriver("169.254.1.2", use_journal=False) as d:
        left = []
        for _ in range(4):
            with pytest.raises(LoginFailed) as exc:
                d.login("admin", "not-it")
            left.append(exc.value.tries_left)
        assert left == [4, 3, 2, 1]
        with pytest.raises(LockedOut):
            d.login("admin", "not-it")
        with pytest.raises(LockedOut):
            d.login("admin", "password")


def test_in_a_lab_bad_values_are_refused_and_nothing_is_half_saved_and_it_survives_a_restart(web):
    with WebDriver("169.254.1.2", use_journal=False) as d:
        d.login("admin", "password")
        d.change_password("password", NEW)
        d.login("admin", NEW)
        send(d, "ip", ips=[IpAddress("nic1", "198.51.100.20", "255.255.255.0")])
        before = control.send(web.control, get="state")["state"]
        with pytest.raises(ValidationRefused, match="netmask"):
            send(d, "ip", ips=[IpAddress("nic1", "198.51.100.40", "255.0.255.0")])
        with pytest.raises(ValidationRefused, match="port"):
            send(d, "smtp", smtp=SmtpSettings(relay="mail.example.net", port=70000,
                                              from_address="a@example.net"))
        with pytest.raises(ValidationRefused, match="10"):
            send(d, "syslog", syslog_servers=[f"198.51.100.{n}" for n in range(1, 12)],
                 syslog_format="rfc5424")
        assert control.send(web.control, get="state")["state"] == before
    labmod.restart_appliance(web.name)
    after = control.send(labmod.get(web.name).control, get="state")["state"]
    assert after["ips"] == before["ips"]
    with WebDriver("169.254.1.2", use_journal=False) as d:
        assert not d.login("admin", NEW).change_required
        with pytest.raises(LoginFailed):
            d.login("admin", "password")
