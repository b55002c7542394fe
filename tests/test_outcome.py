"""A run's outcome in the words every face uses (hwprobe/procedure/outcome.py):
the console's Done headline, the report's first line and ``apply``'s last
line. Only a run that applied and read back every change says the appliance
is ready for its cables (issue 26, item 2); a failed one names what, why and
where, and what to do; a stopped one lists what was done (the first-login
password change included), what was in flight and what is left, and says
that running again resumes (item 4)."""
from __future__ import annotations

import time

from hwprobe.procedure.engine import (FAILED, IN_FLIGHT, SKIPPED, UNCHANGED, VERIFIED,
                                      RunResult, Step)
from hwprobe.procedure.outcome import outcome
from hwprobe.procedure.report import build, next_steps, to_markdown

READY_WORDS = "ready for its cables"


def _step(key, title, page, status, changed=True, message=""):
    return Step(key, key, title, page, None, {"x": 1}, changed, status, message)


def _run(*steps, **kw) -> RunResult:
    return RunResult(list(steps), [], False, None, None, time.time(), time.time(), **kw)


def test_only_every_change_read_back_says_ready():
    end = outcome(_run(_step("dns", "DNS: 198.51.100.53", "Networking > IP Configuration",
                             VERIFIED),
                       _step("ntp", "NTP: 198.51.100.123", "Status > Basics", UNCHANGED,
                             changed=False)))
    assert end.ready and end.headline.startswith("READY") and READY_WORDS in end.headline


def test_one_failed_save_is_named_with_why_where_and_what_to_do_and_never_ready():
    run = _run(_step("dns", "DNS: 198.51.100.53", "Networking > IP Configuration", VERIFIED),
               _step("smtp", "E-mail: relay mail.example.net:587", "Security > Email Configuration",
                     FAILED, message="the appliance answered 500 on Security > Email Configuration"))
    end = outcome(run)
    assert not end.ready and end.kind == "failed"
    assert end.headline.startswith("NOT READY: 1 of 2 change(s) NOT applied (E-mail: relay "
                                   "mail.example.net:587)"), end.headline
    assert READY_WORDS not in end.headline and "leave the cables where they are" in end.headline
    lines = end.lines()
    assert ("NOT applied: E-mail: relay mail.example.net:587 (the appliance answered 500 on "
            "Security > Email Configuration) - on Security > Email Configuration") in lines
    assert any(line.startswith("What to do: run it again") and "Security > Email Configuration"
               in line for line in lines)
    # the report's first line and its next steps follow: no cable move until READY
    rep = build(run, address="169.254.1.1", fingerprint=None, sheet="site.toml", driver="web")
    first = to_markdown(rep).splitlines()[0]
    assert first.startswith("# NOT READY: 1 of 2") and READY_WORDS not in first
    assert not rep["ok"]
    assert not any("Move the appliance's cable(s)" in x for x in rep["next_steps"])
    assert "Move the appliance's cables only once a run says READY." in rep["next_steps"]
    assert any("Move the appliance's cable(s)" in x for x in next_steps(outcome(
        _run(_step("dns", "DNS", "p", VERIFIED)))))


def test_a_skipped_change_is_not_ready_either():
    end = outcome(_run(_step("ntp", "NTP: 198.51.100.123", "Status > Basics", SKIPPED,
                             message="not available over the console: set it on the web interface")))
    assert not end.ready and "NTP: 198.51.100.123" in end.headline


def test_a_stopped_run_lists_the_password_change_the_step_in_flight_what_is_left_and_resumes():
    run = _run(_step("ip:nic1:198.51.100.20", "Address: NIC1 198.51.100.20/24", "IP", VERIFIED),
               _step("gateway", "Default gateway: 198.51.100.1", "Global", FAILED,
                     message=IN_FLIGHT),
               _step("ntp", "NTP: 198.51.100.123", "Basics", SKIPPED,
                     message="not applied: the run ended before it"),
               in_flight=["gateway"])
    end = outcome(run, stopped="applying", why="interrupted (Ctrl-C)", password_change="done")
    assert end.kind == "stopped" and not end.ready
    assert end.headline.startswith("STOPPED while applying (interrupted (Ctrl-C)): not ready")
    assert "running again resumes" in end.headline
    assert end.done == ["the first-login password change", "Address: NIC1 198.51.100.20/24"]
    assert end.in_flight == ["Default gateway: 198.51.100.1"]
    assert end.left == ["NTP: 198.51.100.123"]
    text = "\n".join(end.lines())
    assert "Done: the first-login password change; Address: NIC1 198.51.100.20/24" in text
    assert "In flight when it stopped" in text and "Left: NTP: 198.51.100.123" in text
    assert "resumes where this run stopped" in text


def test_a_run_stopped_before_its_plan_says_the_sheet_is_left_and_a_password_in_flight():
    end = outcome(None, stopped="logging in", why="stopped by SIGTERM",
                  password_change="sending", wanted=["DNS: 198.51.100.53", "NTP: ntp.example.net"])
    assert end.in_flight == ["the first-login password change"]
    assert end.left == ["DNS: 198.51.100.53", "NTP: ntp.example.net"]
    assert end.headline.startswith("STOPPED while logging in (stopped by SIGTERM)")


def test_a_run_stopped_when_asked_after_the_step_in_flight_is_stopped_not_failed():
    run = _run(_step("dns", "DNS", "Global", VERIFIED),
               _step("ntp", "NTP", "Basics", SKIPPED,
                     message="not applied: the run was stopped before it"), stopped=True)
    end = outcome(run, password_change="done")
    assert end.kind == "stopped" and "asked to stop after the step in flight" in end.headline
    assert end.left == ["NTP"]
