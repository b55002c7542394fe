"""A tmux server of a test's own, for driving the console as a technician
does: in a real terminal of a given size, by keys, reading the screen."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path


class Tmux:
    """One tmux server of the test's own (``-L``): nothing shared with another
    test, a parallel worker or a person's tmux on the same machine."""

    def __init__(self, socket: str, name: str):
        self.socket, self.name = socket, name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=True).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait(self, text: str, timeout: float = 45.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            try:
                shown = self.screen()
            except subprocess.CalledProcessError:
                break
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never showed; the pane:\n{shown}")

    def wait_any(self, *texts: str, timeout: float = 45.0) -> str:
        """The pane once one of ``texts`` shows (which one depends on timing)."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if any(text in shown for text in texts):
                return shown
            time.sleep(0.1)
        raise AssertionError(f"none of {texts!r} showed; the pane:\n{shown}")

    def wait_typing_in(self, label: str, timeout: float = 45.0) -> None:
        """Block until the terminal cursor is on the row of the field labelled
        ``label``: the console puts it in a field that takes the focus on a
        drawn screen (a screen's first field is focused before it is drawn, so
        there the cursor says nothing). Keys sent before that could still land
        in the previous field: Enter moves the focus only once the console has
        handled it, and keys already queued go first."""
        deadline = time.monotonic() + timeout
        shown, cursor = "", -1
        while time.monotonic() < deadline:
            shown = self.screen()
            rows = [n for n, line in enumerate(shown.splitlines())
                    if line.strip().startswith(label + " ") or line.strip() == label]
            cursor = int(self.run("display-message", "-p", "-t", self.name, "#{cursor_y}"))
            if cursor in rows:
                return
            time.sleep(0.1)
        raise AssertionError(f"the cursor never went to {label!r} (it is on row {cursor}); "
                             f"the pane:\n{shown}")


    def new_password_twice(self, password: str) -> str:
        """On Log in: type ``password`` as New password and Again; returns the
        screen once the console says the two match (Enter then logs in)."""
        self.keys(password, literal=True)
        self.keys("Enter")
        self.wait_typing_in("Again")
        self.keys(password, literal=True)
        return self.wait("the two match")

def bringup_command() -> str:
    """The ``bringup`` this test run uses (the venv's entry point)."""
    path = Path(sys.executable).with_name("bringup")
    return str(path) if path.exists() else shutil.which("bringup") or "bringup"


@contextmanager
def demo_in_tmux(session: str, lab_name: str, command: str, log: Path, cwd: Path):
    """``command`` (a ``bringup demo --name lab_name``) in a tmux of its own at
    80x24, started in ``cwd`` and recorded by script(1) in ``log``; yields the
    Tmux. On the way out the tmux goes, and the demo's lab with it, whatever
    the test saw: a demo a failed test left behind would hold its
    namespaces."""
    t = Tmux(session, session)
    t.run("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", str(cwd),
          f"script -qfec {shlex.quote(command)} {log}; sleep 30")
    try:
        yield t
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True)
        from simulator import lab as labmod

        labmod.down(lab_name)
