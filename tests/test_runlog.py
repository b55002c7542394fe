"""-v/-q on every command, the run log in the state directory (timestamps,
rotation, what the drivers log, no password), Ctrl-C exits 130; the man page,
completion and docs name what the command line has."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import stat
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from bringup import docgen, runlog
from conftest import require_tool
from bringup.cli import build_parser
from bringup.commands.extras import text_of
from lab_helpers import (EXAMPLE, NEW_PASSWORD, SECRETS, SMTP_PASSWORD, bringup_env,
                         no_traceback, start_bringup)
from simulator import control

ROOT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \d+ [A-Z]+ \S+: ", re.M)
ADDR = "169.254.1.3"


def _every_command(parser, path=()):
    for name, sub in docgen.commands(parser).items():
        yield (*path, name), sub
        yield from _every_command(sub, (*path, name))


def test_every_command_takes_v_and_q_before_or_after_its_name():
    parser = build_parser()
    seen = 0
    for path, sub in _every_command(parser):
        if sub.get_default("passes_through"):
            continue                         # `bringup sim`: the simulator's own options
        opts = docgen.options(sub)
        assert "-v" in opts and "--verbose" in opts and "-q" in opts, path
        seen += 1
    assert seen >= 20
    args = build_parser(["-vv", "runbook"]).parse_args(["-vv", "runbook"])
    assert args.verbose == 2                 # the root's count is not undone by runbook's
    args = build_parser(["runbook", "-q"]).parse_args(["runbook", "-q"])
    assert args.verbose == -1
    r = subprocess.run([sys.executable, "-m", "bringup", "runbook", "-v", "-q"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not allowed with argument" in r.stderr


def _run(state, *argv, **kw):
    env = dict(os.environ, BRINGUP_STATE_DIR=str(state), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bringup", *argv], env=env,
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)


def test_run_log_rotates_and_keeps_four_old_files(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    log = state / runlog.LOG_NAME
    log.write_text("x" * runlog.LOG_BYTES + "\n")
    for n in range(1, runlog.LOG_KEEP + 1):
        Path(f"{log}.{n}").write_text(f"old {n}\n")
    r = _run(state, "runbook", "virtual")
    assert r.returncode == 0, r.stderr
    assert Path(f"{log}.1").read_text().startswith("xxxx")          # the full one moved aside
    assert Path(f"{log}.2").read_text() == "old 1\n"
    assert not Path(f"{log}.{runlog.LOG_KEEP + 1}").exists()       # the oldest is dropped
    text = log.read_text()
    assert STAMP.match(text), text
    assert "start: bringup runbook virtual" in text and "end: exit status 0" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_unwritable_state_directory_means_no_run_log_not_a_failed_command(tmp_path):
    state = tmp_path / "state"
    state.write_text("a file where the directory should be")
    r = _run(state, "runbook", "virtual")
    assert r.returncode == 0, r.stderr
    assert no_traceback(r.stderr)


def test_ctrl_c_at_a_prompt_exits_130_and_is_logged(tmp_path):
    """A real Ctrl-C: the byte 0x03 typed on a pty, which its line discipline
    turns into SIGINT for bringup (the triage is waiting for its first answer)."""
    state = tmp_path / "state"
    master, slave = pty.openpty()
    env = dict(os.environ, BRINGUP_STATE_DIR=str(state), PYTHONPATH=str(ROOT))

    def own_terminal():                  # a session whose controlling terminal is the pty
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "bringup", "runbook"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, preexec_fn=own_terminal)
    os.close(slave)
    out, sent, last = b"", 0, 0.0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
            # pressed again, as a technician would, if readline was still setting
            # up the terminal when the first one arrived
            if b"number 1-5" in out and time.monotonic() - last > 2:
                os.write(master, b"\x03")
                sent, last = sent + 1, time.monotonic()
        status = proc.wait(timeout=30)
        while select.select([master], [], [], 0.2)[0]:   # what it wrote as it left
            try:
                chunk = os.read(master, 4096)
            except OSError:                 # EIO: the pty's other end is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode(errors="replace")
    assert sent, text
    assert status == 130, text
    assert "bringup: interrupted" in text and no_traceback(text)
    log = (state / runlog.LOG_NAME).read_text()
    assert "interrupted (Ctrl-C)" in log and "end: exit status 130" in log


def test_man_page_completion_and_help_name_every_command_and_point_to_the_docs():
    parser = build_parser()
    man, bash, zsh = (text_of(name, build_parser) for name in ("bringup.1", "bringup.bash",
                                                              "_bringup"))
    for path, sub in _every_command(parser):
        name = " ".join(path)
        assert f".B {docgen._esc(name)}" in man, name
        assert path[-1] in bash, name
        if len(path) == 1:
            assert f"'{name}:" in zsh, name
    for option in ("--sheet", "--dry-run", "--trust-new-certificate", "--verbose"):
        assert docgen._esc(option) in man and option in bash, option
    for section in ("EXIT STATUS", "THE SETTINGS SHEET", "WHAT BRINGUP CHANGES ON THE LAPTOP"):
        assert f".SH {section}" in man, section
    r = subprocess.run(["bash", "-n"], input=bash, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([require_tool("man", "man-db"), "-l", "-"], input=man, capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
    assert r.returncode == 0 and "restore-link" in r.stdout and "warning" not in r.stderr, r.stderr
    help_text = subprocess.run([sys.executable, "-m", "bringup", "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    assert "bringup man" in help_text and "docs/exit-status.md" in help_text
    readme = (ROOT / "README.md").read_text()
    assert "docs/" in readme and "DESIGN.md, which" not in readme
    for doc in docgen.DOC_FILES:
        assert (ROOT / "docs" / doc).is_file(), doc


def test_install_extras_puts_the_man_page_and_completion_under_the_prefix(tmp_path):
    r = _run(tmp_path / "state", "install-extras", "--prefix", str(tmp_path))
    assert r.returncode == 0, r.stderr
    man = tmp_path / "share/man/man1/bringup.1"
    assert man.read_text().startswith(".TH BRINGUP 1")
    assert "complete -F _bringup bringup" in (
        tmp_path / "share/bash-completion/completions/bringup").read_text()
    assert (tmp_path / "share/zsh/site-functions/_bringup").read_text().startswith("#compdef")
    r = _run(tmp_path / "state", "install-extras", "--prefix", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "no such folder" in r.stderr
    # and the way back: exactly its three files go; one that is not bringup's stays
    zsh = tmp_path / "share/zsh/site-functions/_bringup"
    zsh.write_text("#compdef somebody-else\n")
    r = _run(tmp_path / "state", "install-extras", "--remove", "--prefix", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert not man.exists() and not (tmp_path / "share/bash-completion/completions/bringup").exists()
    assert zsh.read_text() == "#compdef somebody-else\n" and "left alone" in r.stdout
    assert (tmp_path / "share/man/man1").is_dir()          # the folders stay
    r = _run(tmp_path / "state", "install-extras", "--remove", "--prefix", str(tmp_path))
    assert r.returncode == 0 and "not installed" in r.stdout


# --- the drivers' lines reach the run log (and -v), never a password -----------------

@pytest.mark.lab
def test_run_log_has_the_drivers_relogin_and_no_password_and_q_is_quiet(make_lab, tmp_path):
    lab = make_lab(appliance_address=ADDR)
    state = tmp_path / "state"
    state.mkdir()
    control.send(lab.control, fault="delay", value=0.2)
    first = {"BRINGUP_NEW_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
    args = ("apply", "--sheet", str(EXAMPLE), "--address", ADDR, "--iface", "lan0")
    proc = start_bringup(lab, *args, "-v", env_extra=first, state_dir=state)
    deadline = time.monotonic() + 90
    while not control.send(lab.control, get="stats")["changes"].get("add_ip") \
            and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)                       # the run is logged in and changing things
    control.send(lab.control, fault="expire_sessions")
    control.send(lab.control, fault="delay", value=0)    # the rest at full speed
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err + out
    assert "logging in again" in err              # -v: the driver's info line, on stderr
    log_text = (state / runlog.LOG_NAME).read_text()
    assert STAMP.match(log_text)
    assert re.search(r"INFO hwprobe\.appliance\.web: the session on .* expired; logging in again",
                     log_text), log_text[-2000:]
    assert re.search(r"DEBUG hwprobe\.appliance\.web: (GET|POST) /appliance", log_text)
    assert "end: exit status 0" in log_text
    # the libraries' own chatter (pyroute2 logs every netlink message) stays out
    assert not re.search(r"(DEBUG|INFO) (pyroute2|urllib3|asyncio)", log_text)
    for secret in SECRETS:
        assert secret not in log_text
    assert stat.S_IMODE((state / runlog.LOG_NAME).stat().st_mode) == 0o600
    assert "bringup: " in err                      # the running commentary, without -q

    control.send(lab.control, fault="clear")
    later = {"BRINGUP_PASSWORD": NEW_PASSWORD, "BRINGUP_SMTP_PASSWORD": SMTP_PASSWORD}
    r = subprocess.run(["ip", "netns", "exec", lab.laptop_ns, sys.executable, "-m", "bringup",
                        *args, "-q"], env=bringup_env(state, later), capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""                          # -q: only errors
    assert "nothing to change" in r.stdout and "report:" in r.stdout
    log_text = (state / runlog.LOG_NAME).read_text()
    assert log_text.count("start: bringup apply") == 2
    for secret in SECRETS:
        assert secret not in log_text


def test_a_run_log_that_cannot_be_written_is_said_once_and_the_command_goes_on(tmp_path):
    """Item 5: an unwritable bringup.log (here a folder where it belongs; a
    link to elsewhere is not followed either) was silent: one warning line,
    and the command's own work and status are unchanged."""
    state = tmp_path / "state"
    state.mkdir()
    (state / runlog.LOG_NAME).mkdir()
    r = _run(state, "runbook", "hardware")
    assert r.returncode == 0, r.stderr
    [warning] = [line for line in r.stderr.splitlines() if "run log" in line]
    assert warning.startswith("bringup: warning: cannot write the run log ") and str(state) in warning
    assert "Hardware" in r.stdout or r.stdout.strip()
    other = tmp_path / "state2"
    other.mkdir()
    (other / runlog.LOG_NAME).symlink_to(tmp_path / "elsewhere.log")
    r = _run(other, "runbook", "hardware")
    assert r.returncode == 0 and "cannot write the run log" in r.stderr
    assert not (tmp_path / "elsewhere.log").exists()
