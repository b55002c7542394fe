"""Keys typed ahead of Enter or Tab in a text field go where the technician expects.

Textual hands each key to the widget that has the focus when the App reads the
key. Enter in a field moves the focus (or starts an action) only once the key has
gone to the field, back up to the App for the field's Enter binding, and the
field's Submitted up to the screen; Tab goes the same way to the screen's binding.
Keys read in between (a fast typist, a burst from a serial line, a pasted
``password<Enter>password``) would land in the field being left: the next field
would lose its first characters and the field left would get them.

So, after Enter or Tab in a text field, the App holds the keys that follow (and
pastes) until that key has been handled along that whole way, then hands them on
in the order typed, to whatever has the focus by then. Nothing is dropped: when a
widget on the way goes away first, a short timer lets the held keys go anyway.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from textual.app import App
    from textual.events import Event
    from textual.widget import Widget

#: keys after which the focus (or the screen) may change
MOVES = frozenset({"enter", "tab", "shift+tab"})
#: seconds after which held keys go on even if the way was not followed to its end
FALLBACK = 0.5


class TypeAhead:
    """The App's hold on keys typed after Enter or Tab in a text field."""

    def __init__(self, app: "App", dispatch: Callable) -> None:
        self.app = app
        self.dispatch = dispatch            # the App's own handling of one input event
        self.held: list[Event] | None = None
        self.generation = 0

    @property
    def holding(self) -> bool:
        return self.held is not None

    def hold(self, event: "Event") -> None:
        assert self.held is not None
        self.held.append(event)

    def start(self, field: "Widget") -> None:
        """Hold what follows until the key just given to ``field`` is handled:
        the key goes up from the field to the App (its binding), and what the
        binding posts to the field (Submitted) goes up to the screen again."""
        self.generation += 1
        generation = self.generation
        self.held = []
        up = []
        node = field
        while node is not None and node is not self.app:
            up.append(node)
            node = node.parent
        way = [*up, self.app, *up]

        def step() -> None:
            # runs on each widget's own queue, after what was already queued there
            while way:
                if way.pop(0).call_later(step):
                    return
            self.app.call_later(self.release, generation)

        step()
        self.app.set_timer(FALLBACK, lambda: self.release(generation), name="type-ahead")

    async def release(self, generation: int) -> None:
        """Hand the held keys on, in order, to whatever has the focus now."""
        if generation != self.generation or self.held is None:
            return
        held, self.held = self.held, None
        for index, event in enumerate(held):
            if self.held is not None:        # one of them was Enter or Tab again
                self.held.extend(held[index:])
                return
            await self.dispatch(event)
