"""The Restore step's detail pane: one settings area, every field, unabridged.

What the appliance holds now, what the sheet asks, and (after the apply)
what was read back, field by field, from ``hwprobe.settings.wording.detail``. Side by
side when the terminal is wide enough for every line of every column; at 80
columns each field is stacked (now, sheet, read back under its name), so no
value is ever cut or folded. Up/Down walk the rows of the Restore table,
PgUp/PgDn scroll a long area (ten syslog servers), Esc, Space or Enter
closes (Enter never applies from here).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:                                   # pragma: no cover
    from hwprobe.settings.wording import FieldChange

GAP = 2
SIDES = (("now", "Now"), ("sheet", "From the sheet"), ("read_back", "Read back"))


def _cells(row: "FieldChange") -> dict[str, list[str]]:
    return {key: getattr(row, key).split("\n") for key, _ in SIDES
            if getattr(row, key) is not None}


KEYS = ("* the sheet changes it, ! read back other than the sheet.  Up/Down rows  "
        "PgUp/PgDn scroll  Esc close")


def _mark(row: "FieldChange") -> str:
    if row.read_back is not None and row.read_back != row.sheet:
        return "! "
    return "* " if row.differs else "  "


def render(heading: str, rows: list["FieldChange"], width: int) -> str:
    """The pane's text for ``width`` columns: a heading (area, where, status)
    and each field (``*`` marks the ones the sheet changes, ``!`` those the
    appliance read back otherwise)."""
    read = any(r.read_back is not None for r in rows)
    sides = [s for s in SIDES if read or s[0] != "read_back"]
    out = [heading, ""]
    label_w = max([len("Field")] + [len(r.label) for r in rows]) + 2
    widths = {key: max([len(title)] + [len(line) for r in rows for line in _cells(r).get(key, [])])
              for key, title in sides}
    if label_w + sum(widths.values()) + GAP * len(sides) <= width:
        out.append("  " + "Field".ljust(label_w - 2) + "".join(
            " " * GAP + title.ljust(widths[key]) for key, title in sides).rstrip())
        for r in rows:
            cells = _cells(r)
            tall = max(len(c) for c in cells.values())
            for i in range(tall):
                head = (_mark(r) + r.label) if i == 0 else ""
                out.append((head.ljust(label_w) + "".join(
                    " " * GAP + (cells[k][i] if i < len(cells.get(k, [])) else "").ljust(widths[k])
                    for k, _ in sides)).rstrip())
        return "\n".join(out)
    # narrow: a field on one line when it fits, else each side under its name
    names = {"now": "now", "sheet": "sheet", "read_back": "read back"}
    for r in rows:
        mark = _mark(r)
        back = f" (read back: {r.read_back})" if r.read_back is not None else ""
        line = (f"{mark}{r.label}: {r.sheet} (as it is)" if not r.differs
                else f"{mark}{r.label}: {r.now} -> {r.sheet}") + back
        if "\n" not in line and len(line) <= width:
            out.append(line)
            continue
        out.append(mark + r.label)
        for key, _ in sides:
            lines = _cells(r).get(key)
            if lines is None:
                continue
            for i, line in enumerate(lines):
                out.append("    " + (names[key] if i == 0 else "").ljust(10) + line)
    return "\n".join(out)


class ChangeDetail(ModalScreen[None]):
    """Shows row ``index`` of the Restore screen ``restore``; Up/Down move on."""

    DEFAULT_CSS = """
    ChangeDetail { align: center middle; }
    #detail-box { width: 100%; height: 1fr; border: round $primary; background: $surface;
                  padding: 0 1; }
    #detail-scroll { height: 1fr; }
    #detail-keys { height: auto; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="detail-close", key_display="Esc"),
        Binding("space", "close", "Close", id="detail-space", show=False),
        # Enter too: here it can only mean "done reading", never "apply"
        Binding("enter", "close", "Close", id="detail-enter", show=False),
        Binding("down", "row(1)", "Next", id="detail-next", key_display="Down", priority=True),
        Binding("up", "row(-1)", "Previous", id="detail-previous", key_display="Up",
                priority=True),
    ]

    def __init__(self, restore, index: int) -> None:
        super().__init__()
        self.restore, self.index = restore, index

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-box"):
            with VerticalScroll(id="detail-scroll"):
                yield Static("", id="detail-body", markup=False)
            yield Static(KEYS, id="detail-keys", markup=False)

    def on_mount(self) -> None:
        self.show()
        self.query_one("#detail-scroll").focus()

    @property
    def text(self) -> str:
        """What the pane shows now (tests read it, as a technician does)."""
        return str(self.query_one("#detail-body", Static).content)

    def show(self) -> None:
        heading, rows = self.restore.detail_of(self.index)
        width = self.app.size.width - 2 - 2 - 1          # border, padding, scroll bar
        self.query_one("#detail-body", Static).update(render(heading, rows, width))
        self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)

    def on_resize(self, event) -> None:
        self.show()

    def action_row(self, delta: int) -> None:
        self.index = self.restore.move_to(self.index + delta)
        self.show()

    def action_close(self) -> None:
        self.dismiss(None)
