"""What a technician's terminal tests: no terminal at all, TERM=dumb, a Quit
key that crosses a serial line and asks before leaving work half done."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bringup.console import make_app
from conftest import require_tool
from lab_helpers import on_a_pty
from tui.app import ConsoleOptions
from tui.screens.quit import QuitScreen

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def test_without_a_terminal_bringup_says_use_probe_or_apply_and_exits_2():
    r = subprocess.run([sys.executable, "-m", "bringup"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60, env=_env(TERM="xterm"))
    assert r.returncode == 2
    assert "standard input is not a terminal" in r.stderr
    assert "bringup probe --iface PORT" in r.stderr and "bringup apply" in r.stderr
    assert "\x1b" not in r.stdout + r.stderr


def _bringup_on_a_pty(env: dict, *, size: tuple[int, int] | None = None, idle: float = 30,
                      react=None) -> tuple[int, bytes]:
    """``bringup`` with no command on a real pty (lab_helpers.on_a_pty)."""
    return on_a_pty([sys.executable, "-m", "bringup"], env, size=size, idle=idle, react=react)


def _on_a_pty(term: str) -> tuple[int, str]:
    """bringup with no command on a real pty; (exit status, everything it wrote)."""
    status, out = _bringup_on_a_pty(_env(TERM=term))
    return status, out.decode(errors="replace")


def test_term_dumb_on_a_real_terminal_says_so_and_draws_nothing():
    status, out = _on_a_pty("dumb")
    assert status == 2, out
    assert "TERM=dumb cannot draw a full-screen console" in out
    assert "bringup probe --iface PORT" in out
    assert "\x1b" not in out


def _app(**kw):
    return make_app(ConsoleOptions(resume=False, console_profile=True, **kw))


def test_quit_on_a_fresh_start_leaves_at_once_over_ctrl_x_not_xon():
    app = _app()

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+x")           # ^x (0x18) crosses flow control; ^q is XON
            await pilot.pause(0.3)

    asyncio.run(run())
    assert app.return_code == 1                   # nothing done: left undone, no question


def test_quit_asks_when_steps_are_done_and_n_stays_y_leaves():
    app = _app()
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.session.done.update({"start", "port"})   # as after the Port step
            await pilot.press("ctrl+x")
            await pilot.pause(0.2)
            seen["asked"] = isinstance(app.screen, QuitScreen)
            seen["text"] = str(app.screen.query_one("#quit-text").render()) \
                if seen["asked"] else ""
            await pilot.press("n")
            await pilot.pause(0.2)
            seen["stayed"] = app.is_running and not isinstance(app.screen, QuitScreen)
            await pilot.press("ctrl+x", "y")
            await pilot.pause(0.3)

    asyncio.run(run())
    assert seen["asked"]
    assert "Quit with the bring-up unfinished?" in seen["text"]
    assert "Find the appliance" in seen["text"]
    assert seen["stayed"]
    assert app.return_code == 1


def test_ctrl_l_redraws_and_is_no_longer_log_in():
    app = _app()
    keys = {b.key: b.action for b in app.BINDINGS}
    assert keys["ctrl+l"] == "redraw"
    from tui.screens.login import LoginScreen
    login_keys = {b.key: b.description for b in LoginScreen.BINDINGS}
    assert login_keys.get("ctrl+g") == "Log in" and "ctrl+l" not in login_keys


def _visible_colours(app) -> list[tuple]:
    """(foreground, background) of every visible character, after the app's filters."""
    out = []
    for strip in app.screen._compositor.render_strips():
        segments = list(strip)
        for f in app.get_line_filters():
            segments = f.apply(segments, None)
        for seg in segments:
            if seg.text.strip() and seg.style is not None and not seg.style.reverse:
                out.append((seg.style.color, seg.style.bgcolor))
    return out


