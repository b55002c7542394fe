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


# --- with a recovery kit: the finish steps count as changes do ---------------------------

def _finish(*statuses, stopped=False, messages=()):
    """A FinishResult whose steps (certificate, site software, /login backup)
    stand at ``statuses``."""
    from hwprobe.procedure.finish.run import FinishResult
    from hwprobe.procedure.finish.steps import new_steps

    steps = new_steps()
    for step, status, message in zip(steps, statuses, [*messages, "", "", ""]):
        step.status, step.message = status, message or status
    return FinishResult(steps, stopped=stopped)


def _network_done():
    return _run(_step("dns", "DNS: 198.51.100.53", "Networking > IP Configuration", VERIFIED))


def test_a_finish_step_that_failed_is_never_ready_and_names_the_step_its_page_and_why():
    finish = _finish("done", "done", "failed", messages=(
        "", "", "the appliance refused the /login backup: the backup password is wrong"))
    end = outcome(_network_done(), finish=finish)
    assert end.kind == "failed" and not end.ready and READY_WORDS not in end.headline
    assert end.headline.startswith("NOT READY: 1 of 3 finish step(s) NOT done (/login backup)")
    assert ("NOT applied: finish step /login backup (the appliance refused the /login backup: "
            "the backup password is wrong) - on /login > Management > Software Management > "
            "Restore Settings") in end.lines()
    assert end.done == ["DNS: 198.51.100.53", "Certificate", "Site software"]
    # the report's first line and its "ok" follow
    rep = build(_network_done(), address="169.254.1.3", fingerprint=None, sheet="s.toml",
                driver="web", finish=finish, kit="kit")
    assert to_markdown(rep).splitlines()[0].startswith("# NOT READY: 1 of 3 finish step(s)")
    assert not rep["ok"]
    assert "Move the appliance's cables only once a run says READY." in rep["next_steps"]


def test_a_certificate_that_failed_names_the_steps_not_tried_after_it():
    finish = _finish("failed", "skipped", "skipped", messages=(
        "Security > Certificates > Import refused certificate.p12: bad passphrase",
        "not tried: it needs the certificate step", "not tried: it needs the certificate step"))
    end = outcome(_network_done(), finish=finish)
    assert end.headline.startswith("NOT READY: 3 of 3 finish step(s) NOT done (Certificate; "
                                   "Site software; and 1 more)"), end.headline
    assert any(line.startswith("What to do: run it again") and "Security > Certificates" in line
               and "Updates" in line for line in end.lines())


def test_ready_with_a_kit_only_when_every_finish_step_is_done_or_not_needed():
    end = outcome(_network_done(), finish=_finish("done", "already", "done"))
    assert end.ready and "the site finished (3 of 3 finish step(s) done)" in end.headline
    # the backup of a pair: no /login backup there, by the failover guide
    pair = _finish("done", "done", "skipped", messages=("", "", "not restored: this appliance "
                                                        "replaces the backup of a failover pair"))
    end = outcome(_network_done(), finish=pair)
    assert end.ready and "2 of 3 finish step(s) done, the rest not needed here" in end.headline
    # a kit whose finish did not start (the network settings did not all land)
    from hwprobe.procedure.finish.run import not_tried

    end = outcome(_network_done(), finish=not_tried("not tried: the network settings did not "
                                                    "all land (see above)"))
    assert not end.ready and "3 of 3 finish step(s) NOT done" in end.headline


def test_a_finish_stopped_lists_the_steps_done_the_one_in_flight_and_what_is_left():
    # Ctrl-C answered "stop" while the appliance restarted after the install
    finish = _finish("done", "stopped", "skipped", stopped=True, messages=(
        "", "stopped while waiting for the appliance to restart",
        "not tried: the run was stopped"))
    end = outcome(_network_done(), password_change="done", finish=finish)
    assert end.kind == "stopped" and not end.ready
    assert end.headline.startswith("STOPPED while finishing the site (asked to stop after the "
                                   "step in flight): not ready for the cables")
    assert end.done == ["the first-login password change", "DNS: 198.51.100.53", "Certificate"]
    assert end.in_flight == ["Site software"] and end.left == ["/login backup"]
    assert "resumes where this run stopped" in "\n".join(end.lines())
    # a signal during a finish step (headless): the step at work is in flight
    finish = _finish("running", "pending", "pending")
    end = outcome(_network_done(), stopped="finishing the site", why="interrupted (Ctrl-C)",
                  finish=finish)
    assert end.headline.startswith("STOPPED while finishing the site (interrupted (Ctrl-C))")
    assert end.in_flight == ["Certificate"] and end.left == ["Site software", "/login backup"]


def test_a_kit_run_stopped_before_the_finish_leaves_every_finish_step():
    from hwprobe.procedure.finish.run import to_come

    run = _run(_step("dns", "DNS", "Global", VERIFIED),
               _step("ntp", "NTP", "Basics", SKIPPED,
                     message="not applied: the run was stopped before it"), stopped=True)
    end = outcome(run, finish=to_come())
    assert end.kind == "stopped"
    assert end.left == ["NTP", "Certificate", "Site software", "/login backup"]
    # a dry run of a kit says the finish is part of what a run would do
    dry = RunResult([_step("dns", "DNS", "Global", "pending")], [], True, None, None,
                    time.time(), time.time())
    end = outcome(dry, finish=_finish("would", "would", "would"))
    assert end.kind == "dry run"
    assert end.headline == ("DRY RUN: nothing was changed; a run would make 1 change(s) and "
                            "finish the site (3 step(s))")


def test_without_a_kit_next_steps_say_where_the_certificate_and_login_are_restored():
    """A run from a sheet alone leaves the certificate and /login to the
    technician: the next steps name the pages, and that a recovery kit does
    both (they said "outside this tool" after bringup learnt to finish a site)."""
    steps = " ".join(next_steps())
    assert "outside this tool" not in steps
    assert "/appliance > Security > Certificates" in steps
    assert "/login > Management > Software Management > Restore Settings" in steps
    assert "`bringup apply --kit DIR`" in steps
