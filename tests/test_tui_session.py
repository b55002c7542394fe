"""The console's session is typed and owned by its handlers.

- Every attribute of ``tui.session.Session`` is declared: assigning another
  one fails at once instead of creating a field no other step knows about.
- A worker (a method decorated ``@work``) never assigns an attribute of the
  session: it posts a message, and the message's handler changes the state.
- Every message class of the console lives in ``tui/messages.py``.
- The procedure's state is the core bring-up session's, read through the
  console session, never copied.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hwprobe.port.probe import Responder
from hwprobe.procedure.session import BringupSession, Target
from tui.session import Session

ROOT = Path(__file__).resolve().parent.parent
TUI_FILES = sorted((ROOT / "tui").rglob("*.py"))


def test_an_undeclared_session_attribute_cannot_be_set():
    session = Session()
    with pytest.raises(AttributeError):
        session.console_devcie = "/dev/ttyUSB0"          # a typo stays a typo, loudly


def test_what_the_procedure_knows_is_read_from_the_bring_up_session():
    session = Session()
    assert (session.iface, session.address, session.takeover, session.result) == \
        (None, None, None, None)
    bringup = BringupSession(Target(iface="lan0", address="169.254.1.3"))
    session.bringup = bringup
    bringup.choose(Responder("169.254.1.2", "02:b5:00:00:00:01", 0.4, True, None))
    assert session.iface == "lan0" and session.address == "169.254.1.2"
    assert session.responder.mac == "02:b5:00:00:00:01"
    with pytest.raises(AttributeError):
        session.address = "169.254.1.1"                   # no second copy to drift


def _is_work(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return getattr(target, "id", getattr(target, "attr", None)) == "work"


def _session_expr(node: ast.expr) -> bool:
    """``self.session``, ``self.app.session``, ``session`` or ``s`` (its short name)."""
    if isinstance(node, ast.Name):
        return node.id in ("session", "s")
    return isinstance(node, ast.Attribute) and node.attr == "session"


def session_writes_in_workers(path: Path) -> list[str]:
    """``file:line: what`` for each assignment to a session attribute inside a worker."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not any(_is_work(d) for d in fn.decorator_list):
            continue
        for node in ast.walk(fn):
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                       else [])
            for target in targets:
                for t in ast.walk(target):
                    if isinstance(t, ast.Attribute) and _session_expr(t.value):
                        found.append(f"{path.name}:{node.lineno}: {fn.name} sets "
                                     f"session.{t.attr}")
    return found


def test_no_worker_assigns_a_session_attribute():
    found = [w for path in TUI_FILES for w in session_writes_in_workers(path)]
    assert not found, "workers must post a message instead:\n" + "\n".join(found)


def test_the_worker_check_sees_an_assignment(tmp_path):
    f = tmp_path / "screen.py"
    f.write_text("from textual import work\n"
                 "class S:\n"
                 "    @work(thread=True, group='x')\n"
                 "    def take(self):\n"
                 "        self.session.takeover = object()\n"
                 "    def on_done(self, m):\n"
                 "        self.session.takeover = m.takeover\n")
    assert session_writes_in_workers(f) == ["screen.py:5: take sets session.takeover"]


def test_every_message_class_lives_in_tui_messages():
    elsewhere = []
    for path in TUI_FILES:
        if path == ROOT / "tui" / "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")) == "Message" for b in node.bases):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}")
    assert not elsewhere, "\n".join(elsewhere)


def test_widget_messages_keep_their_handler_names():
    """Moved to tui/messages.py, ``Tick.Changed`` still reaches ``on_tick_changed``."""
    from tui.widgets.choice import Choice, Tick

    assert Tick.Changed.handler_name == "on_tick_changed"
    assert Choice.Changed.handler_name == "on_choice_changed"
