"""`bringup apply` as a technician runs it (its own process, in a lab's laptop
namespace, taking lan0 over) against a hostile appliance: one lab for the
module (its NIC1 MAC, given to the lab, has ``ab`` and ``cd`` octets), the hostile case
switched at run time (simulator/hostile.py). For
every case: no raw ESC or C1 byte in stdout, stderr, the report or a
transcript; no traceback; the run ends within its deadline; lan0 is given
back exactly; bringup's own peak RSS (wait4 of that very process) stays
under 150 MB.

The answer deadline is 30 s in the product; the run is started through a
two-line shim that sets it to 3 s, so the two drip cases end in seconds
(the deadline itself is what is tested, not its length)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import require_lab
from hwprobe.safetext import unsafe_in
from lab_helpers import (EXAMPLE, NEW_PASSWORD, SMTP_PASSWORD, bringup_env, no_traceback,
                         own_address, port_state, reports)
from simulator import control
from simulator.hostile import CASES, CONSOLE_ONLY

# one lab for the module, under a fixed name: every test of the module runs on one xdist worker, or a second worker's
# fixture would take that lab down under the first
pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("hostile-lab")]

ADDR = "169.254.1.3"
NAME, MAC = "h182f", "02:b5:ab:cd:00:01"     # NIC1's MAC, given to the lab
DEADLINE = 3.0                    # the shim's answer deadline (the product's is 30 s)
RUN_LIMIT = 60.0                  # a whole run, hostile or not, ends well before this
RSS_CAP_MB = 150
SHIM = ("import sys, hwprobe.appliance.webhttp as w; w.ANSWER_DEADLINE = %r\n"
        "from bringup.cli import main; sys.exit(main(sys.argv[1:]))" % DEADLINE)
WEB_CASES = tuple(c for c in CASES if c not in CONSOLE_ONLY)
FIGURES = {"tried": 0, "refused": 0, "tracebacks": 0, "peak_rss_mb": 0.0, "longest_s": 0.0}


@pytest.fixture(scope="module")
def hostile_lab(tmp_path_factory):
    """One lab whose appliance already has its new password (a first run did it)."""
    require_lab()
    from simulator import lab as labmod

    name = NAME
    labmod.down(name)               # a lab of that name left by an earlier, killed run
    lab = labmod.up(name=name, appliance_address=ADDR, macs={"nic1": MAC})
    try:
        state = tmp_path_factory.mktemp("hostile-state")
        first = run(lab, state, ("capture", "--address", ADDR, "--iface", "lan0", "--out",
                                 str(state / "first.toml")),
                    {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD})
        assert first["rc"] == 0, first["stderr"]
        own_address(lab)          # lan0 holds an address of its own, to be given back
        yield lab
    finally:
        labmod.down(name)
    print(f"\nhostile apply figures: {FIGURES}")


def run(lab, state_dir, args, env_extra) -> dict:
    """Run bringup in the lab's laptop namespace; returns rc, stdout, stderr,
    seconds and the process's own peak RSS in MB (from wait4)."""
    out, err = (state_dir / f"out-{uuid.uuid4().hex[:6]}" for _ in range(2))
    argv = ["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-c", SHIM, *args]
    started = time.monotonic()
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(argv, env=bringup_env(state_dir, env_extra), stdout=fo,
                                stderr=fe, stdin=subprocess.DEVNULL)
    while True:             # wait4: this process's own rusage (ip netns exec execs it)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > RUN_LIMIT:
            os.kill(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            pytest.fail(f"bringup {' '.join(args)} still ran after {RUN_LIMIT} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": proc.returncode, "stdout": out.read_text(errors="surrogateescape"),
            "stderr": err.read_text(errors="surrogateescape"),
            "seconds": time.monotonic() - started, "rss_mb": usage.ru_maxrss / 1024}


def _check_run(result: dict, state_dir, before_port: dict, lab) -> str:
    FIGURES["tried"] += 1
    FIGURES["refused"] += result["rc"] != 0
    FIGURES["tracebacks"] += not no_traceback(result["stderr"], result["stdout"])
    FIGURES["peak_rss_mb"] = max(FIGURES["peak_rss_mb"], round(result["rss_mb"], 1))
    FIGURES["longest_s"] = max(FIGURES["longest_s"], round(result["seconds"], 1))
    said = result["stdout"] + result["stderr"]
    assert no_traceback(said), said[-3000:]
    assert result["rc"] in (0, 1), said[-3000:]
    assert not unsafe_in(said), [c for c in unsafe_in(said)][:5]
    assert result["rss_mb"] < RSS_CAP_MB, result["rss_mb"]
    assert port_state(lab.laptop_ns) == before_port
    found = reports(state_dir)
    assert found, "no report written: " + said[-2000:]
    text = found[-1].read_text()
    assert not unsafe_in(text)
    for transcript in (state_dir / "transcripts").glob("*.log"):
        assert not unsafe_in(transcript.read_text(errors="replace")), transcript
    return text


def hostile_apply(lab, state_dir, case: str) -> tuple[dict, str]:
    """``bringup apply`` against the lab with hostile ``case`` on; returns
    the run's figures and its report, checked as every case's are."""
    state_dir.mkdir()
    before = port_state(lab.laptop_ns)
    control.send(lab.control, fault="hostile", value=case)
    try:
        result = run(lab, state_dir, ("apply", "--sheet", str(EXAMPLE), "--address", ADDR,
                                      "--iface", "lan0"),
                     {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    finally:
        control.send(lab.control, fault="hostile", value="")
    return result, _check_run(result, state_dir, before, lab)


@pytest.mark.parametrize("case", WEB_CASES)
def test_apply_against_a_hostile_appliance_ends_as_data_or_a_message(hostile_lab, tmp_path,
                                                                      case):
    result, report = hostile_apply(hostile_lab, tmp_path / "state", case)
    print(f"{case}: exit {result['rc']} in {result['seconds']:.1f} s, "
          f"peak RSS {result['rss_mb']:.0f} MB; {result['stderr'].strip()[-200:]}")
    if case == "escapes":
        # the spoof is shown, escaped, where the appliance's text is shown
        assert "\\x1b" in report and "owned" in report
    elif case in ("huge", "endless", "drip", "drip_head", "cut", "bad_gzip", "deep",
                  "redirect_out"):
        assert result["rc"] == 1 and "STOPPED while" in report
        # the message names the page (the first one read after login), or
        # where the redirect went
        assert ("Status > Basics" in result["stderr"]
                or "redirected to https://203.0.113.66/" in result["stderr"]), result["stderr"]
    if case in ("drip", "drip_head"):
        assert f"longer than {DEADLINE:.0f} s" in result["stderr"]
    # ":ab:" and ":cd:" are emoji codes to some renderers: the MAC stays itself
    assert f"(MAC {MAC})" in report and f"(MAC {MAC})" in result["stderr"]


def test_apply_over_a_console_that_prints_terminal_control(hostile_lab, tmp_path):
    lab = hostile_lab
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    before = port_state(lab.laptop_ns)
    control.send(lab.control, fault="hostile", value="escapes")
    try:
        result = run(lab, state_dir, ("apply", "--sheet", str(EXAMPLE), "--console",
                                      lab.console),
                     {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD})
    finally:
        control.send(lab.control, fault="hostile", value="")
    _check_run(result, state_dir, before, lab)
    transcripts = list((state_dir / "transcripts").glob("*.log"))
    assert transcripts and "\\x1b]0;owned" in transcripts[0].read_text()


def test_appliance_text_in_refusals_and_read_back_values_is_shown_escaped_not_dropped(
        hostile_lab, tmp_path):
    """Item 7: appliance text in a validation error (every save refused with a
    message quoting the value and a terminal spoof) and in read-back values
    (every form value spoofed): apply's step lines and result lines, its stderr and
    the report show it through bringup's own escaping (``shown``; the
    report's ``markdown``): the backslash doubled too, which the stream's
    last guard alone would not do."""
    from hwprobe.safetext import markdown, shown
    from simulator.hostile import SPOOF

    for case in ("refuse_escapes", "value_escapes"):
        result, report = hostile_apply(hostile_lab, tmp_path / case, case)
        assert result["rc"] == 1, result["stderr"][-2000:]
        fails = [line for line in result["stdout"].splitlines() if line.startswith("[FAIL]")]
        said = "refused" if case == "refuse_escapes" else "read back"
        assert any("owned" in line and said in line for line in fails), (case, result["stdout"][-3000:], result["stderr"][-3000:])
        quoting = [line for line in result["stdout"].splitlines() + result["stderr"].splitlines()
                   if "owned" in line]          # every line that quotes the appliance
        assert any(line.startswith("NOT applied: ") for line in quoting)
        assert all(shown(SPOOF) in line for line in quoting), [
            line for line in quoting if shown(SPOOF) not in line][:2]
        assert markdown(SPOOF) in report
        assert "ready for its cables" not in result["stdout"] + report


def test_appliance_text_in_an_error_that_ends_the_run_is_shown_escaped_on_stderr(hostile_lab,
                                                                                 tmp_path):
    """The error line on stderr (bringup's own escaping, the backslash
    doubled too) when the appliance's refusal of the login quotes a spoof."""
    from hwprobe.safetext import shown
    from simulator.hostile import SPOOF

    result, _ = hostile_apply(hostile_lab, tmp_path / "state", "refuse_escapes@/appliance/login")
    assert result["rc"] == 1
    last = result["stderr"].strip().splitlines()[-1]
    assert "refused the login" in last and shown(SPOOF) in last, last
