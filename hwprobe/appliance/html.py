"""A small reader for the appliance's web pages (stdlib ``html.parser`` only).

``parse(text)`` returns a ``Page`` that answers the questions the web driver
asks: which forms are there (action, method and the current value of every
input, textarea and select), what text an element with a given id holds, the
rows of a table by id, and the elements carrying a class (error and notice
messages). It is lenient the way browsers are: unclosed cells, rows and
options are closed by the next one, stray end tags are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "param", "source", "track", "wbr",
})
# A start tag of the key closes an open element of one of these tags first.
IMPLICIT_CLOSE = {
    "td": ("td", "th"), "th": ("td", "th"),
    "tr": ("tr", "td", "th"), "option": ("option",), "li": ("li",), "p": ("p",),
}
_SPACES = re.compile(r"\s+")
MAX_DEPTH = 200          # real pages nest about 15 deep


class PageTooDeep(ValueError):
    """The page nests elements deeper than ``MAX_DEPTH`` (a hostile or broken page)."""


@dataclass
class Element:
    """One element: its tag, attributes, children and (for text) raw data."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list["Element | str"] = field(default_factory=list)
    parent: "Element | None" = field(default=None, repr=False)

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def raw_text(self) -> str:
        """All text inside, unchanged (a textarea's value keeps its lines)."""
        out, todo = [], list(reversed(self.children))
        while todo:                     # no recursion: a hostile page nests deep
            child = todo.pop()
            if isinstance(child, str):
                out.append(child)
            else:
                todo.extend(reversed(child.children))
        return "".join(out)

    @property
    def text(self) -> str:
        """All text inside, whitespace collapsed and trimmed."""
        return _SPACES.sub(" ", self.raw_text()).strip()

    def iter(self):
        """This element and every element below it, in document order."""
        todo = [self]
        while todo:
            element = todo.pop()
            yield element
            todo.extend(c for c in reversed(element.children) if isinstance(c, Element))


@dataclass
class Form:
    """A form: where it posts and the value each named field holds now."""

    action: str
    method: str
    fields: dict[str, str]
    element: Element = field(repr=False)
    # name -> tag ("input:text", "input:hidden", "textarea", "select", ...)
    kinds: dict[str, str] = field(default_factory=dict)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        closes = IMPLICIT_CLOSE.get(tag)
        if closes and self.stack[-1].tag in closes:
            self.stack.pop()
            if tag == "tr" and self.stack[-1].tag == "tr":
                self.stack.pop()
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs},
                          parent=self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            if len(self.stack) > MAX_DEPTH:
                raise PageTooDeep(f"elements nested more than {MAX_DEPTH} deep")
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


class Page:
    """A parsed page. Build one with ``parse(text)``."""

    def __init__(self, root: Element):
        self.root = root
        self._by_id: dict[str, Element] = {}
        for element in root.iter():
            if element.id is not None and element.id not in self._by_id:
                self._by_id[element.id] = element

    @property
    def title(self) -> str:
        for element in self.root.iter():
            if element.tag == "title":
                return element.text
        return ""

    def by_id(self, element_id: str) -> Element | None:
        """The first element with ``id=element_id``, or None."""
        return self._by_id.get(element_id)

    def text_of(self, element_id: str) -> str | None:
        """The collapsed text of the element with that id (None when absent)."""
        element = self.by_id(element_id)
        return None if element is None else element.text

    def by_class(self, cls: str) -> list[Element]:
        """Every element carrying class ``cls``, in document order."""
        return [e for e in self.root.iter() if cls in e.classes]

    def table(self, table_id: str) -> list[list[str]] | None:
        """Rows of the table with that id, each a list of its ``<td>`` texts.

        Header rows (``<th>`` only) are left out. None when there is no such
        table; an empty list when it has no data rows.
        """
        table = self.by_id(table_id)
        if table is None:
            return None
        rows = []
        for element in table.iter():
            if element.tag != "tr":
                continue
            cells = [c.text for c in element.children
                     if isinstance(c, Element) and c.tag == "td"]
            if cells:
                rows.append(cells)
        return rows

    def table_row_elements(self, table_id: str) -> list[Element]:
        """The ``<tr>`` elements holding data cells of a table (for row forms)."""
        table = self.by_id(table_id)
        if table is None:
            return []
        return [e for e in table.iter() if e.tag == "tr"
                and any(isinstance(c, Element) and c.tag == "td" for c in e.children)]

    @property
    def forms(self) -> list[Form]:
        """Every form on the page with its fields' current values."""
        return [_read_form(e) for e in self.root.iter() if e.tag == "form"]

    def forms_with_action(self, action: str) -> list[Form]:
        """Forms posting to ``action`` (compared by path, query ignored)."""
        want = action.split("?")[0].rstrip("/")
        return [f for f in self.forms if f.action.split("?")[0].rstrip("/") == want]

    def form(self, action: str) -> Form | None:
        """The first form posting to ``action``, or None."""
        found = self.forms_with_action(action)
        return found[0] if found else None


def _read_form(element: Element) -> Form:
    fields: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for e in element.iter():
        name = e.attrs.get("name")
        if not name or "disabled" in e.attrs:
            continue
        if e.tag == "input":
            kind = e.attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio"):
                kinds.setdefault(name, f"input:{kind}")
                if "checked" in e.attrs:
                    fields[name] = e.attrs.get("value", "on")
                continue
            fields[name] = e.attrs.get("value", "")
            kinds[name] = f"input:{kind}"
        elif e.tag == "textarea":
            value = e.raw_text()
            # HTML drops one newline right after <textarea>
            fields[name] = value[1:] if value.startswith("\n") else value
            kinds[name] = "textarea"
        elif e.tag == "select":
            options = [o for o in e.iter() if o.tag == "option"]
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            fields[name] = (chosen[0].attrs.get("value", chosen[0].text)
                            if chosen else "")
            kinds[name] = "select"
    return Form(
        action=element.attrs.get("action", ""),
        method=element.attrs.get("method", "get").lower(),
        fields=fields, element=element, kinds=kinds,
    )


def parse(text: str) -> Page:
    """Parse an HTML page. Never raises on malformed markup; raises
    ``PageTooDeep`` for elements nested deeper than ``MAX_DEPTH``."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return Page(builder.root)


def lines(value: str) -> list[str]:
    """A textarea's value as a list: one entry per non-blank line, trimmed."""
    return [line.strip() for line in value.splitlines() if line.strip()]
