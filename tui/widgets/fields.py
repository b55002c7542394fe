"""Form fields for the step screens: one line high, no cursor blink on a
console, and a password field that masks with ``*`` (a Linux console font has
no bullet glyph)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Input


class Field(Input):
    """A one-line input. ``cursor_blink`` is off in the console profile (a
    blinking cursor writes to a serial line twice a second for nothing)."""

    def __init__(self, value: str = "", **kwargs) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(value, **kwargs)

    def on_mount(self) -> None:
        profile = getattr(self.app, "profile", None)
        self.cursor_blink = not (profile is None or profile.console)


class SecretField(Field):
    """A password field: shows one ``*`` per character, never the text."""

    def __init__(self, value: str = "", **kwargs) -> None:
        kwargs["password"] = True
        super().__init__(value, **kwargs)

    @property
    def _value(self) -> Text:
        return Text("*" * len(self.value), no_wrap=True, overflow="ignore", end="")


class PathSuggester:
    """Completes a file path as it is typed (Right arrow accepts), like a shell."""

    def __new__(cls):
        from textual.suggester import Suggester

        class _PathSuggester(Suggester):
            async def get_suggestion(self, value: str) -> str | None:
                return complete_path(value)

        return _PathSuggester(use_cache=False, case_sensitive=True)


def complete_path(value: str) -> str | None:
    """The longest unambiguous completion of ``value`` as a path, or None.
    Directories end in ``/``; ``.toml`` files and directories are offered."""
    import os

    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, stem = os.path.split(expanded)
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return None
    matches = []
    for name in names:
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        full = os.path.join(folder, name)
        if os.path.isdir(full):
            matches.append(name + "/")
        elif name.endswith(".toml"):
            matches.append(name)
    if not matches:
        return None
    common = os.path.commonprefix(matches)
    if len(common) <= len(stem):
        return None
    return value + common[len(stem):]
