"""A hostile local console (simulator/hostile.py's console cases) against the
console driver, over a real pty: what the appliance prints is data in the
transcript and the console pane's feed, and a password it echoes back one
byte per read is masked there as well as a whole one."""
from __future__ import annotations

import stat
import time

import pytest

from hwprobe.appliance.connect import connect_console
from hwprobe.appliance.console.transcript import MAX_LINE
from hwprobe.errors import Unreachable
from hwprobe.safetext import unsafe_in
from area_helpers import read_state
from simfixture import make_sim, sim  # noqa: F401  (fixtures)

NEW = "Tr4il-Head!"


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_password_echoed_byte_by_byte_is_masked_in_the_transcript_and_the_pane(sim, state_dir):
    sim.fault("hostile", "echo_secret")
    pane = bytearray()
    reads = []
    with connect_console(sim.console, timeout=8.0, on_bytes=pane.extend) as d:
        original = d.channel.read

        def counted(size=None):     # how the echo arrived: many small reads
            before = len(d.channel.buffer)
            original(size)
            reads.append(len(d.channel.buffer) - before)
        d.channel.read = counted
        assert d.login("admin", "password").change_required
        d.change_password("password", NEW)
        assert read_state(d).model == "B400"
        path = d.transcript_path
    sim.fault("hostile", "")
    text = path.read_text()
    shown_pane = pane.decode("utf-8", "replace")
    assert sum(1 for n in reads if n == 1) >= len(NEW)      # the echo came one byte per read
    assert "********" in text and "********" in shown_pane  # the echo is there, masked
    for part in (NEW, NEW[:6], NEW[5:]):
        assert part not in text and part not in shown_pane, part
    # the transcript may show what was typed: 0600 in a 0700 directory
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700


def test_a_console_that_prints_terminal_control_is_written_escaped(sim, state_dir):
    sim.fault("hostile", "escapes")
    with connect_console(sim.console, timeout=8.0) as d:
        assert d.login("admin", "password").change_required
        d.change_password("password", NEW)
        state = read_state(d)
        path = d.transcript_path
    sim.fault("hostile", "")
    text = path.read_text()
    assert not unsafe_in(text)
    assert "\\x1b]0;owned\\x07\\x1b[2J" in text and "\\x9b31m" in text
    assert state.model.startswith("B400")      # the real string is kept for JSON


def test_a_console_that_never_stops_talking_ends_at_its_timeout_with_bounded_memory(sim, tmp_path):
    sim.fault("hostile", "chatter")
    path = tmp_path / "console.log"
    started = time.monotonic()
    try:
        with pytest.raises(Unreachable, match="no answer from the console"):
            with connect_console(sim.console, timeout=3.0, transcript=path) as d:
                d.login("admin", "password")
    finally:
        sim.fault("hostile", "")
    took = time.monotonic() - started
    lines = path.read_text().splitlines()
    parts = [line for line in lines if line.endswith(" [the line goes on]")]
    assert parts, lines[-3:]                 # the endless line was written in parts...
    assert max(len(line) for line in lines) < 2 * MAX_LINE    # ...none of them endless
    assert took < 30                         # it ends (each wait by the console timeout), not never


def test_the_factory_password_echoed_back_is_masked_too(sim, state_dir):
    """Item 6: a console that echoes what is typed at its password prompt
    showed every password masked but the factory one ("a public word"): its
    echo is masked as well, in the transcript and the pane, while the word
    itself in the appliance's own prompts stays."""
    sim.fault("hostile", "echo_secret")
    pane = bytearray()
    with connect_console(sim.console, timeout=8.0, on_bytes=pane.extend) as d:
        assert d.login("admin", "password").change_required
        d.change_password("password", NEW)
        path = d.transcript_path
    sim.fault("hostile", "")
    received = [line.split(" < ", 1)[1] for line in path.read_text().splitlines()
                if " < " in line]
    assert "********" in received                    # the echo is there, masked
    assert "password" not in [line.strip() for line in received], received
    shown_pane = pane.decode("utf-8", "replace").replace("\r", "").split("\n")
    assert "password" not in [line.strip() for line in shown_pane], shown_pane
    assert any("password" in line.lower() for line in received)   # the prompts still say it
