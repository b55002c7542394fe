"""Keyboard choices drawn in plain ASCII: a tick box ``[x] label`` and a
one-of-several choice ``< label >``. Textual's Checkbox and Select draw half
blocks and arrows a Linux console font does not have."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from ..messages import ChoiceChanged, TickChanged


class Tick(Widget, can_focus=True):
    """``[ ] label`` / ``[x] label``; Space or Enter ticks and unticks."""

    DEFAULT_CSS = """
    Tick { height: 1; width: 1fr; }
    Tick:focus { background: $primary 40%; }
    """
    BINDINGS = [
        Binding("space,enter", "toggle", "Tick", id="tick", show=False),
    ]
    value: reactive[bool] = reactive(False)

    Changed = TickChanged           # the box was ticked or unticked

    def __init__(self, label: str, value: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.set_reactive(Tick.value, value)

    def render(self) -> Text:
        return Text(f"[{'x' if self.value else ' '}] {self.label}")

    def action_toggle(self) -> None:
        self.value = not self.value

    def watch_value(self, value: bool) -> None:
        self.post_message(self.Changed(self, value))


class Choice(Widget, can_focus=True):
    """One of several values, shown as ``< label >``; Left/Right or Space change it.

    ``choices`` are (value, label) pairs; ``value`` is the chosen value.
    """

    DEFAULT_CSS = """
    Choice { height: 1; width: 1fr; }
    Choice:focus { background: $primary 40%; }
    """
    BINDINGS = [
        Binding("right,space", "step(1)", "Next choice", id="choice-next", show=False),
        Binding("left", "step(-1)", "Previous choice", id="choice-previous", show=False),
    ]
    index: reactive[int] = reactive(0)

    Changed = ChoiceChanged         # another value was chosen

    def __init__(self, choices: list[tuple[str, str]], value: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = list(choices)
        values = [v for v, _ in self.choices]
        self.set_reactive(Choice.index, values.index(value) if value in values else 0)

    @property
    def value(self) -> str:
        return self.choices[self.index][0]

    @value.setter
    def value(self, value: str) -> None:
        self.index = [v for v, _ in self.choices].index(value)

    def render(self) -> Text:
        return Text(f"< {self.choices[self.index][1]} >")

    def action_step(self, delta: int) -> None:
        self.index = (self.index + delta) % len(self.choices)

    def watch_index(self, index: int) -> None:
        self.post_message(self.Changed(self, self.choices[index][0]))
