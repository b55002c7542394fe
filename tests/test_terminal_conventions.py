"""What a technician's terminal tests: no terminal at all, TERM=dumb, a Quit
key that crosses a serial line and asks before leaving work half done."""
from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from bringup.console import make_app
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


def _on_a_pty(term: str) -> tuple[int, str]:
    """bringup with no command on a real pty; (exit status, everything it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bringup"], stdin=slave, stdout=slave,
                            stderr=slave, env=_env(TERM=term), close_fds=True)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break                             # it hung: the assertions say so
            try:
                chunk = os.read(master, 4096)
            except OSError:                       # EIO: the child closed the pty
                break
            if not chunk:
                break
            out += chunk
        return proc.wait(timeout=30), out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


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