def test_no_color_in_the_console_profile_stays_readable(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app()
    seen = {}

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            seen["colours"] = _visible_colours(app)

    asyncio.run(run())
    assert seen["colours"], "nothing drawn"
    same = [(fg, bg) for fg, bg in seen["colours"] if fg == bg and fg is not None]
    assert same == []                                  # never text in its own background
    assert all(fg is None and bg is None for fg, bg in seen["colours"])  # the terminal's own


# --- TERM=linux, vt100, vt220: only what the terminfo entry has ---------------------

XTERM_ONLY = {"focus events": "\x1b[?1004h", "bracketed paste": "\x1b[?2004h",
              "kitty keyboard": "\x1b[>", "mode query": "$p", "synchronized output": "?2026",
              "mouse": "\x1b[?1000h", "SGR mouse": "\x1b[?1006h", "any-event mouse": "\x1b[?1003h",
              "OSC (pointer shape, title)": "\x1b]"}
_SEQ = re.compile(r"\x1b\[([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                  r"|\x1b[\x20-\x2f]*[\x30-\x7e]")


def _infocmp(term: str) -> tuple[dict, int]:
    """{capability: value with escapes decoded} and colors#, from `infocmp -1`
    (independent of the curses reading the console does)."""
    out = subprocess.run(["infocmp", "-1", term], capture_output=True, text=True,
                         check=True).stdout
    caps, colors = {}, 0
    for line in out.splitlines()[2:]:
        line = line.strip().rstrip(",")
        if line.startswith("colors#"):
            colors = int(line.split("#")[1], 0)
        if "=" in line:
            name, _, value = line.partition("=")
            value = re.sub(r"\$<[\d.*/]+>", "", value)
            value = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), value)
            value = re.sub(r"\^(.)", lambda m: chr(ord(m.group(1)) & 0x1f), value)
            for code, char in (("\\E", "\x1b"), ("\\e", "\x1b"), ("\\,", ","), ("\\:", ":"),
                               ("\\^", "^"), ("\\\\", "\\")):
                value = value.replace(code, char)
            caps[name] = value
    return caps, colors


def _allowed(term: str):
    """(regexes of every sequence the entry can produce, SGR parameters it has)."""
    caps, colors = _infocmp(term)
    patterns, sgr = [], {0}
    for name, value in caps.items():
        for piece in re.split(r"(?=\x1b)", value):
            if not piece.startswith("\x1b") or "%?" in piece:
                continue
            rx = "".join(r"\d+" if tok.startswith("%") else re.escape(tok)
                         for tok in re.findall(r"%i|%p\d%d|%d|%p\d|.", piece, re.S)
                         if tok != "%i" and not re.fullmatch(r"%p\d", tok))
            patterns.append(re.compile(rx))
    for value in caps.values():                   # attributes: bold=\E[1m, sgr's ;1 ;4 ...
        for params in re.findall(r"\x1b\[([\d;%?pt|e]*)m", value):
            sgr.update(int(n) for n in re.findall(r"(?<![%p\d])\d+", params))
    for base, cap in ((30, "setaf"), (40, "setab")):
        if cap in caps and colors:
            sgr.update(range(base, base + min(colors, 8)))
    if "op" in caps:
        sgr.update((39, 49))
    return patterns, sgr


def _console_bytes(term: str) -> tuple[int, bytes]:
    """The console on a real 80x24 pty at TERM=term: every byte it writes from
    its start to its exit after ^x (nothing done: no question)."""
    env = _env(TERM=term, BRINGUP_STATE_DIR=tempfile.mkdtemp(prefix="bringup-term-"))
    env.pop("NO_COLOR", None)
    sent = []

    def quit_once_drawn(out: bytes) -> bytes | None:
        if not sent and b"Quit" in out:       # the first screen is drawn, footer too
            sent.append(True)
            return b"\x18"
        return None

    return _bringup_on_a_pty(env, size=(24, 80), idle=90, react=quit_once_drawn)


@pytest.mark.parametrize("term", ["linux", "vt100", "vt220"])
def test_console_sends_only_what_the_terminfo_entry_has(term):
    require_tool("infocmp", "ncurses-bin")
    status, raw = _console_bytes(term)
    out = raw.decode("latin-1")
    assert b"Quit" in raw and status == 1, (status, out[-800:])    # drawn, then left at ^x
    for what, seq in XTERM_ONLY.items():
        assert seq not in out, f"TERM={term}: {what} {seq!r} sent"
    patterns, sgr = _allowed(term)
    foreign, bad_sgr = set(), set()
    for m in _SEQ.finditer(out):
        seq = m.group(0)
        if m.group(3) == "m" and not m.group(2) and not re.search(r"[<=>?]", m.group(1)):
            bad_sgr.update(int(p) for p in m.group(1).split(";") if p and int(p) not in sgr)
        elif not any(p.fullmatch(seq) for p in patterns):
            foreign.add(seq)
    assert foreign == set(), f"TERM={term}: not in its terminfo entry: {sorted(foreign)}"
    assert bad_sgr == set(), f"TERM={term}: SGR parameters it has not: {sorted(bad_sgr)}"
