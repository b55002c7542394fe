"""The bring-up session's promises, kept on the headless paths (apply, capture,
probe) in a lab: the laptop port is given back exactly whatever fails and at
whatever stage, one bringup per port, a dry run saves nothing, what can be
known before the first change is checked before it, and every run that ends
writes its report, saying where it stopped."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lab_helpers import (EXAMPLE, NEW_PASSWORD, SECRETS, SMTP_PASSWORD, no_traceback,
                         own_address, port_state, reports, run_bringup, start_bringup)
from simulator import control

pytestmark = pytest.mark.lab

ADDR = "169.254.1.3"
FIRST = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
LATER = {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}


def apply_args(*extra, address=ADDR):
    return ("apply", "--sheet", str(EXAMPLE), "--address", address, "--iface", "lan0", *extra)


def stats(lab) -> dict:
    return control.send(lab.control, get="stats")


def assert_report_says_stopped(state_dir, stage_words: str) -> str:
    found = reports(state_dir)
    assert found, "a run that ended wrote no report"
    text = found[-1].read_text()
    assert "STOPPED while" in text and stage_words in text, text[:600]
    for secret in SECRETS:
        assert secret not in text
    return text


def first_login(lab, state_dir) -> None:
    out = Path(state_dir) / "first-login.toml"
    r = run_bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out", str(out),
                    "--force", env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD},
                    state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    # a factory box holds no host name or gateway: the sheet is written, and
    # the capture says what to fill in before apply takes it
    assert f"{out}:" in r.stderr and "[network].hostname: is empty" in r.stderr
    assert "fill them in before `bringup apply`" in r.stderr
    assert "e-mail (SMTP) is not set up on the appliance: left out" in r.stdout


# --- the port comes back, whatever fails -------------------------------------------

def test_wrong_nic_connect_failure_gives_the_port_back_and_writes_a_report(make_lab, state_dir):
    """The README's practice case: the appliance answers on NIC2, the cable is in NIC1."""
    lab = make_lab(appliance_address=ADDR, answers_on="nic2")
    before = own_address(lab)
    r = run_bringup(lab, *apply_args(), env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "did not answer" in r.stderr or "not answer" in r.stderr, r.stderr
    assert no_traceback(r.stdout, r.stderr)
    assert port_state(lab.laptop_ns) == before
    assert not list((Path(state_dir) / "links").glob("*.json")), "journal left behind"
    assert "other NIC" in r.stderr
    assert_report_says_stopped(state_dir, "finding the appliance")


def test_capture_on_the_wrong_nic_gives_the_port_back(make_lab, state_dir, tmp_path):
    lab = make_lab(appliance_address=ADDR, answers_on="nic2")
    before = own_address(lab)
    r = run_bringup(lab, "capture", "--address", ADDR, "--iface", "lan0", "--out",
                    str(tmp_path / "site.toml"), state_dir=state_dir)
    assert r.returncode == 1 and no_traceback(r.stderr), r.stderr
    assert port_state(lab.laptop_ns) == before
    assert not (tmp_path / "site.toml").exists()


def test_changed_certificate_stops_the_run_and_gives_the_port_back(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)                      # pins this box's certificate
    control.send(lab.control, fault="new_certificate")
    before = own_address(lab)
    r = run_bringup(lab, *apply_args(), env_extra=LATER, state_dir=state_dir)
    assert r.returncode == 1, r.stderr
    assert "certificate" in r.stderr.lower() and no_traceback(r.stderr)
    assert port_state(lab.laptop_ns) == before
    assert_report_says_stopped(state_dir, "connecting")
    assert stats(lab)["changes"] == {"change_password": 1}


def test_console_device_that_does_not_open_gives_the_port_back(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    before = own_address(lab)
    r = run_bringup(lab, *apply_args("--console", "/dev/ttyNOSUCH9"), env_extra=FIRST,
                    state_dir=state_dir)
    assert r.returncode != 0 and no_traceback(r.stderr), r.stderr
    assert "/dev/ttyNOSUCH9" in r.stderr
    assert port_state(lab.laptop_ns) == before


def test_refused_login_gives_the_port_back_and_writes_a_report(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    before = own_address(lab)
    r = run_bringup(lab, *apply_args(), state_dir=state_dir,
                    env_extra={"BRINGUP_PASSWORD": "Wrong-Guess#1",
                               "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    assert r.returncode == 1 and "4 attempts remaining" in r.stderr, r.stderr
    assert port_state(lab.laptop_ns) == before
    assert_report_says_stopped(state_dir, "logging in")


def test_an_address_off_the_laptops_network_that_nothing_holds_gives_the_port_back(
        make_lab, state_dir):
    """--address outside 169.254.1.0/24 is reached from a free address next to
    it (issue 24); when nothing answers there, the run says so, the port is
    given back exactly and the appliance on the cable is never asked."""
    lab = make_lab(appliance_address=ADDR)
    before = own_address(lab)
    r = run_bringup(lab, *apply_args("--listen", "1", address="198.51.100.20"),
                    env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 1, r.stderr
    assert "198.51.100.20 does not answer on lan0" in r.stderr
    assert "lan0 takes 198.51.100.21/24" in r.stderr
    assert port_state(lab.laptop_ns) == before
    assert stats(lab)["requests"] == {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_apply_gives_the_port_back_and_writes_a_report(make_lab, state_dir, sig):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    control.send(lab.control, fault="delay", value=0.3)
    before = own_address(lab)
    proc = start_bringup(lab, *apply_args(), env_extra=LATER, state_dir=state_dir)
    deadline = time.monotonic() + 60
    while not stats(lab)["changes"].get("add_ip") and time.monotonic() < deadline:
        time.sleep(0.05)                              # stop it in the middle of applying
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert no_traceback(out, err)
    assert port_state(lab.laptop_ns) == before
    assert_report_says_stopped(state_dir, "applying")


# --- one bringup per port ----------------------------------------------------------

@pytest.mark.parametrize("same_state_dir", [True, False], ids=["same-state-dir", "other-state-dir"])
def test_two_runs_started_together_on_one_port_one_is_refused(make_lab, state_dir, tmp_path,
                                                             same_state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    control.send(lab.control, fault="delay", value=0.05)
    before = own_address(lab)
    other = state_dir if same_state_dir else tmp_path / "other-state"
    other.mkdir(exist_ok=True)
    procs = [start_bringup(lab, *apply_args(), env_extra=LATER, state_dir=d)
             for d in (state_dir, other)]
    results = [(p, *p.communicate(timeout=180)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 1], [(p.returncode, e[-400:]) for p, _, e in results]
    loser = next((p, e) for p, _, e in results if p.returncode == 1)
    winner = next(p for p, _, _ in results if p.returncode == 0)
    assert "in use by another bringup" in loser[1], loser[1]
    assert f"pid {winner.pid}" in loser[1] or "pid " in loser[1]
    assert no_traceback(*(e for _, _, e in results))
    assert port_state(lab.laptop_ns) == before
    # the winner applied the sheet once; the loser sent nothing
    assert stats(lab)["changes"].get("add_ip") == 2


# --- a dry run saves nothing ------------------------------------------------------------

def test_dry_run_on_a_factory_appliance_saves_nothing_and_leaves_the_password_change(
        make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    r = run_bringup(lab, *apply_args("--dry-run"), env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    assert "password change" in r.stdout and "would" in r.stdout, r.stdout
    # in the words of the console's Restore rows (hwprobe.settings.wording)
    assert "would: DNS: none -> 198.51.100.53, 203.0.113.53" in r.stdout, r.stdout
    s = stats(lab)
    assert s["changes"] == {}, s["changes"]
    saved = {k for k in s["saved"] if k != "POST /appliance/login"}
    assert saved == set(), s["saved"]
    assert not any("change-password" in k and k.startswith("POST") for k in s["requests"])
    text = reports(state_dir)[-1].read_text()
    assert "DRY RUN" in text and "password change is pending" in text
    # the factory password still works: nothing changed
    r = run_bringup(lab, *apply_args("--dry-run"), env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0 and "password change" in r.stdout


# --- known before the first change ----------------------------------------------------------

def test_missing_smtp_password_is_refused_before_anything_is_sent(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    before = own_address(lab)
    r = run_bringup(lab, *apply_args(), env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD},
                    state_dir=state_dir)
    assert r.returncode == 2, r.stderr
    assert "BRINGUP_SMTP_PASSWORD" in r.stderr and no_traceback(r.stderr)
    assert stats(lab)["requests"] == {}
    assert port_state(lab.laptop_ns) == before


def test_new_password_against_the_rule_is_refused_before_anything_is_sent(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    r = run_bringup(lab, *apply_args(), state_dir=state_dir,
                    env_extra={"BRINGUP_NEW_PASSWORD": "short",
                               "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    assert r.returncode == 2 and "nothing was sent" in r.stderr, r.stderr
    assert stats(lab)["requests"] == {}


# --- reports --------------------------------------------------------------------------------------

def test_factory_password_in_the_environment_does_not_cost_the_report(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    r = run_bringup(lab, *apply_args(), state_dir=state_dir,
                    env_extra={"BRINGUP_PASSWORD": "password", **FIRST})
    assert r.returncode == 0, r.stderr + r.stdout
    assert no_traceback(r.stderr)
    text = reports(state_dir)[-1].read_text()
    # the public word stays as it is: the e-mail row says how the relay logs in
    assert "login bt-alerts with a password" in text and "- result: done" in text
    for secret in SECRETS:
        assert secret not in text


def test_dropped_connection_mid_run_writes_a_report_saying_where_it_stopped(make_lab,
                                                                           state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    control.send(lab.control, fault="reboot", value=30)
    r = run_bringup(lab, *apply_args(), env_extra=LATER, state_dir=state_dir, timeout=180)
    assert r.returncode == 1 and no_traceback(r.stderr), r.stderr
    assert_report_says_stopped(state_dir, "connecting")


# --- a re-run after a kill right after the password change ------------------------------------

def test_rerun_after_a_kill_just_after_the_password_change_logs_in_with_the_new_one(
        make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    control.send(lab.control, fault="delay", value=0.3)
    proc = start_bringup(lab, *apply_args(), env_extra=FIRST, state_dir=state_dir)
    deadline = time.monotonic() + 60
    while not stats(lab)["changes"].get("change_password") and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()                                       # SIGKILL: no give-back, no report
    proc.communicate(timeout=30)
    control.send(lab.control, fault="clear")
    assert stats(lab)["changes"] == {"change_password": 1}
    # the same command again: the next start puts the port back from the journal,
    # and the run journal says the password was changed, so the factory one is not tried
    r = run_bringup(lab, *apply_args(), env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "earlier run" in r.stderr and "new password" in r.stderr, r.stderr
    s = stats(lab)
    assert s["requests"].get("POST /appliance/login") == 2     # one per run, none refused
    assert "tries left" not in r.stderr


def test_rerun_after_the_password_change_without_it_asks_for_it_not_the_factory_one(
        make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    first_login(lab, state_dir)
    logins = stats(lab)["requests"].get("POST /appliance/login")
    r = run_bringup(lab, *apply_args(), env_extra={"BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD},
                    state_dir=state_dir)
    assert r.returncode == 2, r.stderr
    assert "BRINGUP_PASSWORD" in r.stderr and "factory password is not tried" in r.stderr
    assert stats(lab)["requests"].get("POST /appliance/login") == logins


def test_a_new_box_on_the_same_factory_address_gets_its_own_run_journal(make_lab, state_dir):
    """Run journals are kept per address and MAC: a fresh box on the same
    factory address is not taken for the one whose password was changed."""
    first = make_lab(appliance_address=ADDR)
    first_login(first, state_dir)
    fresh = make_lab(appliance_address=ADDR)
    r = run_bringup(fresh, *apply_args("--dry-run"), env_extra=FIRST, state_dir=state_dir)
    assert r.returncode == 0, r.stderr
    assert "earlier run" not in r.stderr
    runs = list((Path(state_dir) / "runs").glob("*.json"))
    assert len(runs) == 2, runs
    assert all(json.loads(p.read_text()) is not None for p in runs)


def test_probe_refused_on_a_port_another_bringup_holds(make_lab, state_dir):
    lab = make_lab(appliance_address=ADDR)
    holder = start_bringup(lab, "probe", "--iface", "lan0", "--address", "169.254.1.77",
                           "--timeout", "60", state_dir=state_dir)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = subprocess.run(["ip", "-n", lab.laptop_ns, "addr", "show", "lan0"],
                                   capture_output=True, text=True).stdout
            if "169.254.1.254" in shown:
                break
            time.sleep(0.05)
        r = run_bringup(lab, "probe", "--iface", "lan0", state_dir=state_dir)
        assert r.returncode == 1, r.stderr
        assert f"pid {holder.pid}" in r.stderr or "in use by another bringup" in r.stderr
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.communicate(timeout=30)
