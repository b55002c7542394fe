"""The bad day, headless (issue 26): ``bringup apply`` as its own process in a
lab, against an appliance that does not keep what it was sent, fails a save,
is interrupted mid-run, or is asked on the wrong factory address.

- A value the appliance holds other than the one saved (the simulator's
  ``store_other`` fault), in every settings area: a failed step, in words
  (never a Python repr), exit 1, and neither apply's last line nor the
  report's first line says ready (items 2 and 7).
- One HTTP 500 on the e-mail save: the last line and the report's first line
  say what failed (item 2).
- Ctrl-C in the middle of the saves: 130, and a report that lists the
  password change and every step done, the one in flight, what is left, and
  says that running again resumes (item 4).
- An --address that does not answer while another factory address does: the
  message names the one that answered (item 6).
"""
from __future__ import annotations

import re
import signal
import time

import pytest

from lab_helpers import (EXAMPLE, NEW_PASSWORD, SMTP_PASSWORD, no_traceback, port_state,
                         reports, run_bringup, start_bringup)
from simulator import control

pytestmark = pytest.mark.lab

FIRST = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
APPLY = ("apply", "--sheet", str(EXAMPLE), "--iface", "lan0")
REPR = re.compile(r"\{'|\['|None\b|\bTrue\b|\bFalse\b")   # what a Python repr looks like


def _fails(stdout: str) -> dict[str, str]:
    """apply's [FAIL] lines: the change -> why."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"\[FAIL\] (.*?)  \((.*)\)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _never_ready(r, state_dir) -> str:
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("NOT READY: "), r.stdout[-1500:]
    assert "ready for its cables" not in r.stdout
    first = reports(state_dir)[-1].read_text().splitlines()[0]
    assert first.startswith("# NOT READY: ") and "ready for its cables" not in first, first
    return last


@pytest.mark.parametrize("fields, failing", [
    ("ip", ("Address: add NIC1", "Address: add NIC2")),
    ("hostname,gateway,dns,routes,ntp,syslog,smtp",
     ("Default gateway", "Host name", "DNS", "Static route", "NTP", "Syslog", "E-mail")),
], ids=["addresses", "every other area"])
def test_a_value_held_other_than_the_one_saved_is_a_failed_step_in_every_area(
        make_lab, state_dir, fields, failing):
    lab = make_lab()
    control.send(lab.control, fault="store_other", value=fields)
    r = run_bringup(lab, *APPLY, state_dir=state_dir, env_extra=FIRST)
    assert r.returncode == 1, r.stdout + r.stderr
    assert no_traceback(r.stdout, r.stderr)
    fails = _fails(r.stdout)
    for title in failing:
        [(change, why)] = [(c, w) for c, w in fails.items() if c.startswith(title)]
        # the two values in the area's words: read back the other one, expected the sheet's
        assert why.startswith("read back differs: read back "), why
        assert ", expected " in why and not REPR.search(why), why
    if fields == "ip":        # what needs an address is not sent: it says why
        assert "needs an address that failed" in r.stdout
    assert not REPR.search(r.stdout), r.stdout
    _never_ready(r, state_dir)


def test_one_failed_save_is_named_on_apply_s_last_line_and_the_report_s_first(make_lab,
                                                                              state_dir):
    lab = make_lab()
    control.send(lab.control, fault="http500", value="/appliance/security/email/save")
    r = run_bringup(lab, *APPLY, state_dir=state_dir, env_extra=FIRST)
    assert r.returncode == 1, r.stdout + r.stderr
    last = _never_ready(r, state_dir)
    assert last.startswith("NOT READY: 1 of 9 change(s) NOT applied (E-mail: relay "
                           "mail.example.net:587"), last
    text = reports(state_dir)[-1].read_text()
    assert "Security > Email Configuration" in text and "What to do: run it again" in text


def test_ctrl_c_mid_apply_reports_the_password_change_the_steps_done_in_flight_and_left(
        make_lab, state_dir):
    lab = make_lab()
    before = port_state(lab.laptop_ns)
    control.send(lab.control, fault="delay", value=0.3)      # time to land mid-run
    proc = start_bringup(lab, *APPLY, env_extra=FIRST, state_dir=state_dir)
    deadline = time.monotonic() + 90
    while (not control.send(lab.control, get="stats")["saved"].get(
            "POST /appliance/networking/routes/add") and time.monotonic() < deadline
           and proc.poll() is None):
        time.sleep(0.05)      # IP Configuration saved and read back, a route went out
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert no_traceback(out, err)
    assert err.count("interrupted (Ctrl-C)") == 1, err
    assert port_state(lab.laptop_ns) == before
    text = reports(state_dir)[-1].read_text()
    head = text.split("## Steps")[0]
    assert text.startswith("# STOPPED while applying (interrupted (Ctrl-C))"), head
    assert "running again resumes" in head.splitlines()[0]
    assert "- Done: the first-login password change; Address: NIC1 198.51.100.20/24" in head, head
    assert "Address: NIC2 203.0.113.20/25" in head.split("- Done: ")[1].split("\n")[0]
    assert "- Left: " in head and "E-mail" in head.split("- Left: ")[1]
    steps = text.split("## Steps")[1].split("##")[0]
    assert steps.count("\n| ") >= 10 and "[x]" in steps    # every step, the landed ones ticked
    assert "resumes where this run stopped" in head
    # and it does: the next run sends only what is missing
    control.send(lab.control, fault="delay", value=0)
    again = run_bringup(lab, *APPLY, state_dir=state_dir,
                        env_extra={"BRINGUP_NEW_PASSWORD": NEW_PASSWORD,
                                   "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.strip().splitlines()[-1].startswith("READY: ")
    assert control.send(lab.control, get="stats")["saved"]["POST /appliance/networking/ip/add"] == 2


def test_an_address_that_does_not_answer_while_another_factory_address_does_is_named(
        make_lab, state_dir):
    lab = make_lab(appliance_address="169.254.1.3")
    r = run_bringup(lab, *APPLY, "--address", "169.254.1.2", state_dir=state_dir,
                    env_extra=FIRST)
    assert r.returncode == 1, r.stderr
    said = r.stderr.strip().splitlines()[-1]
    assert said.startswith("bringup: 169.254.1.2 does not answer on lan0, but 169.254.1.3 (MAC "), said
    assert "Run again with --address 169.254.1.3" in said and "move it" not in said, said
    assert control.send(lab.control, get="stats")["requests"] == {}   # nothing was asked of it


def test_the_password_change_is_journalled_before_it_is_sent(make_lab, state_dir):
    """Journal before send: while the appliance is still taking the forced
    password change (its answer drips), the run journal already says the
    change is being sent, so a run killed now is followed by one that knows
    the factory password may be gone."""
    import json

    lab = make_lab()
    change = "/appliance/change-password"
    control.send(lab.control, fault="hostile", value=f"drip_head@POST:{change}")
    proc = start_bringup(lab, *APPLY, env_extra=FIRST, state_dir=state_dir)
    try:
        deadline = time.monotonic() + 60
        while (f"POST {change}" not in control.send(lab.control, get="stats")["log"]
               and time.monotonic() < deadline and proc.poll() is None):
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        [journal] = (state_dir / "runs").glob("*.json")
        assert json.loads(journal.read_text())["password_change"]["status"] == "sending"
    finally:
        proc.kill()
        proc.communicate(timeout=30)
        control.send(lab.control, fault="hostile", value="")
